/**
 * A live cluster as a JobRunner: jobs are grouped by source and each source runs all of its probes
 * at once in the batched probe client (probes/probe.sh). A source is a pod — its batch runs in its
 * probe session (session.ts) or in one exec (batch.ts), whichever RunBatch is given — or a host
 * outside the cluster with a command that runs the client there (host-runner.ts). Ports were
 * resolved by plan/; jobs that still cannot be run (no such pod, no IP, SCTP) come back as skipped
 * with the reason — never as a denial.
 */
import pLimit from 'p-limit';
import { isExternalKey, type EndpointKey } from '../domain/endpoint.js';
import {
  familyName,
  type Family,
  type Job,
  type JobResult,
  type Outcome,
  type RunnableJob,
} from '../domain/job.js';
import { parseIp } from '../model/cidr.js';
import type { ProbeJob, ProbeOutcome, ProbeResult } from './batch-protocol.js';
import type { ProbeSource } from './batch.js';
import type { JobRunner } from './job-runner.js';

/** A pod running on the cluster that jobs name by key (`ns/pod`). */
export interface LivePod {
  readonly namespace: string;
  readonly name: string;
  /** The pod's (primary) IP; a destination without one cannot be probed. */
  readonly ip: string | undefined;
  /**
   * Every address of the pod (status.podIPs), one per family: a job of a family targets the
   * address of that family. Absent: `ip` alone.
   */
  readonly ips?: readonly string[];
  /** The container to exec the probe client in (it needs bash and /usr/bin/nc). */
  readonly container: string;
}

/**
 * Runs one source's batch on a host outside the cluster (host-runner.ts hostBatch); results in
 * job order.
 */
export type HostBatch = (jobs: readonly ProbeJob[], signal?: AbortSignal) => Promise<ProbeResult[]>;

export interface ProbeRunnerOptions {
  /** Source pods probing at the same time (one exec or session each). Default 4. */
  readonly concurrency?: number;
  /** Per-probe timeout in whole seconds. Default 1. */
  readonly timeoutSeconds?: number;
  /**
   * Whether the cluster can carry SCTP. When false, SCTP jobs are skipped with that reason.
   * Either way the probe client has no SCTP probe yet, so SCTP jobs are skipped. Default true.
   */
  readonly sctp?: boolean;
  /**
   * Sources outside the cluster (`ext:NAME`) → the function that runs their batch there. Hosts
   * are few, one process each: they run all at once, outside `concurrency`.
   */
  readonly hosts?: ReadonlyMap<EndpointKey, HostBatch>;
}

/**
 * The function that runs one source pod's batch: a probe session (ProbeSessions.runBatch), one
 * exec (runProbeBatch), or a fake in unit tests.
 */
export type RunBatch = (
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

export class ProbeRunner implements JobRunner {
  readonly name = 'cluster';
  private readonly concurrency: number;
  private readonly timeoutSeconds: number;
  private readonly sctp: boolean;
  private readonly hosts: ReadonlyMap<EndpointKey, HostBatch>;

  /**
   * @param pods source pods and destinations by key (destinations include mapped externals, with
   *   their addresses)
   * @param runBatch runs one source pod's batch
   */
  constructor(
    private readonly pods: ReadonlyMap<EndpointKey, LivePod>,
    options: ProbeRunnerOptions,
    private readonly runBatch: RunBatch,
  ) {
    this.concurrency = options.concurrency ?? 4;
    this.hosts = options.hosts ?? new Map<EndpointKey, HostBatch>();
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
    const runSource = async (from: EndpointKey, planned: readonly Planned[]) => {
      signal?.throwIfAborted();
      const probes = planned.map((p) => p.probe);
      const probed = await this.batchOf(from)(probes, signal);
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
    };
    await Promise.all(
      [...bySource].map(([from, planned]) =>
        this.hosts.has(from) ? runSource(from, planned) : limit(() => runSource(from, planned)),
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

  /** What runs the batch of a planned source. */
  private batchOf(from: EndpointKey): HostBatch {
    const host = this.hosts.get(from);
    if (host !== undefined) return host;
    const pod = this.pods.get(from);
    if (pod === undefined) throw new Error(`internal: source ${from} was planned unknown`);
    const source = { namespace: pod.namespace, pod: pod.name, container: pod.container };
    return (jobs, signal) => this.runBatch(source, jobs, signal);
  }

  /** The probe for a job, or the result of a job that cannot be probed. */
  private plan(job: Job, port: number, index: number): Planned | JobResult {
    const skip = (detail: string): JobResult => ({ job, outcome: 'skipped', detail });
    if (!this.pods.has(job.from) && !this.hosts.has(job.from))
      return skip(
        isExternalKey(job.from)
          ? `no command runs probes on ${job.from} (see --external-exec)`
          : `source ${job.from} is not a known pod`,
      );
    const destination = this.pods.get(job.to);
    if (destination === undefined) return skip(`destination ${job.to} is not a known pod`);
    const host = targetAddress(destination, job.family);
    if (host === undefined)
      return skip(
        job.family === undefined
          ? `destination ${job.to} has no IP`
          : `destination ${job.to} has no ${familyName(job.family)} address`,
      );
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
        host,
        port,
        protocol,
        timeoutSeconds: this.timeoutSeconds,
      },
    };
  }
}

/**
 * The address a job targets on a destination: its address of the job's family, or its primary
 * address for a single-family job. Undefined when it has none.
 */
export function targetAddress(
  destination: LivePod,
  family: Family | undefined,
): string | undefined {
  if (family === undefined)
    return destination.ip === undefined || destination.ip === '' ? undefined : destination.ip;
  const all = destination.ips ?? (destination.ip === undefined ? [] : [destination.ip]);
  return all.find((ip) => parseIp(ip)?.family === family);
}

/** A probe result's detail with its elapsed time, as results carry it. */
export function detailOf(result: ProbeResult): string {
  return `${result.detail} (${String(result.elapsedMs)} ms)`;
}
