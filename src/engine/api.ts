/**
 * The library's scenario API: `check` (offline, against the model), `run` and `runAll` (on a live
 * cluster, through the same path as `polygraph run`). Each takes scenarios or paths of scenario
 * files and resolves to ScenarioResults (src/engine/results.ts).
 */
import { Cluster } from '../cluster/index.js';
import type { Family } from '../domain/job.js';
import { loadScenario } from '../dsl/load.js';
import type { Scenario } from '../dsl/types.js';
import { checkScenario } from './check.js';
import { InternalError } from '../domain/errors.js';
import { runOnCluster } from './live-run.js';
import type { ScenarioResult } from './results.js';
import type { RunEvent } from './run.js';

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

/** Options of {@link runAll}: those of {@link run}, and how many scenarios run at once. */
export interface RunAllOptions extends RunScenarioOptions {
  /**
   * Scenarios running at once, each on a deployment of its own. Default 1. Above 1 the cluster
   * holds as many copies of a topology at once.
   */
  readonly parallel?: number;
}

/**
 * Runs a scenario on a live cluster, as `polygraph run` does: checks access (and, for cluster
 * policies, that the cluster serves their API), runs the enforcement canary (unless
 * `skipCanary`), then creates the namespaces, probe pods and policies, probes every cell of
 * every step, compares expected, modelled and observed, and removes what it created. Throws a
 * ClusterError when the cluster cannot be used (no access, no enforcement).
 */
export async function run(
  scenarioOrPath: Scenario | string,
  options: RunScenarioOptions = {},
): Promise<ScenarioResult> {
  const [result] = await runAll([scenarioOrPath], options);
  if (result === undefined) throw new InternalError('a run of one scenario gave no result');
  return result;
}

/**
 * Runs scenarios on a live cluster as `polygraph run A B …` does: one preflight and one
 * enforcement canary, then every scenario; scenarios with the same topology (namespaces, pods,
 * labels, ports) run on one deployment, reset between them, instead of each creating its own
 * probe pods. Resolves to one result per scenario, in the order given (none, without contacting
 * the cluster, for none). Every file is read first: an invalid one rejects with its InputError
 * before the cluster is contacted. The first scenario that throws stops the others from
 * starting; its error is thrown once everything is removed.
 */
export async function runAll(
  scenariosOrPaths: readonly (Scenario | string)[],
  options: RunAllOptions = {},
): Promise<ScenarioResult[]> {
  const scenarios = await Promise.all(scenariosOrPaths.map(scenarioOf));
  if (scenarios.length === 0) return [];
  const cluster = Cluster.connect({
    ...(options.kubeconfig === undefined ? {} : { kubeconfig: options.kubeconfig }),
    ...(options.context === undefined ? {} : { context: options.context }),
  });
  const externals =
    options.externals instanceof Map
      ? new Map(options.externals)
      : new Map(Object.entries(options.externals ?? {}));
  const externalSources =
    options.externalSources instanceof Map
      ? new Map(options.externalSources)
      : new Map(Object.entries(options.externalSources ?? {}));
  const { results } = await runOnCluster(cluster, scenarios, {
    image: options.image ?? DEFAULT_PROBE_IMAGE,
    concurrency: options.concurrency ?? 10,
    timeoutSeconds: Math.max(1, Math.ceil((options.timeoutMs ?? 1000) / 1000)),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.onEvent === undefined ? {} : { onEvent: options.onEvent }),
    ...(options.plugin === undefined ? {} : { plugin: options.plugin }),
    ...(options.skipCanary === true ? { skipCanary: true } : {}),
    ...(options.parallel === undefined ? {} : { parallel: options.parallel }),
    ...(options.placement === undefined ? {} : { placement: options.placement }),
    ...(options.families === undefined ? {} : { families: options.families }),
    externals,
    externalSources,
    onPreflight: ({ warnings }) => {
      for (const warning of warnings)
        options.onEvent?.({
          kind: 'phase',
          scenario: scenarios[0]?.name ?? '',
          message: `warning: ${warning}`,
        });
    },
  });
  return results;
}
