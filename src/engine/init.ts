/**
 * `init`: a scenario for an existing set of manifests, whose expectations are today's model
 * tables in the table notation — to be reviewed by a person before it becomes a regression test.
 */
import type { ProbePort } from '../domain/probe.js';
import { formatProbe } from '../domain/probe.js';
import { NetworkModel } from '../model/engine.js';
import type { ModelOptions, World } from '../model/types.js';
import { planJobs } from '../plan/plan.js';
import { ModelRunner } from '../probe/model-runner.js';

export interface InitTables {
  readonly probes: readonly ProbePort[];
  readonly endpoints: readonly string[];
  /** Per probe, the table text: header `from\to KEY…`, one row per source. */
  readonly tables: readonly { readonly probe: ProbePort; readonly text: string }[];
}

/** The model's current tables, as the table notation writes them (`.` `X` `?`, `-` no cell). */
export async function initTables(
  world: World,
  options: ModelOptions,
  probes?: readonly ProbePort[],
): Promise<InitTables> {
  const plan = planJobs(world, probes);
  const model = new NetworkModel(world, options);
  const runnable = plan.jobs.filter((j) => j.kind === 'runnable');
  const results = await new ModelRunner(model).run(runnable);
  const marks = new Map<string, string>();
  runnable.forEach((r, i) => {
    const outcome = results[i]?.outcome;
    marks.set(
      `${formatProbe(r.job.probe)} ${r.job.from} ${r.job.to}`,
      outcome === 'allowed' ? '.' : outcome === 'denied' ? 'X' : '?',
    );
  });
  for (const j of plan.jobs)
    if (j.kind === 'unresolvable')
      marks.set(`${formatProbe(j.job.probe)} ${j.job.from} ${j.job.to}`, '?');
  const keys = plan.endpoints.map((e) => e.key);
  const corner = 'from\\to';
  const rowWidth = Math.max(corner.length, ...keys.map((k) => k.length));
  const tables = plan.probes.map((probe) => {
    const lines = [`${corner.padEnd(rowWidth)}  ${keys.join('  ')}`.trimEnd()];
    for (const from of keys) {
      const cells = keys.map((to) => {
        const mark = marks.get(`${formatProbe(probe)} ${from} ${to}`) ?? '-';
        const left = Math.floor((to.length - 1) / 2);
        return ' '.repeat(left) + mark + ' '.repeat(to.length - 1 - left);
      });
      lines.push(`${from.padEnd(rowWidth)}  ${cells.join('  ')}`.trimEnd());
    }
    return { probe, text: `${lines.join('\n')}\n` };
  });
  return { probes: plan.probes, endpoints: keys, tables };
}
