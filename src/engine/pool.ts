/**
 * Deployed topologies kept between scenarios that share one: the same namespaces with the same
 * labels and the same pods with the same labels and ports. Creating probe pods is most of the
 * cost of a scenario on a real cluster; a suite of many scenarios over one topology (a
 * conformance suite, a fuzz run) deploys it once per concurrent runner and resets it between
 * scenarios instead: the scenario's policies are deleted and the labels it changed restored.
 * A scenario that created or deleted pods, or that failed, is not reset: its namespaces are
 * deleted as usual. `close` deletes what is left.
 */
import type { LivePod } from '../probe/probe-runner.js';
import type { Scenario } from '../dsl/types.js';
import type { LiveCluster } from './live-cluster.js';

/** What a deployed topology holds, as runScenario needs it to run the next scenario on it. */
export interface Deployed {
  readonly key: string;
  readonly runId: string;
  /** Scenario namespace → live namespace. */
  readonly names: ReadonlyMap<string, string>;
  readonly pods: ReadonlyMap<string, LivePod>;
  readonly absent: ReadonlyMap<string, string>;
  readonly podNodes: ReadonlyMap<string, string>;
  readonly nodes: readonly string[] | undefined;
}

/**
 * The TCP ports of pod `key` (`ns/pod`) that a step of the scenario holds connections to: its
 * probe pod serves them in HTTP mode (scenarioProbePod's keepAlive).
 */
export function heldPorts(scenario: Scenario, key: string): ReadonlySet<number> {
  return new Set(
    scenario.steps
      .flatMap((s) => s.holds ?? [])
      .filter((h) => h.to === key && h.protocol === 'TCP')
      .map((h) => h.port),
  );
}

/**
 * The identity of what a scenario deploys: namespaces with labels, pods with labels, ports (and
 * which are served for held connections) and the node a pod is pinned to (a pod placed elsewhere
 * is another deployment).
 */
export function topologyKey(scenario: Scenario, namespaces: readonly string[]): string {
  const labels = new Map(scenario.initial.namespaces.map((n) => [n.name, n.labels]));
  const sorted = (o: Readonly<Record<string, string>>) =>
    Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify({
    namespaces: [...namespaces].sort().map((n) => [n, sorted(labels.get(n) ?? {})]),
    pods: scenario.initial.pods
      .map((p) => [
        `${p.namespace}/${p.name}`,
        sorted(p.labels),
        p.ports.map((c) => [c.containerPort, c.protocol, c.name ?? '']),
        p.hostNetwork,
        p.nodeName ?? null,
        [...heldPorts(scenario, `${p.namespace}/${p.name}`)].sort((a, b) => a - b),
      ])
      .sort((a, b) => (String(a[0]) < String(b[0]) ? -1 : 1)),
  });
}

export class TopologyPool {
  private readonly idle = new Map<string, Deployed[]>();
  /** Deployments made for this pool and not discarded. */
  private readonly deployed = new Set<Deployed>();
  /** Scenarios that ran on a deployment another scenario had used. */
  reuses = 0;

  /** An idle deployment of this topology, now busy; undefined when there is none. */
  take(key: string): Deployed | undefined {
    const list = this.idle.get(key);
    const taken = list?.pop();
    if (taken !== undefined) this.reuses++;
    return taken;
  }

  /** A deployment made (or reset) for the pool, idle again. */
  give(deployed: Deployed): void {
    this.deployed.add(deployed);
    this.idle.set(deployed.key, [...(this.idle.get(deployed.key) ?? []), deployed]);
  }

  /** A deployment whose namespaces were deleted. */
  discard(deployed: Deployed): void {
    this.deployed.delete(deployed);
  }

  /**
   * Deletes the idle deployments of topology `key`: for a suite that knows no later scenario
   * needs them. `removing` hears each of them first (for progress).
   */
  async release(
    cluster: LiveCluster,
    key: string,
    wait = false,
    removing?: (deployed: Deployed) => void,
  ): Promise<void> {
    const idle = this.idle.get(key) ?? [];
    this.idle.delete(key);
    for (const d of idle) {
      this.deployed.delete(d);
      removing?.(d);
    }
    await remove(cluster, idle, wait);
  }

  /**
   * Closes the probe sessions of every deployment still held and deletes its namespaces (waiting
   * until they are gone with `wait`).
   */
  async close(cluster: LiveCluster, wait = false): Promise<void> {
    const all = [...this.deployed];
    this.deployed.clear();
    this.idle.clear();
    await remove(cluster, all, wait);
  }
}

/** Closes the probe sessions of deployments, then deletes their namespaces. */
async function remove(
  cluster: LiveCluster,
  deployments: readonly Deployed[],
  wait: boolean,
): Promise<void> {
  await cluster.closeProbes(deployments.flatMap((d) => [...d.pods.values()]));
  await Promise.all(
    deployments.flatMap((d) =>
      [...d.names.values()].map((ns) => cluster.deleteNamespace(ns, wait)),
    ),
  );
}
