/**
 * The library's scenario API: `check` (offline, against the model) and `run` (on a live cluster,
 * with the same preflight and enforcement canary as `polygraph run`). Both take a scenario or the
 * path of a scenario file and resolve to a ScenarioResult (src/engine/results.ts).
 */
import { Cluster } from '../cluster/index.js';
import type { Family } from '../domain/job.js';
import { loadScenario } from '../dsl/load.js';
import type { Scenario } from '../dsl/types.js';
import { checkScenario } from './check.js';
import { clusterBackend } from './live-cluster.js';
import { enforcementCanary, preflightRun } from './preflight.js';
import type { ScenarioResult } from './results.js';
import { runScenario, type RunEvent } from './run.js';

/** The public, pinned probe image: agnhost (servers and the probe client). */
export const DEFAULT_PROBE_IMAGE = 'registry.k8s.io/e2e-test-images/agnhost:2.53';

/** Options of {@link run}; every one has the default of the matching `polygraph run` flag. */
export interface RunScenarioOptions {
  /** The kubeconfig file. Default: KUBECONFIG, then ~/.kube/config. */
  readonly kubeconfig?: string;
  /** The kubeconfig context. Default: its current context. */
  readonly context?: string;
  /** The probe image: agnhost or a mirror of it. Default {@link DEFAULT_PROBE_IMAGE}. */
  readonly image?: string;
  /**
   * The network plugin (e.g. `kube-router`): its declared known deviations then classify as
   * `known-deviation`. Default: the plugin detected from its DaemonSet, if any.
   */
  readonly plugin?: string;
  /** Skip the enforcement canary (a deny-all policy must take effect before the scenario runs). */
  readonly skipCanary?: boolean;
  /** Source pods probing at once. Default 10. */
  readonly concurrency?: number;
  /** `spread` (default): probe pods round-robin over the schedulable nodes; `pack`: on one node. */
  readonly placement?: 'spread' | 'pack';
  /** Per-probe timeout in milliseconds, rounded up to whole seconds. Default 1000. */
  readonly timeoutMs?: number;
  /** Scenario external name → a live address that stands for it (probed as a destination). */
  readonly externals?: Readonly<Record<string, string>> | ReadonlyMap<string, string>;
  /**
   * Scenario external name → the command (argv) that runs a program on the host standing for it,
   * e.g. `['docker', 'exec', 'ext1']`: its cells as a source are probed from there. Each needs an
   * address in `externals`.
   */
  readonly externalSources?:
    Readonly<Record<string, readonly string[]>> | ReadonlyMap<string, readonly string[]>;
  /**
   * The IP families to probe: `[4]`, `[6]` or `[4, 6]`. Default: every family the live pods have
   * (status.podIPs): on a dual-stack cluster, every cell on each.
   */
  readonly families?: readonly Family[];
  /** Aborts the run; what it created is removed. */
  readonly signal?: AbortSignal;
  /** Progress: phases, steps, settling. */
  readonly onEvent?: (event: RunEvent) => void;
}

async function scenarioOf(scenarioOrPath: Scenario | string): Promise<Scenario> {
  return typeof scenarioOrPath === 'string' ? loadScenario(scenarioOrPath) : scenarioOrPath;
}

/** Options of {@link check}. */
export interface CheckScenarioOptions {
  /**
   * The IP families to decide: `[4]`, `[6]` or `[4, 6]`. Default: every family the scenario's
   * pods declare in `ips:` (a cell per family when there are two).
   */
  readonly families?: readonly Family[];
}

/**
 * Checks a scenario against the model of the NetworkPolicy spec, offline: every cell's
 * expectation is compared with the model's verdict. Throws an InputError when the file is not a
 * valid scenario, a UsageError when a requested family is one no pod declares.
 */
export async function check(
  scenarioOrPath: Scenario | string,
  options: CheckScenarioOptions = {},
): Promise<ScenarioResult> {
  return checkScenario(
    await scenarioOf(scenarioOrPath),
    options.families === undefined ? {} : { families: options.families },
  );
}

/**
 * Runs a scenario on a live cluster, as `polygraph run` does: checks access (and, for cluster
 * policies, that the cluster serves their API), runs the enforcement canary (unless `skipCanary`), then creates the namespaces, probe pods and policies,
 * probes every cell of every step, compares expected, modelled and observed, and removes what it
 * created. Throws a ClusterError when the cluster cannot be used (no access, no enforcement).
 */
export async function run(
  scenarioOrPath: Scenario | string,
  options: RunScenarioOptions = {},
): Promise<ScenarioResult> {
  const scenario = await scenarioOf(scenarioOrPath);
  const cluster = Cluster.connect({
    ...(options.kubeconfig === undefined ? {} : { kubeconfig: options.kubeconfig }),
    ...(options.context === undefined ? {} : { context: options.context }),
  });
  const live = clusterBackend(cluster);
  const common = {
    image: options.image ?? DEFAULT_PROBE_IMAGE,
    concurrency: options.concurrency ?? 10,
    timeoutSeconds: Math.max(1, Math.ceil((options.timeoutMs ?? 1000) / 1000)),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.onEvent === undefined ? {} : { onEvent: options.onEvent }),
  };
  const { plugin, warnings } = await preflightRun(cluster, [scenario], options.plugin);
  for (const warning of warnings)
    options.onEvent?.({ kind: 'phase', scenario: scenario.name, message: `warning: ${warning}` });
  if (options.skipCanary !== true) await enforcementCanary(live, common);
  const externals =
    options.externals instanceof Map
      ? new Map(options.externals)
      : new Map(Object.entries(options.externals ?? {}));
  const externalSources =
    options.externalSources instanceof Map
      ? new Map(options.externalSources)
      : new Map(Object.entries(options.externalSources ?? {}));
  return runScenario(scenario, live, {
    ...common,
    ...(plugin === undefined ? {} : { plugin }),
    ...(options.placement === undefined ? {} : { placement: options.placement }),
    ...(options.families === undefined ? {} : { families: options.families }),
    externals,
    externalSources,
  });
}
