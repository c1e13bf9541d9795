/**
 * A live cluster as a JobRunner: jobs are grouped by source pod and each source pod runs all of
 * its probes at once in the batched probe client (probes/probe.sh): in one exec by default, or in
 * the pod's probe session (session.ts) when given ProbeSessions.runBatch. Ports were resolved by
 * plan/; jobs that still cannot be run (no such pod, no IP, SCTP) come back as skipped with the
 * reason — never as a denial.
 */
import pLimit from 'p-limit';
import type { Cluster } from '../cluster/index.js';
import type { EndpointKey } from '../domain/endpoint.js';
import type { Job, JobResult, Outcome, RunnableJob } from '../domain/job.js';
import type { ProbeJob, ProbeOutcome, ProbeResult } from './batch-protocol.js';
import { runProbeBatch, type ProbeSource } from './batch.js';
import type { JobRunner } from './job-runner.js';

/** A pod running on the cluster that jobs name by key (`ns/pod`). */
export interface LivePod {
  readonly namespace: string;
  readonly name: string;
  /** The pod's IP; a destination without one cannot be probed. */
  readonly ip: string | undefined;
  /** The container to exec the probe client in (it needs bash and /usr/bin/nc). */
  readonly container: string;
}

export interface ClusterRunnerOptions {
  /** Source pods probing at the same time (one exec each). Default 4. */
  readonly concurrency?: number;
  /** Per-probe timeout in whole seconds. Default 1. */
  readonly timeoutSeconds?: number;
  /**
   * Whether the cluster can carry SCTP. When false, SCTP jobs are skipped with that reason.
   * Either way the probe client has no SCTP probe yet, so SCTP jobs are skipped. Default true.
   */
  readonly sctp?: boolean;
}

/**
 * The function that runs one source pod's batch: runProbeBatch (one exec), a probe session
 * (ProbeSessions.runBatch), or a fake in unit tests.
 */
export type RunBatch = (
  cluster: Cluster,
  source: ProbeSource,
  jobs: readonly ProbeJob[],
  signal?: AbortSignal,
) => Promise<ProbeResult[]>;

/** A job the runner can probe, with the index of its result. */
interface Planned {
  readonly index: number;
  readonly probe: ProbeJob;
}

export function probeOutcome(outcome: ProbeOutcome): Outcome {
  switch (outcome) {
    case 'allowed':
      return 'allowed';
    case 'refused':
      return 'refused';
    case 'dropped':
      return 'dropped';
    case 'probe-error':
      return 'probe-error';
  }
}

export class ClusterRunner implements JobRunner {
  readonly name = 'cluster';
  private readonly concurrency: number;
  private readonly timeoutSeconds: number;
  private readonly sctp: boolean;

  constructor(
    private readonly cluster: Cluster,
    private readonly pods: ReadonlyMap<EndpointKey, LivePod>,
    options: ClusterRunnerOptions = {},
    private readonly runBatch: RunBatch = runProbeBatch,
  ) {
    this.concurrency = options.concurrency ?? 4;
    this.timeoutSeconds = options.timeoutSeconds ?? 1;
    this.sctp = options.sctp ?? true;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1)
      throw new RangeError(
        `concurrency must be a whole number ≥ 1, got ${String(this.concurrency)}`,
      );
    if (!Number.isInteger(this.timeoutSeconds) || this.timeoutSeconds < 1)
      throw new RangeError(
        `timeoutSeconds must be a whole number ≥ 1, got ${String(this.timeoutSeconds)}`,
      );
  }

  async run(runnable: readonly RunnableJob[], signal?: AbortSignal): Promise<JobResult[]> {
    const jobs = runnable.map((r) => r.job);
    const results: (JobResult | undefined)[] = new Array<JobResult | undefined>(jobs.length);
    const bySource = new Map<EndpointKey, Planned[]>();
    runnable.forEach(({ job, port }, index) => {
      const planned = this.plan(job, port, index);
      if ('outcome' in planned) {
        results[index] = planned;
        return;
      }
      const group = bySource.get(job.from);
      if (group === undefined) bySource.set(job.from, [planned]);
      else group.push(planned);
    });

    const limit = pLimit(this.concurrency);
    await Promise.all(
      [...bySource].map(([from, planned]) =>
        limit(async () => {
          signal?.throwIfAborted();
          const pod = this.pods.get(from);
          if (pod === undefined) throw new Error(`internal: source ${from} was planned unknown`);
          const source = { namespace: pod.namespace, pod: pod.name, container: pod.container };
          const probed = await this.runBatch(
            this.cluster,
            source,
            planned.map((p) => p.probe),
            signal,
          );
          planned.forEach((p, i) => {
            const job = jobs[p.index];
            const result = probed[i];
            if (job === undefined) return;
            results[p.index] =
              result?.id === p.probe.id
                ? { job, outcome: probeOutcome(result.outcome), detail: detailOf(result) }
                : {
                    job,
                    outcome: 'probe-error',
                    detail: `the probe client returned no result for job ${p.probe.id}`,
                  };
          });
        }),
      ),
    );
    return results.map(
      (r, i) =>
        r ?? {
          job: jobs[i] as Job,
          outcome: 'probe-error' as const,
          detail: 'internal: job was neither planned nor run',
        },
    );
  }

  /** The probe for a job, or the result of a job that cannot be probed. */
  private plan(job: Job, port: number, index: number): Planned | JobResult {
    const skip = (detail: string): JobResult => ({ job, outcome: 'skipped', detail });
    const source = this.pods.get(job.from);
    if (source === undefined) return skip(`source ${job.from} is not a known pod`);
    const destination = this.pods.get(job.to);
    if (destination === undefined) return skip(`destination ${job.to} is not a known pod`);
    if (destination.ip === undefined || destination.ip === '')
      return skip(`destination ${job.to} has no IP`);
    const protocol = job.probe.protocol;
    if (protocol === 'SCTP') {
      return skip(
        this.sctp
          ? 'the probe client (probes/probe.sh) has no SCTP probe'
          : 'the cluster cannot carry SCTP',
      );
    }
    return {
      index,
      probe: {
        id: `j${String(index)}`,
        host: destination.ip,
        port,
        protocol,
        timeoutSeconds: this.timeoutSeconds,
      },
    };
  }
}

function detailOf(result: ProbeResult): string {
  return `${result.detail} (${String(result.elapsedMs)} ms)`;
}
