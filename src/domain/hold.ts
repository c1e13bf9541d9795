/**
 * Held connections: a connection opened before a step's actions and used again after them, to see
 * what a new policy does to traffic that is already flowing. The spec says nothing about
 * established connections, so a held connection has no spec verdict: its expectation is the
 * user's statement about the network plugin.
 */

/** What a held connection did when it was used again after the step. */
export const HOLD_OUTCOMES = ['open', 'reset', 'dropped'] as const;
/**
 * open: it still answered; reset: it was ended (TCP RST, a broken pipe, the peer closed it; UDP:
 * an ICMP unreachable came back); dropped: nothing came back within the timeout.
 */
export type HoldOutcome = (typeof HOLD_OUTCOMES)[number];

/** A held connection's live outcome, or why it decides nothing. */
export type HoldObserved = HoldOutcome | 'probe-error' | 'skipped';

export function isHoldOutcome(text: string): text is HoldOutcome {
  return (HOLD_OUTCOMES as readonly string[]).includes(text);
}
