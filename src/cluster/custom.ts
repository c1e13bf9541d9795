/**
 * Cluster-scoped custom objects (the cluster policies of policy.networking.k8s.io): API discovery
 * of what a group serves, server-side apply, deletion and listing by label. Generic over the
 * group, version and resource: which kinds exist is the model's business, not this layer's.
 */
import type * as k8s from '@kubernetes/client-node';
import { k8s as lib } from './k8s.js';
import { clientsOf, isNotFound, type Cluster } from './cluster.js';
import { FIELD_MANAGER } from './apply.js';
import { toClusterError } from './errors.js';
import type { ClusterObjectManifest, Labels, ServedResource } from './types.js';

/** Where a cluster-scoped resource lives: its group, version and resource (plural). */
export interface ResourceRef {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
}

function customObjects(cluster: Cluster): k8s.CustomObjectsApi {
  return clientsOf(cluster).config.makeApiClient(lib().CustomObjectsApi);
}

/**
 * What the API server serves of `group` (API discovery: GET /apis, then GET /apis/GROUP/VERSION
 * per served version): every top-level resource with its kind. Empty when the group is not
 * served at all.
 */
export async function servedResources(cluster: Cluster, group: string): Promise<ServedResource[]> {
  const config = clientsOf(cluster).config;
  let versions: string[];
  try {
    const groups = await config.makeApiClient(lib().ApisApi).getAPIVersions();
    versions = (groups.groups.find((g) => g.name === group)?.versions ?? []).map((v) => v.version);
  } catch (error) {
    throw toClusterError(error, { verb: 'discover', kind: 'API groups' });
  }
  const api = customObjects(cluster);
  const lists = await Promise.all(
    versions.map(async (version) => {
      try {
        const list = await api.getAPIResources({ group, version });
        return list.resources
          .filter((r) => !r.name.includes('/'))
          .map((r) => ({ group, version, kind: r.kind, plural: r.name, namespaced: r.namespaced }));
      } catch (error) {
        // A version listed in /apis whose discovery fails (a CRD being removed) serves nothing.
        if (isNotFound(error)) return [];
        throw toClusterError(error, { verb: 'discover', kind: 'API resources', name: group });
      }
    }),
  );
  return lists.flat();
}

/**
 * Server-side apply of a cluster-scoped object (field manager `polygraph`): create or update.
 * `force` takes over fields another manager owns; without it such a conflict fails (409).
 */
export async function applyClusterObject(
  cluster: Cluster,
  ref: ResourceRef,
  object: ClusterObjectManifest,
  options: { readonly force: boolean },
): Promise<void> {
  const name = object.metadata.name;
  try {
    await customObjects(cluster).patchClusterCustomObject(
      {
        ...ref,
        name,
        // A custom object's body is sent as is (no client model renames its fields).
        body: { ...object, apiVersion: `${ref.group}/${ref.version}` },
        fieldManager: FIELD_MANAGER,
        force: options.force,
      },
      lib().setHeaderOptions('Content-Type', lib().PatchStrategy.ServerSideApply),
    );
  } catch (error) {
    throw toClusterError(error, { verb: 'apply', kind: object.kind, name });
  }
}

/** Delete a cluster-scoped object; absent already is fine. */
export async function deleteClusterObject(
  cluster: Cluster,
  ref: ResourceRef & { readonly kind: string },
  name: string,
): Promise<void> {
  try {
    await customObjects(cluster).deleteClusterCustomObject({
      group: ref.group,
      version: ref.version,
      plural: ref.plural,
      name,
    });
  } catch (error) {
    if (isNotFound(error)) return;
    throw toClusterError(error, { verb: 'delete', kind: ref.kind, name });
  }
}

/** A cluster-scoped object as a listing shows it: name, labels and spec. */
export interface ListedObject {
  readonly name: string;
  readonly labels: Labels;
  readonly spec: Readonly<Record<string, unknown>>;
}

/** Cluster-scoped objects of one resource, optionally by label selector (`k=v,k2=v2`). */
export async function listClusterObjects(
  cluster: Cluster,
  ref: ResourceRef & { readonly kind: string },
  labelSelector?: string,
): Promise<ListedObject[]> {
  try {
    const list = (await customObjects(cluster).listClusterCustomObject({
      group: ref.group,
      version: ref.version,
      plural: ref.plural,
      ...(labelSelector === undefined ? {} : { labelSelector }),
    })) as { items?: unknown };
    const items = Array.isArray(list.items) ? (list.items as unknown[]) : [];
    return items.map((item) => {
      const o = (typeof item === 'object' && item !== null ? item : {}) as {
        metadata?: { name?: unknown; labels?: unknown };
        spec?: unknown;
      };
      const labels = o.metadata?.labels;
      return {
        name: typeof o.metadata?.name === 'string' ? o.metadata.name : '',
        labels: typeof labels === 'object' && labels !== null ? (labels as Labels) : {},
        spec:
          typeof o.spec === 'object' && o.spec !== null
            ? (o.spec as Readonly<Record<string, unknown>>)
            : {},
      };
    });
  } catch (error) {
    throw toClusterError(error, { verb: 'list', kind: ref.kind, name: labelSelector ?? '' });
  }
}
