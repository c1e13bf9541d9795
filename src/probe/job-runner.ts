import type { JobResult, RunnableJob } from '../domain/job.js';

/**
 * Anything that can decide jobs: the model, or a live cluster. The same planned jobs (src/plan)
 * go to each, and the truth tables they return are compared cell by cell. Results come back in
 * the order of the jobs.
 */
export interface JobRunner {
  readonly name: string;
  run(jobs: readonly RunnableJob[], signal?: AbortSignal): Promise<JobResult[]>;
}
