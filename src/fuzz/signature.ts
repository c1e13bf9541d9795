/**
 * The signature of a minimal case: which rule shapes, which direction, which cells. Cases of one
 * deviation shrink to the same few shapes, so grouping minimal cases by signature turns a
 * thousand differing cells into a handful of deviations. Values (labels, numbers, CIDRs) are left
 * out on purpose: only the kinds of things that decide are kept. Cluster policies are described
 * in the order they are evaluated (tier, then priority), their rules in order, with each rule's
 * action: there the order decides.
 */
import type { Scenario } from '../dsl/types.js';
import { matchesSelector } from '../model/selector.js';
import type {
  ClusterPolicyInfo,
  ClusterPort,
  ClusterRule,
  Labels,
  NetworkPolicyInfo,
  PolicyPeer,
  PolicyPort,
  PolicyRule,
  World,
} from '../model/types.js';
import type { DifferingCell } from './oracle.js';

function peerKind(peer: PolicyPeer): string {
  if (peer.ipBlock !== undefined)
    return peer.ipBlock.except.length > 0 ? 'ipBlock with except' : 'ipBlock';
  if (peer.namespaceSelector !== undefined && peer.podSelector !== undefined)
    return 'namespaceSelector AND podSelector';
  if (peer.namespaceSelector !== undefined) return 'namespaceSelector';
  return 'podSelector';
}

function portKind(port: PolicyPort, world: World): string {
  if (port.port === undefined) return `${port.protocol} (every port)`;
  if (typeof port.port === 'number')
    return port.endPort === undefined ? `number/${port.protocol}` : `range/${port.protocol}`;
  const name = port.port;
  const serving = world.pods.filter((p) =>
    p.ports.some((c) => c.name === name && c.protocol === port.protocol),
  ).length;
  const on = serving === 0 ? 'none' : serving === world.pods.length ? 'every pod' : 'some pods';
  return `named/${port.protocol} (resolves on ${on})`;
}

function ruleShape(rule: PolicyRule, world: World): string {
  if (rule.peers === null && rule.ports === null) return 'allow-all {}';
  const peers =
    rule.peers === null ? 'any peer' : [...new Set(rule.peers.map(peerKind))].sort().join(' OR ');
  const ports =
    rule.ports === null
      ? 'any port'
      : [...new Set(rule.ports.map((p) => portKind(p, world)))].sort().join(', ');
  return `${rule.peers !== null && rule.peers.length > 1 ? `${String(rule.peers.length)} peers: ` : ''}${peers} on ${ports}`;
}

function policyShape(policy: NetworkPolicyInfo, world: World): string {
  const parts = [`policyTypes ${policy.policyTypes.join('+')}`];
  for (const [dir, rules] of [
    ['ingress', policy.ingress],
    ['egress', policy.egress],
  ] as const) {
    const type = dir === 'ingress' ? 'Ingress' : 'Egress';
    if (!policy.policyTypes.includes(type) && rules.length === 0) continue;
    parts.push(
      `${dir}: ${rules.length === 0 ? 'no rule' : [...new Set(rules.map((r) => ruleShape(r, world)))].sort().join('; ')}`,
    );
  }
  return `[${parts.join('; ')}]`;
}

function clusterPortKind(port: ClusterPort, world: World): string {
  if ('namedPort' in port) {
    const serving = world.pods.filter((p) => p.ports.some((c) => c.name === port.namedPort)).length;
    const on = serving === 0 ? 'none' : serving === world.pods.length ? 'every pod' : 'some pods';
    return `named (resolves on ${on})`;
  }
  if (port.port === undefined) return `${port.protocol} (every port)`;
  return port.endPort === undefined ? `number/${port.protocol}` : `range/${port.protocol}`;
}

function clusterRuleShape(rule: ClusterRule, world: World): string {
  const peers = [...new Set(rule.peers.map((p) => p.kind))].sort().join(' OR ');
  const ports =
    rule.ports === null
      ? 'any port'
      : [...new Set(rule.ports.map((p) => clusterPortKind(p, world)))].sort().join(', ');
  return `${rule.action} ${rule.peers.length > 1 ? `${String(rule.peers.length)} peers: ` : ''}${peers} on ${ports}`;
}

function clusterPolicyShape(policy: ClusterPolicyInfo, world: World): string {
  const parts = [
    `${policy.tier} tier`,
    `subject ${'namespaces' in policy.subject ? 'namespaces' : 'pods'}`,
  ];
  for (const dir of ['ingress', 'egress'] as const)
    if (policy[dir].length > 0)
      parts.push(`${dir}: ${policy[dir].map((r) => clusterRuleShape(r, world)).join(', then ')}`);
  return `[${parts.join('; ')}]`;
}

/** Evaluation order: Admin before Baseline, then by priority; the shape breaks ties. */
function clusterShapes(policies: readonly ClusterPolicyInfo[], world: World): string[] {
  return policies
    .map((p) => ({ p, shape: clusterPolicyShape(p, world) }))
    .sort(
      (a, b) =>
        (a.p.tier === b.p.tier ? 0 : a.p.tier === 'Admin' ? -1 : 1) ||
        (a.p.priority ?? 0) - (b.p.priority ?? 0) ||
        (a.shape < b.shape ? -1 : a.shape > b.shape ? 1 : 0),
    )
    .map((x) => x.shape);
}

function subjectSelects(
  policy: ClusterPolicyInfo,
  namespaceLabels: Labels,
  podLabels: Labels,
): boolean {
  if ('namespaces' in policy.subject)
    return matchesSelector(policy.subject.namespaces, namespaceLabels);
  return (
    matchesSelector(policy.subject.pods.namespaceSelector, namespaceLabels) &&
    matchesSelector(policy.subject.pods.podSelector, podLabels)
  );
}

/**
 * How a cell's endpoint relates to the policies: selected by a NetworkPolicy, a cluster policy's
 * subject, both, or neither.
 */
function role(key: string, scenario: Scenario, world: World): string {
  if (key.startsWith('ext:')) return 'an external host';
  const slash = key.indexOf('/');
  const ns = key.slice(0, slash);
  const name = key.slice(slash + 1);
  const pod = scenario.initial.pods.find((p) => p.namespace === ns && p.name === name);
  if (pod === undefined) return 'a pod no policy selects';
  const selected = scenario.policies.some(
    (p) => p.info.namespace === ns && matchesSelector(p.info.podSelector, pod.labels),
  );
  const namespaceLabels = world.namespaces.find((n) => n.name === ns)?.labels ?? {};
  const subject = (world.clusterPolicies ?? []).some((p) =>
    subjectSelects(p, namespaceLabels, pod.labels),
  );
  if (selected && subject) return 'a selected pod and cluster policy subject';
  if (subject) return 'a cluster policy subject';
  return selected ? 'a selected pod' : 'a pod no policy selects';
}

export interface Signature {
  /** Stable text: equal for cases of the same shape. */
  readonly id: string;
}

export function caseSignature(scenario: Scenario, target: DifferingCell): Signature {
  const world = scenario.steps[0]?.world ?? scenario.initial;
  const shapes = scenario.policies.map((p) => policyShape(p.info, world)).sort();
  const cluster = clusterShapes(world.clusterPolicies ?? [], world);
  const self = target.from === target.to ? ' (itself)' : '';
  const parts = [
    ...(shapes.length > 0 || cluster.length === 0
      ? [
          `${String(shapes.length)} ${shapes.length === 1 ? 'policy' : 'policies'}: ${shapes.join(' ')}`,
        ]
      : []),
    ...(cluster.length > 0
      ? [
          `${String(cluster.length)} ${cluster.length === 1 ? 'cluster policy' : 'cluster policies'}: ${cluster.join(' ')}`,
        ]
      : []),
  ];
  return {
    id: `the spec ${target.modelled === 'allow' ? 'allows' : 'denies'}, the cluster ${target.observed === 'allow' ? 'allows' : 'denies'}: ${role(target.from, scenario, world)} to ${role(target.to, scenario, world)}${self}; ${parts.join('; ')}`,
  };
}
