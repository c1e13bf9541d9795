/**
 * What the engine needs of a live cluster, as an interface: `clusterBackend` implements it with
 * src/cluster and the probe runner; unit tests implement it with a recording fake (a seam for
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
import { holdCommand, runProbeBatch, sessionCommand, type ProbeSource } from '../probe/batch.js';
import { HoldSession, type HeldClient } from '../probe/hold.js';
import { ProbeRunner, type LivePod } from '../probe/probe-runner.js';
import { hostBatch } from '../probe/host-runner.js';
import { ProbeSessions } from '../probe/session.js';

export interface ProbeSettings {
  /** Source pods probing at once (one session or exec each). */
  readonly concurrency: number;
  /** Per-probe timeout, whole seconds. */
  readonly timeoutSeconds: number;
  /**
   * Sources outside the cluster: endpoint key (`ext:NAME`) → the command that runs the probe
   * client on that host (e.g. `ip netns exec ext1`). Jobs from them run there, not in a pod.
   */
  readonly hosts?: ReadonlyMap<string, readonly string[]>;
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
   * Probe jobs (keys as in the scenario) from the pods of `targets` (and the hosts of
   * `settings.hosts`) to the addresses of `targets`; results in job order. Each source pod probes
   * in its probe session, opened on first use and kept until closeProbes.
   */
  probe(
    jobs: readonly RunnableJob[],
    targets: ReadonlyMap<string, LivePod>,
    settings: ProbeSettings,
    signal?: AbortSignal,
  ): Promise<JobResult[]>;
  /** Opens the probe sessions of these pods ahead of their first probe; never rejects. */
  openProbes(pods: readonly LivePod[]): Promise<void>;
  /** Closes the probe sessions of these pods (before they are deleted); never rejects. */
  closeProbes(pods: readonly LivePod[]): Promise<void>;
  /**
   * A client for the connections a step holds from this pod (probe/hold.ts); nothing runs until
   * its first `open`. The caller closes it.
   */
  holdFrom(pod: LivePod): HeldClient;
}

const sourceOf = (pod: LivePod): ProbeSource => ({
  namespace: pod.namespace,
  pod: pod.name,
  container: pod.container,
});

/** A LiveCluster over a real API server. */
export function clusterBackend(cluster: Cluster): LiveCluster {
  const sessions = new ProbeSessions(
    sessionCommand(),
    (source, command, onOutput) =>
      cluster.openExec(source.namespace, source.pod, source.container, command, { onOutput }),
    (source, jobs) => runProbeBatch(cluster, source, jobs),
  );
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
      new ProbeRunner(
        targets,
        {
          concurrency: settings.concurrency,
          timeoutSeconds: settings.timeoutSeconds,
          sctp: false,
          hosts: new Map(
            [...(settings.hosts ?? [])].map(([from, prefix]) => [from, hostBatch(from, prefix)]),
          ),
        },
        (source, batch, abort) => sessions.runBatch(source, batch, abort),
      ).run(jobs, signal),
    openProbes: (pods) => sessions.open(pods.map(sourceOf)),
    closeProbes: (pods) => {
      sessions.close(pods.map(sourceOf));
      return Promise.resolve();
    },
    holdFrom: (pod) =>
      new HoldSession(sourceOf(pod), holdCommand(), (source, command, onOutput) =>
        cluster.openExec(source.namespace, source.pod, source.container, command, { onOutput }),
      ),
  };
}
