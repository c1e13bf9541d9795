/**
 * The result document read back as matrices: per step and probe, a grid of cells (rows sources,
 * columns destinations) decoded from the compact tables, with the listed cells' explanations laid
 * over them. What every reporter walks; nothing here is text of one format.
 */
import { CELL_CLASSES, FAILING_CLASSES, type CellClass } from '../compare/classify.js';
import { HOLD_CLASSES } from '../compare/hold.js';
import type { Outcome } from '../domain/job.js';
import { CLASS_MARK, OUTCOME_MARK, VERDICT_MARK } from './check-json.js';
import type { CellJson, CountsJson, HeldJson, StepJson } from './document.js';

export type Verdict = 'allow' | 'deny' | 'unresolvable';

export interface CellView {
  readonly from: string;
  readonly to: string;
  readonly probe: string;
  readonly row: number;
  readonly column: number;
  readonly expected?: Verdict;
  readonly modelled: Verdict;
  readonly observed?: Outcome;
  readonly class: CellClass;
  readonly port?: number;
  /** Absent when the document does not list the cell (`listedCells: notable`, a quiet cell). */
  readonly explanation?: string;
  readonly detail?: string;
  readonly reproduce?: string;
  /** Live runs, between two pods whose nodes are known: whether the cell crossed nodes. */
  readonly crossNode?: boolean;
  /** "across nodes (node1 → node2)" or "on one node (node1)", when crossNode is known. */
  readonly placement?: string;
}

export interface ProbeGrid {
  readonly probe: string;
  readonly endpoints: readonly string[];
  /** `rows[from][to]`; undefined where there is no cell (external to external). */
  readonly rows: readonly (readonly (CellView | undefined)[])[];
  readonly cells: readonly CellView[];
  /** Whether the document carries observed outcomes (a live run). */
  readonly live: boolean;
}

function inverse<K extends string>(marks: Readonly<Record<K, string>>): ReadonlyMap<string, K> {
  return new Map((Object.entries(marks) as [K, string][]).map(([k, m]) => [m, k]));
}

const VERDICT = inverse(VERDICT_MARK);
const OUTCOME = inverse(OUTCOME_MARK);
const CLASS = inverse(CLASS_MARK);

export function cellKey(probe: string, from: string, to: string): string {
  return `${probe}\u0000${from}\u0000${to}`;
}

/**
 * Where a cell ran: "across nodes (node1 → node2)" or "on one node (node1)" — from the scenario's
 * pod → node map of a live run (`live.nodes`); undefined when either end has no node (an external
 * host, a pod never created) or the document has no such map.
 */
export function cellPlacement(
  nodes: Readonly<Record<string, string>> | undefined,
  from: string,
  to: string,
): { crossNode: boolean; placement: string } | undefined {
  const a = nodes?.[from];
  const b = nodes?.[to];
  if (a === undefined || b === undefined) return undefined;
  return a === b
    ? { crossNode: false, placement: `on one node (${a})` }
    : { crossNode: true, placement: `across nodes (${a} → ${b})` };
}

/**
 * The grids of a step, one per probe, in the document's probe order. `nodes` (the scenario's
 * `live.nodes`) tells every cell, listed or not, whether it crossed nodes.
 */
export function stepGrids(step: StepJson, nodes?: Readonly<Record<string, string>>): ProbeGrid[] {
  const listed = new Map<string, CellJson>(
    step.cells.map((c) => [cellKey(c.probe, c.from, c.to), c]),
  );
  return step.probes.map((probe) => {
    const table = step.tables[probe];
    const cells: CellView[] = [];
    const rows = step.endpoints.map((from, r) =>
      step.endpoints.map((to, c): CellView | undefined => {
        const cls = CLASS.get(table?.classes[r]?.[c] ?? ' ');
        const modelled = VERDICT.get(table?.modelled[r]?.[c] ?? ' ');
        if (cls === undefined || modelled === undefined) return undefined;
        const expected = VERDICT.get(table?.expected[r]?.[c] ?? '-');
        const observed = OUTCOME.get(table?.observed?.[r]?.[c] ?? '-');
        const json = listed.get(cellKey(probe, from, to));
        const view: CellView = {
          from,
          to,
          probe,
          row: r,
          column: c,
          modelled,
          class: cls,
          ...(expected === undefined ? {} : { expected }),
          ...(observed === undefined ? {} : { observed }),
          ...(json?.port === undefined ? {} : { port: json.port }),
          ...(json === undefined ? {} : { explanation: json.explanation }),
          ...(json?.detail === undefined ? {} : { detail: json.detail }),
          ...(json?.reproduce === undefined ? {} : { reproduce: json.reproduce }),
          ...cellPlacement(nodes, from, to),
        };
        cells.push(view);
        return view;
      }),
    );
    return {
      probe,
      endpoints: step.endpoints,
      rows,
      cells,
      live: table?.observed !== undefined,
    };
  });
}

/** Cells worth showing a reader, in this order of sections. */
export const SHOWN: readonly CellClass[] = [
  'expectation-contradicts-spec',
  'cluster-deviates',
  'model-disagrees',
  'flaky',
  'probe-error',
  'known-deviation',
];

export function isFailing(cls: CellClass): boolean {
  return FAILING_CLASSES.includes(cls);
}

export const TITLE: Readonly<Record<CellClass, string>> = {
  agree: 'agree',
  'expectation-contradicts-spec': 'the expectation contradicts the spec',
  'cluster-deviates': 'the cluster deviates from the spec',
  'known-deviation': 'known deviation',
  'model-disagrees': "the model disagrees with both (a bug in polygraph's model)",
  unchecked: 'unchecked',
  unresolvable: 'unresolvable',
  'probe-error': 'probe error',
  skipped: 'skipped',
  flaky: 'flaky',
};

/** Counts by class in the canonical class order, only the classes that occur. */
export function classCounts(summary: CountsJson): [CellClass, number][] {
  return CELL_CLASSES.map((c): [CellClass, number] => [c, summary.classes[c] ?? 0]).filter(
    ([, n]) => n > 0,
  );
}

/** Failing cells plus held connections that disagree. */
export function failingCount(summary: CountsJson): number {
  return (
    FAILING_CLASSES.reduce((n, c) => n + (summary.classes[c] ?? 0), 0) +
    (summary.held?.classes.disagree ?? 0)
  );
}

/**
 * "45 cells: 40 agree, 5 unresolvable" — only the classes that occur, agree first; then the held
 * connections, "; 4 held connections: 3 agree, 1 disagree", when there are any.
 */
export function formatCounts(summary: CountsJson): string {
  const parts = classCounts(summary).map(([c, n]) => `${String(n)} ${c}`);
  const cells = `${String(summary.cells)} cell${summary.cells === 1 ? '' : 's'}${parts.length > 0 ? `: ${parts.join(', ')}` : ''}`;
  const held = summary.held;
  if (held === undefined) return cells;
  const heldParts = HOLD_CLASSES.flatMap((c) => {
    const n = held.classes[c] ?? 0;
    return n > 0 ? [`${String(n)} ${c}`] : [];
  });
  return `${cells}; ${plural(held.connections, 'held connection')}${heldParts.length > 0 ? `: ${heldParts.join(', ')}` : ''}`;
}

/**
 * A held connection in one line: "80/TCP x/a -> y/b held: expected open, observed reset
 * (disagree); a fresh connection now: deny".
 */
export function heldLine(h: HeldJson): string {
  const parts = [`expected ${h.expected ?? 'nothing'}`];
  parts.push(
    h.observed === undefined
      ? 'not checkable offline (it needs a cluster)'
      : `observed ${h.observed}${h.heldMs === undefined ? '' : ` after ${(h.heldMs / 1000).toFixed(1)} s`}`,
  );
  const fresh =
    h.freshModelled === undefined
      ? ''
      : `; a fresh connection after the step: the spec says ${h.freshModelled}`;
  const cls = h.observed === undefined ? '' : ` (${h.class})`;
  return `${h.probe} ${h.from} -> ${h.to}: ${parts.join(', ')}${cls}${fresh}`;
}

/** Held-connection classes a reader must look at. */
export function heldNotable(h: HeldJson): boolean {
  return h.class === 'disagree' || h.class === 'probe-error' || h.class === 'skipped';
}

export function plural(n: number, word: string): string {
  return `${String(n)} ${word}${n === 1 ? '' : 's'}`;
}
