/*
 * Validation and defaulting of networking.k8s.io/v1 NetworkPolicy objects exactly as the API
 * server does them (pkg/apis/networking/validation and .../v1/defaults.go), so that anything the
 * model accepts a cluster would accept, and the reverse. The pieces other objects share are in
 * validate-meta.ts (names, labels, selectors, metadata) and validate-core.ts (protocols, ports,
 * container ports, pod IPs).
 */
import { portNameProblems } from '../domain/probe.js';
import { cidrStrictlyInside, parseCidr } from './cidr.js';
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
  type IPBlock,
  type NetworkPolicyInfo,
  type PolicyPeer,
  type PolicyPort,
  type PolicyRule,
  type PolicyType,
} from './types.js';
import { portNumberProblem, readProtocol } from './validate-core.js';
import { readObjectMeta, readSelector } from './validate-meta.js';

function readPolicyPort(value: unknown, path: string, sink: IssueSink): PolicyPort | undefined {
  const map = readMap(value, path, sink);
  if (!map) return { protocol: 'TCP' };
  checkKeys(map, ['protocol', 'port', 'endPort'], path, sink);
  const before = sink.issues.length;
  const protocol = readProtocol(map.protocol, join(path, 'protocol'), sink);
  const portPath = join(path, 'port');
  let port: number | string | undefined;
  if (typeof map.port === 'number') {
    port = readInteger(map.port, portPath, sink);
    if (port !== undefined) {
      const problem = portNumberProblem(port);
      if (problem) sink.add(portPath, problem);
    }
  } else if (typeof map.port === 'string') {
    port = map.port;
    const problems = portNameProblems(port);
    if (problems.length > 0)
      sink.add(
        portPath,
        `invalid port name "${port}": ${problems.join('; ')}${/^\d+$/.test(port) ? ' (a quoted number is a port name: write it unquoted)' : ''}`,
      );
  } else if (map.port !== undefined && map.port !== null) {
    sink.add(portPath, `expected a port number or a port name, got ${describe(map.port)}`);
  }
  const endPortPath = join(path, 'endPort');
  const endPort = readInteger(map.endPort, endPortPath, sink);
  if (endPort !== undefined) {
    const problem = portNumberProblem(endPort);
    if (problem) sink.add(endPortPath, problem);
    if (map.port === undefined || map.port === null)
      sink.add(portPath, 'must be specified when endPort is specified');
    else if (typeof port === 'string')
      sink.add(endPortPath, 'may not be specified when port is a named port');
    else if (typeof port === 'number' && endPort < port)
      sink.add(endPortPath, `must be greater than or equal to port (${endPort} < ${port})`);
  }
  if (sink.issues.length > before) return undefined;
  return {
    protocol,
    ...(port !== undefined ? { port } : {}),
    ...(endPort !== undefined ? { endPort } : {}),
  };
}

function readIpBlock(value: unknown, path: string, sink: IssueSink): IPBlock | undefined {
  const map = readMap(value, path, sink);
  if (!map) return undefined;
  checkKeys(map, ['cidr', 'except'], path, sink);
  const cidrPath = join(path, 'cidr');
  const cidrText = readString(map.cidr, cidrPath, sink);
  if (cidrText === undefined) {
    if (map.cidr === undefined || map.cidr === null) sink.add(cidrPath, 'required');
    return undefined;
  }
  const cidr = parseCidr(cidrText);
  if (!cidr) {
    sink.add(
      cidrPath,
      `"${cidrText}" is not a valid CIDR (expected e.g. 10.0.0.0/16 or fd00::/64)`,
    );
    return undefined;
  }
  const exceptPath = join(path, 'except');
  const except: string[] = [];
  const before = sink.issues.length;
  (readList(map.except, exceptPath, sink) ?? []).forEach((raw, i) => {
    const itemPath = join(exceptPath, i);
    const text = readString(raw, itemPath, sink);
    if (text === undefined) {
      if (raw === null) sink.add(itemPath, 'expected a CIDR, got nothing (null)');
      return;
    }
    const inner = parseCidr(text);
    if (!inner) sink.add(itemPath, `"${text}" is not a valid CIDR`);
    else if (!cidrStrictlyInside(cidr, inner))
      sink.add(itemPath, `"${text}" must be a strict subset of cidr ${cidrText}`);
    else except.push(text);
  });
  return sink.issues.length === before ? { cidr: cidrText, except } : undefined;
}

function readPeer(value: unknown, path: string, sink: IssueSink): PolicyPeer | undefined {
  const map = readMap(value, path, sink);
  if (!map) {
    if (value === null || value === undefined) sink.add(path, 'must specify a peer');
    return undefined;
  }
  checkKeys(map, ['podSelector', 'namespaceSelector', 'ipBlock'], path, sink);
  const before = sink.issues.length;
  const present = (key: string): boolean => map[key] !== undefined && map[key] !== null;
  const podSelector = present('podSelector')
    ? readSelector(map.podSelector, join(path, 'podSelector'), sink)
    : undefined;
  const namespaceSelector = present('namespaceSelector')
    ? readSelector(map.namespaceSelector, join(path, 'namespaceSelector'), sink)
    : undefined;
  const ipBlock = present('ipBlock')
    ? readIpBlock(map.ipBlock, join(path, 'ipBlock'), sink)
    : undefined;
  const count = ['podSelector', 'namespaceSelector', 'ipBlock'].filter(present).length;
  if (count === 0)
    sink.add(path, 'must specify a peer: podSelector, namespaceSelector (or both), or ipBlock');
  else if (count > 1 && present('ipBlock'))
    sink.add(path, 'may not specify both ipBlock and another peer');
  if (sink.issues.length > before) return undefined;
  return {
    ...(podSelector ? { podSelector } : {}),
    ...(namespaceSelector ? { namespaceSelector } : {}),
    ...(ipBlock ? { ipBlock } : {}),
  };
}

function readRules(
  value: unknown,
  path: string,
  peersKey: 'from' | 'to',
  sink: IssueSink,
): PolicyRule[] {
  const rules: PolicyRule[] = [];
  (readList(value, path, sink) ?? []).forEach((rawRule, i) => {
    const rulePath = join(path, i);
    // A null rule decodes as an empty rule: every peer, every port.
    const map = rawRule === null ? {} : readMap(rawRule, rulePath, sink);
    if (!map) return;
    checkKeys(map, [peersKey, 'ports'], rulePath, sink);
    const peersPath = join(rulePath, peersKey);
    const rawPeers = readList(map[peersKey], peersPath, sink);
    const peers = (rawPeers ?? []).map((p, j) => readPeer(p, join(peersPath, j), sink));
    const portsPath = join(rulePath, 'ports');
    const rawPorts = readList(map.ports, portsPath, sink);
    const ports = (rawPorts ?? []).map((p, j) => readPolicyPort(p, join(portsPath, j), sink));
    rules.push({
      peers: peers.length === 0 ? null : peers.filter((p): p is PolicyPeer => p !== undefined),
      ports: ports.length === 0 ? null : ports.filter((p): p is PolicyPort => p !== undefined),
    });
  });
  return rules;
}

/**
 * Reads one NetworkPolicy object (already known to be `kind: NetworkPolicy`). Returns undefined
 * when it has problems, which are added to `sink` with paths relative to the object.
 * `defaultNamespace` stands for `metadata.namespace` when that is absent.
 */
export function readNetworkPolicy(
  object: RawMap,
  sink: IssueSink,
  defaultNamespace = 'default',
): NetworkPolicyInfo | undefined {
  const before = sink.issues.length;
  checkKeys(object, ['apiVersion', 'kind', 'metadata', 'spec', 'status'], '', sink);
  if (object.apiVersion !== 'networking.k8s.io/v1')
    sink.add(
      'apiVersion',
      `expected networking.k8s.io/v1 for a NetworkPolicy, got ${describe(object.apiVersion)}`,
    );
  const { name, namespace } = readObjectMeta(object.metadata, sink, defaultNamespace);
  const spec = readMap(object.spec, 'spec', sink) ?? {};
  checkKeys(spec, ['podSelector', 'policyTypes', 'ingress', 'egress'], 'spec', sink);
  const podSelector = readSelector(spec.podSelector, 'spec.podSelector', sink);
  const declaredTypes: PolicyType[] = [];
  const typesPath = 'spec.policyTypes';
  const rawTypes = readList(spec.policyTypes, typesPath, sink) ?? [];
  if (rawTypes.length > 2) sink.add(typesPath, 'may not specify more than two policyTypes');
  rawTypes.forEach((raw, i) => {
    // A null item decodes as "" (the zero value), which validation then rejects.
    const text = raw === null ? '' : readString(raw, join(typesPath, i), sink);
    if (text === 'Ingress' || text === 'Egress') declaredTypes.push(text);
    else if (text !== undefined)
      sink.add(join(typesPath, i), `unsupported value "${text}": expected "Ingress" or "Egress"`);
  });
  const ingress = readRules(spec.ingress, 'spec.ingress', 'from', sink);
  const egress = readRules(spec.egress, 'spec.egress', 'to', sink);
  if (sink.issues.length > before || name === undefined) return undefined;
  // SetDefaults_NetworkPolicy: with no policyTypes, Ingress always, Egress iff egress rules exist.
  const defaulted = rawTypes.length === 0;
  const policyTypes: PolicyType[] = defaulted
    ? egress.length > 0
      ? ['Ingress', 'Egress']
      : ['Ingress']
    : [...new Set(declaredTypes)];
  return {
    namespace,
    name,
    podSelector,
    policyTypes,
    policyTypesDefaulted: defaulted,
    ingress,
    egress,
  };
}
