/**
 * Many scenarios on one cluster: up to `parallel` at once, each in its own namespaces, on one
 * TopologyPool, so that scenarios with the same topology (namespaces, pods, labels, ports) run on
 * one deployment reset between them instead of each creating and deleting its own probe pods —
 * most of a scenario's time on a real cluster. `polygraph run` with several scenarios, the
 * conformance suite and anything else that runs a list of scenarios go through here.
 *
 * Order: a runner that finishes a scenario takes next the first waiting scenario with the
 * topology it just released (its deployment is idle in the pool), else the first waiting
 * scenario whose topology no other runner is using, else the first waiting one. Outcomes come
 * back in the order of the input whatever order they ran in.
 */
import type { Scenario } from '../dsl/types.js';
import type { LiveCluster } from './live-cluster.js';
import { topologyKey, TopologyPool } from './pool.js';
import type { ScenarioResult } from './results.js';
import { runScenario, scenarioNamespaces, type RunEvent, type RunOptions } from './run.js';

export interface SuiteOptions extends Omit<RunOptions, 'pool' | 'runId' | 'onEvent'> {
  /** The engine's events of every scenario, with the scenario's position in the input. */
  readonly onEvent?: (event: RunEvent, index: number) => void;
  /** Scenarios running at once. Default 1. */
  readonly parallel?: number;
  /**
   * Stop starting scenarios once one failed (the running ones finish). Default false: every
   * scenario runs and each outcome carries its own error.
   */
  readonly stopOnError?: boolean;
  /**
   * Draws the run id of each scenario (default: a new random one); a scenario that reuses a
   * deployment runs under the id of that deployment.
   */
  readonly newRunId?: () => string;
  /** Called as each scenario ends, in the order they end. */
  readonly onOutcome?: (outcome: SuiteOutcome) => void;
}

export interface SuiteOutcome {
  /** Position in the input. */
  readonly index: number;
  readonly scenario: Scenario;
  /** Absent when the scenario failed (error) or was never started (a stop: neither is set). */
  readonly result?: ScenarioResult;
  readonly error?: unknown;
  /** Wall time of this scenario, milliseconds. */
  readonly ms: number;
}

export interface SuiteResult {
  /** One per input scenario, in input order. */
  readonly outcomes: readonly SuiteOutcome[];
  /** Scenarios that ran on a deployment an earlier scenario had used. */
  readonly reuses: number;
}

/**
 * The order in which `parallel` runners take scenarios, as a pure function of their topology
 * keys: `next(previousKey, busyKeys)` picks among the waiting indexes.
 */
export class SuiteQueue {
  private readonly waiting: number[];

  constructor(private readonly keys: readonly string[]) {
    this.waiting = keys.map((_, i) => i);
  }

  /** Whether a waiting scenario has topology `key`. */
  has(key: string): boolean {
    return this.waiting.some((i) => this.keys[i] === key);
  }

  /** The next index for a runner that last ran topology `previous`, or undefined when done. */
  next(previous: string | undefined, busy: ReadonlySet<string>): number | undefined {
    if (this.waiting.length === 0) return undefined;
    let at = previous === undefined ? -1 : this.waiting.findIndex((i) => this.keys[i] === previous);
    if (at < 0) at = this.waiting.findIndex((i) => !busy.has(this.keys[i] ?? ''));
    if (at < 0) at = 0;
    return this.waiting.splice(at, 1)[0];
  }
}

export async function runSuite(
  scenarios: readonly Scenario[],
  cluster: LiveCluster,
  options: SuiteOptions,
): Promise<SuiteResult> {
  const { parallel = 1, stopOnError = false, onOutcome, newRunId, onEvent, ...run } = options;
  if (!Number.isInteger(parallel) || parallel < 1)
    throw new RangeError(`parallel must be a positive integer, not ${String(parallel)}`);
  // A pool needs run-suffixed names and no keep (runScenario refuses otherwise): without one,
  // every scenario deploys and deletes its own topology.
  const pool = run.keep === true || run.namespaceNames === 'exact' ? undefined : new TopologyPool();
  // Deployments the suite deletes are waited for as a single scenario's are (unless told not to).
  const wait = run.waitForCleanup ?? true;
  const keys = scenarios.map((s) => topologyKey(s, scenarioNamespaces(s)));
  const queue = new SuiteQueue(keys);
  const outcomes: (SuiteOutcome | undefined)[] = scenarios.map(() => undefined);
  const busy = new Map<string, number>();
  /** Deployment (run id) → the scenario that ran on it last. */
  const lastOn = new Map<string, { index: number; name: string }>();
  let stopped = false;

  const runner = async () => {
    let previous: string | undefined;
    for (;;) {
      if (stopped || run.signal?.aborted === true) return;
      const busyKeys = new Set([...busy].filter(([, n]) => n > 0).map(([k]) => k));
      const index = queue.next(previous, busyKeys);
      if (index === undefined) return;
      const scenario = scenarios[index];
      const key = keys[index];
      if (scenario === undefined || key === undefined) return;
      busy.set(key, (busy.get(key) ?? 0) + 1);
      const t0 = Date.now();
      let outcome: SuiteOutcome;
      try {
        const result = await runScenario(scenario, cluster, {
          ...run,
          // The last waiting scenario of its topology deletes the deployment itself (waited for
          // as for a single scenario) rather than resetting it for nobody.
          ...(pool === undefined ? {} : { pool, returnToPool: queue.has(key) }),
          ...(newRunId === undefined ? {} : { runId: newRunId() }),
          ...(onEvent === undefined
            ? {}
            : {
                onEvent: (event: RunEvent) => {
                  onEvent(event, index);
                },
              }),
        });
        outcome = { index, scenario, result, ms: Date.now() - t0 };
      } catch (error) {
        outcome = { index, scenario, error, ms: Date.now() - t0 };
        if (stopOnError) stopped = true;
      } finally {
        busy.set(key, (busy.get(key) ?? 0) - 1);
      }
      previous = key;
      // No waiting scenario has this topology: its idle deployments go now rather than at the
      // end (a suite of many topologies would otherwise keep every one of them deployed).
      // Its deletion is waited for as a scenario's cleanup is, and reported as the cleanup of
      // the scenario that ran on it last.
      const live = outcome.result?.live;
      if (live !== undefined) lastOn.set(live.runId, { index, name: scenario.name });
      if (pool !== undefined && !queue.has(key) && busy.get(key) === 0)
        await pool.release(cluster, key, wait, (deployed) => {
          const last = lastOn.get(deployed.runId) ?? { index, name: scenario.name };
          onEvent?.(
            { kind: 'cleanup', scenario: last.name, namespaces: [...deployed.names.values()] },
            last.index,
          );
        });
      outcomes[index] = outcome;
      onOutcome?.(outcome);
    }
  };

  // Every runner ends before the pool closes, even when one of them failed outside a scenario
  // (releasing a topology): that failure is thrown after the cleanup.
  const ended = await Promise.allSettled(
    Array.from({ length: Math.min(parallel, scenarios.length) }, async () => {
      try {
        await runner();
      } catch (error) {
        stopped = true;
        throw error;
      }
    }),
  );
  // What is still deployed: probe sessions closed, namespaces deleted.
  await pool?.close(cluster, wait);
  const broken = ended.find((e) => e.status === 'rejected');
  if (broken !== undefined) throw broken.reason;
  // Interrupted between two scenarios: the scenarios not started have no outcome to report, so
  // the suite ends as an interrupted scenario does, with the signal's reason.
  run.signal?.throwIfAborted();
  return {
    outcomes: scenarios.map((scenario, index) => outcomes[index] ?? { index, scenario, ms: 0 }),
    reuses: pool?.reuses ?? 0,
  };
}
