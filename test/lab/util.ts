/** Small helpers shared by the lab scripts: commands, phases with timings, bounded waits. */
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa, type Options } from 'execa';

export { sleep };

/** Failure of a lab step, with the log file to show when there is one. */
export class LabError extends Error {
  constructor(
    message: string,
    readonly logFile?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'LabError';
  }
}

export function log(message: string): void {
  process.stderr.write(`[lab] ${message}\n`);
}

export interface PhaseTiming {
  phase: string;
  seconds: number;
}

export const timings: PhaseTiming[] = [];

/** Run one named phase, print its duration and keep it for the summary. */
export async function phase<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const start = performance.now();
  log(`${name} ...`);
  try {
    const result = await fn();
    const seconds = (performance.now() - start) / 1000;
    timings.push({ phase: name, seconds });
    log(`${name}: done in ${seconds.toFixed(1)} s`);
    return result;
  } catch (error) {
    const seconds = (performance.now() - start) / 1000;
    log(`${name}: FAILED after ${seconds.toFixed(1)} s`);
    throw error;
  }
}

/** Run a command; throw with its output on failure. */
export async function run(file: string, args: readonly string[], options: Options = {}) {
  const result = await execa(file, args, { stdin: 'ignore', ...options, reject: false });
  if (result.exitCode !== 0 || result.failed) {
    const output = [result.stderr, result.stdout].filter((s) => typeof s === 'string' && s !== '');
    throw new LabError(
      `${file} ${args.join(' ')} failed (exit ${String(result.exitCode)}): ${output.join('\n').slice(-2000)}`,
    );
  }
  return typeof result.stdout === 'string' ? result.stdout : '';
}

/** Run a command and return whether it succeeded; never throws (used for idempotent cleanup). */
export async function tryRun(file: string, args: readonly string[]): Promise<boolean> {
  const result = await execa(file, args, { stdin: 'ignore', reject: false });
  return result.exitCode === 0;
}

/** Output of a command, or '' when it fails. */
export async function output(file: string, args: readonly string[]): Promise<string> {
  const result = await execa(file, args, { stdin: 'ignore', reject: false });
  return result.exitCode === 0 && typeof result.stdout === 'string' ? result.stdout : '';
}

/** Poll `check` until it returns a value other than undefined/false, or throw after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs: number,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const reason = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new LabError(`timed out after ${timeoutMs / 1000} s waiting for ${what}${reason}`);
    }
    await sleep(intervalMs);
  }
}

export function tail(file: string, lines = 40): string {
  if (!existsSync(file)) return `(no log at ${file})`;
  return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
}
