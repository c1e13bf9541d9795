/**
 * The live oracle: each policy set is one scenario run by the product's engine (`runScenario`),
 * on a TopologyPool so that the fuzz topology is deployed once and reset between sets (its
 * policies deleted). The scenario has no expectation: every cell is observed against the model.
 */
import { InternalError } from '../domain/errors.js';
import type { LiveCluster } from '../engine/live-cluster.js';
import { TopologyPool } from '../engine/pool.js';
import { runScenario, type RunOptions } from '../engine/run.js';
import type { Oracle } from './oracle.js';

/** Default bound of settling for a fuzz set: kube-router applies a change in ~0.2 s. */
export const FUZZ_SETTLE_MS = 2_000;

export interface LiveOracle {
  readonly oracle: Oracle;
  /** Sets run on the cluster (the generated ones, re-runs and shrinking steps). */
  readonly runs: () => number;
  /** Deletes the deployed topology; waits until it is gone. */
  readonly close: () => Promise<void>;
}

export function liveOracle(
  cluster: LiveCluster,
  options: Omit<RunOptions, 'pool' | 'keep' | 'namespaceNames'>,
): LiveOracle {
  const pool = new TopologyPool();
  let runs = 0;
  return {
    oracle: async (scenario) => {
      runs++;
      const result = await runScenario(scenario, cluster, {
        settleTimeoutMs: FUZZ_SETTLE_MS,
        ...options,
        pool,
      });
      const step = result.steps[0];
      if (step === undefined) throw new InternalError('a fuzz scenario has one step');
      return step;
    },
    runs: () => runs,
    close: () => pool.close(cluster, true),
  };
}
