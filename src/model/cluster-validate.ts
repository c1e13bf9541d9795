import type { Protocol } from '../domain/protocol.js';
import { parseCidr } from './cidr.js';
import {
  checkKeys,
  describe,
  IssueSink,
  join,
  readInteger,
  readList,
  readMap,
  readString,
  type RawMap,
} from './raw.js';
import {
  type ClusterAction,
  type ClusterPeer,
  type ClusterPolicyInfo,
  type ClusterPolicyKind,
  type ClusterPort,
  type ClusterRule,
  type ClusterSubject,
  type ClusterTier,
  type NamespacedPodSelector,
} from './types.js';
import { readProtocol } from './validate-core.js';
import { readObjectMeta, readSelector } from './validate-meta.js';

/*
 * Validation of the cluster-scoped policies of policy.networking.k8s.io as their CRDs validate
 * them (OpenAPI schema and CEL rules of sigs.k8s.io/network-policy-api v0.3.0 for
 * ClusterNetworkPolicy v1alpha2 and v1beta1, v0.1.7 for AdminNetworkPolicy and
 * BaselineAdminNetworkPolicy v1alpha1), experimental channel: nodes, domainNames and named ports
 * are read. Every issue is reported, with its field path.
 */

export const CLUSTER_POLICY_GROUP = 'policy.networking.k8s.io';

/** The API versions each kind is served in. */
export const CLUSTER_POLICY_VERSIONS: Readonly<Record<ClusterPolicyKind, readonly string[]>> = {
  ClusterNetworkPolicy: ['v1beta1', 'v1alpha2'],
  AdminNetworkPolicy: ['v1alpha1'],
  BaselineAdminNetworkPolicy: ['v1alpha1'],
};

/** The resource (plural) of each kind, as in its CRD and the API's URLs. */
export const CLUSTER_POLICY_RESOURCES: Readonly<Record<ClusterPolicyKind, string>> = {
  ClusterNetworkPolicy: 'clusternetworkpolicies',
  AdminNetworkPolicy: 'adminnetworkpolicies',
  BaselineAdminNetworkPolicy: 'baselineadminnetworkpolicies',
};

/** The one name a BaselineAdminNetworkPolicy may have (its CRD's rule): a cluster holds one. */
export const BASELINE_ADMIN_NAME = 'default';

/** The CRD's DomainName pattern. */
const DOMAIN_NAME =
  /^(\*\.)?([a-zA-Z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.)+[a-zA-Z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.?$/;

interface Dialect {
  readonly kind: ClusterPolicyKind;
  /** v1alpha1: Allow; v1alpha2 and v1beta1: Accept. */
  readonly accept: 'Accept' | 'Allow';
  readonly actions: readonly string[];
  /** Max rules per direction, peers per rule and ports per rule. */
  readonly maxRules: number;
  readonly maxItems: number;
  readonly egressPeers: readonly string[];
  /** v1alpha2/v1beta1 require the host bits of a network to be zero (cidr == cidr.masked()). */
  readonly maskedNetworks: boolean;
}

function dialect(kind: ClusterPolicyKind): Dialect {
  switch (kind) {
    case 'ClusterNetworkPolicy':
      return {
        kind,
        accept: 'Accept',
        actions: ['Accept', 'Deny', 'Pass'],
        maxRules: 25,
        maxItems: 25,
        egressPeers: ['namespaces', 'pods', 'nodes', 'networks', 'domainNames'],
        maskedNetworks: true,
      };
    case 'AdminNetworkPolicy':
      return {
        kind,
        accept: 'Allow',
        actions: ['Allow', 'Deny', 'Pass'],
        maxRules: 100,
        maxItems: 100,
        egressPeers: ['namespaces', 'pods', 'nodes', 'networks', 'domainNames'],
        maskedNetworks: false,
      };
    case 'BaselineAdminNetworkPolicy':
      return {
        kind,
        accept: 'Allow',
        actions: ['Allow', 'Deny'],
        maxRules: 100,
        maxItems: 100,
        egressPeers: ['namespaces', 'pods', 'nodes', 'networks'],
        maskedNetworks: false,
      };
  }
}

export function isClusterPolicyKind(kind: unknown): kind is ClusterPolicyKind {
  return (
    kind === 'ClusterNetworkPolicy' ||
    kind === 'AdminNetworkPolicy' ||
    kind === 'BaselineAdminNetworkPolicy'
  );
}

/** The word the policy's own API uses for an action (Allow in v1alpha1). */
export function actionWord(kind: ClusterPolicyKind, action: ClusterAction): string {
  return action === 'Accept' && kind !== 'ClusterNetworkPolicy' ? 'Allow' : action;
}

/** `ClusterNetworkPolicy/NAME`: how verdicts and walkthroughs name a cluster policy. */
export function clusterPolicyKey(policy: Pick<ClusterPolicyInfo, 'kind' | 'name'>): string {
  return `${policy.kind}/${policy.name}`;
}

function present(map: RawMap, key: string): boolean {
  return map[key] !== undefined && map[key] !== null;
}

/** A list with the CRD's item bounds checked; undefined when absent. */
function boundedList(
  value: unknown,
  path: string,
  sink: IssueSink,
  min: number,
  max: number,
): readonly unknown[] | undefined {
  const list = readList(value, path, sink);
  if (!list) return undefined;
  if (list.length < min)
    sink.add(path, `must have at least ${min} item${min === 1 ? '' : 's'} (got ${list.length})`);
  if (list.length > max) sink.add(path, `must have at most ${max} items (got ${list.length})`);
  return list;
}

/** Exactly one of `keys` present (maxProperties/minProperties 1); returns it. */
function oneOf(
  map: RawMap,
  keys: readonly string[],
  path: string,
  sink: IssueSink,
  what: string,
): string | undefined {
  const set = keys.filter((k) => present(map, k));
  if (set.length > 1)
    sink.add(path, `${what}: exactly one field may be set, got ${set.join(' and ')}`);
  return set.length === 1 ? set[0] : undefined;
}

function readNamespacedPod(
  value: unknown,
  path: string,
  sink: IssueSink,
  requireNamespaceSelector: boolean,
): NamespacedPodSelector {
  const map = readMap(value, path, sink) ?? {};
  checkKeys(map, ['namespaceSelector', 'podSelector'], path, sink);
  if (!present(map, 'podSelector'))
    sink.add(join(path, 'podSelector'), 'required ({} selects every pod)');
  if (requireNamespaceSelector && !present(map, 'namespaceSelector'))
    sink.add(join(path, 'namespaceSelector'), 'required ({} selects every namespace)');
  return {
    namespaceSelector: readSelector(map.namespaceSelector, join(path, 'namespaceSelector'), sink),
    podSelector: readSelector(map.podSelector, join(path, 'podSelector'), sink),
  };
}

function readSubject(
  value: unknown,
  path: string,
  sink: IssueSink,
  d: Dialect,
): ClusterSubject | undefined {
  const map = readMap(value, path, sink);
  if (!map) {
    if (value === undefined || value === null)
      sink.add(path, 'required: exactly one of namespaces or pods');
    return undefined;
  }
  checkKeys(map, ['namespaces', 'pods'], path, sink);
  const key = oneOf(map, ['namespaces', 'pods'], path, sink, 'subject');
  if (key === undefined) {
    if (!present(map, 'namespaces') && !present(map, 'pods'))
      sink.add(path, 'exactly one of namespaces or pods must be set');
    return undefined;
  }
  if (key === 'namespaces')
    return { namespaces: readSelector(map.namespaces, join(path, 'namespaces'), sink) };
  return {
    pods: readNamespacedPod(map.pods, join(path, 'pods'), sink, d.kind !== 'ClusterNetworkPolicy'),
  };
}

/** CEL isCIDR (strict: no IPv4 leading zeros, no IPv4-mapped IPv6) and, where required, masked. */
function cidrProblem(text: string, masked: boolean): string | undefined {
  const cidr = parseCidr(text);
  const [address = ''] = text.split('/');
  if (
    !cidr ||
    /(^|[.:])0\d/.test(address.includes(':') ? '' : address) ||
    /^::ffff:/i.test(address) ||
    /\s/.test(text) ||
    text.length > 43
  )
    return `"${text}" is not a valid CIDR (expected e.g. 10.0.0.0/8 or fd00::/8)`;
  if (masked) {
    const parsed = parseCidr(text.replace(/\/.*/, '/' + String(cidr.family === 4 ? 32 : 128)));
    const same = parsed !== undefined && parsed.bytes.every((b, i) => b === cidr.bytes[i]);
    if (!same)
      return `"${text}" has host bits set: write the network address (Invalid CIDR format provided)`;
  }
  return undefined;
}

function readStringSet(
  value: unknown,
  path: string,
  sink: IssueSink,
  max: number,
  check: (text: string) => string | undefined,
): string[] {
  const out: string[] = [];
  (boundedList(value, path, sink, 1, max) ?? []).forEach((raw, i) => {
    const itemPath = join(path, i);
    const text = readString(raw, itemPath, sink);
    if (text === undefined) {
      if (raw === null) sink.add(itemPath, 'expected a string, got nothing (null)');
      return;
    }
    const problem = check(text);
    if (problem) sink.add(itemPath, problem);
    else if (out.includes(text)) sink.add(itemPath, `duplicate value "${text}"`);
    else out.push(text);
  });
  return out;
}

function readPeer(
  value: unknown,
  path: string,
  sink: IssueSink,
  d: Dialect,
  direction: 'ingress' | 'egress',
): ClusterPeer | undefined {
  const map = readMap(value, path, sink);
  if (!map) {
    if (value === null) return { kind: 'none' };
    return undefined;
  }
  const keys = direction === 'ingress' ? ['namespaces', 'pods'] : d.egressPeers;
  checkKeys(map, keys, path, sink);
  const key = oneOf(map, keys, path, sink, 'peer');
  if (key === undefined) return Object.keys(map).length === 0 ? { kind: 'none' } : undefined;
  const field = join(path, key);
  switch (key) {
    case 'namespaces':
      return { kind: 'namespaces', selector: readSelector(map.namespaces, field, sink) };
    case 'pods':
      return {
        kind: 'pods',
        pods: readNamespacedPod(map.pods, field, sink, d.kind !== 'ClusterNetworkPolicy'),
      };
    case 'nodes':
      return { kind: 'nodes', selector: readSelector(map.nodes, field, sink) };
    case 'networks':
      return {
        kind: 'networks',
        cidrs: readStringSet(map.networks, field, sink, 25, (t) =>
          cidrProblem(t, d.maskedNetworks),
        ),
      };
    default:
      return {
        kind: 'domainNames',
        names: readStringSet(map.domainNames, field, sink, 25, (t) =>
          DOMAIN_NAME.test(t)
            ? undefined
            : `"${t}" is not a valid domain name (an exact name, or "*." followed by one)`,
        ),
      };
  }
}

function readPortNumber(value: unknown, path: string, sink: IssueSink): number | undefined {
  const n = readInteger(value, path, sink);
  if (n === undefined) {
    if (value === undefined || value === null) sink.add(path, 'required');
    return undefined;
  }
  if (n < 1 || n > 65535) {
    sink.add(path, `must be between 1 and 65535, inclusive (got ${n})`);
    return undefined;
  }
  return n;
}

/** v1alpha2/v1beta1 `protocols[]`: one of tcp, udp, sctp (with destinationPort) or a named port. */
function readProtocolEntry(value: unknown, path: string, sink: IssueSink): ClusterPort | undefined {
  const map = readMap(value, path, sink);
  if (!map) {
    sink.add(path, 'expected one of tcp, udp, sctp or destinationNamedPort');
    return undefined;
  }
  const keys = ['tcp', 'udp', 'sctp', 'destinationNamedPort'];
  checkKeys(map, keys, path, sink);
  const key = oneOf(map, keys, path, sink, 'protocol');
  if (key === undefined) {
    if (keys.every((k) => !present(map, k)))
      sink.add(path, 'exactly one of tcp, udp, sctp or destinationNamedPort must be set');
    return undefined;
  }
  const field = join(path, key);
  if (key === 'destinationNamedPort') {
    const name = readString(map.destinationNamedPort, field, sink);
    return name === undefined ? undefined : { namedPort: name };
  }
  const protocol = key.toUpperCase() as Protocol;
  const proto = readMap(map[key], field, sink) ?? {};
  checkKeys(proto, ['destinationPort'], field, sink);
  const portPath = join(field, 'destinationPort');
  if (!present(proto, 'destinationPort')) {
    sink.add(portPath, `required: ${key} needs a destinationPort (number or range)`);
    return undefined;
  }
  const port = readMap(proto.destinationPort, portPath, sink) ?? {};
  checkKeys(port, ['number', 'range'], portPath, sink);
  const which = oneOf(port, ['number', 'range'], portPath, sink, 'destinationPort');
  if (which === undefined) {
    if (!present(port, 'number') && !present(port, 'range'))
      sink.add(portPath, 'exactly one of number or range must be set');
    return undefined;
  }
  if (which === 'number') {
    const n = readPortNumber(port.number, join(portPath, 'number'), sink);
    return n === undefined ? undefined : { protocol, port: n };
  }
  const rangePath = join(portPath, 'range');
  const range = readMap(port.range, rangePath, sink) ?? {};
  checkKeys(range, ['start', 'end'], rangePath, sink);
  const start = readPortNumber(range.start, join(rangePath, 'start'), sink);
  const end = readPortNumber(range.end, join(rangePath, 'end'), sink);
  if (start === undefined || end === undefined) return undefined;
  if (!(start < end)) {
    sink.add(rangePath, `Start port must be less than End port (start ${start}, end ${end})`);
    return undefined;
  }
  return { protocol, port: start, endPort: end };
}

/** v1alpha1 `ports[]`: one of portNumber, portRange or namedPort. */
function readV1alpha1Port(value: unknown, path: string, sink: IssueSink): ClusterPort | undefined {
  const map = readMap(value, path, sink);
  if (!map) {
    sink.add(path, 'expected one of portNumber, portRange or namedPort');
    return undefined;
  }
  const keys = ['portNumber', 'portRange', 'namedPort'];
  checkKeys(map, keys, path, sink);
  const key = oneOf(map, keys, path, sink, 'port');
  if (key === undefined) {
    if (keys.every((k) => !present(map, k)))
      sink.add(path, 'exactly one of portNumber, portRange or namedPort must be set');
    return undefined;
  }
  const field = join(path, key);
  if (key === 'namedPort') {
    const name = readString(map.namedPort, field, sink);
    return name === undefined ? undefined : { namedPort: name };
  }
  const entry = readMap(map[key], field, sink) ?? {};
  if (key === 'portNumber') {
    checkKeys(entry, ['protocol', 'port'], field, sink);
    const protocol = readProtocol(entry.protocol, join(field, 'protocol'), sink);
    const port = readPortNumber(entry.port, join(field, 'port'), sink);
    return port === undefined ? undefined : { protocol, port };
  }
  checkKeys(entry, ['protocol', 'start', 'end'], field, sink);
  const protocol = readProtocol(entry.protocol, join(field, 'protocol'), sink);
  const start = readPortNumber(entry.start, join(field, 'start'), sink);
  const end = readPortNumber(entry.end, join(field, 'end'), sink);
  return start === undefined || end === undefined
    ? undefined
    : { protocol, port: start, endPort: end };
}

function readAction(value: unknown, path: string, sink: IssueSink, d: Dialect): ClusterAction {
  const text = readString(value, path, sink);
  if (text === undefined) {
    if (value === undefined || value === null)
      sink.add(path, `required: one of ${d.actions.join(', ')}`);
    return 'Deny';
  }
  if (d.actions.includes(text)) return text === 'Allow' ? 'Accept' : (text as ClusterAction);
  const hint =
    text === 'Allow' && d.accept === 'Accept'
      ? ' (v1alpha1 said Allow; ClusterNetworkPolicy says Accept)'
      : text === 'Accept' && d.accept === 'Allow'
        ? ` (${d.kind} v1alpha1 says Allow)`
        : text === 'Pass' && d.kind === 'BaselineAdminNetworkPolicy'
          ? ' (a BaselineAdminNetworkPolicy has no Pass: there is no tier after it)'
          : '';
  sink.add(path, `unsupported value "${text}": expected one of ${d.actions.join(', ')}${hint}`);
  return 'Deny';
}

function readRules(
  value: unknown,
  path: string,
  direction: 'ingress' | 'egress',
  sink: IssueSink,
  d: Dialect,
): ClusterRule[] {
  const rules: ClusterRule[] = [];
  const peersKey = direction === 'ingress' ? 'from' : 'to';
  const portsKey = d.kind === 'ClusterNetworkPolicy' ? 'protocols' : 'ports';
  (boundedList(value, path, sink, 0, d.maxRules) ?? []).forEach((raw, i) => {
    const rulePath = join(path, i);
    const map = readMap(raw, rulePath, sink);
    if (!map) {
      if (raw === null) sink.add(rulePath, `expected a rule (action and ${peersKey}), got nothing`);
      return;
    }
    const before = sink.issues.length;
    checkKeys(map, ['name', 'action', peersKey, portsKey], rulePath, sink);
    const name = readString(map.name, join(rulePath, 'name'), sink);
    if (name !== undefined && name.length > 100)
      sink.add(join(rulePath, 'name'), `may be at most 100 characters (got ${name.length})`);
    const action = readAction(map.action, join(rulePath, 'action'), sink, d);
    const peersPath = join(rulePath, peersKey);
    if (!present(map, peersKey))
      sink.add(
        peersPath,
        `required: at least one ${direction === 'ingress' ? 'source' : 'destination'} peer`,
      );
    const peers = (boundedList(map[peersKey], peersPath, sink, 1, d.maxItems) ?? []).map((p, j) =>
      readPeer(p, join(peersPath, j), sink, d, direction),
    );
    const portsPath = join(rulePath, portsKey);
    const rawPorts = boundedList(map[portsKey], portsPath, sink, 1, d.maxItems);
    const ports = rawPorts?.map((p, j) =>
      d.kind === 'ClusterNetworkPolicy'
        ? readProtocolEntry(p, join(portsPath, j), sink)
        : readV1alpha1Port(p, join(portsPath, j), sink),
    );
    // CEL: no named port in a rule with a peer that has no named ports.
    const addressPeers = peers.filter(
      (p) => p?.kind === 'networks' || p?.kind === 'nodes' || p?.kind === 'domainNames',
    );
    if (addressPeers.length > 0 && ports?.some((p) => p !== undefined && 'namedPort' in p)) {
      const kinds =
        d.kind === 'BaselineAdminNetworkPolicy' ? 'networks/nodes' : 'networks/nodes/domainNames';
      sink.add(
        rulePath,
        `${kinds} peer cannot be set with namedPorts since there are no namedPorts for ${kinds}`,
      );
    }
    if (sink.issues.length > before) return;
    rules.push({
      ...(name !== undefined && name !== '' ? { name } : {}),
      action,
      peers: peers.filter((p): p is ClusterPeer => p !== undefined),
      ports: ports ? ports.filter((p): p is ClusterPort => p !== undefined) : null,
    });
  });
  return rules;
}

/**
 * Reads one ClusterNetworkPolicy, AdminNetworkPolicy or BaselineAdminNetworkPolicy (its kind
 * already checked with isClusterPolicyKind). Returns undefined when it has problems, which are
 * added to `sink` with paths relative to the object.
 */
export function readClusterPolicy(
  object: RawMap,
  kind: ClusterPolicyKind,
  sink: IssueSink,
): ClusterPolicyInfo | undefined {
  const before = sink.issues.length;
  const d = dialect(kind);
  checkKeys(object, ['apiVersion', 'kind', 'metadata', 'spec', 'status'], '', sink);
  const versions = CLUSTER_POLICY_VERSIONS[kind].map((v) => `${CLUSTER_POLICY_GROUP}/${v}`);
  const apiVersion = typeof object.apiVersion === 'string' ? object.apiVersion : '';
  if (!versions.includes(apiVersion)) {
    const hint =
      kind === 'ClusterNetworkPolicy' && apiVersion === `${CLUSTER_POLICY_GROUP}/v1alpha1`
        ? ' (v1alpha1 has AdminNetworkPolicy and BaselineAdminNetworkPolicy instead)'
        : kind !== 'ClusterNetworkPolicy' && apiVersion.startsWith(CLUSTER_POLICY_GROUP)
          ? ` (${kind} exists only in v1alpha1; v1alpha2 and v1beta1 replace it with ClusterNetworkPolicy)`
          : '';
    sink.add(
      'apiVersion',
      `expected ${versions.join(' or ')} for a ${kind}, got ${describe(object.apiVersion)}${hint}`,
    );
  }
  const meta = readObjectMeta(object.metadata, sink, '', { namespaced: false });
  if (
    kind === 'BaselineAdminNetworkPolicy' &&
    meta.name !== undefined &&
    meta.name !== BASELINE_ADMIN_NAME
  )
    sink.add(
      'metadata.name',
      `Only one baseline admin network policy with metadata.name="default" can be created in the cluster (got "${meta.name}")`,
    );
  const spec = readMap(object.spec, 'spec', sink);
  if (!spec) {
    if (object.spec === undefined || object.spec === null) sink.add('spec', 'required');
    return undefined;
  }
  const specKeys =
    kind === 'ClusterNetworkPolicy'
      ? ['tier', 'priority', 'subject', 'ingress', 'egress']
      : kind === 'AdminNetworkPolicy'
        ? ['priority', 'subject', 'ingress', 'egress']
        : ['subject', 'ingress', 'egress'];
  checkKeys(spec, specKeys, 'spec', sink);
  let tier: ClusterTier = kind === 'BaselineAdminNetworkPolicy' ? 'Baseline' : 'Admin';
  if (kind === 'ClusterNetworkPolicy') {
    const text = readString(spec.tier, 'spec.tier', sink);
    if (text === 'Admin' || text === 'Baseline') tier = text;
    else if (text === undefined) {
      if (spec.tier === undefined || spec.tier === null)
        sink.add('spec.tier', 'required: Admin or Baseline');
    } else
      sink.add(
        'spec.tier',
        `unsupported value "${text}": expected "Admin" or "Baseline" (NetworkPolicy is the tier between them)`,
      );
  }
  let priority: number | undefined;
  if (kind !== 'BaselineAdminNetworkPolicy') {
    priority = readInteger(spec.priority, 'spec.priority', sink);
    if (priority === undefined) {
      if (spec.priority === undefined || spec.priority === null)
        sink.add('spec.priority', 'required: 0 to 1000 (lower first)');
    } else if (priority < 0 || priority > 1000)
      sink.add('spec.priority', `must be between 0 and 1000, inclusive (got ${priority})`);
  }
  const subject = readSubject(spec.subject, 'spec.subject', sink, d);
  const ingress = readRules(spec.ingress, 'spec.ingress', 'ingress', sink, d);
  const egress = readRules(spec.egress, 'spec.egress', 'egress', sink, d);
  if (sink.issues.length > before || meta.name === undefined || subject === undefined)
    return undefined;
  return {
    kind,
    apiVersion,
    name: meta.name,
    tier,
    ...(priority !== undefined ? { priority } : {}),
    subject,
    ingress,
    egress,
  };
}

/** Problems the API accepts but that make the model's answer partial or undefined. */
export function clusterPolicyWarnings(policy: ClusterPolicyInfo): string[] {
  const out: string[] = [];
  const key = clusterPolicyKey(policy);
  for (const direction of ['ingress', 'egress'] as const)
    policy[direction].forEach((rule, i) => {
      const path = `spec.${direction}[${i}]`;
      const peersKey = direction === 'ingress' ? 'from' : 'to';
      rule.peers.forEach((peer, j) => {
        if (peer.kind === 'none')
          out.push(
            `${key} ${path}.${peersKey}[${j}]: a peer with no field (the CRD requires exactly one): the model fails closed as the API tells implementations to: ${rule.action === 'Accept' ? 'this peer matches nothing' : `the rule is treated as "deny all"`}`,
          );
        if (peer.kind === 'domainNames' && rule.action !== 'Accept')
          out.push(
            `${key} ${path}: domainNames is only supported for ${actionWord(policy.kind, 'Accept')} rules, and the model cannot resolve domain names: this ${actionWord(policy.kind, rule.action)} rule's domainNames match nothing in the model`,
          );
      });
    });
  return out;
}
