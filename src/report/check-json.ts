/** The `check -o json` document (docs/OUTPUT.md): compact tables plus the cells worth reading. */
import { formatProbe } from '../domain/probe.js';
import type { CellClass } from '../compare/classify.js';
import type { CellResult, Counts, ScenarioResult, StepResult } from '../engine/results.js';
import { addCounts, failing } from '../engine/results.js';

export interface CheckDocument {
  readonly apiVersion: 'polygraph.dev/v1alpha1';
  /** CheckResult offline; RunResult on a live run (observed tables and live details added). */
  readonly kind: 'CheckResult' | 'RunResult';
  readonly passed: boolean;
  readonly summary: CountsJson & { readonly scenarios: number; readonly steps: number };
  readonly scenarios: readonly {
    readonly file: string;
    readonly name: string;
    readonly passed: boolean;
    readonly summary: CountsJson;
    readonly steps: readonly StepJson[];
    readonly live?: ScenarioResult['live'];
  }[];
}

interface CountsJson {
  readonly cells: number;
  readonly classes: Partial<Record<CellClass, number>>;
}

interface StepJson {
  readonly index: number;
  readonly name: string;
  readonly summary: CountsJson;
  readonly endpoints: readonly string[];
  readonly probes: readonly string[];
  /**
   * Per probe, one string per source row (in `endpoints` order), one character per destination:
   * expected `.` allow, `X` deny, `?` unresolvable, `-` unchecked; modelled `.`, `X`, `?`; a space
   * where there is no cell (external to external).
   */
  readonly tables: Readonly<
    Record<string, { expected: string[]; modelled: string[]; observed?: string[] }>
  >;
  /** On a live run: probes, settling and the exposure window (ms). */
  readonly live?: StepResult['live'];
  /** Every cell that is not `agree`, `unchecked` or `unresolvable`, with the model's reason. */
  readonly cells: readonly CellJson[];
}

interface CellJson {
  readonly from: string;
  readonly to: string;
  readonly probe: string;
  readonly port?: number;
  readonly expected?: string;
  readonly modelled: string;
  readonly observed?: string;
  readonly observedDetail?: string;
  readonly tries?: readonly string[];
  readonly class: CellClass;
  readonly explanation: string;
}

const QUIET: readonly CellClass[] = ['agree', 'unchecked', 'unresolvable'];

function counts(c: Counts): CountsJson {
  const classes: Partial<Record<CellClass, number>> = {};
  for (const [k, n] of Object.entries(c.byClass) as [CellClass, number][])
    if (n > 0) classes[k] = n;
  return { cells: c.cells, classes };
}

const MARK = { allow: '.', deny: 'X', unresolvable: '?' } as const;

/** Observed: `.` allowed, `X` refused or dropped, `E` probe-error, `S` skipped, `F` flaky. */
function observedMark(cell: CellResult): string {
  if (cell.class === 'flaky') return 'F';
  switch (cell.observed) {
    case undefined:
      return ' ';
    case 'allowed':
      return '.';
    case 'refused':
    case 'dropped':
    case 'denied':
      return 'X';
    case 'probe-error':
      return 'E';
    case 'skipped':
    case 'unresolved-port':
      return 'S';
    default:
      return ' ';
  }
}

function tables(step: StepResult): StepJson['tables'] {
  const index = new Map(step.endpoints.map((k, i) => [k, i]));
  const out: Record<string, { expected: string[]; modelled: string[]; observed?: string[] }> = {};
  const live = step.live !== undefined;
  for (const probe of step.probes) {
    const blank = () => step.endpoints.map(() => Array<string>(step.endpoints.length).fill(' '));
    out[formatProbe(probe)] = { expected: [], modelled: [] };
    const expected = blank();
    const modelled = blank();
    const observed = blank();
    for (const cell of step.cells) {
      if (cell.probe.port !== probe.port || cell.probe.protocol !== probe.protocol) continue;
      const r = index.get(cell.from) ?? 0;
      const c = index.get(cell.to) ?? 0;
      const er = expected[r];
      const mr = modelled[r];
      if (er) er[c] = cell.expected === undefined ? '-' : MARK[cell.expected];
      if (mr) mr[c] = MARK[cell.modelled];
      const or = observed[r];
      if (or) or[c] = cell.modelled === 'unresolvable' ? '?' : observedMark(cell);
    }
    out[formatProbe(probe)] = {
      expected: expected.map((row) => row.join('')),
      modelled: modelled.map((row) => row.join('')),
      ...(live ? { observed: observed.map((row) => row.join('')) } : {}),
    };
  }
  return out;
}

function cell(c: CellResult): CellJson {
  return {
    from: c.from,
    to: c.to,
    probe: formatProbe(c.probe),
    ...(c.port === undefined ? {} : { port: c.port }),
    ...(c.expected === undefined ? {} : { expected: c.expected }),
    modelled: c.modelled,
    ...(c.observed === undefined ? {} : { observed: c.observed }),
    ...(c.observedDetail === undefined ? {} : { observedDetail: c.observedDetail }),
    ...(c.tries === undefined ? {} : { tries: c.tries }),
    class: c.class,
    explanation: c.explanation,
  };
}

export function checkDocument(results: readonly ScenarioResult[]): CheckDocument {
  const total = addCounts(results.map((r) => r.counts));
  return {
    apiVersion: 'polygraph.dev/v1alpha1',
    kind: results.some((r) => r.live !== undefined) ? 'RunResult' : 'CheckResult',
    passed: failing(total) === 0,
    summary: {
      scenarios: results.length,
      steps: results.reduce((n, r) => n + r.steps.length, 0),
      ...counts(total),
    },
    scenarios: results.map((r) => ({
      file: r.file,
      name: r.name,
      passed: failing(r.counts) === 0,
      summary: counts(r.counts),
      steps: r.steps.map((s) => ({
        index: s.index,
        name: s.name,
        summary: counts(s.counts),
        endpoints: s.endpoints,
        probes: s.probes.map(formatProbe),
        tables: tables(s),
        cells: s.cells.filter((c) => !QUIET.includes(c.class)).map(cell),
        ...(s.live === undefined ? {} : { live: s.live }),
      })),
      ...(r.live === undefined ? {} : { live: r.live }),
    })),
  };
}
