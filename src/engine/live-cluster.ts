/**
 * What the engine needs of a live cluster, as an interface: `clusterBackend` implements it with
 * src/cluster and the cluster runner; unit tests implement it with a recording fake (a seam for
 * the engine's logic, never the proof: behaviour on Kubernetes is proven on the lab).
 */
import {
  applyClusterObject,
  applyNetworkPolicy,
  deleteClusterObject,
  deletePod,
  findNamespace,
  waitPodsReady,
  type Cluster,
  type ClusterObjectManifest,
  type Labels,
  type NetworkPolicyManifest,
  type NodeFacts,
  type PodInfo,
  type PodSpecInput,
} from '../cluster/index.js';
import type { JobResult, RunnableJob } from '../domain/job.js';
import { CLUSTER_POLICY_GROUP, CLUSTER_POLICY_RESOURCES } from '../model/cluster-validate.js';
import type { ClusterPolicyKind } from '../model/types.js';
import { ClusterRunner, type LivePod } from '../probe/cluster-runner.js';
import { HostRunner } from '../probe/host-runner.js';

export interface ProbeSettings {
  /** Source pods probing at once (one exec each). */
  readonly concurrency: number;
  /** Per-probe timeout, whole seconds. */
  readonly timeoutSeconds: number;
  /**
   * Sources outside the cluster: endpoint key (`ext:NAME`) → the command that runs the probe
   * client on that host (e.g. `ip netns exec ext1`). Jobs from them run there, not in a pod.
   */
  readonly hosts?: ReadonlyMap<string, readonly string[]>;
}

/**
 * Probes jobs from pods with the cluster runner and jobs from `settings.hosts` with the host
 * runner; results in job order.
 */
export async function probeEverywhere(
  cluster: Cluster,
  jobs: readonly RunnableJob[],
  targets: ReadonlyMap<string, LivePod>,
  settings: ProbeSettings,
  signal?: AbortSignal,
): Promise<JobResult[]> {
  const hosts = settings.hosts ?? new Map<string, readonly string[]>();
  const fromHost = (j: RunnableJob) => hosts.has(j.job.from);
  const inPods = jobs.filter((j) => !fromHost(j));
  const onHosts = jobs.filter(fromHost);
  const [podResults, hostResults] = await Promise.all([
    inPods.length === 0
      ? []
      : new ClusterRunner(cluster, targets, {
          concurrency: settings.concurrency,
          timeoutSeconds: settings.timeoutSeconds,
          sctp: false,
        }).run(inPods, signal),
    onHosts.length === 0
      ? []
      : new HostRunner(hosts, targets, { timeoutSeconds: settings.timeoutSeconds }).run(
          onHosts,
          signal,
        ),
  ]);
  let p = 0;
  let h = 0;
  return jobs.map((j) => {
    const r = fromHost(j) ? hostResults[h++] : podResults[p++];
    return r ?? { job: j.job, outcome: 'probe-error', detail: 'internal: no result for the job' };
  });
}

/** A cluster policy on the cluster: its kind, API version (group/version) and live name. */
export interface ClusterPolicyRef {
  readonly kind: ClusterPolicyKind;
  readonly apiVersion: string;
  readonly name: string;
}

/** Where a cluster policy of this kind and API version lives. */
function resourceOf(kind: ClusterPolicyKind, apiVersion: string) {
  return {
    kind,
    group: CLUSTER_POLICY_GROUP,
    version: apiVersion.slice(apiVersion.indexOf('/') + 1),
    plural: CLUSTER_POLICY_RESOURCES[kind],
  };
}

export interface LiveCluster {
  /** The API server, for messages. */
  readonly server: string;
  createNamespace(name: string, labels: Labels): Promise<void>;
  /** A namespace's labels, or undefined when it does not exist. */
  findNamespace(name: string): Promise<Labels | undefined>;
  setNamespaceLabels(name: string, labels: Labels): Promise<void>;
  /** Starts the deletion (and with `wait`, waits until it is gone). */
  deleteNamespace(name: string, wait: boolean): Promise<void>;
  createPod(pod: PodSpecInput): Promise<void>;
  /** The cluster's nodes (for placements and facts). */
  listNodes(): Promise<NodeFacts[]>;
  waitPodsReady(
    namespace: string,
    names: readonly string[],
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<PodInfo[]>;
  setPodLabels(namespace: string, name: string, labels: Labels): Promise<void>;
  deletePod(namespace: string, name: string): Promise<void>;
  applyPolicy(policy: NetworkPolicyManifest): Promise<void>;
  deletePolicy(namespace: string, name: string): Promise<void>;
  /** Server-side apply of a cluster policy (already bound to the run: names.ts). */
  applyClusterPolicy(policy: ClusterObjectManifest): Promise<void>;
  /** Delete a cluster policy; absent already is fine. */
  deleteClusterPolicy(policy: ClusterPolicyRef): Promise<void>;
  /**
   * Probe jobs (keys as in the scenario) from the pods of `targets` to the addresses of
   * `targets`; results in job order.
   */
  probe(
    jobs: readonly RunnableJob[],
    targets: ReadonlyMap<string, LivePod>,
    settings: ProbeSettings,
    signal?: AbortSignal,
  ): Promise<JobResult[]>;
}

/** A LiveCluster over a real API server. */
export function clusterBackend(cluster: Cluster): LiveCluster {
  return {
    server: cluster.server,
    createNamespace: (name, labels) => cluster.createNamespace(name, labels),
    findNamespace: async (name) => (await findNamespace(cluster, name))?.labels,
    setNamespaceLabels: (name, labels) => cluster.setNamespaceLabels(name, labels),
    deleteNamespace: (name, wait) => cluster.deleteNamespace(name, { wait }),
    createPod: (pod) => cluster.createPod(pod),
    listNodes: () => cluster.listNodes(),
    waitPodsReady: (namespace, names, timeoutMs, signal) =>
      waitPodsReady(cluster, namespace, names, {
        timeoutMs,
        ...(signal === undefined ? {} : { signal }),
      }),
    setPodLabels: (namespace, name, labels) => cluster.setPodLabels(namespace, name, labels),
    deletePod: (namespace, name) => deletePod(cluster, namespace, name),
    applyPolicy: (policy) =>
      applyNetworkPolicy(cluster, policy.metadata.namespace ?? 'default', policy),
    deletePolicy: (namespace, name) => cluster.deleteNetworkPolicy(namespace, name),
    applyClusterPolicy: (policy) =>
      applyClusterObject(
        cluster,
        resourceOf(policy.kind as ClusterPolicyKind, policy.apiVersion),
        policy,
        // The cluster's one BaselineAdminNetworkPolicy is never taken over from another manager.
        { force: policy.kind !== 'BaselineAdminNetworkPolicy' },
      ),
    deleteClusterPolicy: (policy) =>
      deleteClusterObject(cluster, resourceOf(policy.kind, policy.apiVersion), policy.name),
    probe: (jobs, targets, settings, signal) =>
      probeEverywhere(cluster, jobs, targets, settings, signal),
  };
}
