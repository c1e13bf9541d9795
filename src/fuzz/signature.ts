/**
 * The signature of a minimal case: which rule shapes, which direction, which cells. Cases of one
 * deviation shrink to the same few shapes, so grouping minimal cases by signature turns a
 * thousand differing cells into a handful of deviations. Values (labels, numbers, CIDRs) are left
 * out on purpose: only the kinds of things that decide are kept.
 */
import type { Scenario } from '../dsl/types.js';
import { matchesSelector } from '../model/selector.js';
import type {
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

/** How a cell's endpoint relates to the policies: selected by one, or not. */
function role(key: string, scenario: Scenario): string {
  if (key.startsWith('ext:')) return 'an external host';
  const slash = key.indexOf('/');
  const ns = key.slice(0, slash);
  const name = key.slice(slash + 1);
  const pod = scenario.initial.pods.find((p) => p.namespace === ns && p.name === name);
  const selected =
    pod !== undefined &&
    scenario.policies.some(
      (p) => p.info.namespace === ns && matchesSelector(p.info.podSelector, pod.labels),
    );
  return selected ? 'a selected pod' : 'a pod no policy selects';
}

export interface Signature {
  /** Stable text: equal for cases of the same shape. */
  readonly id: string;
}

export function caseSignature(scenario: Scenario, target: DifferingCell): Signature {
  const world = scenario.steps[0]?.world ?? scenario.initial;
  const shapes = scenario.policies.map((p) => policyShape(p.info, world)).sort();
  const self = target.from === target.to ? ' (itself)' : '';
  return {
    id: `the spec ${target.modelled === 'allow' ? 'allows' : 'denies'}, the cluster ${target.observed === 'allow' ? 'allows' : 'denies'}: ${role(target.from, scenario)} to ${role(target.to, scenario)}${self}; ${String(shapes.length)} ${shapes.length === 1 ? 'policy' : 'policies'}: ${shapes.join(' ')}`,
  };
}
