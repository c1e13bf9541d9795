/**
 * A run on a live cluster as `polygraph run` and the library's `run` and `runAll` make it: the
 * preflight (access, cluster policy APIs, the cluster's facts, the plugin), the enforcement
 * canary unless skipped, then the scenarios as one suite (src/engine/suite.ts: scenarios with the
 * same topology share one deployment, reset between them). The first failure stops the suite and
 * is thrown once everything is cleaned up.
 */
import type { Cluster } from '../cluster/index.js';
import type { Scenario } from '../dsl/types.js';
import { clusterBackend } from './live-cluster.js';
import {
  enforcementCanary,
  preflightRun,
  type CanaryResult,
  type RunPreflight,
} from './preflight.js';
import type { ScenarioResult } from './results.js';
import type { RunEvent } from './run.js';
import { runSuite, type SuiteOptions } from './suite.js';

export interface LiveRunOptions extends Omit<
  SuiteOptions,
  'stopOnError' | 'plugin' | 'onEvent' | 'onOutcome'
> {
  /** The network plugin whose known deviations apply. Default: the one detected, if any. */
  readonly plugin?: string;
  /** Skip the enforcement canary. */
  readonly skipCanary?: boolean;
  /** The events of the canary and of every scenario (each names its scenario). */
  readonly onEvent?: (event: RunEvent) => void;
  /** After the preflight, before anything is created: the cluster's facts and the warnings. */
  readonly onPreflight?: (preflight: RunPreflight) => void;
  /** Once the canary saw a deny-all policy enforced. */
  readonly onCanary?: (canary: CanaryResult) => void;
}

export interface LiveRunResult {
  /** One per scenario, in the order given. */
  readonly results: ScenarioResult[];
  readonly preflight: RunPreflight;
}

export async function runOnCluster(
  cluster: Cluster,
  scenarios: readonly Scenario[],
  options: LiveRunOptions,
): Promise<LiveRunResult> {
  const { plugin: named, skipCanary, onEvent, onPreflight, onCanary, ...suite } = options;
  const preflight = await preflightRun(cluster, scenarios, named);
  onPreflight?.(preflight);
  const live = clusterBackend(cluster);
  const events = onEvent === undefined ? {} : { onEvent };
  if (skipCanary !== true) {
    const canary = await enforcementCanary(live, {
      image: suite.image,
      ...(suite.signal === undefined ? {} : { signal: suite.signal }),
      ...(suite.concurrency === undefined ? {} : { concurrency: suite.concurrency }),
      ...(suite.timeoutSeconds === undefined ? {} : { timeoutSeconds: suite.timeoutSeconds }),
      ...events,
    });
    onCanary?.(canary);
  }
  const { outcomes } = await runSuite(scenarios, live, {
    ...suite,
    ...events,
    stopOnError: true,
    ...(preflight.plugin === undefined ? {} : { plugin: preflight.plugin }),
  });
  const failed = outcomes.find((o) => o.error !== undefined);
  if (failed !== undefined) throw failed.error;
  return {
    results: outcomes.flatMap((o) => (o.result === undefined ? [] : [o.result])),
    preflight,
  };
}
