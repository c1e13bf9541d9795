/**
 * Random NetworkPolicy sets over the fuzz topology, from a seed. Each shape family can be left
 * out (`--shapes`); together they cover the v1 spec: pod and namespace selectors with matchLabels
 * and every matchExpressions operator, peers alone and combined (AND within a peer, OR between
 * peers), ports by number, protocol alone, endPort ranges, named ports that resolve on some pods,
 * all or none, ipBlock with except, policyTypes explicit, omitted or empty, rule lists absent,
 * empty or holding an allow-all rule, and several policies selecting the same pods.
 *
 * With `cluster-policies`, ClusterNetworkPolicies (v1beta1) join each set: Admin and Baseline
 * tiers, subjects `namespaces` or `pods`, ingress and egress rules with Accept, Deny and Pass,
 * peers `namespaces` and `pods` (egress also `networks`), `protocols` by number, range and
 * destinationNamedPort. Two policies of one tier share a priority only when one has rules for
 * ingress alone and the other for egress alone: they can never match the same connection (the
 * API leaves the order of overlapping equal priorities undefined, so the comparison would be
 * too), and removing pieces while shrinking cannot make them overlap.
 *
 * ipBlock CIDRs (and `networks`) come from a fixed palette of blocks that each hold all of
 * 10.0.0.0/8, or none of it, and likewise 172.16.0.0/12 and 192.168.0.0/16: whichever private
 * range a cluster's pods use, every pod is in a block or every pod is out, so a minimal case reads
 * the same on any cluster (the model is evaluated with the live pod IPs all the same).
 */
import { FUZZ_NAMESPACES, NAMESPACE_LABELS, POD_LABELS } from './topology.js';
import { Random } from './random.js';

export const SHAPES = [
  /** matchLabels and matchExpressions (In, NotIn, Exists, DoesNotExist) in pod selectors. */
  'selectors',
  /** namespaceSelector peers, alone and ANDed with a podSelector. */
  'namespaces',
  /** ports by number and protocol, protocol alone. */
  'ports',
  /** named ports: resolving on some pods, on all, on none. */
  'named-ports',
  /** endPort ranges. */
  'endport',
  /** ipBlock peers, with and without except. */
  'ipblock',
  /** policyTypes explicit, omitted, empty. */
  'policytypes',
  /** ingress/egress absent, empty, or an allow-all rule `{}`. */
  'rule-lists',
  /** egress rules (without it, policies isolate for ingress only). */
  'egress',
  /** ClusterNetworkPolicies (v1beta1), mixed with the NetworkPolicies of each set. */
  'cluster-policies',
] as const;
export type Shape = (typeof SHAPES)[number];

/** The shapes of NetworkPolicies alone: every family but `cluster-policies`. */
export const NETWORK_POLICY_SHAPES: readonly Shape[] = SHAPES.filter(
  (s) => s !== 'cluster-policies',
);

/** The API version of the ClusterNetworkPolicies generated. */
export const CLUSTER_POLICY_API_VERSION = 'policy.networking.k8s.io/v1beta1';

/** A NetworkPolicy as sent to the API server (plain data; validated by dsl/ like any other). */
export type PolicyObject = Record<string, unknown>;

const CIDRS = ['0.0.0.0/0', '10.0.0.0/8', '0.0.0.0/1', '128.0.0.0/1', '172.16.0.0/12'] as const;
/** Blocks strictly inside each palette CIDR that keep the membership rule above. */
const EXCEPTS: Readonly<Record<string, readonly string[]>> = {
  '0.0.0.0/0': ['10.0.0.0/8', '0.0.0.0/1', '128.0.0.0/1', '172.16.0.0/12'],
  '0.0.0.0/1': ['10.0.0.0/8'],
  '128.0.0.0/1': ['172.16.0.0/12'],
};
/** Named ports: `serve-80-tcp` (a, c), `http` (b), `serve-81-udp` (all), none for the rest. */
const NAMED: readonly { name: string; protocol?: 'TCP' | 'UDP' }[] = [
  { name: 'serve-80-tcp' },
  { name: 'http' },
  { name: 'serve-81-udp', protocol: 'UDP' },
  { name: 'serve-81-tcp' },
  /** Declared by every pod, but for UDP: resolves on none. */
  { name: 'serve-80-udp', protocol: 'TCP' },
  /** Declared by no pod. */
  { name: 'metrics' },
];

/** Priorities drawn from (a taken one moves to the next free number). */
const PRIORITIES = [0, 1, 10, 20, 500, 1000] as const;

type Direction = 'ingress' | 'egress';

function labelPalette(labels: Readonly<Record<string, Readonly<Record<string, string>>>>) {
  const values = new Map<string, Set<string>>();
  for (const set of Object.values(labels))
    for (const [k, v] of Object.entries(set)) values.set(k, (values.get(k) ?? new Set()).add(v));
  return [...values].map(([key, vs]) => ({ key, values: [...vs] }));
}
const POD_PALETTE = [...labelPalette(POD_LABELS), { key: 'role', values: ['none'] }];
const NS_PALETTE = [
  ...labelPalette(NAMESPACE_LABELS),
  { key: 'kubernetes.io/metadata.name', values: [...FUZZ_NAMESPACES] },
];

export class PolicyGenerator {
  private readonly shapes: ReadonlySet<Shape>;

  constructor(shapes: readonly Shape[] = SHAPES) {
    this.shapes = new Set(shapes);
  }

  private has(shape: Shape): boolean {
    return this.shapes.has(shape);
  }

  /**
   * One set: 1–4 NetworkPolicies, names p0…, in the fuzz namespaces; with `cluster-policies`,
   * then 1–3 ClusterNetworkPolicies c0…, and a quarter of the sets without the NetworkPolicies.
   * The NetworkPolicies are drawn first, so a seed gives the same ones with or without it.
   */
  set(random: Random): PolicyObject[] {
    const count = random.int(1, 4);
    const policies = Array.from({ length: count }, (_, i) =>
      this.policy(random, `p${String(i)}`, random.pick(FUZZ_NAMESPACES)),
    );
    if (!this.has('cluster-policies')) return policies;
    const cluster = this.clusterPolicies(random);
    return [...(random.chance(0.25) ? [] : policies), ...cluster];
  }

  /** 1–3 ClusterNetworkPolicies; equal priorities in a tier only where they cannot overlap. */
  clusterPolicies(random: Random): PolicyObject[] {
    const made: { tier: string; priority: number; directions: Direction[] }[] = [];
    return Array.from({ length: random.int(1, 3) }, (_, i) => {
      const tier = random.chance(0.6) ? 'Admin' : 'Baseline';
      const directions: Direction[] = this.has('egress')
        ? random.pick<Direction[]>([['ingress'], ['egress'], ['ingress', 'egress']])
        : ['ingress'];
      // A priority another policy of the tier has, if their rules are for disjoint directions.
      const shareable = made.filter(
        (m) =>
          m.tier === tier &&
          made.every(
            (o) =>
              o.tier !== tier ||
              o.priority !== m.priority ||
              !o.directions.some((d) => directions.includes(d)),
          ),
      );
      const taken = new Set(made.filter((m) => m.tier === tier).map((m) => m.priority));
      let priority =
        shareable.length > 0 && random.chance(0.5)
          ? random.pick(shareable).priority
          : random.pick(PRIORITIES);
      if (!shareable.some((m) => m.priority === priority))
        while (taken.has(priority)) priority = (priority + 1) % 1001;
      made.push({ tier, priority, directions });
      const spec: Record<string, unknown> = { tier, priority, subject: this.subject(random) };
      for (const direction of directions)
        spec[direction] = Array.from({ length: random.int(1, 3) }, () =>
          this.clusterRule(random, direction),
        );
      return {
        apiVersion: CLUSTER_POLICY_API_VERSION,
        kind: 'ClusterNetworkPolicy',
        metadata: { name: `c${String(i)}` },
        spec,
      };
    });
  }

  private subject(random: Random): Record<string, unknown> {
    if (random.chance(0.5)) return { namespaces: this.selector(random, NS_PALETTE) };
    return {
      pods: {
        // Optional in v1beta1: absent, every namespace.
        ...(random.chance(0.3) ? {} : { namespaceSelector: this.selector(random, NS_PALETTE) }),
        podSelector: this.selector(random, POD_PALETTE),
      },
    };
  }

  private clusterRule(random: Random, direction: Direction): Record<string, unknown> {
    const peers = Array.from({ length: random.int(1, 2) }, () =>
      this.clusterPeer(random, direction),
    );
    const rule: Record<string, unknown> = {
      action: random.pick(['Accept', 'Deny', 'Pass']),
      [direction === 'ingress' ? 'from' : 'to']: peers,
    };
    // The CRD refuses a named port in a rule with a `networks` peer.
    const named = this.has('named-ports') && !peers.some((p) => 'networks' in p);
    if (random.chance(0.5))
      rule.protocols = Array.from({ length: random.int(1, 2) }, () =>
        this.clusterPort(random, named),
      );
    return rule;
  }

  private clusterPeer(random: Random, direction: Direction): Record<string, unknown> {
    const kinds: string[] = ['pods'];
    if (this.has('namespaces')) kinds.push('namespaces', 'pods-in');
    if (direction === 'egress' && this.has('ipblock')) kinds.push('networks');
    switch (random.pick(kinds)) {
      case 'namespaces':
        return { namespaces: this.selector(random, NS_PALETTE) };
      case 'pods-in':
        return {
          pods: {
            namespaceSelector: this.selector(random, NS_PALETTE),
            podSelector: this.selector(random, POD_PALETTE),
          },
        };
      case 'networks':
        return { networks: random.some(CIDRS, 1, 2) };
      default:
        return { pods: { podSelector: this.selector(random, POD_PALETTE) } };
    }
  }

  private clusterPort(random: Random, named: boolean): Record<string, unknown> {
    const kinds: string[] = [];
    if (this.has('ports')) kinds.push('number', 'number');
    if (named) kinds.push('named');
    if (this.has('endport')) kinds.push('range');
    if (kinds.length === 0) kinds.push('number');
    const protocol = random.pick(['tcp', 'udp'] as const);
    switch (random.pick(kinds)) {
      case 'named':
        return { destinationNamedPort: random.pick(NAMED).name };
      case 'range':
        return {
          [protocol]: {
            destinationPort: {
              range: { start: random.pick([79, 80]), end: random.pick([81, 90]) },
            },
          },
        };
      default:
        return { [protocol]: { destinationPort: { number: random.pick([80, 81]) } } };
    }
  }

  policy(random: Random, name: string, namespace: string): PolicyObject {
    const spec: Record<string, unknown> = {
      podSelector: random.chance(0.4) ? {} : this.selector(random, POD_PALETTE),
    };
    const egress = this.has('egress');
    let types: string[] | undefined;
    if (!this.has('policytypes') || random.chance(0.5)) {
      types = egress ? random.pick([['Ingress'], ['Egress'], ['Ingress', 'Egress']]) : ['Ingress'];
    } else if (random.chance(0.15)) types = [];
    if (types !== undefined) spec.policyTypes = types;
    const ingress = this.rules(random, 'from');
    if (ingress !== undefined) spec.ingress = ingress;
    if (egress) {
      const rules = this.rules(random, 'to');
      if (rules !== undefined) spec.egress = rules;
    }
    // Omitted policyTypes without egress rules means Ingress only; keep the set meaningful.
    return {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name, namespace },
      spec,
    };
  }

  private rules(random: Random, key: 'from' | 'to'): Record<string, unknown>[] | undefined {
    if (this.has('rule-lists')) {
      if (random.chance(0.2)) return undefined;
      if (random.chance(0.08)) return [];
      if (random.chance(0.1)) return [{}];
    } else if (random.chance(0.3)) return undefined;
    return Array.from({ length: random.int(1, 2) }, () => this.rule(random, key));
  }

  private rule(random: Random, key: 'from' | 'to'): Record<string, unknown> {
    const rule: Record<string, unknown> = {};
    if (!random.chance(0.2))
      rule[key] = Array.from({ length: random.int(1, 2) }, () => this.peer(random));
    if (!random.chance(0.4) || Object.keys(rule).length === 0)
      rule.ports = Array.from({ length: random.int(1, 2) }, () => this.port(random));
    return rule;
  }

  private peer(random: Random): Record<string, unknown> {
    const kinds: string[] = ['pod'];
    if (this.has('namespaces')) kinds.push('namespace', 'both');
    if (this.has('ipblock')) kinds.push('ipblock');
    switch (random.pick(kinds)) {
      case 'namespace':
        return { namespaceSelector: this.selector(random, NS_PALETTE) };
      case 'both':
        return {
          namespaceSelector: this.selector(random, NS_PALETTE),
          podSelector: this.selector(random, POD_PALETTE),
        };
      case 'ipblock': {
        const cidr = random.pick(CIDRS);
        const excepts = EXCEPTS[cidr] ?? [];
        const except = excepts.length > 0 && random.chance(0.5) ? random.some(excepts, 1, 2) : [];
        return { ipBlock: { cidr, ...(except.length > 0 ? { except } : {}) } };
      }
      default:
        return { podSelector: this.selector(random, POD_PALETTE) };
    }
  }

  private port(random: Random): Record<string, unknown> {
    const kinds: string[] = [];
    if (this.has('ports')) kinds.push('number', 'number', 'protocol');
    if (this.has('named-ports')) kinds.push('named', 'named');
    if (this.has('endport')) kinds.push('range');
    if (kinds.length === 0) kinds.push('number');
    const protocol = random.pick(['TCP', 'UDP'] as const);
    switch (random.pick(kinds)) {
      case 'protocol':
        return { protocol };
      case 'named': {
        const named = random.pick(NAMED);
        return {
          port: named.name,
          ...(named.protocol !== undefined ? { protocol: named.protocol } : {}),
        };
      }
      case 'range':
        return {
          port: random.pick([79, 80]),
          endPort: random.pick([80, 81, 90]),
          ...(random.chance(0.5) ? { protocol } : {}),
        };
      default:
        return { port: random.pick([80, 81]), ...(random.chance(0.6) ? {} : { protocol }) };
    }
  }

  private selector(
    random: Random,
    palette: readonly { key: string; values: readonly string[] }[],
  ): Record<string, unknown> {
    if (random.chance(0.15)) return {};
    const selector: Record<string, unknown> = {};
    const useExpressions = this.has('selectors') && random.chance(0.5);
    if (!useExpressions || random.chance(0.3)) {
      const label = random.pick(palette);
      selector.matchLabels = { [label.key]: random.pick(label.values) };
    }
    if (useExpressions) {
      selector.matchExpressions = random.some(palette, 1, 2).map((label) => {
        const operator = random.pick(['In', 'NotIn', 'Exists', 'DoesNotExist']);
        return operator === 'Exists' || operator === 'DoesNotExist'
          ? { key: label.key, operator }
          : { key: label.key, operator, values: random.some(label.values, 1, 2) };
      });
    }
    return selector;
  }
}
