import type { Job, JobResult } from '../domain/job.js';

/**
 * Anything that can decide jobs: the model, or a live cluster. The same job list goes to each,
 * and the truth tables they return are compared cell by cell.
 */
export interface JobRunner {
  readonly name: string;
  run(jobs: readonly Job[], signal?: AbortSignal): Promise<JobResult[]>;
}
