import type { EndpointKey } from './endpoint.js';
import { formatProbe, type ProbePort } from './probe.js';
import type { Protocol } from './protocol.js';

/** An IP family. */
export type Family = 4 | 6;

export const FAMILIES: readonly Family[] = [4, 6];

/** `IPv4` / `IPv6`. */
export function familyName(family: Family): string {
  return `IPv${String(family)}`;
}

/**
 * One probe: from a source endpoint to a destination endpoint on a port and protocol. `family`
 * is set when a run probes more than one IP family (a dual-stack scenario): the job is the flow
 * of that family. Absent: a single-family run, whose flows use the destination's primary
 * address.
 */
export interface Job {
  readonly from: EndpointKey;
  readonly to: EndpointKey;
  readonly probe: ProbePort;
  readonly family?: Family;
}

/**
 * A probe as results name it: `80/TCP`, and `80/TCP IPv6` for a job of a family. The one
 * rendering of the family that every report uses.
 */
export function probeLabel(probe: ProbePort, family?: Family): string {
  return family === undefined ? formatProbe(probe) : `${formatProbe(probe)} ${familyName(family)}`;
}

/**
 * A job that plan/ resolved: `port` is the destination port it targets (a named probe already
 * resolved on the destination). Runners take only these; unresolvable jobs never reach them.
 */
export interface RunnableJob {
  readonly job: Job;
  readonly port: number;
}

/**
 * What a runner found for a job. Never a boolean: the probe runner tells a refused connection
 * from a dropped one and from a probe that could not run; the model says allowed or denied.
 */
export type Outcome =
  'allowed' | 'denied' | 'refused' | 'dropped' | 'probe-error' | 'skipped' | 'unresolved-port';

/** allowed → allow; denied, refused, dropped → deny; the rest decide nothing. */
export function outcomeVerdict(outcome: Outcome): 'allow' | 'deny' | undefined {
  switch (outcome) {
    case 'allowed':
      return 'allow';
    case 'denied':
    case 'refused':
    case 'dropped':
      return 'deny';
    case 'probe-error':
    case 'skipped':
    case 'unresolved-port':
      return undefined;
  }
}

/**
 * What a cell's tries (in order) observed, and which try stands for it: their one verdict, else
 * 'flaky' (the first try stands). UDP is the exception: a reply proves delivery and silence
 * proves nothing (a server short of CPU answers late, while a TCP connect completes in the
 * kernel), so replies and silences ('dropped'), at least one reply, are 'allow' and the first
 * reply stands; a 'refused' among them (an ICMP unreachable) is an answer, and makes them flaky.
 */
export function triesVerdict(
  protocol: Protocol,
  outcomes: readonly Outcome[],
): { readonly observed: 'allow' | 'deny' | 'flaky' | 'probe-error'; readonly stands: number } {
  if (
    protocol === 'UDP' &&
    outcomes.includes('allowed') &&
    outcomes.every((o) => o === 'allowed' || o === 'dropped')
  )
    return { observed: 'allow', stands: outcomes.indexOf('allowed') };
  const verdicts = outcomes.map((o) => outcomeVerdict(o) ?? 'probe-error');
  const first = verdicts[0] ?? 'probe-error';
  return { observed: verdicts.some((v) => v !== first) ? 'flaky' : first, stands: 0 };
}

export interface JobResult {
  readonly job: Job;
  readonly outcome: Outcome;
  /** Why: the model's explanation, or the probe's error and a command to reproduce it. */
  readonly detail: string;
}
