import { parseIp } from '../model/cidr.js';
import type { Issue, SourceLocation } from '../domain/issue.js';
import {
  IssueSink,
  describe,
  isMap,
  join,
  readBoolean,
  readList,
  readMap,
  readString,
  type RawMap,
} from '../model/raw.js';
import type {
  ExternalInfo,
  NamespaceInfo,
  NetworkPolicyInfo,
  PodInfo,
  World,
} from '../model/types.js';
import {
  dns1123LabelProblem,
  readContainerPorts,
  readNetworkPolicy,
  readObjectMeta,
  readPodIps,
} from '../model/validate.js';
import type { SourceDocument } from './document.js';

/** Workload kinds whose pod template stands for one representative pod named after them. */
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

interface Collected {
  namespaces: NamespaceInfo[];
  pods: PodInfo[];
  policies: NetworkPolicyInfo[];
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
        pods: state.pods,
        externals: [...state.nodes, ...(options.externals ?? [])],
        policies: state.policies,
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
      else state.nodes.push({ name: meta.name, ip: address, node: true });
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
    const templateMeta = readMap(node.metadata, join(path, 'metadata'), sink) ?? {};
    const labels = withControllerLabels(
      kind,
      value,
      meta.name,
      readTemplateLabels(templateMeta, join(path, 'metadata'), sink),
    );
    const spec = readMap(node.spec, join(path, 'spec'), sink) ?? {};
    const pod = readPodSpec(spec, join(path, 'spec'), sink);
    report(sink, id);
    // The representative pod shares the workload's name; a Pod of that name would collide.
    if (
      sink.issues.length === 0 &&
      meta.name !== undefined &&
      remember(objectId('Pod', meta.namespace, meta.name))
    )
      state.pods.push({
        namespace: meta.namespace,
        name: meta.name,
        labels,
        ips: [],
        ...pod,
        origin: `${kind} ${meta.name}`,
      });
    return;
  }
  state.ignored.push({ kind, name: metaName, location });
}

/**
 * "expected a string, got the boolean true" is baffling when the file says `namespace: y`:
 * name the YAML 1.1 rule (kubectl's) and show the fix with the user's own text.
 */
function explainYaml11(
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

/**
 * Labels the API server adds to a pod template on create. A Job without `manualSelector: true`
 * gets `job-name` and `batch.kubernetes.io/job-name` set to its name unless the template sets
 * them (pkg/registry/batch/job/strategy.go, generateSelector). Labels with unpredictable values
 * (controller-uid, pod-template-hash) are not modelled.
 */
function withControllerLabels(
  kind: string,
  workload: RawMap,
  name: string | undefined,
  labels: PodInfo['labels'],
): PodInfo['labels'] {
  if (kind !== 'Job' || name === undefined) return labels;
  const spec = isMap(workload.spec) ? workload.spec : {};
  if (spec.manualSelector === true) return labels;
  return { 'job-name': name, 'batch.kubernetes.io/job-name': name, ...labels };
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
