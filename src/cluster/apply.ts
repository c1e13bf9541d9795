/** Server-side apply of NetworkPolicies, and their deletion. */
import { k8s as lib } from './k8s.js';
import { parse } from 'yaml';
import { clientsOf, isNotFound, type Cluster } from './cluster.js';
import { toClusterError } from './errors.js';
import type { NetworkPolicyManifest } from './types.js';

/** The field manager polygraph applies as (kubectl's is `kubectl`). */
export const FIELD_MANAGER = 'polygraph';

/**
 * The policy as the API server must receive it. The object goes through client-node's loadYaml
 * (its deserializer: unknown fields dropped, types checked) and back through its serializer: the
 * deserialized model renames fields (`from` is `_from`), and an apply patch body is sent as is,
 * so a model object must never be sent without serializing it again.
 */
export function applyBody(namespace: string, policy: NetworkPolicyManifest): unknown {
  const object = lib().loadYaml(
    JSON.stringify({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { ...policy.metadata, namespace },
      spec: policy.spec,
    }),
  );
  return parse(lib().dumpYaml(object)) as unknown;
}

/** Server-side apply (field manager `polygraph`, conflicts forced): create or update. */
export async function applyNetworkPolicy(
  cluster: Cluster,
  namespace: string,
  policy: NetworkPolicyManifest,
): Promise<void> {
  const name = policy.metadata.name;
  try {
    await clientsOf(cluster).networking.patchNamespacedNetworkPolicy(
      {
        name,
        namespace,
        body: applyBody(namespace, policy),
        fieldManager: FIELD_MANAGER,
        force: true,
      },
      lib().setHeaderOptions('Content-Type', lib().PatchStrategy.ServerSideApply),
    );
  } catch (error) {
    throw toClusterError(error, { verb: 'apply', kind: 'NetworkPolicy', namespace, name });
  }
}

/** Delete a pod now (grace period 0 is not used: the pods exit within their 1 s). */
export async function deletePod(cluster: Cluster, namespace: string, name: string): Promise<void> {
  try {
    await clientsOf(cluster).core.deleteNamespacedPod({ namespace, name });
  } catch (error) {
    if (isNotFound(error)) return;
    throw toClusterError(error, { verb: 'delete', kind: 'Pod', namespace, name });
  }
}
