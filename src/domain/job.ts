import type { EndpointKey } from './endpoint.js';
import type { ProbePort } from './probe.js';

/** One probe: from a source endpoint to a destination endpoint on a port and protocol. */
export interface Job {
  readonly from: EndpointKey;
  readonly to: EndpointKey;
  readonly probe: ProbePort;
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
 * What a runner found for a job. Never a boolean: a cluster runner tells a refused connection
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

export interface JobResult {
  readonly job: Job;
  readonly outcome: Outcome;
  /** Why: the model's explanation, or the probe's error and a command to reproduce it. */
  readonly detail: string;
}
