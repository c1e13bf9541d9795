/**
 * What executing a scenario produces, as data: reporters render it, the CLI maps it to an exit
 * code, library users assert on it. Nothing here is text meant for one output format only.
 */
import type { Family, Outcome } from '../domain/job.js';
import type { ProbePort } from '../domain/probe.js';
import {
  CELL_CLASSES,
  FAILING_CLASSES,
  type CellClass,
  type Decided,
} from '../compare/classify.js';
import type { ExpectedVerdict } from '../dsl/types.js';
import type { HoldObserved, HoldOutcome } from '../domain/hold.js';
import { HOLD_CLASSES, type HoldClass } from '../compare/hold.js';
import type { FamilyNote } from '../compare/family.js';

export interface CellResult {
  readonly from: string;
  readonly to: string;
  readonly probe: ProbePort;
  /** The IP family of the flow, when the step probes more than one (absent: one family). */
  readonly family?: Family;
  /** The destination port plan/ resolved; absent when unresolvable. */
  readonly port?: number;
  readonly expected?: ExpectedVerdict;
  readonly modelled: Decided | 'unresolvable';
  /** The live outcome (allowed, refused, dropped, probe-error, skipped), on a live run. */
  readonly observed?: Outcome;
  /** What the probe reported (the error and a command to reproduce it, for a probe-error). */
  readonly observedDetail?: string;
  /** Every outcome, when the cell was probed more than once because it disagreed. */
  readonly tries?: readonly Outcome[];
  /** On a live run between two pods: whether they ran on different nodes. */
  readonly crossNode?: boolean;
  readonly class: CellClass;
  /** The model's reason (which policy and rule decided), or why the cell is unresolvable. */
  readonly explanation: string;
}

/**
 * A connection held across a step (dsl HeldConnection): opened before the step's actions, tested
 * after them. Shown apart from the cells: it has no spec verdict.
 */
export interface HeldResult {
  readonly from: string;
  readonly to: string;
  readonly probe: ProbePort;
  /** The destination port. */
  readonly port: number;
  /** What the step expects of it (the user's statement about the plugin). */
  readonly expected?: HoldOutcome;
  /**
   * For context only: the model's verdict for a fresh connection of the same flow after the step
   * (a held connection has no spec verdict).
   */
  readonly freshModelled?: Decided | 'unresolvable';
  /** Live runs: what it did when used again after the step. */
  readonly observed?: HoldObserved;
  /** What the client reported, opening and testing it. */
  readonly observedDetail?: string;
  /** Live runs: how long it was held, from its opening exchange to its test. */
  readonly heldMs?: number;
  readonly class: HoldClass;
}

/** How a step went on a live cluster. */
export interface StepLive {
  /** Probes run in this step: settling, the whole table and re-probes. */
  readonly probes: number;
  readonly probeMs: number;
  /** From the step's first action to its last result. */
  readonly durationMs: number;
  readonly settle: {
    /** Cells whose verdict this step changes (or that are new), probed until they flip. */
    readonly cells: number;
    readonly rounds: number;
    /** Whether every one of them flipped within the bound. */
    readonly settled: boolean;
    /**
     * The exposure window: from the last action until every changed cell showed its new verdict
     * (measured at the end of the probe round that showed it). Absent when no cell changed.
     */
    readonly exposureMs?: number;
  };
}

/** How a scenario was run on a live cluster. */
export interface ScenarioLive {
  readonly runId: string;
  readonly server: string;
  /** Scenario namespace → live namespace. */
  readonly namespaces: Readonly<Record<string, string>>;
  /** The network plugin whose known deviations were applied, if any. */
  readonly plugin?: string;
  /** Left on the cluster (--keep), with the command that removes it. */
  readonly kept?: string;
  /** How the probe pods were placed on the nodes, when polygraph placed them. */
  readonly placement?: 'spread' | 'pack';
  /** Scenario pod key → the node it ran on. */
  readonly nodes?: Readonly<Record<string, string>>;
}

export type ClassCounts = Readonly<Record<CellClass, number>>;

export type HoldCounts = Readonly<Record<HoldClass, number>>;

export interface Counts {
  readonly cells: number;
  readonly byClass: ClassCounts;
  /** Held connections per class (absent: none). */
  readonly held?: { readonly connections: number; readonly byClass: HoldCounts };
}

export interface StepResult {
  readonly index: number;
  readonly name: string;
  readonly probes: readonly ProbePort[];
  /** The IP families probed, when more than one is in play (cells then carry theirs). */
  readonly families?: readonly Family[];
  /** Flows whose families were decided differently (absent: none, or one family). */
  readonly familyNotes?: readonly FamilyNote[];
  /** Endpoint keys, in matrix order (rows and columns). */
  readonly endpoints: readonly string[];
  readonly cells: readonly CellResult[];
  /** Connections held across the step (absent: none declared). */
  readonly held?: readonly HeldResult[];
  readonly counts: Counts;
  /** On a live run. */
  readonly live?: StepLive;
}

export interface ScenarioResult {
  readonly file: string;
  readonly name: string;
  readonly steps: readonly StepResult[];
  readonly counts: Counts;
  /** On a live run. */
  readonly live?: ScenarioLive;
}

export function emptyClassCounts(): Record<CellClass, number> {
  return Object.fromEntries(CELL_CLASSES.map((c) => [c, 0])) as Record<CellClass, number>;
}

export function countCells(cells: readonly { readonly class: CellClass }[]): Counts {
  const byClass = emptyClassCounts();
  for (const cell of cells) byClass[cell.class]++;
  return { cells: cells.length, byClass };
}

/** The counts of a step: its cells, and its held connections when it declares any. */
export function countStep(
  cells: readonly { readonly class: CellClass }[],
  held: readonly { readonly class: HoldClass }[] | undefined,
): Counts {
  const counts = countCells(cells);
  if (held === undefined || held.length === 0) return counts;
  const byClass = Object.fromEntries(HOLD_CLASSES.map((c) => [c, 0])) as Record<HoldClass, number>;
  for (const h of held) byClass[h.class]++;
  return { ...counts, held: { connections: held.length, byClass } };
}

export function addCounts(all: readonly Counts[]): Counts {
  const byClass = emptyClassCounts();
  const heldByClass = Object.fromEntries(HOLD_CLASSES.map((c) => [c, 0])) as Record<
    HoldClass,
    number
  >;
  let cells = 0;
  let connections = 0;
  for (const c of all) {
    cells += c.cells;
    for (const k of CELL_CLASSES) byClass[k] += c.byClass[k];
    if (c.held === undefined) continue;
    connections += c.held.connections;
    for (const k of HOLD_CLASSES) heldByClass[k] += c.held.byClass[k];
  }
  return connections === 0
    ? { cells, byClass }
    : { cells, byClass, held: { connections, byClass: heldByClass } };
}

/** Cells whose class fails a check or a run, plus held connections that disagree. */
export function failing(counts: Counts): number {
  return (
    FAILING_CLASSES.reduce((sum, c) => sum + counts.byClass[c], 0) +
    (counts.held?.byClass.disagree ?? 0)
  );
}
