import { parseIp } from '../model/cidr.js';
import type { Issue, SourceLocation } from '../domain/issue.js';
import {
  IssueSink,
  describe,
  isMap,
  join,
  readBoolean,
  readInteger,
  readList,
  readMap,
  readString,
  type RawMap,
} from '../model/raw.js';
import { isClusterPolicyKind, readClusterPolicy } from '../model/cluster-validate.js';
import type {
  ClusterPolicyInfo,
  ExternalInfo,
  NamespaceInfo,
  NetworkPolicyInfo,
  PodInfo,
  World,
} from '../model/types.js';
import { readNetworkPolicy } from '../model/validate.js';
import { readContainerPorts, readPodIps } from '../model/validate-core.js';
import { dns1123LabelProblem, readObjectMeta } from '../model/validate-meta.js';
import type { SourceDocument } from './document.js';

/** Workload kinds and where their pod template is (their pods are described in docs/MODEL.md). */
const WORKLOADS: Readonly<Record<string, readonly string[]>> = {
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  ReplicationController: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};

/** Where each object of the world came from, by `Kind namespace/name`. */
export type Origins = ReadonlyMap<string, SourceLocation>;

export interface ManifestSet {
  readonly world: World;
  readonly origins: Origins;
  /** Objects of kinds the model does not use (Services, ConfigMaps…), for information. */
  readonly ignored: readonly { kind: string; name: string; location: SourceLocation }[];
}

/** A workload's pods, named once every Pod name is known (see `namePods`). */
interface WorkloadPods {
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  /** One entry per represented pod: its name suffix and its labels. */
  readonly pods: readonly { suffix: string; labels: PodInfo['labels'] }[];
  readonly template: Omit<PodInfo, 'namespace' | 'name' | 'labels' | 'origin'>;
}

interface Collected {
  namespaces: NamespaceInfo[];
  pods: (PodInfo | WorkloadPods)[];
  policies: NetworkPolicyInfo[];
  clusterPolicies: ClusterPolicyInfo[];
  nodes: ExternalInfo[];
  origins: Map<string, SourceLocation>;
  ignored: { kind: string; name: string; location: SourceLocation }[];
  issues: Issue[];
}

export function objectId(kind: string, namespace: string | undefined, name: string): string {
  return namespace === undefined ? `${kind} ${name}` : `${kind} ${namespace}/${name}`;
}

/**
 * Turns parsed documents into the model's World. Every problem is returned with its file,
 * line and field; objects with problems are left out of the world.
 */
export function collectObjects(
  documents: readonly SourceDocument[],
  options: { defaultNamespace?: string; externals?: readonly ExternalInfo[] } = {},
): { manifests: ManifestSet; issues: Issue[] } {
  const state: Collected = {
    namespaces: [],
    pods: [],
    nodes: [],
    policies: [],
    clusterPolicies: [],
    origins: new Map(),
    ignored: [],
    issues: [],
  };
  const defaultNamespace = options.defaultNamespace ?? 'default';
  for (const doc of documents) readObject(doc, doc.value, [], state, defaultNamespace);
  return {
    manifests: {
      world: {
        namespaces: state.namespaces,
        pods: namePods(state.pods),
        externals: [...state.nodes, ...(options.externals ?? [])],
        policies: state.policies,
        ...(state.clusterPolicies.length > 0 ? { clusterPolicies: state.clusterPolicies } : {}),
      },
      origins: state.origins,
      ignored: state.ignored,
    },
    issues: state.issues,
  };
}

function readObject(
  doc: SourceDocument,
  value: unknown,
  base: readonly (string | number)[],
  state: Collected,
  defaultNamespace: string,
): void {
  const report = (sink: IssueSink, object?: string): void => {
    for (const issue of sink.issues)
      state.issues.push({
        ...issue,
        message: explainYaml11(doc, issue.path, base, issue.message),
        location: doc.locate(issue.path, base),
        ...(object ? { object } : {}),
      });
  };
  const sink = new IssueSink();
  if (!isMap(value)) {
    sink.add(
      '',
      `expected a Kubernetes object (a map with apiVersion and kind), got ${describe(value)}`,
    );
    report(sink);
    return;
  }
  const kind = readString(value.kind, 'kind', sink);
  if (kind === undefined) {
    if (value.kind === undefined) sink.add('kind', 'required: every object needs a kind');
    report(sink);
    return;
  }
  if (kind === 'List' || (kind.endsWith('List') && Array.isArray(value.items))) {
    const items = readList(value.items, 'items', sink) ?? [];
    report(sink);
    items.forEach((item, i) => {
      readObject(doc, item, [...base, 'items', i], state, defaultNamespace);
    });
    return;
  }
  const metaName =
    isMap(value.metadata) && typeof value.metadata.name === 'string' ? value.metadata.name : '?';
  const location = doc.locate('', base);
  const remember = (id: string): boolean => {
    const earlier = state.origins.get(id);
    if (earlier) {
      state.issues.push({
        path: 'metadata.name',
        object: id,
        location: doc.locate('metadata.name', base),
        message: `duplicate object: already defined at ${earlier.file}:${earlier.line}:${earlier.col}`,
      });
      return false;
    }
    state.origins.set(id, location);
    return true;
  };
  switch (kind) {
    case 'NetworkPolicy': {
      const namespace = readNamespaceOf(value, defaultNamespace);
      const policy = readNetworkPolicy(value, sink, defaultNamespace);
      const id = objectId(kind, namespace, metaName);
      report(sink, id);
      if (policy && remember(objectId(kind, policy.namespace, policy.name)))
        state.policies.push(policy);
      return;
    }
    case 'ClusterNetworkPolicy':
    case 'AdminNetworkPolicy':
    case 'BaselineAdminNetworkPolicy': {
      if (!isClusterPolicyKind(kind)) return;
      const policy = readClusterPolicy(value, kind, sink);
      report(sink, objectId(kind, undefined, metaName));
      if (policy && remember(objectId(kind, undefined, policy.name)))
        state.clusterPolicies.push(policy);
      return;
    }
    case 'Namespace': {
      const meta = readObjectMeta(value.metadata, sink, '', { namespaced: false });
      const nameProblem = meta.name === undefined ? undefined : dns1123LabelProblem(meta.name);
      if (nameProblem)
        sink.add('metadata.name', `invalid namespace name "${meta.name ?? ''}": ${nameProblem}`);
      const id = objectId(kind, undefined, metaName);
      report(sink, id);
      if (
        sink.issues.length === 0 &&
        meta.name !== undefined &&
        remember(objectId(kind, undefined, meta.name))
      )
        state.namespaces.push({ name: meta.name, labels: meta.labels });
      return;
    }
    case 'Pod': {
      const meta = readObjectMeta(value.metadata, sink, defaultNamespace);
      const spec = readMap(value.spec, 'spec', sink) ?? {};
      const pod = readPodSpec(spec, 'spec', sink);
      const ips = readPodIps(readMap(value.status, 'status', sink), sink);
      const id = objectId(kind, meta.namespace, metaName);
      report(sink, id);
      if (
        sink.issues.length === 0 &&
        meta.name !== undefined &&
        remember(objectId(kind, meta.namespace, meta.name))
      )
        state.pods.push({
          namespace: meta.namespace,
          name: meta.name,
          labels: meta.labels,
          ips,
          ...pod,
        });
      return;
    }
    case 'Node': {
      const meta = readObjectMeta(value.metadata, sink, '', { namespaced: false });
      const status = readMap(value.status, 'status', sink);
      const addresses = readList(status?.addresses, 'status.addresses', sink) ?? [];
      const internal = addresses
        .filter(isMap)
        .find((a) => a.type === 'InternalIP' && typeof a.address === 'string');
      const address = internal ? String(internal.address) : undefined;
      if (address !== undefined && !parseIp(address))
        sink.add('status.addresses', `"${address}" is not a valid IP address`);
      report(sink, objectId(kind, undefined, metaName));
      if (sink.issues.length > 0 || meta.name === undefined) return;
      if (!remember(objectId(kind, undefined, meta.name))) return;
      // A node without a known address cannot be a row of the table.
      if (address === undefined) state.ignored.push({ kind, name: meta.name, location });
      else
        state.nodes.push({
          name: meta.name,
          ip: address,
          node: true,
          ...(Object.keys(meta.labels).length > 0 ? { labels: meta.labels } : {}),
        });
      return;
    }
    default:
      break;
  }
  const templatePath = WORKLOADS[kind];
  if (templatePath) {
    const meta = readObjectMeta(value.metadata, sink, defaultNamespace);
    let node: RawMap | undefined = value;
    let path = '';
    for (const part of templatePath) {
      path = join(path, part);
      node = node ? readMap(node[part], path, sink) : undefined;
    }
    const id = objectId(kind, meta.namespace, metaName);
    if (!node) {
      if (sink.issues.length === 0) sink.add(path, `required: a ${kind} needs a pod template`);
      report(sink, id);
      return;
    }
    const count = podCount(kind, value, sink);
    const templateMeta = readMap(node.metadata, join(path, 'metadata'), sink) ?? {};
    const templateLabels = readTemplateLabels(templateMeta, join(path, 'metadata'), sink);
    const spec = readMap(node.spec, join(path, 'spec'), sink) ?? {};
    const pod = readPodSpec(spec, join(path, 'spec'), sink);
    report(sink, id);
    // Names are scoped by kind: a Deployment and a StatefulSet (or a Pod) may share a name.
    if (
      sink.issues.length === 0 &&
      meta.name !== undefined &&
      remember(objectId(kind, meta.namespace, meta.name))
    ) {
      const name = meta.name;
      state.pods.push({
        kind,
        name,
        namespace: meta.namespace,
        template: { ips: [], ...pod },
        pods: replicaSuffixes(kind, count).map((suffix, i) => ({
          suffix,
          labels: withControllerLabels(kind, value, name, i, templateLabels),
        })),
      });
    }
    return;
  }
  state.ignored.push({ kind, name: metaName, location });
}

/**
 * "expected a string, got the boolean true" is baffling when the file says `namespace: y`:
 * name the YAML 1.1 rule (kubectl's) and show the fix with the user's own text.
 */
export function explainYaml11(
  doc: SourceDocument,
  path: string,
  base: readonly (string | number)[],
  message: string,
): string {
  const match = /^expected a string, got the (boolean|number) (\S+)/.exec(message);
  if (!match) return message;
  const text = doc.plainText(path, base);
  if (text === undefined) return message;
  return `expected a string, got ${text}, which YAML 1.1 (as kubectl reads manifests) takes for the ${match[1]} ${match[2]}: quote it, "${text}"`;
}

/** How many pods a workload runs (and `spec.replicas` and friends validated as the API does). */
function podCount(kind: string, workload: RawMap, sink: IssueSink): number {
  const spec = isMap(workload.spec) ? workload.spec : {};
  const nonNegative = (value: unknown, path: string): number | undefined => {
    const n = readInteger(value, path, sink);
    if (n !== undefined && n < 0) {
      sink.add(path, `must be greater than or equal to 0, got ${n}`);
      return undefined;
    }
    return n;
  };
  switch (kind) {
    case 'DaemonSet':
      return Number.POSITIVE_INFINITY; // one per node
    case 'Job':
    case 'CronJob': {
      const job =
        kind === 'Job'
          ? spec
          : isMap(spec.jobTemplate) && isMap(spec.jobTemplate.spec)
            ? spec.jobTemplate.spec
            : {};
      const at = kind === 'Job' ? 'spec' : 'spec.jobTemplate.spec';
      const parallelism = nonNegative(job.parallelism, `${at}.parallelism`) ?? 1;
      const completions = nonNegative(job.completions, `${at}.completions`);
      const suspended = readBoolean(job.suspend, `${at}.suspend`, sink) === true;
      if (suspended) return 0; // a suspended Job's pods are deleted
      return completions === undefined ? parallelism : Math.min(parallelism, completions);
    }
    default:
      return nonNegative(spec.replicas, 'spec.replicas') ?? 1;
  }
}

/**
 * The represented pods of a workload running `count` pods, as name suffixes: one pod keeps the
 * workload's name (''); a StatefulSet's replicas are named as its controller names them
 * (`-0`, `-1`, …), every one of them since each has its own identity and labels; the
 * interchangeable replicas of other workloads are two representatives, `-r1` and `-r2`, enough
 * for traffic between two distinct replicas to be a cell of its own.
 */
function replicaSuffixes(kind: string, count: number): string[] {
  if (count <= 0) return [];
  if (count === 1) return [''];
  if (kind === 'StatefulSet') return Array.from({ length: count }, (_, i) => `-${i}`);
  return ['-r1', '-r2'];
}

/** The Job name a CronJob's pods carry: `<cronjob>-<scheduled time in minutes>`, time 0 here. */
export function cronJobJobName(cronJob: string): string {
  return `${cronJob}-0`;
}

/**
 * Labels the controller or the API server adds to the pods of a workload, where the key and the
 * value are known offline:
 * - StatefulSet pod `i`: `statefulset.kubernetes.io/pod-name` (`<name>-<i>`) and, since 1.28,
 *   `apps.kubernetes.io/pod-index` (`i`), overriding the template (the controller sets them);
 * - Job, and the Job a CronJob creates: `job-name` and `batch.kubernetes.io/job-name` set to the
 *   Job's name unless `manualSelector: true` or the template sets them
 *   (pkg/registry/batch/job/strategy.go); an Indexed Job's pod `i` also carries
 *   `batch.kubernetes.io/job-completion-index` (since 1.28).
 * Labels with unpredictable values (controller-uid, pod-template-hash,
 * controller-revision-hash, pod-template-generation) are not modelled.
 */
function withControllerLabels(
  kind: string,
  workload: RawMap,
  name: string,
  index: number,
  labels: PodInfo['labels'],
): PodInfo['labels'] {
  const spec = isMap(workload.spec) ? workload.spec : {};
  if (kind === 'StatefulSet')
    return {
      ...labels,
      'statefulset.kubernetes.io/pod-name': `${name}-${index}`,
      'apps.kubernetes.io/pod-index': String(index),
    };
  if (kind !== 'Job' && kind !== 'CronJob') return labels;
  const job =
    kind === 'Job'
      ? spec
      : isMap(spec.jobTemplate) && isMap(spec.jobTemplate.spec)
        ? spec.jobTemplate.spec
        : {};
  const jobName = kind === 'Job' ? name : cronJobJobName(name);
  const indexed =
    job.completionMode === 'Indexed'
      ? { 'batch.kubernetes.io/job-completion-index': String(index) }
      : {};
  if (job.manualSelector === true) return { ...labels, ...indexed };
  return { 'job-name': jobName, 'batch.kubernetes.io/job-name': jobName, ...labels, ...indexed };
}

/**
 * Endpoint names for workload pods, in input order. Pod objects keep their names; a workload's
 * pods are `<name><suffix>` unless one of those names is taken (by a Pod, or by another kind's
 * pods of the same name), in which case the kind is added: `<name>-<kind><suffix>`, e.g.
 * `etcd-deployment` next to a Pod `etcd`. Kubernetes itself never collides here: Deployment,
 * ReplicaSet, DaemonSet and Job pods end in generated suffixes.
 */
function namePods(entries: readonly (PodInfo | WorkloadPods)[]): PodInfo[] {
  const taken = new Set<string>();
  for (const e of entries) if (!('pods' in e)) taken.add(`${e.namespace}/${e.name}`);
  const pods: PodInfo[] = [];
  for (const e of entries) {
    if (!('pods' in e)) {
      pods.push(e);
      continue;
    }
    const free = (base: string): boolean =>
      e.pods.every((p) => !taken.has(`${e.namespace}/${base}${p.suffix}`));
    let base = e.name;
    if (!free(base)) base = `${e.name}-${e.kind.toLowerCase()}`;
    for (let n = 2; !free(base); n++) base = `${e.name}-${e.kind.toLowerCase()}-${n}`;
    for (const p of e.pods) {
      taken.add(`${e.namespace}/${base}${p.suffix}`);
      pods.push({
        namespace: e.namespace,
        name: `${base}${p.suffix}`,
        labels: p.labels,
        ...e.template,
        origin: `${e.kind} ${e.name}`,
      });
    }
  }
  return pods;
}

function readNamespaceOf(value: RawMap, defaultNamespace: string): string {
  return isMap(value.metadata) && typeof value.metadata.namespace === 'string'
    ? value.metadata.namespace
    : defaultNamespace;
}

function readTemplateLabels(meta: RawMap, path: string, sink: IssueSink): PodInfo['labels'] {
  const inner = new IssueSink();
  const result = readObjectMeta({ name: 'template', ...meta }, inner, '');
  for (const issue of inner.issues) sink.add(issue.path.replace(/^metadata/, path), issue.message);
  return result.labels;
}

function readPodSpec(
  spec: RawMap,
  path: string,
  sink: IssueSink,
): Pick<PodInfo, 'ports' | 'hostNetwork' | 'nodeName'> {
  const ports = readContainerPorts(spec, path, sink);
  const hostNetwork = readBoolean(spec.hostNetwork, join(path, 'hostNetwork'), sink) ?? false;
  const nodeName = readString(spec.nodeName, join(path, 'nodeName'), sink);
  return { ports, hostNetwork, ...(nodeName ? { nodeName } : {}) };
}
