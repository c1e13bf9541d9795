/**
 * Probes from hosts outside the cluster (scenario externals as sources): the same batched probe
 * client as in the pods (probes/probe.sh), run through a command the user names for that host —
 * `ip netns exec ext1` on the lab, `docker exec ext1` next to kind, `ssh bastion` elsewhere. One
 * run per source host carries all of its jobs concurrently. A command that fails, hangs or says
 * nothing makes its jobs probe-errors with the reason and the command to reproduce them — never
 * a denial. The command is run as given (no shell), and it is the user's: polygraph never picks
 * a host to probe from.
 */
import { execa } from 'execa';
import type { EndpointKey } from '../domain/endpoint.js';
import type { Job, JobResult, RunnableJob } from '../domain/job.js';
import { probeCommand } from './batch.js';
import { formatJob, matchResults, parseProbeOutput, type ProbeJob } from './batch-protocol.js';
import { detailOf, probeOutcome, type LivePod } from './cluster-runner.js';
import type { JobRunner } from './job-runner.js';

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

export interface HostRunnerOptions {
  /** Per-probe timeout in whole seconds. Default 1. */
  readonly timeoutSeconds?: number;
}

/** A shell-quoted argv, for the command a person can paste. */
function quote(argv: readonly string[]): string {
  return argv
    .map((a) => (/^[-\w./:=@,+]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`))
    .join(' ');
}

export class HostRunner implements JobRunner {
  readonly name = 'hosts';
  private readonly timeoutSeconds: number;

  /**
   * @param hosts source key (`ext:NAME`) → the command that runs a program on that host
   * @param targets destinations by key: pods and mapped externals, with their addresses
   */
  constructor(
    private readonly hosts: ReadonlyMap<EndpointKey, readonly string[]>,
    private readonly targets: ReadonlyMap<EndpointKey, LivePod>,
    options: HostRunnerOptions = {},
    private readonly runCommand: RunHostCommand = runHostCommand,
  ) {
    this.timeoutSeconds = options.timeoutSeconds ?? 1;
    if (!Number.isInteger(this.timeoutSeconds) || this.timeoutSeconds < 1)
      throw new RangeError(
        `timeoutSeconds must be a whole number ≥ 1, got ${String(this.timeoutSeconds)}`,
      );
  }

  async run(runnable: readonly RunnableJob[], signal?: AbortSignal): Promise<JobResult[]> {
    const results: (JobResult | undefined)[] = new Array<JobResult | undefined>(runnable.length);
    const bySource = new Map<EndpointKey, { index: number; probe: ProbeJob }[]>();
    runnable.forEach(({ job, port }, index) => {
      const destination = this.targets.get(job.to);
      const ip = destination?.ip ?? '';
      const protocol = job.probe.protocol;
      const skip = !this.hosts.has(job.from)
        ? `no command runs probes on ${job.from}`
        : ip === ''
          ? `destination ${job.to} has no address`
          : undefined;
      if (skip !== undefined || protocol === 'SCTP') {
        results[index] = {
          job,
          outcome: 'skipped',
          detail: skip ?? 'the probe client (probes/probe.sh) has no SCTP probe',
        };
        return;
      }
      const planned = {
        index,
        probe: {
          id: `j${String(index)}`,
          host: ip,
          port,
          protocol,
          timeoutSeconds: this.timeoutSeconds,
        },
      };
      const group = bySource.get(job.from);
      if (group === undefined) bySource.set(job.from, [planned]);
      else group.push(planned);
    });

    // Few hosts, each one process: all at once.
    await Promise.all(
      [...bySource].map(async ([from, planned]) => {
        signal?.throwIfAborted();
        const prefix = this.hosts.get(from) ?? [];
        const jobs = planned.map((p) => p.probe);
        const argv = [...prefix, ...probeCommand(jobs)];
        const reproduce = `${quote(prefix)} bash probe.sh ${jobs.map(formatJob).join(' ')}`;
        const r = await this.runCommand(argv, this.timeoutSeconds * 1000 + 30_000, signal);
        const failure =
          r.failure !== undefined
            ? `probing from ${from} with \`${quote(prefix)}\` failed: ${r.failure} (reproduce: ${reproduce})`
            : r.exitCode === 0
              ? undefined
              : `probe client on ${from} exited ${String(r.exitCode)}: ${r.stderr.trim()} (reproduce: ${reproduce})`;
        const probed = matchResults(jobs, parseProbeOutput(r.stdout), failure);
        planned.forEach((p, i) => {
          const job = runnable[p.index]?.job;
          const result = probed[i];
          if (job === undefined || result === undefined) return;
          results[p.index] = {
            job,
            outcome: probeOutcome(result.outcome),
            detail: detailOf(result),
          };
        });
      }),
    );
    return results.map(
      (r, i) =>
        r ?? {
          job: runnable[i]?.job as Job,
          outcome: 'probe-error' as const,
          detail: 'internal: job was neither planned nor run',
        },
    );
  }
}
