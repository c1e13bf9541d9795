import type { Issue } from './issue.js';

/** Base class of every error polygraph raises on purpose. */
export class PolygraphError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The command line was used wrongly (unknown flag, malformed value, missing argument). */
export class UsageError extends PolygraphError {}

/** Input files are invalid; every problem found is listed, not only the first. */
export class InputError extends PolygraphError {
  readonly issues: readonly Issue[];
  constructor(issues: readonly Issue[], options?: ErrorOptions) {
    super(`${issues.length} problem${issues.length === 1 ? '' : 's'} in the input`, options);
    this.issues = issues;
  }
}

/** A bug in polygraph itself: an invariant did not hold. */
export class InternalError extends PolygraphError {
  constructor(message: string, options?: ErrorOptions) {
    super(`internal error (a bug in polygraph, please report it): ${message}`, options);
  }
}

/** The user stopped the run (SIGINT, SIGTERM); what it created was removed. */
export class InterruptedError extends PolygraphError {}
