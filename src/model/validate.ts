import { isProtocol, PROTOCOLS, type Protocol } from '../domain/protocol.js';
import { portNameProblems } from '../domain/probe.js';
import { cidrStrictlyInside, parseCidr, parseIp } from './cidr.js';
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
  SELECTOR_OPERATORS,
  type ContainerPort,
  type IPBlock,
  type LabelSelector,
  type LabelSelectorRequirement,
  type Labels,
  type NetworkPolicyInfo,
  type PolicyPeer,
  type PolicyPort,
  type PolicyRule,
  type PolicyType,
  type SelectorOperator,
} from './types.js';

/*
 * Validation and defaulting of networking.k8s.io/v1 NetworkPolicy objects exactly as the API
 * server does them (pkg/apis/networking/validation and .../v1/defaults.go), so that anything the
 * model accepts a cluster would accept, and the reverse.
 */

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export function dns1123LabelProblem(value: string): string | undefined {
  if (value.length > 63) return 'must be no more than 63 characters';
  if (!DNS1123_LABEL.test(value))
    return 'must consist of lowercase letters, digits and "-", and start and end with a letter or digit (RFC 1123 label)';
  return undefined;
}

export function dns1123SubdomainProblem(value: string): string | undefined {
  if (value.length > 253) return 'must be no more than 253 characters';
  if (!DNS1123_SUBDOMAIN.test(value))
    return 'must consist of lowercase letters, digits, "-" and ".", and start and end with a letter or digit (RFC 1123 subdomain)';
  return undefined;
}

export function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined) {
    if (prefix.length === 0) return 'prefix part must not be empty';
    const problem = dns1123SubdomainProblem(prefix);
    if (problem) return `prefix part ${problem}`;
  }
  if (name.length === 0) return 'name part must not be empty';
  if (name.length > 63) return 'name part must be no more than 63 characters';
  if (!QUALIFIED_NAME_PART.test(name))
    return 'name part must consist of letters, digits, "-", "_" or ".", and start and end with a letter or digit';
  return undefined;
}

export function labelValueProblem(value: string): string | undefined {
  if (value.length > 63) return 'must be no more than 63 characters';
  if (!LABEL_VALUE.test(value))
    return 'must be empty or consist of letters, digits, "-", "_" or ".", and start and end with a letter or digit';
  return undefined;
}

/** A map of labels (metadata.labels or matchLabels). */
export function readLabels(value: unknown, path: string, sink: IssueSink): Labels {
  const map = readMap(value, path, sink);
  const labels: Record<string, string> = {};
  if (!map) return labels;
  for (const [key, raw] of Object.entries(map)) {
    const keyPath = join(path, key);
    const keyProblem = labelKeyProblem(key);
    if (keyProblem) sink.add(keyPath, `invalid label key "${key}": ${keyProblem}`);
    // A null value decodes as "" (the zero value), a valid label value.
    const text = raw === null ? '' : readString(raw, keyPath, sink);
    if (text === undefined) continue;
    const valueProblem = labelValueProblem(text);
    if (valueProblem) sink.add(keyPath, `invalid label value "${text}": ${valueProblem}`);
    if (!keyProblem && !valueProblem) labels[key] = text;
  }
  return labels;
}

function isOperator(value: string): value is SelectorOperator {
  return (SELECTOR_OPERATORS as readonly string[]).includes(value);
}

/** metav1.LabelSelector with ValidateLabelSelector's rules. */
export function readSelector(value: unknown, path: string, sink: IssueSink): LabelSelector {
  const map = readMap(value, path, sink);
  if (!map) return { matchLabels: {}, matchExpressions: [] };
  checkKeys(map, ['matchLabels', 'matchExpressions'], path, sink);
  const matchLabels = readLabels(map.matchLabels, join(path, 'matchLabels'), sink);
  const matchExpressions: LabelSelectorRequirement[] = [];
  const expressionsPath = join(path, 'matchExpressions');
  const expressions = readList(map.matchExpressions, expressionsPath, sink) ?? [];
  expressions.forEach((rawExpression, i) => {
    const exprPath = join(expressionsPath, i);
    const expr = readMap(rawExpression, exprPath, sink);
    if (!expr) {
      if (rawExpression === null) sink.add(exprPath, 'expected a map, got nothing (null)');
      return;
    }
    checkKeys(expr, ['key', 'operator', 'values'], exprPath, sink);
    const key = readString(expr.key, join(exprPath, 'key'), sink);
    const operator = readString(expr.operator, join(exprPath, 'operator'), sink);
    const valuesPath = join(exprPath, 'values');
    const rawValues = readList(expr.values, valuesPath, sink) ?? [];
    const values: string[] = [];
    rawValues.forEach((v, j) => {
      const text = v === null ? '' : readString(v, join(valuesPath, j), sink);
      if (text === undefined) return;
      const problem = labelValueProblem(text);
      if (problem) sink.add(join(valuesPath, j), `invalid label value "${text}": ${problem}`);
      values.push(text);
    });
    let ok = true;
    if (key === undefined) {
      if (expr.key === undefined || expr.key === null) sink.add(join(exprPath, 'key'), 'required');
      ok = false;
    } else {
      const problem = labelKeyProblem(key);
      if (problem) {
        sink.add(join(exprPath, 'key'), `invalid label key "${key}": ${problem}`);
        ok = false;
      }
    }
    if (operator === undefined) {
      if (expr.operator === undefined || expr.operator === null)
        sink.add(join(exprPath, 'operator'), 'required: one of In, NotIn, Exists, DoesNotExist');
      return;
    }
    if (!isOperator(operator)) {
      sink.add(
        join(exprPath, 'operator'),
        `"${operator}" is not a valid selector operator: expected one of In, NotIn, Exists, DoesNotExist`,
      );
      return;
    }
    if ((operator === 'In' || operator === 'NotIn') && values.length === 0) {
      sink.add(valuesPath, `must be specified (non-empty) when operator is ${operator}`);
      ok = false;
    }
    if ((operator === 'Exists' || operator === 'DoesNotExist') && rawValues.length > 0) {
      sink.add(valuesPath, `may not be specified when operator is ${operator}`);
      ok = false;
    }
    if (ok && key !== undefined) matchExpressions.push({ key, operator, values });
  });
  return { matchLabels, matchExpressions };
}

function readProtocol(value: unknown, path: string, sink: IssueSink): Protocol {
  if (value === undefined || value === null) return 'TCP';
  const text = readString(value, path, sink);
  if (text === undefined) return 'TCP';
  if (isProtocol(text)) return text;
  const upper = text.toUpperCase();
  const hint = isProtocol(upper) ? `; did you mean "${upper}"? (protocols are case-sensitive)` : '';
  sink.add(path, `unsupported protocol "${text}": expected one of ${PROTOCOLS.join(', ')}${hint}`);
  return 'TCP';
}

function portNumberProblem(port: number): string | undefined {
  return port < 1 || port > 65535
    ? `must be between 1 and 65535, inclusive (got ${port})`
    : undefined;
}

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

/** metadata.name (required, DNS-1123 subdomain) and metadata.namespace (DNS-1123 label). */
export function readObjectMeta(
  value: unknown,
  sink: IssueSink,
  defaultNamespace: string,
  options: { namespaced?: boolean } = {},
): { name?: string; namespace: string; labels: Labels } {
  const meta = readMap(value, 'metadata', sink);
  if (!meta) {
    sink.add('metadata', 'required: the object needs metadata.name');
    return { namespace: defaultNamespace, labels: {} };
  }
  const name = readString(meta.name, 'metadata.name', sink);
  if (name === undefined) {
    if (meta.name === undefined || meta.name === null)
      sink.add(
        'metadata.name',
        meta.generateName !== undefined
          ? 'required: generateName is not supported, give the object a name'
          : 'required',
      );
  } else {
    const problem = dns1123SubdomainProblem(name);
    if (problem) sink.add('metadata.name', `invalid name "${name}": ${problem}`);
  }
  let namespace = defaultNamespace;
  if (options.namespaced !== false) {
    const ns = readString(meta.namespace, 'metadata.namespace', sink);
    if (ns !== undefined) {
      const problem = dns1123LabelProblem(ns);
      if (problem) sink.add('metadata.namespace', `invalid namespace "${ns}": ${problem}`);
      namespace = ns;
    }
  }
  const labels = readLabels(meta.labels, 'metadata.labels', sink);
  return { ...(name !== undefined ? { name } : {}), namespace, labels };
}

/**
 * containers[].ports of a pod spec (or pod template spec), validated as the API server does
 * (validateContainerPorts, after SetDefaults_ContainerPort turns an empty protocol into TCP).
 * Ports of init containers are validated too, but only restartable (sidecar) init containers keep
 * serving, so only theirs are returned.
 */
export function readContainerPorts(spec: RawMap, path: string, sink: IssueSink): ContainerPort[] {
  const ports: ContainerPort[] = [];
  for (const group of ['initContainers', 'containers'] as const) {
    const groupPath = join(path, group);
    (readList(spec[group], groupPath, sink) ?? []).forEach((rawContainer, i) => {
      const containerPath = join(groupPath, i);
      const container = readMap(rawContainer, containerPath, sink);
      if (!container) return;
      const serving = group === 'containers' || container.restartPolicy === 'Always';
      const names = new Set<string>();
      const portsPath = join(containerPath, 'ports');
      (readList(container.ports, portsPath, sink) ?? []).forEach((rawPort, j) => {
        const portPath = join(portsPath, j);
        const port = readMap(rawPort, portPath, sink);
        if (!port) return;
        const containerPort = readInteger(
          port.containerPort,
          join(portPath, 'containerPort'),
          sink,
        );
        if (containerPort === undefined) {
          if (port.containerPort === undefined)
            sink.add(join(portPath, 'containerPort'), 'required');
          return;
        }
        const problem = portNumberProblem(containerPort);
        if (problem) {
          sink.add(join(portPath, 'containerPort'), problem);
          return;
        }
        const protocol =
          port.protocol === ''
            ? 'TCP'
            : readProtocol(port.protocol, join(portPath, 'protocol'), sink);
        const rawName = readString(port.name, join(portPath, 'name'), sink);
        const name = rawName === '' ? undefined : rawName;
        if (name !== undefined) {
          const problems = portNameProblems(name);
          if (problems.length > 0) {
            sink.add(join(portPath, 'name'), `invalid port name "${name}": ${problems.join('; ')}`);
            return;
          }
          if (names.has(name)) {
            sink.add(join(portPath, 'name'), `duplicate port name "${name}" in this container`);
            return;
          }
          names.add(name);
        }
        if (serving)
          ports.push({ containerPort, protocol, ...(name !== undefined ? { name } : {}) });
      });
    });
  }
  return ports;
}

/** status.podIPs / status.podIP: valid IP addresses, primary first. */
export function readPodIps(status: RawMap | undefined, sink: IssueSink): string[] {
  if (!status) return [];
  const ips: string[] = [];
  const add = (text: string | undefined, path: string): void => {
    if (text === undefined || text === '' || ips.includes(text)) return;
    if (!parseIp(text)) sink.add(path, `"${text}" is not a valid IP address`);
    else ips.push(text);
  };
  add(readString(status.podIP, 'status.podIP', sink), 'status.podIP');
  (readList(status.podIPs, 'status.podIPs', sink) ?? []).forEach((raw, i) => {
    const entry = readMap(raw, join('status.podIPs', i), sink);
    if (entry)
      add(
        readString(entry.ip, join(join('status.podIPs', i), 'ip'), sink),
        join(join('status.podIPs', i), 'ip'),
      );
  });
  return ips;
}
