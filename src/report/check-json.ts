/** The `check -o json` document (docs/OUTPUT.md): compact tables plus the cells worth reading. */
import { formatProbe } from '../domain/probe.js';
import type { CellClass } from '../compare/classify.js';
import type { CellResult, Counts, ScenarioResult, StepResult } from '../engine/results.js';
import { addCounts, failing } from '../engine/results.js';

export interface CheckDocument {
  readonly apiVersion: 'polygraph.dev/v1alpha1';
  readonly kind: 'CheckResult';
  readonly passed: boolean;
  readonly summary: CountsJson & { readonly scenarios: number; readonly steps: number };
  readonly scenarios: readonly {
    readonly file: string;
    readonly name: string;
    readonly passed: boolean;
    readonly summary: CountsJson;
    readonly steps: readonly StepJson[];
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
  readonly tables: Readonly<Record<string, { expected: string[]; modelled: string[] }>>;
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

function tables(step: StepResult): StepJson['tables'] {
  const index = new Map(step.endpoints.map((k, i) => [k, i]));
  const out: Record<string, { expected: string[]; modelled: string[] }> = {};
  for (const probe of step.probes) {
    const blank = () => step.endpoints.map(() => Array<string>(step.endpoints.length).fill(' '));
    out[formatProbe(probe)] = { expected: [], modelled: [] };
    const expected = blank();
    const modelled = blank();
    for (const cell of step.cells) {
      if (cell.probe.port !== probe.port || cell.probe.protocol !== probe.protocol) continue;
      const r = index.get(cell.from) ?? 0;
      const c = index.get(cell.to) ?? 0;
      const er = expected[r];
      const mr = modelled[r];
      if (er) er[c] = cell.expected === undefined ? '-' : MARK[cell.expected];
      if (mr) mr[c] = MARK[cell.modelled];
    }
    out[formatProbe(probe)] = {
      expected: expected.map((row) => row.join('')),
      modelled: modelled.map((row) => row.join('')),
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
    class: c.class,
    explanation: c.explanation,
  };
}

export function checkDocument(results: readonly ScenarioResult[]): CheckDocument {
  const total = addCounts(results.map((r) => r.counts));
  return {
    apiVersion: 'polygraph.dev/v1alpha1',
    kind: 'CheckResult',
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
      })),
    })),
  };
}
