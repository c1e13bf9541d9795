/**
 * Facts about a live cluster for the result and for defaults: how many nodes, and which network
 * plugin runs there when its DaemonSet says so. Best effort: a fact that cannot be read (no
 * permission to list nodes or DaemonSets, a plugin run outside the cluster as on the lab) is
 * left out, never guessed.
 */
import { ClusterError, type Cluster, type DaemonSetFacts } from '../cluster/index.js';

export interface ClusterFacts {
  readonly nodes?: number;
  readonly networkPlugin?: string;
}

/**
 * Known plugins by what their node agent's DaemonSet is called or runs, in order: a plugin that
 * enforces NetworkPolicies before one that only routes (Canal is Calico's policy on Flannel;
 * kind's kindnet enforces with kube-network-policies since kind v0.24).
 */
const PLUGINS: readonly { readonly name: string; readonly match: RegExp }[] = [
  { name: 'cilium', match: /(^|\/)cilium(:|@|$)|^cilium$/ },
  { name: 'canal', match: /(^|\/)canal$/ },
  { name: 'calico', match: /calico-node|calico\/node/ },
  { name: 'antrea', match: /antrea-agent|antrea\/antrea/ },
  { name: 'kube-router', match: /kube-router/ },
  { name: 'ovn-kubernetes', match: /ovnkube-node/ },
  { name: 'weave', match: /weave-net|weaveworks\/weave-kube/ },
  { name: 'kindnet', match: /kindnet/ },
  { name: 'flannel', match: /kube-flannel|flannel\/flannel/ },
  { name: 'aws-vpc-cni', match: /^aws-node$|amazon-k8s-cni/ },
];

/** The network plugin whose DaemonSet (by name or image) is on the cluster, if one is known. */
export function detectNetworkPlugin(daemonSets: readonly DaemonSetFacts[]): string | undefined {
  const words = daemonSets.flatMap((d) => [d.name, ...d.images]);
  return PLUGINS.find((p) => words.some((w) => p.match.test(w)))?.name;
}

export async function clusterFacts(cluster: Cluster): Promise<ClusterFacts> {
  const optional = async <T>(read: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await read();
    } catch (error) {
      if (error instanceof ClusterError) return undefined;
      throw error;
    }
  };
  const [nodes, daemonSets] = await Promise.all([
    optional(() => cluster.listNodes()),
    optional(() => cluster.listDaemonSets()),
  ]);
  const plugin = daemonSets === undefined ? undefined : detectNetworkPlugin(daemonSets);
  return {
    ...(nodes === undefined ? {} : { nodes: nodes.length }),
    ...(plugin === undefined ? {} : { networkPlugin: plugin }),
  };
}
