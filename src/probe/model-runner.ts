import type { JobResult, RunnableJob } from '../domain/job.js';
import type { NetworkModel } from '../model/engine.js';
import type { JobRunner } from './job-runner.js';

/**
 * The model as a runner: every job is decided by the NetworkPolicy spec, with its reason. The job
 * targets the port plan/ resolved; a named probe keeps its name so that the reason shows it.
 */
export class ModelRunner implements JobRunner {
  readonly name = 'model';
  constructor(private readonly model: NetworkModel) {}

  run(jobs: readonly RunnableJob[], signal?: AbortSignal): Promise<JobResult[]> {
    const results: JobResult[] = [];
    for (const { job, port } of jobs) {
      signal?.throwIfAborted();
      const to = this.model.endpoint(job.to);
      if (!this.model.endpoint(job.from) || !to) {
        results.push({
          job,
          outcome: 'skipped',
          detail: `unknown endpoint ${this.model.endpoint(job.from) ? job.to : job.from}`,
        });
        continue;
      }
      const probe =
        typeof job.probe.port === 'string' && to.kind === 'pod'
          ? job.probe
          : { port, protocol: job.probe.protocol };
      const verdict = this.model.verdict(job.from, job.to, probe, job.family);
      results.push(
        'verdict' in verdict
          ? {
              job,
              outcome: verdict.verdict === 'allow' ? 'allowed' : 'denied',
              detail: verdict.reason,
            }
          : { job, outcome: 'unresolved-port', detail: verdict.reason },
      );
    }
    return Promise.resolve(results);
  }
}
