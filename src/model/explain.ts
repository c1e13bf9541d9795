import { familyName } from '../domain/job.js';
import { formatProbe, type ProbePort } from '../domain/probe.js';
import { cidrContains, parseCidr, type Cidr } from './cidr.js';
import { actionWord, clusterPolicyKey } from './cluster-validate.js';
import {
  clusterPortMatches,
  formatRuleRef,
  ipBlockAddress,
  isOpen,
  policyPortMatches,
  tierOrder,
  type Direction,
  type Endpoint,
  type NetworkModel,
  type SideDecision,
  type Unresolved,
  type Verdict,
} from './engine.js';
import { formatSelector, matchesSelector, selectorMismatches } from './selector.js';
import type {
  ClusterPeer,
  ClusterPolicyInfo,
  ClusterPort,
  ClusterRule,
  ClusterTier,
  Labels,
  NetworkPolicyInfo,
  PolicyPeer,
  PolicyPort,
  PolicyRule,
} from './types.js';

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

/** One rule of a cluster policy, checked against the flow. */
export interface ClusterRuleWalk {
  /** e.g. `spec.egress[0]` */
  readonly path: string;
  readonly name?: string;
  /** As the policy's API spells it; a Deny or Pass rule with a peer with no field: Deny. */
  readonly action: string;
  readonly peers: readonly Check[];
  readonly ports: readonly Check[];
  readonly matches: boolean;
}

export interface ClusterPolicyWalk {
  readonly policy: string;
  readonly priority?: number;
  /** Whether the subject selects the pod. */
  readonly selects: Check;
  /** The rules for this direction, up to the one that decided (later ones are not evaluated). */
  readonly rules: readonly ClusterRuleWalk[];
  /** False when an earlier rule or policy decided: this one was not evaluated. */
  readonly evaluated: boolean;
}

/** One tier of a walkthrough, in evaluation order. */
export interface TierWalk {
  readonly tier: ClusterTier | 'NetworkPolicy';
  /** Admin and Baseline: the cluster policies of the tier with rules for this direction. */
  readonly policies: readonly ClusterPolicyWalk[];
  /** What the tier did: decided (and how), passed the flow on, or was not reached. */
  readonly outcome: string;
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
  /**
   * With cluster policies in the world: the tiers in order (Admin, NetworkPolicy, Baseline), and
   * the rule that decided (`Kind/name spec.x[i]`) as this walk finds it, independently of the
   * verdict.
   */
  readonly tiers?: readonly TierWalk[];
  readonly decidedBy?: string;
  readonly decision: SideDecision;
  readonly allowed: boolean;
}

export interface FlowExplanation {
  readonly from: string;
  readonly to: string;
  readonly probe: ProbePort;
  /** The IP family of the flow, when one was asked for. */
  readonly family?: 4 | 6;
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
  family: 4 | 6 | undefined,
): Check {
  const matched = (ok: boolean, text: string): Check => ({ ok, text: `${label} ${text}` });
  if (peer.ipBlock) {
    const block = `ipBlock ${peer.ipBlock.cidr}${peer.ipBlock.except.length > 0 ? ` except ${peer.ipBlock.except.join(', ')}` : ''}`;
    if (model.subjectToPolicy(other) && !model.options.ipBlockMatchesPods)
      return matched(
        false,
        `${block}: pods are not matched by ipBlock (ipBlockMatchesPods: false)`,
      );
    const address = ipBlockAddress(other, destination, family);
    const flow = family ?? destination.addresses[0]?.family;
    if (!address)
      return matched(
        false,
        `${block}: ${other.key} has no ${flow !== undefined ? `${familyName(flow)} ` : ''}address`,
      );
    // A flow of a chosen family names it: the address of that family decides.
    const text =
      family === undefined
        ? address.text
        : `${other.key}'s ${familyName(family)} address ${address.text}`;
    const cidr = parseCidr(peer.ipBlock.cidr) as Cidr;
    if (!cidrContains(cidr, address))
      return matched(
        false,
        `${block}: ${text} is ${family === undefined ? 'outside' : 'not in'} ${peer.ipBlock.cidr}`,
      );
    const excluded = peer.ipBlock.except.find((x) => {
      const c = parseCidr(x);
      return c !== undefined && cidrContains(c, address);
    });
    if (excluded) return matched(false, `${block}: ${text} is in the exception ${excluded}`);
    return matched(true, `${block}: ${text} is inside`);
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
  family: 4 | 6 | undefined,
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
                      peerCheck(model, p, `${peersKey}[${j}]`, policy, peer, destination, family),
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
  // Cluster policies do not apply to a pod connecting to its own IP.
  if ((model.world.clusterPolicies ?? []).length === 0 || subject.index === peer.index)
    return { ...base, policies };
  const walked = walkTiers(
    model,
    direction,
    subject,
    peer,
    destination,
    probe,
    port,
    policies,
    family,
  );
  return {
    ...base,
    // The NetworkPolicy tier's rules are evaluated only when the Admin tier did not decide.
    policies: walked.networkPolicyReached ? policies : policies.map((p) => ({ ...p, rules: [] })),
    tiers: walked.tiers,
    ...(walked.decidedBy !== undefined ? { decidedBy: walked.decidedBy } : {}),
  };
}

function clusterPeerCheck(
  model: NetworkModel,
  peer: ClusterPeer,
  label: string,
  other: Endpoint,
  family: 4 | 6 | undefined,
): Check {
  const matched = (ok: boolean, text: string): Check => ({ ok, text: `${label} ${text}` });
  switch (peer.kind) {
    case 'none':
      return matched(false, 'has no field: it matches nothing (fail closed)');
    case 'domainNames':
      return matched(
        false,
        `domainNames ${peer.names.join(', ')}: the model cannot resolve domain names, so this peer matches nothing`,
      );
    case 'networks': {
      const address =
        family === undefined
          ? other.addresses[0]
          : other.addresses.find((a) => a.family === family);
      if (!address)
        return matched(
          false,
          `networks ${peer.cidrs.join(', ')}: ${other.key} has no ${family === undefined ? '' : `${familyName(family)} `}address`,
        );
      const inside = peer.cidrs.find((c) => {
        const cidr = parseCidr(c);
        return cidr !== undefined && cidrContains(cidr, address);
      });
      return matched(
        inside !== undefined,
        `networks ${peer.cidrs.join(', ')}: ${address.text} is ${inside !== undefined ? `inside ${inside}` : 'outside them'}`,
      );
    }
    case 'nodes': {
      const what = `nodes ${formatSelector(peer.selector)}`;
      let node: Endpoint | undefined;
      if (other.kind === 'external' && other.external.node === true) node = other;
      else if (
        other.kind === 'pod' &&
        other.pod.hostNetwork &&
        model.options.hostNetwork === 'node' &&
        other.pod.nodeName !== undefined
      )
        node = model.endpoints.find(
          (e) => e.kind === 'external' && e.external.node === true && e.name === other.pod.nodeName,
        );
      if (!node || node.kind !== 'external')
        return matched(
          false,
          `${what}: ${other.key} is not a node (nor a hostNetwork pod on a known node)`,
        );
      const check = selectorCheck(
        what,
        peer.selector,
        node.external.labels ?? {},
        `node ${node.name}`,
      );
      return { ok: check.ok, text: `${label} ${check.text}` };
    }
    case 'namespaces':
    case 'pods': {
      if (other.kind !== 'pod') return matched(false, `${peer.kind}: ${other.key} is not a pod`);
      if (!model.subjectToPolicy(other))
        return matched(
          false,
          `${peer.kind}: ${other.key} uses the host network; namespaces and pods peers do not match it`,
        );
      const nsSelector = peer.kind === 'namespaces' ? peer.selector : peer.pods.namespaceSelector;
      const checks = [
        selectorCheck(
          peer.kind === 'namespaces' ? 'namespaces' : 'pods.namespaceSelector',
          nsSelector,
          other.namespaceLabels,
          `namespace ${other.namespace}`,
        ),
      ];
      if (peer.kind === 'pods')
        checks.push(
          selectorCheck('pods.podSelector', peer.pods.podSelector, other.pod.labels, other.key),
        );
      return matched(
        checks.every((c) => c.ok),
        checks.map((c) => c.text).join(' AND '),
      );
    }
  }
}

function clusterPortText(p: ClusterPort): string {
  if ('namedPort' in p) return `named port ${p.namedPort}`;
  return portText(p);
}

function clusterPortChecks(
  ports: readonly ClusterPort[] | null,
  destination: Endpoint,
  probe: ProbePort,
  port: number,
): Check[] {
  if (ports === null) return [{ ok: true, text: 'no ports listed: every port and protocol' }];
  return ports.map((p, i) => {
    const ok = clusterPortMatches(p, destination, probe.protocol, port);
    let why: string;
    if ('namedPort' in p) {
      const declared =
        destination.kind === 'pod'
          ? destination.pod.ports.find(
              (c) => c.name === p.namedPort && c.protocol === probe.protocol,
            )
          : undefined;
      why = declared
        ? `${destination.key} serves ${p.namedPort}/${probe.protocol} on ${declared.containerPort}${ok ? '' : `, not ${port}`}`
        : `${destination.key} declares no ${probe.protocol} port named ${p.namedPort}`;
    } else if (p.protocol !== probe.protocol)
      why = `protocol ${p.protocol}, probe is ${probe.protocol}`;
    else why = ok ? `${port} is covered` : `${port} is not covered`;
    return { ok, text: `[${i}] ${clusterPortText(p)}: ${why}` };
  });
}

function subjectCheck(policy: ClusterPolicyInfo, subject: Endpoint & { kind: 'pod' }): Check {
  if ('namespaces' in policy.subject)
    return selectorCheck(
      'subject.namespaces',
      policy.subject.namespaces,
      subject.namespaceLabels,
      `namespace ${subject.namespace}`,
    );
  const ns = selectorCheck(
    'subject.pods.namespaceSelector',
    policy.subject.pods.namespaceSelector,
    subject.namespaceLabels,
    `namespace ${subject.namespace}`,
  );
  const pod = selectorCheck(
    'subject.pods.podSelector',
    policy.subject.pods.podSelector,
    subject.pod.labels,
    subject.key,
  );
  return { ok: ns.ok && pod.ok, text: `${ns.text} AND ${pod.text}` };
}

function walkClusterRule(
  model: NetworkModel,
  policy: ClusterPolicyInfo,
  rule: ClusterRule,
  index: number,
  direction: Direction,
  peer: Endpoint,
  destination: Endpoint,
  probe: ProbePort,
  port: number,
  family: 4 | 6 | undefined,
): ClusterRuleWalk {
  const path = `spec.${direction}[${index}]`;
  const named = rule.name !== undefined ? { name: rule.name } : {};
  const peersKey = direction === 'ingress' ? 'from' : 'to';
  if (rule.action !== 'Accept' && rule.peers.some((p) => p.kind === 'none'))
    return {
      path,
      ...named,
      action: actionWord(policy.kind, 'Deny'),
      peers: [
        {
          ok: true,
          text: `a ${peersKey} peer has no field: this ${actionWord(policy.kind, rule.action)} rule fails closed to "deny all"`,
        },
      ],
      ports: [{ ok: true, text: 'every port (deny all)' }],
      matches: true,
    };
  const portsKey = policy.kind === 'ClusterNetworkPolicy' ? 'protocols' : 'ports';
  const peers = rule.peers.map((p, j) =>
    clusterPeerCheck(model, p, `${peersKey}[${j}]`, peer, family),
  );
  const ports = clusterPortChecks(rule.ports, destination, probe, port).map((c) => ({
    ok: c.ok,
    text: c.text.startsWith('[') ? `${portsKey}${c.text}` : c.text,
  }));
  return {
    path,
    ...named,
    action: actionWord(policy.kind, rule.action),
    peers,
    ports,
    matches: peers.some((c) => c.ok) && ports.some((c) => c.ok),
  };
}

/**
 * The tiers for one side, in order: Admin cluster policies by priority (first matching rule
 * decides; Pass goes on to the NetworkPolicy tier), the NetworkPolicy tier (decides for the pods
 * it isolates), Baseline cluster policies, the default.
 */
function walkTiers(
  model: NetworkModel,
  direction: Direction,
  subject: Endpoint & { kind: 'pod' },
  peer: Endpoint,
  destination: Endpoint,
  probe: ProbePort,
  port: number,
  networkPolicies: readonly PolicyWalk[],
  family: 4 | 6 | undefined,
): { tiers: TierWalk[]; decidedBy?: string; networkPolicyReached: boolean } {
  const ordered = [...(model.world.clusterPolicies ?? [])]
    .sort(tierOrder)
    .filter((p) => p[direction].length > 0);
  let decidedBy: string | undefined;
  // Mutated by walkTier (an object, so that control-flow analysis sees the changes).
  const state = { decided: false };
  const walkTier = (tier: ClusterTier): TierWalk => {
    const reached = !state.decided;
    let done = state.decided;
    let outcome = reached ? 'no rule matches: on to the next tier' : 'not reached';
    const policies = ordered
      .filter((p) => p.tier === tier)
      .map((policy): ClusterPolicyWalk => {
        const key = clusterPolicyKey(policy);
        const selects = subjectCheck(policy, subject);
        const base = {
          policy: key,
          ...(policy.priority !== undefined ? { priority: policy.priority } : {}),
          selects,
        };
        if (done || !selects.ok) return { ...base, rules: [], evaluated: !done };
        const rules: ClusterRuleWalk[] = [];
        for (const [i, rule] of policy[direction].entries()) {
          const walk = walkClusterRule(
            model,
            policy,
            rule,
            i,
            direction,
            peer,
            destination,
            probe,
            port,
            family,
          );
          rules.push(walk);
          if (!walk.matches) continue;
          done = true;
          const ref = formatRuleRef({
            policy: key,
            direction,
            index: i,
            path: walk.path,
            tier,
            ...(policy.priority !== undefined ? { priority: policy.priority } : {}),
            action: walk.action,
            ...(rule.name !== undefined ? { name: rule.name } : {}),
          });
          if (walk.action === 'Pass')
            outcome = `passed on by ${ref} to the ${tier === 'Admin' ? 'NetworkPolicy tier' : 'default (allow)'}`;
          else {
            state.decided = true;
            decidedBy = `${key} ${walk.path}`;
            outcome = `decided by ${ref}: ${walk.action === 'Deny' ? 'denied' : 'allowed'}`;
          }
          break;
        }
        return { ...base, rules, evaluated: true };
      });
    return { tier, policies, outcome };
  };
  const admin = walkTier('Admin');
  const networkPolicyReached = !state.decided;
  const type = direction === 'ingress' ? 'Ingress' : 'Egress';
  const isolating = networkPolicies.filter((p) => p.selects.ok && p.covers.ok);
  let npOutcome: string;
  if (!networkPolicyReached) npOutcome = 'not reached';
  else if (isolating.length === 0)
    npOutcome = `no NetworkPolicy selects ${subject.key} for ${type}: on to the Baseline tier`;
  else {
    state.decided = true;
    const admits = isolating.some((p) => p.rules.some((r) => r.admits));
    npOutcome = `decided: ${admits ? 'allowed' : 'denied'} by the NetworkPolicies selecting ${subject.key}`;
  }
  const networkPolicy: TierWalk = { tier: 'NetworkPolicy', policies: [], outcome: npOutcome };
  const walkedBaseline = walkTier('Baseline');
  const baseline: TierWalk =
    !state.decided && walkedBaseline.outcome.startsWith('no rule matches')
      ? { ...walkedBaseline, outcome: 'no rule matches: the default applies, allowed' }
      : walkedBaseline;
  return {
    tiers: [admin, networkPolicy, baseline],
    ...(decidedBy !== undefined ? { decidedBy } : {}),
    networkPolicyReached,
  };
}

/**
 * The walkthrough of one flow: egress on the source, then ingress on the destination. Given a
 * family, the flow of that family (ipBlocks and networks matched against its addresses).
 */
export function explainFlow(
  model: NetworkModel,
  fromKey: string,
  toKey: string,
  probe: ProbePort,
  family?: 4 | 6,
): FlowExplanation {
  const result = model.verdict(fromKey, toKey, probe, family);
  const from = model.endpoint(fromKey);
  const to = model.endpoint(toKey);
  const of = family === undefined ? {} : { family };
  if (!from || !to || !('verdict' in result))
    return { from: fromKey, to: toKey, probe, ...of, result, sides: [] };
  const egress = walkSide(model, 'egress', from, to, to, probe, result.port, result.egress, family);
  const ingress = walkSide(
    model,
    'ingress',
    to,
    from,
    to,
    probe,
    result.port,
    result.ingress,
    family,
  );
  return {
    from: describeEndpoint(from),
    to: describeEndpoint(to),
    probe,
    ...of,
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
