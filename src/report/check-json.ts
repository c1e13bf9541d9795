/**
 * Results → the result document (src/report/document.ts, docs/REPORTS.md): compact tables plus
 * the cells worth reading, or every cell. Every reporter renders from this document.
 */
import { probeLabel, type Family } from '../domain/job.js';
import { formatProbe, type ProbePort } from '../domain/probe.js';
import type { CellClass } from '../compare/classify.js';
import type {
  CellResult,
  Counts,
  HeldResult,
  ScenarioResult,
  StepResult,
} from '../engine/results.js';
import type { HoldClass } from '../compare/hold.js';
import { addCounts, failing } from '../engine/results.js';
import type { Outcome } from '../domain/job.js';
import {
  RESULT_API_VERSION,
  type CellJson,
  type ClusterJson,
  type CountsJson,
  type HeldJson,
  type ResultDocument,
  type StepJson,
  type TableJson,
} from './document.js';

export interface DocumentOptions {
  readonly kind?: ResultDocument['kind'];
  /** `all`: list every cell with its explanation (reports); default: the notable ones. */
  readonly listedCells?: 'notable' | 'all';
  readonly generator?: { readonly name: string; readonly version: string };
  readonly generatedAt?: Date;
  readonly startedAt?: Date;
  readonly durationMs?: number;
  readonly cluster?: ClusterJson;
  /** Timings of steps (live runs), by scenario file and step index. */
  readonly timing?: (file: string, step: number) => StepJson['timing'];
}

/** Classes of cells that need no reading: the document lists them only with `listedCells: all`. */
export const QUIET: readonly CellClass[] = ['agree', 'unchecked', 'unresolvable'];

/** One character per class in `tables[].classes`. */
export const CLASS_MARK: Readonly<Record<CellClass, string>> = {
  agree: '=',
  'expectation-contradicts-spec': 'E',
  'cluster-deviates': 'C',
  'known-deviation': 'K',
  'model-disagrees': 'M',
  unchecked: '-',
  unresolvable: '?',
  'probe-error': 'P',
  skipped: 'S',
  flaky: 'F',
};

export const VERDICT_MARK = { allow: '.', deny: 'X', unresolvable: '?' } as const;

export const OUTCOME_MARK: Readonly<Record<Outcome, string>> = {
  allowed: '.',
  denied: 'X',
  refused: 'R',
  dropped: 'D',
  'probe-error': 'E',
  skipped: 'S',
  'unresolved-port': '?',
};

function counts(c: Counts): CountsJson {
  const classes: Partial<Record<CellClass, number>> = {};
  for (const [k, n] of Object.entries(c.byClass) as [CellClass, number][])
    if (n > 0) classes[k] = n;
  if (c.held === undefined) return { cells: c.cells, classes };
  const held: Partial<Record<HoldClass, number>> = {};
  for (const [k, n] of Object.entries(c.held.byClass) as [HoldClass, number][])
    if (n > 0) held[k] = n;
  return { cells: c.cells, classes, held: { connections: c.held.connections, classes: held } };
}

function heldJson(h: HeldResult): HeldJson {
  return {
    from: h.from,
    to: h.to,
    probe: formatProbe(h.probe),
    port: h.port,
    ...(h.expected === undefined ? {} : { expected: h.expected }),
    ...(h.freshModelled === undefined ? {} : { freshModelled: h.freshModelled }),
    ...(h.observed === undefined ? {} : { observed: h.observed }),
    class: h.class,
    ...(h.observedDetail === undefined ? {} : { detail: h.observedDetail }),
    ...(h.heldMs === undefined ? {} : { heldMs: h.heldMs }),
  };
}

/** The step's probes as the document names them: per family when it probes more than one. */
function stepProbes(step: StepResult): { probe: ProbePort; family?: Family; label: string }[] {
  return step.probes.flatMap((probe) =>
    (step.families ?? [undefined]).map((family) => ({
      probe,
      ...(family === undefined ? {} : { family }),
      label: probeLabel(probe, family),
    })),
  );
}

function tables(step: StepResult): StepJson['tables'] {
  const index = new Map(step.endpoints.map((k, i) => [k, i]));
  const live = step.cells.some((c) => c.observed !== undefined);
  const out: Record<string, TableJson> = {};
  for (const { probe, family, label } of stepProbes(step)) {
    const blank = () => step.endpoints.map(() => Array<string>(step.endpoints.length).fill(' '));
    const expected = blank();
    const modelled = blank();
    const observed = blank();
    const classes = blank();
    for (const cell of step.cells) {
      if (cell.probe.port !== probe.port || cell.probe.protocol !== probe.protocol) continue;
      if (cell.family !== family) continue;
      const r = index.get(cell.from) ?? 0;
      const c = index.get(cell.to) ?? 0;
      const set = (rows: string[][], mark: string) => {
        const row = rows[r];
        if (row) row[c] = mark;
      };
      set(expected, cell.expected === undefined ? '-' : VERDICT_MARK[cell.expected]);
      set(modelled, VERDICT_MARK[cell.modelled]);
      set(observed, cell.observed === undefined ? '-' : OUTCOME_MARK[cell.observed]);
      set(classes, CLASS_MARK[cell.class]);
    }
    const rows = (t: string[][]) => t.map((row) => row.join(''));
    out[label] = {
      expected: rows(expected),
      modelled: rows(modelled),
      ...(live ? { observed: rows(observed) } : {}),
      classes: rows(classes),
    };
  }
  return out;
}

/** A probe's detail ends with "(reproduce: COMMAND)" when the probe client failed. */
function reproduceOf(detail: string | undefined): string | undefined {
  const match = detail === undefined ? null : /\(reproduce: (.*)\)/.exec(detail);
  return match?.[1];
}

function cell(c: CellResult): CellJson {
  const reproduce = reproduceOf(c.observedDetail);
  return {
    from: c.from,
    to: c.to,
    probe: probeLabel(c.probe, c.family),
    ...(c.family === undefined ? {} : { family: c.family }),
    ...(c.port === undefined ? {} : { port: c.port }),
    ...(c.expected === undefined ? {} : { expected: c.expected }),
    modelled: c.modelled,
    ...(c.observed === undefined ? {} : { observed: c.observed }),
    class: c.class,
    explanation: c.explanation,
    ...(c.observedDetail === undefined ? {} : { detail: c.observedDetail }),
    ...(reproduce === undefined ? {} : { reproduce }),
    ...(c.tries === undefined ? {} : { tries: [...c.tries] }),
    ...(c.crossNode === undefined ? {} : { crossNode: c.crossNode }),
  };
}

export function resultDocument(
  results: readonly ScenarioResult[],
  options: DocumentOptions = {},
): ResultDocument {
  const total = addCounts(results.map((r) => r.counts));
  const all = options.listedCells === 'all';
  return {
    apiVersion: RESULT_API_VERSION,
    kind: options.kind ?? (results.some((r) => r.live !== undefined) ? 'RunResult' : 'CheckResult'),
    passed: failing(total) === 0,
    summary: {
      scenarios: results.length,
      steps: results.reduce((n, r) => n + r.steps.length, 0),
      ...counts(total),
    },
    ...(all ? { listedCells: 'all' as const } : {}),
    ...(options.generator ? { generator: { ...options.generator } } : {}),
    ...(options.generatedAt ? { generatedAt: options.generatedAt.toISOString() } : {}),
    ...(options.startedAt ? { startedAt: options.startedAt.toISOString() } : {}),
    ...(options.durationMs === undefined ? {} : { durationMs: options.durationMs }),
    ...(options.cluster ? { cluster: options.cluster } : {}),
    scenarios: results.map((r) => ({
      file: r.file,
      name: r.name,
      passed: failing(r.counts) === 0,
      summary: counts(r.counts),
      ...(r.live === undefined
        ? {}
        : { live: { ...r.live, namespaces: { ...r.live.namespaces } } }),
      steps: r.steps.map((s): StepJson => {
        const timing =
          options.timing?.(r.file, s.index) ??
          (s.live === undefined
            ? undefined
            : {
                durationMs: s.live.durationMs,
                ...(s.live.settle.exposureMs === undefined
                  ? {}
                  : { timeToEnforceMs: s.live.settle.exposureMs }),
              });
        return {
          index: s.index,
          name: s.name,
          summary: counts(s.counts),
          endpoints: [...s.endpoints],
          probes: stepProbes(s).map((p) => p.label),
          ...(s.families === undefined ? {} : { families: [...s.families] }),
          ...(s.familyNotes === undefined
            ? {}
            : {
                familyNotes: s.familyNotes.map((n) => ({
                  from: n.from,
                  to: n.to,
                  probe: formatProbe(n.probe),
                  families: n.families.map((f) => ({ ...f })),
                  note: n.note,
                })),
              }),
          tables: tables(s),
          cells: s.cells.filter((c) => all || !QUIET.includes(c.class)).map(cell),
          ...(s.held === undefined ? {} : { held: s.held.map(heldJson) }),
          ...(timing ? { timing } : {}),
          ...(s.live === undefined ? {} : { live: { ...s.live, settle: { ...s.live.settle } } }),
        };
      }),
    })),
  };
}

/** The `check -o json` document: the notable cells only. */
export function checkDocument(results: readonly ScenarioResult[]): ResultDocument {
  return resultDocument(results);
}
