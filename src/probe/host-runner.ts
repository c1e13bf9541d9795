/**
 * Probes from hosts outside the cluster (scenario externals as sources): the same batched probe
 * client as in the pods (probes/probe.sh), run through a command the user names for that host —
 * `ip netns exec ext1` on the lab, `docker exec ext1` next to kind, `ssh bastion` elsewhere.
 * `hostBatch` is the probe runner's batch function for such a source: one run per host carries
 * all of its jobs concurrently. A command that fails, hangs or says
 * nothing makes its jobs probe-errors with the reason and the command to reproduce them — never
 * a denial. The command is run as given (no shell), and it is the user's: polygraph never picks
 * a host to probe from.
 */
import type { EndpointKey } from '../domain/endpoint.js';
import { probeCommand } from './batch.js';
import { formatJob, matchResults, parseProbeOutput } from './batch-protocol.js';
import type { HostBatch } from './probe-runner.js';

/** What running one command gave. */
export interface HostCommandResult {
  readonly exitCode: number | undefined;
  readonly stdout: string;
  readonly stderr: string;
  /** Why it did not run to its end (not found, timed out, killed), when it did not. */
  readonly failure?: string;
}

/** Runs argv with a deadline: execa, or a fake in unit tests. */
export type RunHostCommand = (
  argv: readonly string[],
  timeoutMs: number,
  signal?: AbortSignal,
) => Promise<HostCommandResult>;

export const runHostCommand: RunHostCommand = async (argv, timeoutMs, signal) => {
  const [file, ...args] = argv;
  if (file === undefined)
    return { exitCode: undefined, stdout: '', stderr: '', failure: 'empty command' };
  // Loaded here: the offline commands never start a process, and the import costs 0.1 s.
  const { execa } = await import('execa');
  const r = await execa(file, args, {
    reject: false,
    timeout: timeoutMs,
    stdin: 'ignore',
    ...(signal === undefined ? {} : { cancelSignal: signal }),
  });
  const failure = r.timedOut
    ? `no answer within ${String(timeoutMs)} ms`
    : r.failed && r.exitCode === undefined
      ? r.shortMessage
      : undefined;
  return {
    exitCode: r.exitCode,
    stdout: typeof r.stdout === 'string' ? r.stdout : '',
    stderr: typeof r.stderr === 'string' ? r.stderr : '',
    ...(failure === undefined ? {} : { failure }),
  };
};

/** A shell-quoted argv, for the command a person can paste. */
function quote(argv: readonly string[]): string {
  return argv
    .map((a) => (/^[-\w./:=@,+]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`))
    .join(' ');
}

/**
 * The batch function of source `from`: runs the probe client through `prefix` (the user's command
 * for that host). A command that fails, hangs or says nothing makes the batch's jobs probe-errors
 * with the reason and the command to reproduce them.
 */
export function hostBatch(
  from: EndpointKey,
  prefix: readonly string[],
  runCommand: RunHostCommand = runHostCommand,
): HostBatch {
  return async (jobs, signal) => {
    if (jobs.length === 0) return [];
    const maxTimeout = Math.max(...jobs.map((j) => j.timeoutSeconds));
    const reproduce = `${quote(prefix)} bash probe.sh ${jobs.map(formatJob).join(' ')}`;
    const r = await runCommand(
      [...prefix, ...probeCommand(jobs)],
      maxTimeout * 1000 + 30_000,
      signal,
    );
    const failure =
      r.failure !== undefined
        ? `probing from ${from} with \`${quote(prefix)}\` failed: ${r.failure} (reproduce: ${reproduce})`
        : r.exitCode === 0
          ? undefined
          : `probe client on ${from} exited ${String(r.exitCode)}: ${r.stderr.trim()} (reproduce: ${reproduce})`;
    return matchResults(jobs, parseProbeOutput(r.stdout), failure);
  };
}
