import type { Job, JobResult } from '../domain/job.js';
import type { NetworkModel } from '../model/engine.js';
import type { JobRunner } from './job-runner.js';

/** The model as a runner: every job is decided by the NetworkPolicy spec, with its reason. */
export class ModelRunner implements JobRunner {
  readonly name = 'model';
  constructor(private readonly model: NetworkModel) {}

  run(jobs: readonly Job[], signal?: AbortSignal): Promise<JobResult[]> {
    const results: JobResult[] = [];
    for (const job of jobs) {
      signal?.throwIfAborted();
      if (!this.model.endpoint(job.from) || !this.model.endpoint(job.to)) {
        results.push({
          job,
          outcome: 'skipped',
          detail: `unknown endpoint ${this.model.endpoint(job.from) ? job.to : job.from}`,
        });
        continue;
      }
      const verdict = this.model.verdict(job.from, job.to, job.probe);
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
