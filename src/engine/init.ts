/**
 * `init`: a scenario for an existing set of manifests, whose expectations are today's model
 * tables in the table notation — to be reviewed by a person before it becomes a regression test.
 * Dual-stack pods are decided per family (as `check` will): a cell whose families differ is left
 * out of the tables (`-`) and written as one `over IPv4` / `over IPv6` rule per family.
 */
import { familyName, type Family } from '../domain/job.js';
import type { ProbePort } from '../domain/probe.js';
import { formatProbe } from '../domain/probe.js';
import { NetworkModel } from '../model/engine.js';
import type { ModelOptions, World } from '../model/types.js';
import { planJobs, podFamilies, selectFamilies } from '../plan/plan.js';
import { ModelRunner } from '../probe/model-runner.js';

export interface InitTables {
  readonly probes: readonly ProbePort[];
  readonly endpoints: readonly string[];
  /** Per probe, the table text: header `from\to KEY…`, one row per source. */
  readonly tables: readonly { readonly probe: ProbePort; readonly text: string }[];
  /**
   * Dual-stack cells whose families the model decides differently: one rule per family,
   * `from A to B on PROBE over IPv6` → allow | deny (their table cell is `-`).
   */
  readonly rules: readonly { readonly cells: string; readonly verdict: 'allow' | 'deny' }[];
}

/** The model's current tables, as the table notation writes them (`.` `X` `?`, `-` no cell). */
export async function initTables(
  world: World,
  options: ModelOptions,
  probes?: readonly ProbePort[],
): Promise<InitTables> {
  const chosen = selectFamilies(podFamilies([world]));
  const families = 'families' in chosen ? chosen.families : undefined;
  const plan = planJobs(world, probes, families);
  const model = new NetworkModel(world, options);
  const runnable = plan.jobs.filter((j) => j.kind === 'runnable');
  const results = await new ModelRunner(model).run(runnable);
  // Per cell, the mark of each family (one entry without families).
  const byFamily = new Map<string, Map<Family | undefined, string>>();
  const mark = (job: (typeof plan.jobs)[number]['job'], value: string) => {
    const key = `${formatProbe(job.probe)} ${job.from} ${job.to}`;
    let cell = byFamily.get(key);
    if (!cell) byFamily.set(key, (cell = new Map<Family | undefined, string>()));
    cell.set(job.family, value);
  };
  runnable.forEach((r, i) => {
    const outcome = results[i]?.outcome;
    mark(r.job, outcome === 'allowed' ? '.' : outcome === 'denied' ? 'X' : '?');
  });
  for (const j of plan.jobs) if (j.kind === 'unresolvable') mark(j.job, '?');
  const marks = new Map<string, string>();
  const rules: { cells: string; verdict: 'allow' | 'deny' }[] = [];
  for (const [key, cell] of byFamily) {
    const values = new Set(cell.values());
    const [only] = values;
    if (values.size === 1 && only !== undefined) {
      marks.set(key, only);
      continue;
    }
    // The families differ: a rule per family (a family's `?` is the other's too: a port).
    marks.set(key, '-');
    const [probe = '', from = '', to = ''] = key.split(' ');
    for (const [family, value] of cell)
      if (family !== undefined && (value === '.' || value === 'X'))
        rules.push({
          cells: `from ${from} to ${to} on ${probe} over ${familyName(family)}`,
          verdict: value === '.' ? 'allow' : 'deny',
        });
  }
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
  return { probes: plan.probes, endpoints: keys, tables, rules };
}
