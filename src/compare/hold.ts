/**
 * The comparison of one held connection (domain/hold.ts): the outcome the step expects against the
 * outcome seen on the cluster. There is no spec verdict to compare with: the spec says nothing
 * about connections that are already established.
 */
import type { HoldObserved, HoldOutcome } from '../domain/hold.js';

export const HOLD_CLASSES = [
  /** The held connection did what the step expects. */
  'agree',
  /** It did something else. */
  'disagree',
  /** The step states no expectation for it. */
  'unchecked',
  /** It could not be opened, or the test could not run: decides nothing. */
  'probe-error',
  /** It cannot be held here (no live pod). */
  'skipped',
  /** An offline check: held connections need a cluster. */
  'not-checkable-offline',
] as const;
export type HoldClass = (typeof HOLD_CLASSES)[number];

/** The class of a held connection; `observed` is absent on an offline check. */
export function classifyHold(
  expected: HoldOutcome | undefined,
  observed: HoldObserved | undefined,
): HoldClass {
  if (observed === undefined) return 'not-checkable-offline';
  if (observed === 'probe-error' || observed === 'skipped') return observed;
  if (expected === undefined) return 'unchecked';
  return expected === observed ? 'agree' : 'disagree';
}
