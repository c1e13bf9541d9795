/**
 * A world with manifests applied on top or removed: what `diff --cluster --apply F` and
 * `--delete F` compare with the cluster as it is. Pure.
 *
 * Applying replaces an object of the same kind, namespace and name, or adds it: a NetworkPolicy
 * whole, a Namespace's labels (exactly the manifest's, as `kubectl replace` sets them), a Pod's
 * labels, ports and host network (its IPs and node stay the live pod's when the manifest gives
 * none). A workload's pods join as the representatives `model` shows for it; the live pods of the
 * same workload are kept, since nothing offline says which they are. Deleting removes
 * NetworkPolicies, Pods, Namespaces (with their pods and policies) and Nodes by name.
 */
import type { PodInfo, World } from '../model/types.js';
import type { ManifestSet } from './objects.js';

export interface Overlay {
  readonly world: World;
  /** What a person should know: objects not found, workloads not matched. */
  readonly notes: readonly string[];
}

const key = (namespace: string, name: string): string => `${namespace}/${name}`;

/** `base` with the objects of `manifests` created or replaced. */
export function applyManifests(base: World, manifests: ManifestSet): Overlay {
  const notes: string[] = [];
  const add = manifests.world;
  const namespaces = new Map(base.namespaces.map((n) => [n.name, n]));
  for (const n of add.namespaces) namespaces.set(n.name, n);
  const pods = new Map(base.pods.map((p) => [key(p.namespace, p.name), p]));
  const workloads = new Set<string>();
  for (const p of add.pods) {
    const id = key(p.namespace, p.name);
    const live = pods.get(id);
    if (p.origin !== undefined) workloads.add(p.origin.replace(' ', ` ${p.namespace}/`));
    const pod: PodInfo =
      live === undefined
        ? p
        : {
            ...p,
            ips: p.ips.length > 0 ? p.ips : live.ips,
            ...(p.nodeName === undefined && live.nodeName !== undefined
              ? { nodeName: live.nodeName }
              : {}),
          };
    pods.set(id, pod);
  }
  for (const w of workloads)
    notes.push(
      `${w}: its pods join as representatives; live pods it already runs are kept as they are`,
    );
  const policies = new Map(base.policies.map((p) => [key(p.namespace, p.name), p]));
  for (const p of add.policies) {
    policies.set(key(p.namespace, p.name), p);
    if (!namespaces.has(p.namespace))
      notes.push(
        `NetworkPolicy ${key(p.namespace, p.name)}: namespace ${p.namespace} is not in the world read (kubectl apply fails unless it exists)`,
      );
  }
  const externals = new Map(base.externals.map((e) => [e.name, e]));
  for (const e of add.externals) externals.set(e.name, e);
  return {
    world: {
      namespaces: [...namespaces.values()],
      pods: [...pods.values()],
      externals: [...externals.values()],
      policies: [...policies.values()],
    },
    notes,
  };
}

/** `base` without the objects named in `manifests` (by kind, namespace and name). */
export function deleteManifests(base: World, manifests: ManifestSet): Overlay {
  const notes: string[] = [];
  const doomed = {
    namespaces: new Set<string>(),
    pods: new Set<string>(),
    policies: new Set<string>(),
    nodes: new Set<string>(),
  };
  for (const id of manifests.origins.keys()) {
    const space = id.indexOf(' ');
    const kind = id.slice(0, space);
    const name = id.slice(space + 1);
    switch (kind) {
      case 'Namespace':
        doomed.namespaces.add(name);
        break;
      case 'Pod':
        doomed.pods.add(name);
        break;
      case 'NetworkPolicy':
        doomed.policies.add(name);
        break;
      case 'Node':
        doomed.nodes.add(name);
        break;
      default:
        notes.push(
          `${id}: not removed; delete its pods by name, since nothing offline says which live pods a workload runs`,
        );
    }
  }
  const missing = (what: string, names: Set<string>, present: Set<string>) => {
    for (const n of names)
      if (!present.has(n)) notes.push(`${what} ${n} is not in the world read: nothing to delete`);
  };
  missing('Namespace', doomed.namespaces, new Set(base.namespaces.map((n) => n.name)));
  missing('Pod', doomed.pods, new Set(base.pods.map((p) => key(p.namespace, p.name))));
  missing(
    'NetworkPolicy',
    doomed.policies,
    new Set(base.policies.map((p) => key(p.namespace, p.name))),
  );
  missing('Node', doomed.nodes, new Set(base.externals.filter((e) => e.node).map((e) => e.name)));
  return {
    world: {
      namespaces: base.namespaces.filter((n) => !doomed.namespaces.has(n.name)),
      pods: base.pods.filter(
        (p) => !doomed.namespaces.has(p.namespace) && !doomed.pods.has(key(p.namespace, p.name)),
      ),
      externals: base.externals.filter((e) => !(e.node === true && doomed.nodes.has(e.name))),
      policies: base.policies.filter(
        (p) =>
          !doomed.namespaces.has(p.namespace) && !doomed.policies.has(key(p.namespace, p.name)),
      ),
    },
    notes,
  };
}
