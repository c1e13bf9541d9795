/**
 * The comparison of one cell: what the user expected, what the model of the spec says, and (on a
 * live run) what the cluster did. Every cell gets exactly one class.
 */
import type { ExpectedVerdict } from '../dsl/types.js';

export const CELL_CLASSES = [
  /** Everything that was asked agrees. */
  'agree',
  /** The expectation differs from the spec's verdict (and from the cluster, on a live run). */
  'expectation-contradicts-spec',
  /** The cluster differs from the spec (and from the expectation, where there is one). */
  'cluster-deviates',
  /** A declared known deviation of the network plugin, seen as declared. */
  'known-deviation',
  /** The model differs from both the expectation and the cluster: a bug of polygraph's. */
  'model-disagrees',
  /** Nothing in the expectation covers the cell (and the cluster, if probed, agrees with the model). */
  'unchecked',
  /** The destination does not serve the probed port: no connection to judge. */
  'unresolvable',
  /** The probe could not run (exec failure, no result): decides nothing. */
  'probe-error',
  /** The runner cannot carry this probe here (e.g. SCTP on a kernel without it). */
  'skipped',
  /** Repeated probes of the cell gave different outcomes. */
  'flaky',
] as const;
export type CellClass = (typeof CELL_CLASSES)[number];

/** Classes that make a check or a run fail (exit 1). */
export const FAILING_CLASSES: readonly CellClass[] = [
  'expectation-contradicts-spec',
  'cluster-deviates',
  'model-disagrees',
  'flaky',
];

export type Decided = 'allow' | 'deny';

export interface CellInputs {
  readonly expected?: ExpectedVerdict;
  /** The model's verdict, or unresolvable when plan/ found no port to probe. */
  readonly modelled: Decided | 'unresolvable';
  /** Absent on an offline check. */
  readonly observed?: Decided | 'probe-error' | 'skipped' | 'flaky';
  /** The cell is a declared known deviation observing this verdict. */
  readonly knownDeviation?: Decided;
}

export function classify(cell: CellInputs): CellClass {
  const { expected, modelled, observed } = cell;
  if (modelled === 'unresolvable') return expected === 'unresolvable' ? 'agree' : 'unresolvable';
  if (expected === 'unresolvable') return 'expectation-contradicts-spec';
  if (observed === undefined)
    return expected === undefined
      ? 'unchecked'
      : expected === modelled
        ? 'agree'
        : 'expectation-contradicts-spec';
  if (observed === 'probe-error' || observed === 'skipped' || observed === 'flaky') return observed;
  if (observed === modelled)
    return expected === undefined
      ? 'unchecked'
      : expected === modelled
        ? 'agree'
        : 'expectation-contradicts-spec';
  // The cluster differs from the model.
  if (cell.knownDeviation === observed) return 'known-deviation';
  if (expected === observed) return 'model-disagrees';
  return 'cluster-deviates';
}
