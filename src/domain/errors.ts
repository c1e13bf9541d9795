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

/**
 * An external program polygraph drives (docker, kind, kubectl, the cilium CLI) is missing, too
 * old, or failed a step: which step, which command, what it said, and what to do about it.
 */
export class ToolError extends PolygraphError {
  /** The program: docker, kind, kubectl, cilium. */
  readonly tool: string;
  /** What polygraph was doing, in words ("wait for Calico to be available"). */
  readonly step: string;
  /** The command line that failed, copy-pasteable; absent when the program is missing. */
  readonly command: string | undefined;
  /** What a person can do about it. */
  readonly hint: string | undefined;
  constructor(
    message: string,
    details: { tool: string; step: string; command?: string; hint?: string },
    options?: ErrorOptions,
  ) {
    super(`${details.step}: ${message}`, options);
    this.tool = details.tool;
    this.step = details.step;
    this.command = details.command;
    this.hint = details.hint;
  }
}
