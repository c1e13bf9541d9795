import { formatProbe, type ProbePort } from '../domain/probe.js';
import { cidrContains, parseCidr, type Cidr } from './cidr.js';
import {
  ipBlockAddress,
  isOpen,
  policyPortMatches,
  type Direction,
  type Endpoint,
  type NetworkModel,
  type SideDecision,
  type Unresolved,
  type Verdict,
} from './engine.js';
import { formatSelector, matchesSelector, selectorMismatches } from './selector.js';
import type { Labels, NetworkPolicyInfo, PolicyPeer, PolicyPort, PolicyRule } from './types.js';

/** One check in a walkthrough: what was tested and whether it held. */
export interface Check {
  readonly ok: boolean;
  readonly text: string;
}

export interface RuleWalk {
  /** e.g. `spec.ingress[0]` */
  readonly path: string;
  readonly peers: readonly Check[];
  readonly ports: readonly Check[];
  readonly peerMatched: boolean;
  readonly portMatched: boolean;
  readonly admits: boolean;
}

export interface PolicyWalk {
  readonly policy: string;
  /** Whether the policy's podSelector selects the subject pod. */
  readonly selects: Check;
  /** Whether the policy's policyTypes include this direction. */
  readonly covers: Check;
  readonly rules: readonly RuleWalk[];
}

export interface SideWalk {
  readonly direction: Direction;
  /** The pod whose policies are consulted: the source for egress, the destination for ingress. */
  readonly subject: string;
  readonly peer: string;
  /** Why no policy applies, when none can (external peer, hostNetwork pod). */
  readonly note?: string;
  /** Every policy of the subject's namespace, selecting it or not. */
  readonly policies: readonly PolicyWalk[];
  readonly decision: SideDecision;
  readonly allowed: boolean;
}

export interface FlowExplanation {
  readonly from: string;
  readonly to: string;
  readonly probe: ProbePort;
  readonly result: Verdict | Unresolved;
  readonly self?: string;
  readonly sides: readonly [SideWalk, SideWalk] | readonly [];
}

function describeEndpoint(e: Endpoint): string {
  return e.key;
}

function selectorCheck(
  what: string,
  selector: PolicyPeer['podSelector'],
  labels: Labels,
  subject: string,
): Check {
  if (!selector) return { ok: true, text: `${what}: absent` };
  const ok = matchesSelector(selector, labels);
  const why = ok ? 'matches' : selectorMismatches(selector, labels).join('; ');
  return {
    ok,
    text: `${what} ${formatSelector(selector)}: ${subject} ${ok ? why : `does not match (${why})`}`,
  };
}

function peerCheck(
  model: NetworkModel,
  peer: PolicyPeer,
  label: string,
  policy: NetworkPolicyInfo,
  other: Endpoint,
  destination: Endpoint,
): Check {
  const matched = (ok: boolean, text: string): Check => ({ ok, text: `${label} ${text}` });
  if (peer.ipBlock) {
    const block = `ipBlock ${peer.ipBlock.cidr}${peer.ipBlock.except.length > 0 ? ` except ${peer.ipBlock.except.join(', ')}` : ''}`;
    if (model.subjectToPolicy(other) && !model.options.ipBlockMatchesPods)
      return matched(
        false,
        `${block}: pods are not matched by ipBlock (ipBlockMatchesPods: false)`,
      );
    const address = ipBlockAddress(other, destination);
    if (!address)
      return matched(
        false,
        `${block}: ${other.key} has no ${destination.addresses[0] ? `IPv${destination.addresses[0].family} ` : ''}address`,
      );
    const cidr = parseCidr(peer.ipBlock.cidr) as Cidr;
    if (!cidrContains(cidr, address))
      return matched(false, `${block}: ${address.text} is outside ${peer.ipBlock.cidr}`);
    const excluded = peer.ipBlock.except.find((x) => {
      const c = parseCidr(x);
      return c !== undefined && cidrContains(c, address);
    });
    if (excluded)
      return matched(false, `${block}: ${address.text} is in the exception ${excluded}`);
    return matched(true, `${block}: ${address.text} is inside`);
  }
  if (other.kind !== 'pod')
    return matched(false, `${describePeer(peer)}: ${describeEndpoint(other)} is not a pod`);
  if (!model.subjectToPolicy(other))
    return matched(
      false,
      `${describePeer(peer)}: ${other.key} uses the host network; only ipBlock can match its traffic`,
    );
  const checks: Check[] = [];
  if (peer.namespaceSelector)
    checks.push(
      selectorCheck(
        'namespaceSelector',
        peer.namespaceSelector,
        other.namespaceLabels,
        `namespace ${other.namespace}`,
      ),
    );
  else
    checks.push({
      ok: other.namespace === policy.namespace,
      text:
        other.namespace === policy.namespace
          ? `${other.key} is in the policy's namespace ${policy.namespace}`
          : `${other.key} is not in the policy's namespace ${policy.namespace} (no namespaceSelector)`,
    });
  if (peer.podSelector)
    checks.push(selectorCheck('podSelector', peer.podSelector, other.pod.labels, other.key));
  const ok = checks.every((c) => c.ok);
  return matched(ok, checks.map((c) => c.text).join(' AND '));
}

function describePeer(peer: PolicyPeer): string {
  const parts: string[] = [];
  if (peer.namespaceSelector)
    parts.push(`namespaceSelector ${formatSelector(peer.namespaceSelector)}`);
  if (peer.podSelector) parts.push(`podSelector ${formatSelector(peer.podSelector)}`);
  return parts.join(' AND ');
}

function portText(p: PolicyPort): string {
  if (p.port === undefined) return `${p.protocol} (every port)`;
  if (p.endPort !== undefined) return `${p.protocol} ${p.port}-${p.endPort}`;
  return `${p.protocol} ${p.port}`;
}

function portChecks(
  rule: PolicyRule,
  destination: Endpoint,
  probe: ProbePort,
  port: number,
): Check[] {
  if (rule.ports === null) return [{ ok: true, text: 'no ports listed: every port and protocol' }];
  return rule.ports.map((p, i) => {
    const ok = policyPortMatches(p, destination, probe.protocol, port);
    let why: string;
    if (p.protocol !== probe.protocol) why = `protocol ${p.protocol}, probe is ${probe.protocol}`;
    else if (typeof p.port === 'string') {
      const declared =
        destination.kind === 'pod'
          ? destination.pod.ports.find((c) => c.name === p.port && c.protocol === p.protocol)
          : undefined;
      why = declared
        ? `${destination.key} serves ${p.port}/${p.protocol} on ${declared.containerPort}${ok ? '' : `, not ${port}`}`
        : `${destination.key} declares no ${p.protocol} port named ${p.port}`;
    } else why = ok ? `${port} is covered` : `${port} is not covered`;
    return { ok, text: `ports[${i}] ${portText(p)}: ${why}` };
  });
}

function walkSide(
  model: NetworkModel,
  direction: Direction,
  subject: Endpoint,
  peer: Endpoint,
  destination: Endpoint,
  probe: ProbePort,
  port: number,
  decision: SideDecision,
): SideWalk {
  const base = {
    direction,
    subject: describeEndpoint(subject),
    peer: describeEndpoint(peer),
    decision,
    allowed: isOpen(decision),
  };
  if (decision.kind === 'own-node')
    return {
      ...base,
      note: `traffic between a pod and the node it runs on (${decision.node}) is always allowed, whatever the policies say`,
      policies: [],
    };
  if (subject.kind === 'external')
    return {
      ...base,
      note: `${describeEndpoint(subject)} is outside the cluster: no NetworkPolicy applies to it`,
      policies: [],
    };
  if (!model.subjectToPolicy(subject))
    return {
      ...base,
      note: `${subject.key} uses the host network: NetworkPolicies do not select it (hostNetwork: node)`,
      policies: [],
    };
  const type = direction === 'ingress' ? 'Ingress' : 'Egress';
  const peersKey = direction === 'ingress' ? 'from' : 'to';
  const policies = model.world.policies
    .filter((p) => p.namespace === subject.namespace)
    .map((policy): PolicyWalk => {
      const selects = selectorCheck(
        'podSelector',
        policy.podSelector,
        subject.pod.labels,
        subject.key,
      );
      const coversDirection = policy.policyTypes.includes(type);
      const defaulted = policy.policyTypesDefaulted
        ? policy.policyTypes.includes('Egress')
          ? ' (defaulted: Ingress, plus Egress because the policy has egress rules)'
          : ' (defaulted: Ingress; no egress rules, so not Egress)'
        : '';
      const covers: Check = {
        ok: coversDirection,
        text: `policyTypes [${policy.policyTypes.join(', ')}]${defaulted} ${coversDirection ? 'include' : 'do not include'} ${type}`,
      };
      const rules =
        selects.ok && coversDirection
          ? policy[direction].map((rule, index): RuleWalk => {
              const peers: Check[] =
                rule.peers === null
                  ? [
                      {
                        ok: true,
                        text: `no ${peersKey} peers listed: every ${direction === 'ingress' ? 'source' : 'destination'}`,
                      },
                    ]
                  : rule.peers.map((p, j) =>
                      peerCheck(model, p, `${peersKey}[${j}]`, policy, peer, destination),
                    );
              const ports = portChecks(rule, destination, probe, port);
              const peerMatched = peers.some((c) => c.ok);
              const portMatched = ports.some((c) => c.ok);
              return {
                path: `spec.${direction}[${index}]`,
                peers,
                ports,
                peerMatched,
                portMatched,
                admits: peerMatched && portMatched,
              };
            })
          : [];
      return { policy: `${policy.namespace}/${policy.name}`, selects, covers, rules };
    });
  return { ...base, policies };
}

/** The walkthrough of one flow: egress on the source, then ingress on the destination. */
export function explainFlow(
  model: NetworkModel,
  fromKey: string,
  toKey: string,
  probe: ProbePort,
): FlowExplanation {
  const result = model.verdict(fromKey, toKey, probe);
  const from = model.endpoint(fromKey);
  const to = model.endpoint(toKey);
  if (!from || !to || !('verdict' in result))
    return { from: fromKey, to: toKey, probe, result, sides: [] };
  const egress = walkSide(model, 'egress', from, to, to, probe, result.port, result.egress);
  const ingress = walkSide(model, 'ingress', to, from, to, probe, result.port, result.ingress);
  return {
    from: describeEndpoint(from),
    to: describeEndpoint(to),
    probe,
    result,
    ...(result.self
      ? {
          self: `${from.key} connects to itself: the traffic stays on its loopback and is allowed whatever the policies say (selfTraffic: allow)`,
        }
      : {}),
    sides: [egress, ingress],
  };
}

export function probeLabel(probe: ProbePort, port: number | undefined): string {
  return typeof probe.port === 'string' && port !== undefined
    ? `${formatProbe(probe)} (port ${port})`
    : formatProbe(probe);
}
