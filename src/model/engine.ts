import { externalAlias, externalKey, podKey, type EndpointKey } from '../domain/endpoint.js';
import { familyName } from '../domain/job.js';
import { formatProbe, type ProbePort } from '../domain/probe.js';
import type { Protocol } from '../domain/protocol.js';
import { emptyBits, fullBits, hasBit, or, orAnd, popcount, setBit, type Bits } from './bitset.js';
import { cidrContains, parseCidr, parseIp, type Cidr, type IpAddress } from './cidr.js';
import { actionWord, clusterPolicyKey, clusterPolicyWarnings } from './cluster-validate.js';
import { matchesSelector } from './selector.js';
import {
  DEFAULT_MODEL_OPTIONS,
  NAMESPACE_NAME_LABEL,
  type ClusterAction,
  type ClusterPeer,
  type ClusterPolicyInfo,
  type ClusterPort,
  type ClusterTier,
  type ExternalInfo,
  type IPBlock,
  type LabelSelector,
  type Labels,
  type ModelOptions,
  type NetworkPolicyInfo,
  type PodInfo,
  type PolicyPeer,
  type PolicyPort,
  type PolicyRule,
  type World,
} from './types.js';

/** One row/column of a truth table: a pod or an external peer. */
export type Endpoint =
  | {
      readonly kind: 'pod';
      readonly index: number;
      readonly key: EndpointKey;
      readonly namespace: string;
      readonly name: string;
      readonly pod: PodInfo;
      readonly namespaceLabels: Labels;
      readonly addresses: readonly IpAddress[];
    }
  | {
      readonly kind: 'external';
      readonly index: number;
      readonly key: EndpointKey;
      readonly name: string;
      readonly external: ExternalInfo;
      readonly addresses: readonly IpAddress[];
    };

export type Direction = 'ingress' | 'egress';

/**
 * A rule of a policy: `ns/name` (a cluster policy: `Kind/name`) and its path, e.g.
 * `spec.ingress[0]`. A rule of a cluster policy also names its tier, priority, action and name.
 */
export interface RuleRef {
  readonly policy: string;
  readonly direction: Direction;
  readonly index: number;
  readonly path: string;
  readonly tier?: ClusterTier;
  readonly priority?: number;
  /** The action as the policy's API spells it (Accept, or Allow in v1alpha1; Deny; Pass). */
  readonly action?: string;
  readonly name?: string;
}

/** What the cluster tiers contributed to a side's decision, when cluster policies exist. */
export interface TierTrail {
  /** Pass rules that sent the flow on to the next tier, in the order they matched. */
  readonly passed?: readonly RuleRef[];
  /** Rules with domainNames peers the model passed over: it cannot resolve domain names. */
  readonly unresolvedDomains?: readonly RuleRef[];
  /** Cluster policies selecting the subject for this direction whose rules did not decide. */
  readonly consulted?: readonly string[];
}

/** How one side of a flow (egress on the source, ingress on the destination) was decided. */
export type SideDecision =
  /**
   * No policy decided: no NetworkPolicy isolates the pod for this direction and no cluster
   * policy rule accepted or denied the flow (the default: allowed).
   */
  | ({ readonly kind: 'not-isolated' } & TierTrail)
  /** Policies do not apply to this endpoint (a non-pod peer, or a hostNetwork pod). */
  | { readonly kind: 'not-subject'; readonly why: 'external' | 'host-network' }
  /** Traffic between a pod and the node it runs on: always allowed. */
  | { readonly kind: 'own-node'; readonly node: string }
  /** Admitted by NetworkPolicy rules, or accepted by one cluster policy rule (`admittedBy`). */
  | ({
      readonly kind: 'allowed';
      readonly policies: readonly string[];
      readonly admittedBy: readonly RuleRef[];
    } & TierTrail)
  /** Isolated by NetworkPolicies and admitted by none, or denied by a cluster rule (`deniedBy`). */
  | ({
      readonly kind: 'denied';
      readonly policies: readonly string[];
      readonly deniedBy?: RuleRef;
    } & TierTrail);

export type VerdictValue = 'allow' | 'deny';

export interface Verdict {
  readonly from: EndpointKey;
  readonly to: EndpointKey;
  readonly probe: ProbePort;
  /** The destination port number the probe resolved to. */
  readonly port: number;
  readonly verdict: VerdictValue;
  /** Decided by `selfTraffic: allow` without consulting policies. */
  readonly self: boolean;
  readonly egress: SideDecision;
  readonly ingress: SideDecision;
  /** One sentence a person can act on. */
  readonly reason: string;
}

/** A probe by port name that the destination does not serve: no connection to judge. */
export interface Unresolved {
  readonly from: EndpointKey;
  readonly to: EndpointKey;
  readonly probe: ProbePort;
  readonly reason: string;
}

interface CompiledRule {
  readonly ref: RuleRef;
  readonly rule: PolicyRule;
  /** Endpoints matched by the rule's peers, by the address family used to match ipBlocks. */
  readonly peers: { readonly v4: Bits; readonly v6: Bits; readonly primary: Bits };
}

interface CompiledClusterRule {
  /** 0-based over every rule of every cluster policy (the tables index per-rule data by it). */
  readonly id: number;
  readonly ref: RuleRef;
  /** The action applied: a Deny or Pass rule with a peer with no field fails closed to Deny. */
  readonly action: ClusterAction;
  /** Endpoints the peers match (networks: by the endpoint's primary address). */
  readonly peers: Bits;
  /** With networks peers: the endpoints the peers match, networks by the address of a family. */
  readonly byFamily?: { readonly 4: Bits; readonly 6: Bits };
  readonly ports: readonly ClusterPort[] | null;
  /** Equal for equal port lists: the tables share the ports' matches between rules by it. */
  readonly portsKey: string;
  /** The rule has domainNames peers, which the model cannot resolve (they match nothing). */
  readonly domains: boolean;
}

interface CompiledClusterPolicy {
  readonly key: string;
  readonly info: ClusterPolicyInfo;
  readonly selected: Bits;
  readonly ingress: readonly CompiledClusterRule[];
  readonly egress: readonly CompiledClusterRule[];
}

/** The cluster policies selecting an endpoint for a direction, per tier, in evaluation order. */
interface Tiers {
  readonly admin: readonly CompiledClusterPolicy[];
  readonly baseline: readonly CompiledClusterPolicy[];
  /** Rules of these policies with named ports (whose match depends on the destination pod). */
  readonly named: readonly CompiledClusterRule[];
}

interface CompiledPolicy {
  readonly key: string;
  readonly info: NetworkPolicyInfo;
  readonly selected: Bits;
  readonly ingress: readonly CompiledRule[] | null;
  readonly egress: readonly CompiledRule[] | null;
}

/** Allowed cells of one probe: row-major bits, row = source index, column = destination. */
export class TruthTable {
  readonly size: number;
  readonly resolved: Bits;
  /** A table of one family: the endpoints that take part in it (absent: every endpoint). */
  readonly present: Bits | undefined;
  private readonly rows: Bits[];
  constructor(
    readonly probe: ProbePort,
    readonly endpoints: readonly Endpoint[],
    rows: Bits[],
    resolved: Bits,
    present?: Bits,
  ) {
    this.size = endpoints.length;
    this.rows = rows;
    this.resolved = resolved;
    this.present = present;
  }
  /**
   * A cell is absent for unresolved named ports, for external-to-external pairs and, in a table of
   * one family, when an end has no address of that family.
   */
  isCell(from: number, to: number): boolean {
    const a = this.endpoints[from];
    const b = this.endpoints[to];
    return (
      a !== undefined &&
      b !== undefined &&
      !(a.kind === 'external' && b.kind === 'external') &&
      hasBit(this.resolved, to) &&
      (this.present === undefined || (hasBit(this.present, from) && hasBit(this.present, to)))
    );
  }
  allowed(from: number, to: number): boolean {
    const row = this.rows[from];
    return row !== undefined && hasBit(row, to);
  }
  /** Cells and allowed cells of the whole table, counted a word at a time. */
  count(): { cells: number; allowed: number } {
    const pods = emptyBits(this.size);
    for (const e of this.endpoints) if (e.kind === 'pod') setBit(pods, e.index);
    if (this.present !== undefined) return this.countPresent(pods, this.present);
    let resolved = 0;
    let resolvedPods = 0;
    for (let w = 0; w < this.resolved.length; w++) {
      const r = this.resolved[w] ?? 0;
      resolved += popcount(r);
      resolvedPods += popcount(r & (pods[w] ?? 0));
    }
    let cells = 0;
    let allowed = 0;
    for (const from of this.endpoints) {
      // External-to-external pairs are no cells; unresolved destinations neither.
      const mask = from.kind === 'external' ? pods : undefined;
      cells += mask ? resolvedPods : resolved;
      const row = this.rows[from.index];
      if (!row) continue;
      for (let w = 0; w < row.length; w++)
        allowed += popcount(
          (row[w] ?? 0) & (this.resolved[w] ?? 0) & (mask ? (mask[w] ?? 0) : 0xffffffff),
        );
    }
    return { cells, allowed };
  }

  /** count() of a table of one family: rows and columns of the endpoints in it only. */
  private countPresent(pods: Bits, present: Bits): { cells: number; allowed: number } {
    const all = emptyBits(this.size);
    const fromPods = emptyBits(this.size);
    for (let w = 0; w < all.length; w++) {
      all[w] = (this.resolved[w] ?? 0) & (present[w] ?? 0);
      fromPods[w] = (all[w] ?? 0) & (pods[w] ?? 0);
    }
    let cells = 0;
    let allowed = 0;
    for (const from of this.endpoints) {
      if (!hasBit(present, from.index)) continue;
      // External-to-external pairs are no cells.
      const mask = from.kind === 'external' ? fromPods : all;
      const row = this.rows[from.index];
      for (let w = 0; w < mask.length; w++) {
        cells += popcount(mask[w] ?? 0);
        if (row) allowed += popcount((row[w] ?? 0) & (mask[w] ?? 0));
      }
    }
    return { cells, allowed };
  }
}

/**
 * The endpoints a rule's peers match for a flow. An ipBlock is matched against the peer's address
 * of the flow's family. Given a family (a dual-stack run decides each family apart), that family:
 * on egress the destination's address of it, on ingress the source's. Without one, the flow's
 * family is the destination's primary family: on egress the peer is the destination itself, so
 * its primary address; on ingress, the source's address of the destination's family (its primary
 * address when the destination has none).
 */
function peersFor(
  rule: CompiledRule,
  direction: Direction,
  destinationFamily: 4 | 6 | undefined,
  family?: 4 | 6,
): Bits {
  if (family !== undefined) return family === 4 ? rule.peers.v4 : rule.peers.v6;
  if (direction === 'egress' || destinationFamily === undefined) return rule.peers.primary;
  return destinationFamily === 4 ? rule.peers.v4 : rule.peers.v6;
}

/**
 * The address of `peer` an ipBlock is matched against in a flow towards `destination`: the
 * peer's address of the flow's family (`family` when given; else the destination's primary
 * family, or the peer's own primary address when the destination has none). On egress the peer
 * is the destination itself.
 */
export function ipBlockAddress(
  peer: Endpoint,
  destination: Endpoint,
  family?: 4 | 6,
): IpAddress | undefined {
  const flow = family ?? familyOf(destination.addresses);
  return flow === undefined ? peer.addresses[0] : addressOf(peer.addresses, flow);
}

/**
 * Whether an endpoint takes part in flows of `family`: it has an address of that family, or it
 * declares no address at all (a pod of an offline scenario without `ips`: its addresses are
 * unknown, so it is in every family and no ipBlock matches it).
 */
export function hasFamily(e: Endpoint, family: 4 | 6): boolean {
  return e.addresses.length === 0 || e.addresses.some((a) => a.family === family);
}

function familyOf(addresses: readonly IpAddress[]): 4 | 6 | undefined {
  return addresses[0]?.family;
}

function addressOf(addresses: readonly IpAddress[], family: 4 | 6): IpAddress | undefined {
  return addresses.find((a) => a.family === family);
}

function ruleAdmitsPort(
  rule: PolicyRule,
  destination: Endpoint,
  protocol: Protocol,
  port: number,
): boolean {
  if (rule.ports === null) return true;
  return rule.ports.some((p) => policyPortMatches(p, destination, protocol, port));
}

export function policyPortMatches(
  p: PolicyPort,
  destination: Endpoint,
  protocol: Protocol,
  port: number,
): boolean {
  if (p.protocol !== protocol) return false;
  if (p.port === undefined) return true;
  if (typeof p.port === 'number') {
    return p.endPort === undefined ? port === p.port : port >= p.port && port <= p.endPort;
  }
  if (destination.kind !== 'pod') return false;
  const name = p.port;
  return destination.pod.ports.some(
    (c) => c.name === name && c.protocol === protocol && c.containerPort === port,
  );
}

/** A cluster policy port: a protocol with a port or range, or a named port of the destination. */
export function clusterPortMatches(
  p: ClusterPort,
  destination: Endpoint,
  protocol: Protocol,
  port: number,
): boolean {
  if ('namedPort' in p)
    return (
      destination.kind === 'pod' &&
      destination.pod.ports.some(
        (c) => c.name === p.namedPort && c.protocol === protocol && c.containerPort === port,
      )
    );
  if (p.protocol !== protocol) return false;
  if (p.port === undefined) return true;
  return p.endPort === undefined ? port === p.port : port >= p.port && port <= p.endPort;
}

function clusterRuleAdmitsPort(
  rule: CompiledClusterRule,
  destination: Endpoint,
  protocol: Protocol,
  port: number,
): boolean {
  return (
    rule.ports === null ||
    rule.ports.some((p) => clusterPortMatches(p, destination, protocol, port))
  );
}

/** Evaluation order within a tier: priority (lower first; a BANP has none: last), then name. */
export function tierOrder(a: ClusterPolicyInfo, b: ClusterPolicyInfo): number {
  const pa = a.priority ?? Number.MAX_SAFE_INTEGER;
  const pb = b.priority ?? Number.MAX_SAFE_INTEGER;
  if (pa !== pb) return pa - pb;
  const ka = clusterPolicyKey(a);
  const kb = clusterPolicyKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

const NO_TIERS: Tiers = { admin: [], baseline: [], named: [] };

/** The port a probe targets on a destination, or undefined for an unserved port name. */
export function resolveProbePort(probe: ProbePort, destination: Endpoint): number | undefined {
  if (typeof probe.port === 'number') return probe.port;
  if (destination.kind !== 'pod') return undefined;
  const name = probe.port;
  return destination.pod.ports.find((c) => c.name === name && c.protocol === probe.protocol)
    ?.containerPort;
}

/**
 * The compiled model of one World: which policies select which pods and which peers each rule
 * matches are computed once, as bit sets; a truth table is then a few word operations per row.
 */
export class NetworkModel {
  readonly endpoints: readonly Endpoint[];
  readonly options: ModelOptions;
  readonly world: World;
  private readonly byKey = new Map<string, Endpoint>();
  private readonly policies: readonly CompiledPolicy[];
  /** Per endpoint: the policies that select it for ingress / egress. */
  private readonly ingressOf: CompiledPolicy[][];
  private readonly egressOf: CompiledPolicy[][];
  /** Per endpoint: the endpoints it always reaches as pod and own node. */
  private readonly ownNode: number[][];
  /** Pods subject to policy, by namespace (selection and selector peers only look there). */
  private readonly podsByNamespace = new Map<string, Endpoint[]>();
  /** Per endpoint: an id shared by endpoints with equal labels (selector results are cached). */
  private readonly labelSet: Int32Array;
  private labelSets = 0;
  private readonly selectorCache = new Map<object, Int8Array>();
  private readonly ipBlockCache = new Map<string, CompiledRule['peers']>();
  private readonly namespaceSelectorCache = new Map<string, string[]>();
  private clusterRuleCount = 0;
  private readonly clusterPolicies: readonly CompiledClusterPolicy[];
  /** Every endpoint's bit set (the starting point of the tiers: all undecided). */
  private readonly allEndpoints: Bits;
  /** Per endpoint: the cluster policies selecting it for ingress / egress, by tier. */
  private readonly ingressTiers: Tiers[];
  private readonly egressTiers: Tiers[];
  /**
   * What the model accepts but cannot decide exactly: cluster policies of one tier and priority
   * that could match the same connection (the API leaves the outcome undefined), peers with no
   * field, domainNames in Deny or Pass rules.
   */
  readonly warnings: readonly string[];

  constructor(world: World, options: Partial<ModelOptions> = {}) {
    this.world = world;
    this.options = { ...DEFAULT_MODEL_OPTIONS, ...options };
    const namespaces = namespaceLabels(world);
    const endpoints: Endpoint[] = [];
    for (const pod of world.pods) {
      const key = podKey(pod.namespace, pod.name);
      endpoints.push({
        kind: 'pod',
        index: endpoints.length,
        key,
        namespace: pod.namespace,
        name: pod.name,
        pod,
        namespaceLabels: namespaces.get(pod.namespace) ?? defaultNamespaceLabels(pod.namespace),
        addresses: pod.ips.map(parseIp).filter((a): a is IpAddress => a !== undefined),
      });
    }
    for (const external of world.externals) {
      const address = parseIp(external.ip);
      endpoints.push({
        kind: 'external',
        index: endpoints.length,
        key: externalKey(external.name, external.ip),
        name: external.name,
        external,
        addresses: address ? [address] : [],
      });
    }
    this.endpoints = endpoints;
    for (const e of endpoints) {
      this.byKey.set(e.key, e);
      if (e.kind === 'external') this.byKey.set(externalAlias(e.key), e);
    }
    const labelIds = new Map<string, number>();
    this.labelSet = new Int32Array(endpoints.length).fill(-1);
    for (const e of endpoints) {
      if (e.kind !== 'pod') continue;
      const id = JSON.stringify(Object.entries(e.pod.labels).sort(([a], [b]) => (a < b ? -1 : 1)));
      let n = labelIds.get(id);
      if (n === undefined) labelIds.set(id, (n = labelIds.size));
      this.labelSet[e.index] = n;
      this.labelSets = labelIds.size;
      if (!this.subjectToPolicy(e)) continue;
      const list = this.podsByNamespace.get(e.namespace);
      if (list) list.push(e);
      else this.podsByNamespace.set(e.namespace, [e]);
    }
    this.policies = world.policies.map((p) => this.compilePolicy(p, namespaces));
    const hostNetworkIsNode = this.options.hostNetwork === 'node';
    const anyNode = endpoints.some((e) =>
      e.kind === 'external' ? e.external.node === true : hostNetworkIsNode && e.pod.hostNetwork,
    );
    this.ownNode = endpoints.map((a) =>
      anyNode
        ? endpoints
            .filter((b) => ownNodeOf(a, b, hostNetworkIsNode) !== undefined)
            .map((b) => b.index)
        : [],
    );
    this.ingressOf = endpoints.map(() => []);
    this.egressOf = endpoints.map(() => []);
    for (const policy of this.policies) {
      for (const e of this.podsByNamespace.get(policy.info.namespace) ?? []) {
        if (!hasBit(policy.selected, e.index)) continue;
        if (policy.ingress) this.ingressOf[e.index]?.push(policy);
        if (policy.egress) this.egressOf[e.index]?.push(policy);
      }
    }
    this.allEndpoints = fullBits(endpoints.length);
    this.clusterPolicies = [...(world.clusterPolicies ?? [])]
      .sort(tierOrder)
      .map((p) => this.compileClusterPolicy(p, namespaces));
    this.ingressTiers = this.tiersOf('ingress');
    this.egressTiers = this.tiersOf('egress');
    this.warnings = [
      ...(world.clusterPolicies ?? []).flatMap(clusterPolicyWarnings),
      ...this.overlaps(),
    ];
  }

  /** Per endpoint, the cluster policies with rules for `direction` that select it. */
  private tiersOf(direction: Direction): Tiers[] {
    if (this.clusterPolicies.length === 0) return [];
    // Partition refinement: endpoints selected by the same policies end in the same group, and
    // share one Tiers object (the tables cache their outcome by it).
    const group = new Int32Array(this.endpoints.length);
    let groups = 1;
    const relevant = this.clusterPolicies.filter((p) => p[direction].length > 0);
    for (const policy of relevant) {
      const split = new Map<number, number>();
      const words = policy.selected;
      for (let w = 0; w < words.length; w++) {
        let word = words[w] ?? 0;
        while (word !== 0) {
          const index = w * 32 + (31 - Math.clz32(word & -word));
          word &= word - 1;
          const old = group[index] ?? 0;
          let next = split.get(old);
          if (next === undefined) split.set(old, (next = groups++));
          group[index] = next;
        }
      }
    }
    const byGroup = new Map<number, Tiers>();
    return this.endpoints.map((e) => {
      const g = group[e.index] ?? 0;
      if (g === 0) return NO_TIERS;
      let tiers = byGroup.get(g);
      if (!tiers) {
        const mine = relevant.filter((p) => hasBit(p.selected, e.index));
        const named = mine.flatMap((p) =>
          p[direction].filter((r) => r.ports?.some((port) => 'namedPort' in port) === true),
        );
        tiers = {
          admin: mine.filter((p) => p.info.tier === 'Admin'),
          baseline: mine.filter((p) => p.info.tier === 'Baseline'),
          named,
        };
        byGroup.set(g, tiers);
      }
      return tiers;
    });
  }

  /**
   * Pairs of cluster policies of one tier with equal priorities that could match the same
   * connection: a pod both select for a direction, and peers of both rules in common.
   */
  private overlaps(): string[] {
    const out: string[] = [];
    const list = this.clusterPolicies;
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const a = list[i] as CompiledClusterPolicy;
        const b = list[j] as CompiledClusterPolicy;
        if (a.info.tier !== b.info.tier || a.info.priority !== b.info.priority) continue;
        if (a.info.priority === undefined) continue;
        const both = firstCommon(a.selected, b.selected);
        if (both === undefined) continue;
        for (const direction of ['ingress', 'egress'] as const) {
          const shared = a[direction].some((ra) =>
            b[direction].some(
              (rb) => firstCommon(ra.peers, rb.peers) !== undefined || (ra.domains && rb.domains),
            ),
          );
          if (!shared) continue;
          out.push(
            `${a.key} and ${b.key} are both ${a.info.tier} tier priority ${a.info.priority} and could match the same ${direction} connections (both select ${this.endpoints[both]?.key ?? '?'}): the API leaves undefined which one applies; the model evaluates ${a.key} first (by name)`,
          );
          break;
        }
      }
    }
    return out;
  }

  private compileClusterPolicy(
    info: ClusterPolicyInfo,
    namespaces: Map<string, Labels>,
  ): CompiledClusterPolicy {
    const key = clusterPolicyKey(info);
    const n = this.endpoints.length;
    const selected = emptyBits(n);
    const subject = info.subject;
    const nsSelector =
      'namespaces' in subject ? subject.namespaces : subject.pods.namespaceSelector;
    for (const ns of this.namespacesMatching(nsSelector, namespaces)) {
      for (const e of this.podsByNamespace.get(ns) ?? [])
        if ('namespaces' in subject || this.podMatches(subject.pods.podSelector, e))
          setBit(selected, e.index);
    }
    const compile = (direction: Direction): CompiledClusterRule[] =>
      info[direction].map((rule, index) => {
        const failClosed = rule.action !== 'Accept' && rule.peers.some((p) => p.kind === 'none');
        const peers = emptyBits(n);
        if (failClosed) peers.set(fullBits(n));
        else for (const peer of rule.peers) this.clusterPeer(peer, namespaces, peers);
        const networks = !failClosed && rule.peers.some((p) => p.kind === 'networks');
        const familyPeers = (family: 4 | 6): Bits => {
          const bits = emptyBits(n);
          for (const peer of rule.peers) this.clusterPeer(peer, namespaces, bits, family);
          return bits;
        };
        return {
          id: this.clusterRuleCount++,
          ref: {
            policy: key,
            direction,
            index,
            path: `spec.${direction}[${index}]`,
            tier: info.tier,
            ...(info.priority !== undefined ? { priority: info.priority } : {}),
            action: actionWord(info.kind, failClosed ? 'Deny' : rule.action),
            ...(rule.name !== undefined ? { name: rule.name } : {}),
          },
          action: failClosed ? 'Deny' : rule.action,
          peers,
          ...(networks ? { byFamily: { 4: familyPeers(4), 6: familyPeers(6) } } : {}),
          ports: failClosed ? null : rule.ports,
          portsKey: failClosed || rule.ports === null ? '*' : JSON.stringify(rule.ports),
          domains: rule.peers.some((p) => p.kind === 'domainNames'),
        };
      });
    return { key, info, selected, ingress: compile('ingress'), egress: compile('egress') };
  }

  /**
   * The endpoints one cluster policy peer matches; networks by the endpoint's address of
   * `family`, or by its primary address.
   */
  private clusterPeer(
    peer: ClusterPeer,
    namespaces: Map<string, Labels>,
    bits: Bits,
    family?: 4 | 6,
  ): void {
    switch (peer.kind) {
      case 'namespaces':
      case 'pods': {
        const nsSelector = peer.kind === 'namespaces' ? peer.selector : peer.pods.namespaceSelector;
        for (const ns of this.namespacesMatching(nsSelector, namespaces)) {
          for (const e of this.podsByNamespace.get(ns) ?? [])
            if (peer.kind === 'namespaces' || this.podMatches(peer.pods.podSelector, e))
              setBit(bits, e.index);
        }
        return;
      }
      case 'networks': {
        // Networks match by address, pods included: "cluster-internal traffic will be checked
        // against the rule as well".
        const cidrs = peer.cidrs.map(parseCidr).filter((c): c is Cidr => c !== undefined);
        for (const e of this.endpoints) {
          const a = family === undefined ? e.addresses[0] : addressOf(e.addresses, family);
          if (a !== undefined && cidrs.some((c) => cidrContains(c, a))) setBit(bits, e.index);
        }
        return;
      }
      case 'nodes': {
        // A Node endpoint whose labels match, and the hostNetwork pods on it (its node IPs).
        const nodes = new Set<string>();
        for (const e of this.endpoints)
          if (
            e.kind === 'external' &&
            e.external.node === true &&
            matchesSelector(peer.selector, e.external.labels ?? {})
          ) {
            setBit(bits, e.index);
            nodes.add(e.name);
          }
        if (this.options.hostNetwork === 'node')
          for (const e of this.endpoints)
            if (
              e.kind === 'pod' &&
              e.pod.hostNetwork &&
              e.pod.nodeName !== undefined &&
              nodes.has(e.pod.nodeName)
            )
              setBit(bits, e.index);
        return;
      }
      case 'domainNames':
      case 'none':
        return;
    }
  }

  /** Namespaces (with pods subject to policy) a selector matches, cached by its content. */
  private namespacesMatching(selector: LabelSelector, namespaces: Map<string, Labels>): string[] {
    const key = JSON.stringify(selector);
    let found = this.namespaceSelectorCache.get(key);
    if (!found) {
      found = [...this.podsByNamespace.keys()].filter((ns) =>
        matchesSelector(selector, namespaces.get(ns) ?? defaultNamespaceLabels(ns)),
      );
      this.namespaceSelectorCache.set(key, found);
    }
    return found;
  }

  endpoint(key: string): Endpoint | undefined {
    return this.byKey.get(key);
  }

  /**
   * Whether an endpoint is an ordinary pod: one policies can select and pod/namespace selectors
   * can match (not a non-pod peer, nor a hostNetwork pod counted as node traffic).
   */
  subjectToPolicy(e: Endpoint): boolean {
    return e.kind === 'pod' && !(e.pod.hostNetwork && this.options.hostNetwork === 'node');
  }

  private compilePolicy(info: NetworkPolicyInfo, namespaces: Map<string, Labels>): CompiledPolicy {
    const key = podKey(info.namespace, info.name);
    const selected = emptyBits(this.endpoints.length);
    for (const e of this.podsByNamespace.get(info.namespace) ?? [])
      if (this.podMatches(info.podSelector, e)) setBit(selected, e.index);
    const compileRules = (direction: 'ingress' | 'egress'): CompiledRule[] =>
      info[direction].map((rule, index) => ({
        ref: { policy: key, direction, index, path: `spec.${direction}[${index}]` },
        rule,
        peers: this.compilePeers(rule.peers, info.namespace, namespaces),
      }));
    return {
      key,
      info,
      selected,
      ingress: info.policyTypes.includes('Ingress') ? compileRules('ingress') : null,
      egress: info.policyTypes.includes('Egress') ? compileRules('egress') : null,
    };
  }

  /** Endpoints whose address of each family (and primary address) an ipBlock matches. */
  private matchIpBlock(block: IPBlock): CompiledRule['peers'] {
    const n = this.endpoints.length;
    const v4 = emptyBits(n);
    const v6 = emptyBits(n);
    const primary = emptyBits(n);
    const cidr = parseCidr(block.cidr);
    const except = block.except.map(parseCidr).filter((c): c is Cidr => c !== undefined);
    if (!cidr) return { v4, v6, primary };
    const inBlock = (a: IpAddress | undefined): boolean =>
      a !== undefined && cidrContains(cidr, a) && !except.some((x) => cidrContains(x, a));
    for (const e of this.endpoints) {
      if (e.kind === 'pod' && !this.options.ipBlockMatchesPods && this.subjectToPolicy(e)) continue;
      if (inBlock(addressOf(e.addresses, 4))) setBit(v4, e.index);
      if (inBlock(addressOf(e.addresses, 6))) setBit(v6, e.index);
      if (inBlock(e.addresses[0])) setBit(primary, e.index);
    }
    return { v4, v6, primary };
  }

  private compilePeers(
    peers: readonly PolicyPeer[] | null,
    policyNamespace: string,
    namespaces: Map<string, Labels>,
  ): CompiledRule['peers'] {
    const n = this.endpoints.length;
    if (peers === null) {
      const all = fullBits(n);
      return { v4: all, v6: all, primary: all };
    }
    const v4 = emptyBits(n);
    const v6 = emptyBits(n);
    const primary = emptyBits(n);
    for (const peer of peers) {
      if (peer.ipBlock) {
        // Equal ipBlocks (a common one repeated across namespaces) are matched once.
        const signature = `${peer.ipBlock.cidr} ${peer.ipBlock.except.join(' ')}`;
        let matched = this.ipBlockCache.get(signature);
        if (!matched) {
          matched = this.matchIpBlock(peer.ipBlock);
          this.ipBlockCache.set(signature, matched);
        }
        or(v4, matched.v4);
        or(v6, matched.v6);
        or(primary, matched.primary);
        continue;
      }
      const inNamespaces = peer.namespaceSelector
        ? [...this.podsByNamespace.keys()].filter((ns) =>
            matchesSelector(
              peer.namespaceSelector as LabelSelector,
              namespaces.get(ns) ?? defaultNamespaceLabels(ns),
            ),
          )
        : [policyNamespace];
      for (const ns of inNamespaces) {
        for (const e of this.podsByNamespace.get(ns) ?? []) {
          if (peer.podSelector && !this.podMatches(peer.podSelector, e)) continue;
          setBit(v4, e.index);
          setBit(v6, e.index);
          setBit(primary, e.index);
        }
      }
    }
    return { v4, v6, primary };
  }

  /** matchesSelector on a pod's labels, cached per selector and label set. */
  private podMatches(selector: LabelSelector, e: Endpoint): boolean {
    if (e.kind !== 'pod') return false;
    let cache = this.selectorCache.get(selector);
    if (!cache) {
      cache = new Int8Array(this.labelSets).fill(-1);
      this.selectorCache.set(selector, cache);
    }
    const id = this.labelSet[e.index] ?? -1;
    if (id < 0) return matchesSelector(selector, e.pod.labels);
    let known = cache[id] ?? -1;
    if (known < 0) cache[id] = known = matchesSelector(selector, e.pod.labels) ? 1 : 0;
    return known === 1;
  }

  /**
   * The truth table of one probe over every endpoint; given a family, of the flows of that family
   * alone (cells between endpoints that both take part in it, ipBlocks matched per family).
   */
  table(probe: ProbePort, family?: 4 | 6): TruthTable {
    const n = this.endpoints.length;
    const resolvedPort = new Int32Array(n).fill(-1);
    const resolved = emptyBits(n);
    for (const e of this.endpoints) {
      const port = resolveProbePort(probe, e);
      if (port !== undefined) {
        resolvedPort[e.index] = port;
        setBit(resolved, e.index);
      }
    }
    // Destinations whose port matches each rule (named ports depend on the destination),
    // shared by the rules whose port lists are equal.
    const portSets = new Map<CompiledRule, Bits>();
    const bySignature = new Map<string, Bits>();
    const portSet = (rule: CompiledRule): Bits => {
      let bits = portSets.get(rule);
      if (!bits) {
        const signature = rule.rule.ports === null ? '*' : JSON.stringify(rule.rule.ports);
        bits = bySignature.get(signature);
        if (!bits) {
          bits = emptyBits(n);
          for (const e of this.endpoints) {
            const port = resolvedPort[e.index] ?? -1;
            if (port >= 0 && ruleAdmitsPort(rule.rule, e, probe.protocol, port))
              setBit(bits, e.index);
          }
          bySignature.set(signature, bits);
        }
        portSets.set(rule, bits);
      }
      return bits;
    };
    // Destinations whose port matches each cluster rule, shared by equal port lists.
    const clusterPorts: (Bits | undefined)[] = new Array<Bits | undefined>(this.clusterRuleCount);
    const clusterPortsBySignature = new Map<string, Bits>();
    const clusterPortSet = (rule: CompiledClusterRule): Bits => {
      let bits = clusterPorts[rule.id];
      if (bits) return bits;
      const signature = rule.portsKey;
      bits = clusterPortsBySignature.get(signature);
      if (!bits) {
        bits = emptyBits(n);
        for (const e of this.endpoints) {
          const port = resolvedPort[e.index] ?? -1;
          if (port >= 0 && clusterRuleAdmitsPort(rule, e, probe.protocol, port))
            setBit(bits, e.index);
        }
        clusterPortsBySignature.set(signature, bits);
      }
      clusterPorts[rule.id] = bits;
      return bits;
    };
    // The tiers' outcome is shared by subjects with the same cluster policies (ingress: and the
    // same port, and the same named-port rules matching it): what the Admin tier allows, what
    // it leaves undecided (for the NetworkPolicy tier), and the row when no NetworkPolicy
    // isolates the subject (through the Baseline tier to the default). A subject's row is then
    // `admin | (undecided & its NetworkPolicy row)`, or the shared row: a few word operations.
    const all = fullBits(n);
    const scratch = emptyBits(n);
    let destination = 0;
    const ingressPorts = (rule: CompiledClusterRule): Bits | undefined =>
      hasBit(clusterPortSet(rule), destination) ? all : undefined;
    interface TierOutcome {
      readonly admin: Bits;
      readonly undecided: Bits;
      readonly open: Bits;
    }
    // Outcomes live in one growing buffer (views are cheaper than many small buffers).
    const words0 = all.length;
    let pool = new Uint32Array(words0 * 96);
    let used = 0;
    const take = (): Bits => {
      if (used + words0 > pool.length) {
        pool = new Uint32Array(pool.length * 2);
        used = 0;
      }
      used += words0;
      return pool.subarray(used - words0, used);
    };
    const passed = emptyBits(n);
    const outcomes = new Map<Tiers, Map<string | number, TierOutcome>>();
    const outcome = (
      tiers: Tiers,
      key: string | number,
      direction: Direction,
      ports: (rule: CompiledClusterRule) => Bits | undefined,
    ): TierOutcome => {
      let byKey = outcomes.get(tiers);
      if (!byKey) outcomes.set(tiers, (byKey = new Map<string | number, TierOutcome>()));
      let found = byKey.get(key);
      if (!found) {
        found = { admin: take(), undecided: take(), open: take() };
        this.tierOutcome(tiers, direction, ports, found, passed, family);
        byKey.set(key, found);
      }
      return found;
    };
    const combine = (o: TierOutcome, np: Bits | null, out: Bits): void => {
      if (!np) {
        out.set(o.open);
        return;
      }
      for (let w = 0; w < out.length; w++)
        out[w] = (o.admin[w] ?? 0) | ((o.undecided[w] ?? 0) & (np[w] ?? 0));
    };
    const words = all.length;
    // Ingress: for every destination d, the sources its ingress policies admit, as row d of a
    // bit matrix; then transposed (32x32 blocks) so that row s holds the destinations that
    // admit source s, and a row of the table is (egress row) & (transposed row): word operations.
    const admits = new Uint32Array(words * 32 * words);
    for (const d of this.endpoints) {
      const bits = admits.subarray(d.index * words, (d.index + 1) * words);
      const policies = this.ingressOf[d.index] ?? [];
      const tiers = this.ingressTiers[d.index] ?? NO_TIERS;
      if (policies.length === 0 && tiers === NO_TIERS) {
        bits.set(all);
        continue;
      }
      if (!hasBit(resolved, d.index)) continue;
      const primary = familyOf(d.addresses);
      const np = policies.length === 0 ? null : tiers === NO_TIERS ? bits : scratch.fill(0);
      for (const policy of policies) {
        for (const rule of policy.ingress ?? []) {
          if (!hasBit(portSet(rule), d.index)) continue;
          or(np ?? bits, peersFor(rule, 'ingress', primary, family));
        }
      }
      if (tiers === NO_TIERS) continue;
      destination = d.index;
      // Numbered ports match by the port alone; named ports by the destination's ports.
      let key: string | number = resolvedPort[d.index] ?? -1;
      if (tiers.named.length > 0) {
        key = String(key);
        for (const rule of tiers.named) key += hasBit(clusterPortSet(rule), d.index) ? '1' : '0';
      }
      combine(outcome(tiers, key, 'ingress', ingressPorts), np, bits);
    }
    const admitted = transpose(admits, words);
    const rows: Bits[] = this.endpoints.map((s) => {
      const policies = this.egressOf[s.index] ?? [];
      const tiers = this.egressTiers[s.index] ?? NO_TIERS;
      let row: Bits;
      if (policies.length === 0) row = all.slice();
      else {
        row = emptyBits(n);
        for (const policy of policies)
          for (const rule of policy.egress ?? [])
            orAnd(row, peersFor(rule, 'egress', undefined, family), portSet(rule));
      }
      if (tiers !== NO_TIERS) {
        scratch.set(row);
        combine(
          outcome(tiers, '', 'egress', clusterPortSet),
          policies.length === 0 ? null : scratch,
          row,
        );
      }
      const base = s.index * words;
      for (let w = 0; w < words; w++) row[w] = (row[w] ?? 0) & (admitted[base + w] ?? 0);
      if (this.options.selfTraffic === 'allow' && hasBit(resolved, s.index)) setBit(row, s.index);
      else if (tiers !== NO_TIERS || this.ingressTiers[s.index] !== NO_TIERS) {
        // A pod connecting to its own IP is not subject to cluster policies: NetworkPolicy only.
        const self = hasBit(resolved, s.index)
          ? this.verdict(s.key, s.key, probe, family)
          : undefined;
        const bit = 1 << (s.index & 31);
        const w = s.index >>> 5;
        row[w] =
          self && 'verdict' in self && self.verdict === 'allow'
            ? (row[w] ?? 0) | bit
            : (row[w] ?? 0) & ~bit;
        for (const other of this.ownNode[s.index] ?? [])
          if (hasBit(resolved, other)) setBit(row, other);
        return row;
      }
      for (const other of this.ownNode[s.index] ?? [])
        if (hasBit(resolved, other)) setBit(row, other);
      return row;
    });
    if (family === undefined) return new TruthTable(probe, this.endpoints, rows, resolved);
    const present = emptyBits(n);
    for (const e of this.endpoints) if (hasFamily(e, family)) setBit(present, e.index);
    return new TruthTable(probe, this.endpoints, rows, resolved, present);
  }

  /**
   * The tiers for the subjects sharing `tiers`: Admin rules in order (first match decides; Pass
   * skips the rest of the tier) give `admin` (allowed) and `undecided` (left to the
   * NetworkPolicy tier, which decides all of it for a subject NetworkPolicies isolate); `open`
   * is the row of a subject no NetworkPolicy isolates: the Baseline rules on what is undecided,
   * then the default (allowed). `ports(rule)` gives the peers whose port the rule matches.
   */
  private tierOutcome(
    tiers: Tiers,
    direction: Direction,
    ports: (rule: CompiledClusterRule) => Bits | undefined,
    out: { admin: Bits; undecided: Bits; open: Bits },
    passed: Bits,
    family: 4 | 6 | undefined,
  ): void {
    const { admin, undecided, open } = out;
    const words = admin.length;
    admin.fill(0);
    passed.fill(0);
    undecided.set(this.allEndpoints);
    this.runTier(tiers.admin, direction, false, ports, admin, undecided, passed, family);
    for (let w = 0; w < words; w++) undecided[w] = (undecided[w] ?? 0) | (passed[w] ?? 0);
    // `open` first holds what the Baseline tier leaves undecided, then the allowed peers.
    open.set(undecided);
    const allow = passed.fill(0);
    for (let w = 0; w < words; w++) allow[w] = admin[w] ?? 0;
    this.runTier(tiers.baseline, direction, true, ports, allow, open, passed, family);
    for (let w = 0; w < words; w++) open[w] = (open[w] ?? 0) | (allow[w] ?? 0);
  }

  /** One tier's rules in order: each claims the peers still undecided that it matches. */
  private runTier(
    policies: readonly CompiledClusterPolicy[],
    direction: Direction,
    baseline: boolean,
    ports: (rule: CompiledClusterRule) => Bits | undefined,
    allow: Bits,
    rest: Bits,
    passed: Bits,
    family: 4 | 6 | undefined,
  ): void {
    const words = allow.length;
    for (const policy of policies)
      for (const rule of policy[direction]) {
        const p = ports(rule);
        if (!p) continue;
        // Accept allows; a Baseline Pass goes on to the default (allowed); an Admin Pass goes on
        // to the NetworkPolicy tier; Deny only removes the peers from the undecided.
        const into =
          rule.action === 'Accept' || (rule.action === 'Pass' && baseline)
            ? allow
            : rule.action === 'Pass'
              ? passed
              : undefined;
        const peers = clusterPeers(rule, family);
        for (let w = 0; w < words; w++) {
          const m = (peers[w] ?? 0) & (p[w] ?? 0) & (rest[w] ?? 0);
          if (m === 0) continue;
          rest[w] = (rest[w] ?? 0) & ~m;
          if (into) into[w] = (into[w] ?? 0) | m;
        }
      }
  }

  /**
   * The verdict of one flow with its provenance; undefined keys throw. Given a family, the flow
   * of that family: unresolved when an end has no address of it, ipBlocks matched against the
   * peer's address of it.
   */
  verdict(fromKey: string, toKey: string, probe: ProbePort, family?: 4 | 6): Verdict | Unresolved {
    const from = this.mustGet(fromKey);
    const to = this.mustGet(toKey);
    if (family !== undefined) {
      const missing = [from, to].find((e) => !hasFamily(e, family));
      if (missing !== undefined)
        return {
          from: from.key,
          to: to.key,
          probe,
          reason: `${missing.key} has no ${familyName(family)} address: no ${familyName(family)} flow`,
        };
    }
    const port = resolveProbePort(probe, to);
    if (port === undefined) {
      return {
        from: from.key,
        to: to.key,
        probe,
        reason:
          to.kind === 'pod'
            ? `${to.key} declares no ${probe.protocol} container port named "${String(probe.port)}"`
            : `${to.key} is not a pod: a port name cannot be resolved on it`,
      };
    }
    const self = from.index === to.index && this.options.selfTraffic === 'allow';
    const node = ownNodeOf(from, to, this.options.hostNetwork === 'node');
    // A pod connecting to its own IP is not subject to cluster policies.
    const cluster = from.index !== to.index;
    const egress: SideDecision = node
      ? { kind: 'own-node', node }
      : this.side('egress', from, to, probe.protocol, port, cluster, family);
    const ingress: SideDecision = node
      ? { kind: 'own-node', node }
      : this.side('ingress', to, from, probe.protocol, port, cluster, family);
    const allowed = self || (isOpen(egress) && isOpen(ingress));
    return {
      from: from.key,
      to: to.key,
      probe,
      port,
      verdict: allowed ? 'allow' : 'deny',
      self,
      egress,
      ingress,
      reason: describeVerdict(from, to, probe, port, self, egress, ingress, family),
    };
  }

  /** Rules of the policies selecting `subject` for `direction` that admit `peer`. */
  private side(
    direction: Direction,
    subject: Endpoint,
    peer: Endpoint,
    protocol: Protocol,
    port: number,
    cluster = true,
    family?: 4 | 6,
  ): SideDecision {
    if (subject.kind === 'external') return { kind: 'not-subject', why: 'external' };
    if (!this.subjectToPolicy(subject)) return { kind: 'not-subject', why: 'host-network' };
    const policies =
      (direction === 'ingress' ? this.ingressOf : this.egressOf)[subject.index] ?? [];
    const tiers = cluster
      ? ((direction === 'ingress' ? this.ingressTiers : this.egressTiers)[subject.index] ??
        NO_TIERS)
      : NO_TIERS;
    const destination = direction === 'ingress' ? subject : peer;
    const passed: RuleRef[] = [];
    const unresolvedDomains: RuleRef[] = [];
    const consulted: string[] = [];
    const trail = (): TierTrail => ({
      ...(passed.length > 0 ? { passed } : {}),
      ...(unresolvedDomains.length > 0 ? { unresolvedDomains } : {}),
      ...(consulted.length > 0 ? { consulted } : {}),
    });
    // One tier's policies in order; the first rule that matches decides (Pass: the next tier).
    const walk = (list: readonly CompiledClusterPolicy[]): SideDecision | 'pass' | undefined => {
      for (const policy of list) {
        for (const rule of policy[direction]) {
          if (
            !hasBit(clusterPeers(rule, family), peer.index) ||
            !clusterRuleAdmitsPort(rule, destination, protocol, port)
          ) {
            if (rule.domains) unresolvedDomains.push(rule.ref);
            continue;
          }
          if (rule.action === 'Accept')
            return { kind: 'allowed', policies: [policy.key], admittedBy: [rule.ref], ...trail() };
          if (rule.action === 'Deny')
            return { kind: 'denied', policies: [policy.key], deniedBy: rule.ref, ...trail() };
          passed.push(rule.ref);
          return 'pass';
        }
        consulted.push(policy.key);
      }
      return undefined;
    };
    const admin = walk(tiers.admin);
    if (admin !== undefined && admin !== 'pass') return admin;
    if (policies.length > 0) {
      const primary = familyOf(destination.addresses);
      const admittedBy: RuleRef[] = [];
      for (const policy of policies) {
        for (const rule of policy[direction] ?? []) {
          if (
            hasBit(peersFor(rule, direction, primary, family), peer.index) &&
            ruleAdmitsPort(rule.rule, destination, protocol, port)
          )
            admittedBy.push(rule.ref);
        }
      }
      const names = policies.map((p) => p.key);
      return admittedBy.length > 0
        ? { kind: 'allowed', policies: names, admittedBy, ...trail() }
        : { kind: 'denied', policies: names, ...trail() };
    }
    const baseline = walk(tiers.baseline);
    if (baseline !== undefined && baseline !== 'pass') return baseline;
    return { kind: 'not-isolated', ...trail() };
  }

  private mustGet(key: string): Endpoint {
    const e = this.byKey.get(key);
    if (!e) throw new RangeError(`unknown endpoint ${key}`);
    return e;
  }
}

/** The endpoints a cluster rule's peers match in flows of `family` (none: primary addresses). */
function clusterPeers(rule: CompiledClusterRule, family: 4 | 6 | undefined): Bits {
  return family === undefined || rule.byFamily === undefined ? rule.peers : rule.byFamily[family];
}

/** The first index set in both, or undefined. */
function firstCommon(a: Bits, b: Bits): number | undefined {
  for (let w = 0; w < a.length; w++) {
    const both = (a[w] ?? 0) & (b[w] ?? 0);
    if (both !== 0) return w * 32 + (31 - Math.clz32(both & -both));
  }
  return undefined;
}

/**
 * Transposes a square bit matrix of `words * 32` rows of `words` words each: bit j of row i
 * becomes bit i of row j. Works on 32x32 blocks (Hacker's Delight, transpose32).
 */
function transpose(matrix: Uint32Array, words: number): Uint32Array {
  const out = new Uint32Array(matrix.length);
  const block = new Uint32Array(32);
  for (let bi = 0; bi < words; bi++) {
    for (let bj = 0; bj < words; bj++) {
      let any = 0;
      for (let k = 0; k < 32; k++) {
        const v = matrix[(bi * 32 + k) * words + bj] ?? 0;
        block[k] = v;
        any |= v;
      }
      if (any === 0) continue;
      transpose32(block);
      for (let k = 0; k < 32; k++) out[(bj * 32 + k) * words + bi] = block[k] ?? 0;
    }
  }
  return out;
}

/**
 * In-place transpose of a 32x32 bit block, row k = block[k], bit j = column j (least significant
 * first): the recursive swap of Hacker's Delight 7-3, adapted to LSB-first bit order.
 */
function transpose32(a: Uint32Array): void {
  let j = 16;
  let m = 0x0000ffff;
  while (j !== 0) {
    for (let k = 0; k < 32; k = (k + j + 1) & ~j) {
      const x = a[k] ?? 0;
      const y = a[k + j] ?? 0;
      const t = ((x >>> j) ^ y) & m;
      a[k + j] = y ^ t;
      a[k] = x ^ (t << j);
    }
    j >>>= 1;
    m = (m ^ (m << j)) >>> 0;
  }
}

/**
 * The node's name when one endpoint is a node (a Node object, or a hostNetwork pod when those
 * count as node traffic) and the other a pod running on that node.
 */
function ownNodeOf(a: Endpoint, b: Endpoint, hostNetworkIsNode: boolean): string | undefined {
  if (a.index === b.index) return undefined;
  const nodeOf = (e: Endpoint): string | undefined =>
    e.kind === 'external'
      ? e.external.node === true
        ? e.name
        : undefined
      : hostNetworkIsNode && e.pod.hostNetwork
        ? e.pod.nodeName
        : undefined;
  const runsOn = (e: Endpoint): string | undefined =>
    e.kind === 'pod' && !(hostNetworkIsNode && e.pod.hostNetwork) ? e.pod.nodeName : undefined;
  const nodeA = nodeOf(a);
  if (nodeA !== undefined && runsOn(b) === nodeA) return nodeA;
  const nodeB = nodeOf(b);
  if (nodeB !== undefined && runsOn(a) === nodeB) return nodeB;
  return undefined;
}

export function isOpen(side: SideDecision): boolean {
  return side.kind !== 'denied';
}

function describeVerdict(
  from: Endpoint,
  to: Endpoint,
  probe: ProbePort,
  port: number,
  self: boolean,
  egress: SideDecision,
  ingress: SideDecision,
  family?: 4 | 6,
): string {
  const on = `${
    typeof probe.port === 'string' ? `${formatProbe(probe)} (port ${port})` : formatProbe(probe)
  }${family === undefined ? '' : ` over ${familyName(family)}`}`;
  if (self)
    return `allowed: ${from.key} connecting to itself is not subject to NetworkPolicy (selfTraffic: allow)`;
  const denials: string[] = [];
  const denial = (
    side: SideDecision & { kind: 'denied' },
    subject: Endpoint,
    peer: Endpoint,
    type: 'Ingress' | 'Egress',
  ): string =>
    side.deniedBy
      ? `${type.toLowerCase()} ${side.deniedBy.action === 'Deny' ? 'denied' : 'decided'} by ${formatRuleRef(side.deniedBy)}${trailText(side)}`
      : `${side.policies.join(', ')} ${side.policies.length > 1 ? 'select' : 'selects'} ${subject.key} for ${type} and no rule admits ${peer.key} on ${on}${trailText(side)}`;
  if (egress.kind === 'denied') denials.push(denial(egress, from, to, 'Egress'));
  if (ingress.kind === 'denied') denials.push(denial(ingress, to, from, 'Ingress'));
  if (denials.length > 0) return `denied: ${denials.join('; and ')}`;
  if (egress.kind === 'own-node')
    return `allowed: traffic between a pod and the node it runs on (${egress.node}) is always allowed`;
  return `allowed: ${describeSide('egress', from, egress)}; ${describeSide('ingress', to, ingress)}`;
}

/** `Admin tier ClusterNetworkPolicy/x (priority 10) spec.egress[0] "name" (Deny)`. */
export function formatRuleRef(ref: RuleRef): string {
  if (ref.tier === undefined) return `${ref.policy} ${ref.path}`;
  const priority = ref.priority !== undefined ? ` (priority ${ref.priority})` : '';
  const name = ref.name !== undefined ? ` "${ref.name}"` : '';
  return `${ref.tier} tier ${ref.policy}${priority} ${ref.path}${name} (${ref.action ?? '?'})`;
}

/** What the tiers added: Pass rules followed, domainNames the model could not resolve. */
function trailText(trail: TierTrail): string {
  const parts: string[] = [];
  for (const ref of trail.passed ?? [])
    parts.push(
      `passed on by ${formatRuleRef(ref)} to the ${ref.tier === 'Admin' ? 'NetworkPolicy tier' : 'default (allow)'}`,
    );
  if (trail.unresolvedDomains && trail.unresolvedDomains.length > 0)
    parts.push(
      `the model cannot resolve domain names: ${trail.unresolvedDomains.map(formatRuleRef).join(', ')} matched nothing`,
    );
  return parts.length === 0 ? '' : ` (${parts.join('; ')})`;
}

function describeSide(direction: Direction, subject: Endpoint, side: SideDecision): string {
  const type = direction === 'ingress' ? 'Ingress' : 'Egress';
  switch (side.kind) {
    case 'not-isolated':
      if (side.consulted === undefined && side.passed === undefined)
        return `no policy selects ${subject.key} for ${type}${trailText(side)}`;
      return `${direction} allowed by default: no NetworkPolicy selects ${subject.key} for ${type}${side.consulted ? ` and no rule of ${side.consulted.join(', ')} matches` : ''}${trailText(side)}`;
    case 'not-subject':
      return side.why === 'external'
        ? `${subject.key} is outside the cluster (no policy applies to it)`
        : `${subject.key} uses the host network (policies do not select it)`;
    case 'allowed': {
      const cluster = side.admittedBy[0]?.tier !== undefined;
      return `${direction} ${cluster ? 'accepted' : 'admitted'} by ${side.admittedBy.map(formatRuleRef).join(', ')}${trailText(side)}`;
    }
    case 'denied':
      return `${direction} denied`;
    case 'own-node':
      return `${subject.key} runs on node ${side.node}`;
  }
}

function defaultNamespaceLabels(name: string): Labels {
  return { [NAMESPACE_NAME_LABEL]: name };
}

/**
 * Labels of every namespace the world mentions, as the API server stores them: declared labels
 * plus `kubernetes.io/metadata.name` (always set to the name); undeclared namespaces that pods or
 * policies use get that label alone.
 */
export function namespaceLabels(world: World): Map<string, Labels> {
  const labels = new Map<string, Labels>();
  for (const ns of world.namespaces)
    labels.set(ns.name, { ...ns.labels, [NAMESPACE_NAME_LABEL]: ns.name });
  const mention = (name: string): void => {
    if (!labels.has(name)) labels.set(name, defaultNamespaceLabels(name));
  };
  for (const pod of world.pods) mention(pod.namespace);
  for (const policy of world.policies) mention(policy.namespace);
  return labels;
}
