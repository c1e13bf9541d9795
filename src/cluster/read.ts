/**
 * What is in a cluster, read with `list` and `get` only (never a write): namespaces with their
 * labels, running pods with their labels, IPs, node and container ports, and NetworkPolicies as
 * the API server returns them. Lists are paginated (limit/continue); a refused list names the
 * permission that is missing.
 */
import type * as k8s from '@kubernetes/client-node';
import { k8s as lib } from './k8s.js';
import { parse } from 'yaml';
import { clientsOf, isNotFound, type Cluster } from './cluster.js';
import { ClusterError, toClusterError } from './errors.js';
import type { ContainerPort, Labels, NamespaceInfo } from './types.js';

/** A running pod, one row per pod. */
export interface LivePod {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Labels;
  /** status.podIPs (status.podIP first when the list is absent). */
  readonly ips: readonly string[];
  readonly nodeName?: string;
  readonly hostNetwork: boolean;
  /** Ports of the containers and of restartable (sidecar) init containers. */
  readonly ports: readonly ContainerPort[];
}

/** A NetworkPolicy as plain API JSON: apiVersion, kind, metadata (name, namespace, labels), spec. */
export interface LivePolicy {
  readonly namespace: string;
  readonly name: string;
  readonly object: Readonly<Record<string, unknown>>;
}

export interface ClusterState {
  /** The API server's URL. */
  readonly server: string;
  /** The namespaces read: every one (`all`), or those named. */
  readonly scope: 'all' | readonly string[];
  readonly namespaces: readonly NamespaceInfo[];
  readonly pods: readonly LivePod[];
  readonly policies: readonly LivePolicy[];
}

export interface ReadOptions {
  /** Namespaces to read; absent: all of them. */
  readonly namespaces?: readonly string[];
  /** Items per list request (default 500). */
  readonly pageSize?: number;
  /** Called after every page: what is being listed and how many items so far. */
  readonly onProgress?: (what: string, count: number) => void;
}

/** The permissions `readClusterState` needs, as RBAC rules (for messages and docs). */
export const READ_PERMISSIONS =
  'get and list on namespaces, list on pods, list on networkpolicies.networking.k8s.io';

interface Page<T> {
  readonly items: T[];
  readonly metadata?: { readonly _continue?: string };
}

/** Every item of a paginated list, page after page. */
async function listAll<T>(
  what: { resource: string; namespace?: string },
  fetchPage: (page: { limit: number; _continue?: string }) => Promise<Page<T>>,
  options: ReadOptions,
): Promise<T[]> {
  const items: T[] = [];
  let next: string | undefined;
  const label =
    what.namespace === undefined ? what.resource : `${what.resource} in ${what.namespace}`;
  do {
    let page: Page<T>;
    try {
      page = await fetchPage({
        limit: options.pageSize ?? 500,
        ...(next === undefined ? {} : { _continue: next }),
      });
    } catch (error) {
      throw listError(error, what);
    }
    items.push(...page.items);
    options.onProgress?.(label, items.length);
    next = page.metadata?._continue || undefined;
  } while (next !== undefined);
  return items;
}

function statusCode(error: unknown): number | undefined {
  const code =
    typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'number' ? code : undefined;
}

/** A refused or failed list, naming the RBAC permission when that is what is missing. */
function listError(error: unknown, what: { resource: string; namespace?: string }): ClusterError {
  const where = what.namespace === undefined ? 'cluster-wide' : `in namespace ${what.namespace}`;
  const kind = what.resource;
  if (statusCode(error) === 403)
    return new ClusterError(
      `the kubeconfig's user may not list ${what.resource} ${where}`,
      {
        verb: 'list',
        kind,
        ...(what.namespace === undefined ? {} : { namespace: what.namespace }),
        httpCode: 403,
        hint: `missing permission: list ${what.resource} ${where}. polygraph reads with ${READ_PERMISSIONS}, and writes nothing (docs/GUIDE-DIFF.md has a read-only ClusterRole)`,
      },
      { cause: error },
    );
  if (statusCode(error) === 410)
    return new ClusterError(
      'the list changed too much while it was read page by page (its continue token expired)',
      { verb: 'list', kind, httpCode: 410, hint: 'run the command again' },
      { cause: error },
    );
  return toClusterError(error, {
    verb: 'list',
    kind,
    ...(what.namespace === undefined ? {} : { namespace: what.namespace }),
  });
}

function containerPorts(spec: k8s.V1PodSpec | undefined): ContainerPort[] {
  const ports: ContainerPort[] = [];
  const containers = [
    ...(spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always'),
    ...(spec?.containers ?? []),
  ];
  for (const c of containers)
    for (const p of c.ports ?? [])
      ports.push({
        containerPort: p.containerPort,
        protocol: p.protocol === 'UDP' || p.protocol === 'SCTP' ? p.protocol : 'TCP',
        ...(p.name === undefined || p.name === '' ? {} : { name: p.name }),
      });
  return ports;
}

export function livePod(pod: k8s.V1Pod): LivePod {
  const ips: string[] = [];
  for (const ip of [pod.status?.podIP, ...(pod.status?.podIPs ?? []).map((p) => p.ip)])
    if (ip !== undefined && ip !== '' && !ips.includes(ip)) ips.push(ip);
  const nodeName = pod.spec?.nodeName;
  return {
    namespace: pod.metadata?.namespace ?? '',
    name: pod.metadata?.name ?? '',
    labels: pod.metadata?.labels ?? {},
    ips,
    ...(nodeName === undefined || nodeName === '' ? {} : { nodeName }),
    hostNetwork: pod.spec?.hostNetwork === true,
    ports: containerPorts(pod.spec),
  };
}

/**
 * A NetworkPolicy as the API's JSON: the client's typed object renames fields (`from` is `_from`),
 * its serializer restores them. Only what the model reads is kept of the metadata.
 */
export function livePolicy(policy: k8s.V1NetworkPolicy): LivePolicy {
  policy.apiVersion = 'networking.k8s.io/v1';
  policy.kind = 'NetworkPolicy';
  const json = parse(lib().dumpYaml(policy)) as { spec?: unknown };
  const namespace = policy.metadata?.namespace ?? '';
  const name = policy.metadata?.name ?? '';
  const labels = policy.metadata?.labels;
  return {
    namespace,
    name,
    object: {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name, namespace, ...(labels === undefined ? {} : { labels }) },
      spec: json.spec ?? {},
    },
  };
}

/** Reads the namespaces, running pods and NetworkPolicies of a cluster (or of some namespaces). */
export async function readClusterState(
  cluster: Cluster,
  options: ReadOptions = {},
): Promise<ClusterState> {
  const { core, networking } = clientsOf(cluster);
  const running = 'status.phase=Running';
  if (options.namespaces === undefined) {
    const namespaces = await listAll(
      { resource: 'namespaces' },
      (page) => core.listNamespace(page),
      options,
    );
    const pods = await listAll(
      { resource: 'pods' },
      (page) => core.listPodForAllNamespaces({ ...page, fieldSelector: running }),
      options,
    );
    const policies = await listAll(
      { resource: 'networkpolicies.networking.k8s.io' },
      (page) => networking.listNetworkPolicyForAllNamespaces(page),
      options,
    );
    return {
      server: cluster.server,
      scope: 'all',
      namespaces: namespaces.map((ns) => ({
        name: ns.metadata?.name ?? '',
        labels: ns.metadata?.labels ?? {},
      })),
      pods: pods.map(livePod),
      policies: policies.map(livePolicy),
    };
  }
  const namespaces: NamespaceInfo[] = [];
  const pods: LivePod[] = [];
  const policies: LivePolicy[] = [];
  for (const namespace of options.namespaces) {
    try {
      const ns = await core.readNamespace({ name: namespace });
      namespaces.push({ name: namespace, labels: ns.metadata?.labels ?? {} });
    } catch (error) {
      if (isNotFound(error))
        throw new ClusterError(
          'no such namespace',
          { verb: 'get', kind: 'Namespace', name: namespace, httpCode: 404, hint: 'check -n' },
          { cause: error },
        );
      if (statusCode(error) === 403)
        throw new ClusterError(
          `the kubeconfig's user may not get namespace ${namespace}`,
          {
            verb: 'get',
            kind: 'Namespace',
            name: namespace,
            httpCode: 403,
            hint: `missing permission: get namespaces (its labels decide namespaceSelector peers). polygraph reads with ${READ_PERMISSIONS}`,
          },
          { cause: error },
        );
      throw toClusterError(error, { verb: 'get', kind: 'Namespace', name: namespace });
    }
    pods.push(
      ...(
        await listAll(
          { resource: 'pods', namespace },
          (page) => core.listNamespacedPod({ ...page, namespace, fieldSelector: running }),
          options,
        )
      ).map(livePod),
    );
    policies.push(
      ...(
        await listAll(
          { resource: 'networkpolicies.networking.k8s.io', namespace },
          (page) => networking.listNamespacedNetworkPolicy({ ...page, namespace }),
          options,
        )
      ).map(livePolicy),
    );
  }
  return { server: cluster.server, scope: [...options.namespaces], namespaces, pods, policies };
}
