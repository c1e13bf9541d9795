/**
 * The model's World of a live cluster: what `readClusterState` lists (list and get only), each
 * NetworkPolicy validated and defaulted by the model as a manifest would be.
 */
import { readClusterState, type ClusterState, type ReadOptions } from '../cluster/index.js';
import { Cluster, type ConnectOptions } from '../cluster/index.js';
import { InputError } from '../domain/errors.js';
import type { Issue } from '../domain/issue.js';
import type { ManifestSet } from '../manifest/objects.js';
import { IssueSink } from '../model/raw.js';
import type { NetworkPolicyInfo, World } from '../model/types.js';
import { readNetworkPolicy } from '../model/validate.js';

export interface LiveWorld {
  readonly world: World;
  readonly state: ClusterState;
}

/** A ClusterState as the model's World; a policy the model cannot read is an InputError. */
export function worldOfState(state: ClusterState): World {
  const issues: Issue[] = [];
  const policies: NetworkPolicyInfo[] = [];
  for (const p of state.policies) {
    const sink = new IssueSink();
    const policy = readNetworkPolicy(p.object, sink, p.namespace);
    for (const issue of sink.issues)
      issues.push({
        ...issue,
        object: `NetworkPolicy ${p.namespace}/${p.name}`,
        location: { file: `cluster ${state.server}`, line: 1, col: 1 },
      });
    if (policy) policies.push(policy);
  }
  if (issues.length > 0) throw new InputError(issues);
  return {
    namespaces: state.namespaces.map((n) => ({ name: n.name, labels: { ...n.labels } })),
    pods: state.pods.map((p) => ({
      namespace: p.namespace,
      name: p.name,
      labels: { ...p.labels },
      ips: p.ips,
      ports: p.ports.map((c) => ({ ...c })),
      hostNetwork: p.hostNetwork,
      ...(p.nodeName === undefined ? {} : { nodeName: p.nodeName }),
    })),
    externals: [],
    policies,
  };
}

/** Connects with the kubeconfig and reads the cluster's world (read-only). */
export async function readLiveWorld(
  connect: ConnectOptions,
  options: ReadOptions = {},
): Promise<LiveWorld> {
  const cluster = Cluster.connect(connect);
  const state = await readClusterState(cluster, options);
  return { world: worldOfState(state), state };
}

/** The live world as a ManifestSet (no source positions), for what takes manifests. */
export function liveManifestSet(world: World): ManifestSet {
  return { world, origins: new Map(), ignored: [] };
}
