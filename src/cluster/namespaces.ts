/** Namespaces by label: what `polygraph clean` finds, and a namespace that may or may not exist. */
import { clientsOf, isNotFound, type Cluster } from './cluster.js';
import { toClusterError } from './errors.js';
import type { NamespaceInfo } from './types.js';

/** Namespaces whose labels match a selector (`k=v,k2=v2`), with their labels and phase. */
export async function listNamespaces(
  cluster: Cluster,
  labelSelector: string,
): Promise<(NamespaceInfo & { phase: string })[]> {
  try {
    const list = await clientsOf(cluster).core.listNamespace({ labelSelector });
    return list.items.map((ns) => ({
      name: ns.metadata?.name ?? '',
      labels: ns.metadata?.labels ?? {},
      phase: ns.status?.phase ?? 'Unknown',
    }));
  } catch (error) {
    throw toClusterError(error, { verb: 'list', kind: 'Namespace', name: labelSelector });
  }
}

/** A namespace's labels, or undefined when it does not exist. */
export async function findNamespace(
  cluster: Cluster,
  name: string,
): Promise<NamespaceInfo | undefined> {
  try {
    const ns = await clientsOf(cluster).core.readNamespace({ name });
    return { name, labels: ns.metadata?.labels ?? {} };
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw toClusterError(error, { verb: 'read', kind: 'Namespace', name });
  }
}
