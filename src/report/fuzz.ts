/**
 * The fuzz result: one JSON document (schemas/fuzz-output.schema.json, docs/OUTPUT.md) and its
 * text rendering — the groups first (each a deviation: its signature, how many sets and cells it
 * covers, the minimal case as a scenario file with the model's reason for each differing cell),
 * then the counts.
 */
import { stringify } from 'yaml';
import type { FuzzRun } from '../fuzz/fuzz.js';
import { FUZZ_PROBES } from '../fuzz/scenario.js';
import { FUZZ_NAMESPACES, FUZZ_PODS } from '../fuzz/topology.js';

export const FUZZ_API_VERSION = 'polygraph.dev/v1alpha1';

export interface FuzzClusterFacts {
  readonly server: string;
  readonly kubernetesVersion: string;
  readonly nodes?: number;
  readonly networkPlugin?: string;
}

export interface FuzzDocument {
  readonly apiVersion: typeof FUZZ_API_VERSION;
  readonly kind: 'FuzzResult';
  /** Fuzzing compares what the cluster does with the model; there is no user expectation. */
  readonly comparison: 'observed-vs-model';
  readonly seed: number;
  readonly shapes: readonly string[];
  readonly replay: boolean;
  readonly stopped: FuzzRun['stopped'];
  readonly startedAt: string;
  readonly durationMs: number;
  readonly setsPerMinute: number;
  readonly cluster: FuzzClusterFacts;
  /** The plugin named with --plugin, if any (recorded; fuzz declares no known deviations). */
  readonly plugin?: string;
  readonly topology: {
    readonly namespaces: readonly string[];
    readonly pods: readonly string[];
    readonly probes: readonly string[];
    readonly external?: string;
  };
  readonly totals: FuzzRun['totals'] & { readonly groups: number; readonly clusterRuns: number };
  readonly groups: FuzzRun['groups'];
  readonly sets: FuzzRun['sets'];
}

export function fuzzDocument(
  run: FuzzRun,
  context: {
    readonly startedAt: Date;
    readonly cluster: FuzzClusterFacts;
    readonly plugin?: string;
    readonly externalIp?: string;
    readonly clusterRuns: number;
  },
): FuzzDocument {
  return {
    apiVersion: FUZZ_API_VERSION,
    kind: 'FuzzResult',
    comparison: 'observed-vs-model',
    seed: run.seed,
    shapes: run.shapes,
    replay: run.replay,
    stopped: run.stopped,
    startedAt: context.startedAt.toISOString(),
    durationMs: run.durationMs,
    setsPerMinute:
      run.durationMs > 0 ? Math.round((run.totals.sets / run.durationMs) * 60_000 * 10) / 10 : 0,
    cluster: context.cluster,
    ...(context.plugin === undefined ? {} : { plugin: context.plugin }),
    topology: {
      namespaces: [...FUZZ_NAMESPACES],
      pods: FUZZ_NAMESPACES.flatMap((ns) => FUZZ_PODS.map((p) => `${ns}/${p}`)),
      probes: [...FUZZ_PROBES],
      ...(context.externalIp === undefined ? {} : { external: context.externalIp }),
    },
    totals: { ...run.totals, groups: run.groups.length, clusterRuns: context.clusterRuns },
    groups: run.groups,
    sets: run.sets,
  };
}

const plural = (n: number, one: string, many = `${one}s`) =>
  `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

export function fuzzText(doc: FuzzDocument): string {
  const t = doc.totals;
  const out: string[] = [];
  out.push(
    `polygraph fuzz, seed ${String(doc.seed)}${doc.replay ? ' (replay)' : ''}: ${plural(t.sets, 'set')}, ${plural(t.cells, 'cell')} in ${(doc.durationMs / 1000).toFixed(1)} s (${String(doc.setsPerMinute)} sets a minute)`,
  );
  out.push(
    `cluster ${doc.cluster.server}, Kubernetes ${doc.cluster.kubernetesVersion}${doc.cluster.networkPlugin === undefined ? '' : `, network plugin ${doc.cluster.networkPlugin}`}${doc.plugin === undefined ? '' : ` (--plugin ${doc.plugin})`}`,
  );
  out.push(`observed vs the model of the spec (no expectation); shapes: ${doc.shapes.join(', ')}`);
  doc.groups.forEach((g, i) => {
    out.push('');
    out.push(`group ${String(i + 1)}: ${g.signature}`);
    out.push(
      `  ${plural(g.sets.length, 'set')} (${g.sets.slice(0, 12).join(', ')}${g.sets.length > 12 ? ', …' : ''}), ${plural(g.cells, 'differing cell')}`,
    );
    const s = g.minimal.shrink;
    out.push(
      `  minimal case (set ${String(g.from.set)}, cell ${g.from.cell}): ${plural(s.steps, 'cluster run')}, ${(s.ms / 1000).toFixed(1)} s${s.minimal ? '' : ' — stopped by a bound, may not be minimal'}`,
    );
    for (const c of g.minimal.cells.slice(0, 8))
      out.push(
        `    ✗ ${c.probe} ${c.from} -> ${c.to}: the spec says ${c.modelled}, the cluster ${c.observed}s\n        ${c.explanation}`,
      );
    if (g.minimal.cells.length > 8)
      out.push(`    … ${plural(g.minimal.cells.length - 8, 'more cell')} (in the scenario below)`);
    out.push(`  policies:`);
    out.push(
      stringify(g.minimal.policies, { lineWidth: 0 })
        .trimEnd()
        .split('\n')
        .map((l) => `    ${l}`)
        .join('\n'),
    );
  });
  const intermittent = doc.sets.filter((s) => s.intermittent.length > 0);
  if (intermittent.length > 0) {
    out.push('');
    out.push(
      `intermittent: ${plural(t.intermittent, 'cell')} differed once and not when the set ran again (not shrunk): ${intermittent
        .slice(0, 6)
        .map((s) => `set ${String(s.index)}: ${s.intermittent.slice(0, 3).join(', ')}`)
        .join('; ')}`,
    );
  }
  const unshrunk = doc.sets.reduce((n, s) => n + s.unshrunk, 0);
  out.push('');
  out.push(
    `${t.differing === 0 ? 'agree' : 'deviations'}: ${plural(t.sets, 'set')}, ${plural(t.cells, 'cell')}: ${plural(t.differing, 'cell')} in ${plural(t.setsWithDifferences, 'set')} differ from the spec, in ${plural(t.groups, 'group')}${unshrunk > 0 ? `; ${plural(unshrunk, 'cell')} not grouped (shrink limits)` : ''}${t.flaky > 0 ? `; ${plural(t.flaky, 'flaky cell')}` : ''}${t.probeErrors > 0 ? `; ${plural(t.probeErrors, 'probe error')}` : ''}; ${plural(t.clusterRuns, 'run')} on the cluster${doc.stopped === 'interrupted' ? '; interrupted' : ''}`,
  );
  return out.join('\n');
}

/** The minimal cases as scenario files: `group-N.yaml` → text. */
export function minimalCaseFiles(doc: FuzzDocument): Map<string, string> {
  return new Map(doc.groups.map((g, i) => [`group-${String(i + 1)}.yaml`, g.minimal.scenario]));
}
