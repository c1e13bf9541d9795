import type { ProbePort } from '../src/domain/probe.js';
import type {
  ClusterPeer,
  ClusterPolicyInfo,
  LabelSelector,
  NamespaceInfo,
  NetworkPolicyInfo,
  PodInfo,
  PolicyPeer,
  PolicyRule,
  World,
} from '../src/model/types.js';

/** A small seeded PRNG (mulberry32): the same seed gives the same cluster. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const APPS = ['web', 'api', 'db', 'cache', 'queue', 'worker', 'auth', 'search'];
const TIERS = ['frontend', 'backend', 'data'];
const TEAMS = ['red', 'blue', 'green', 'gold'];
const ENVS = ['prod', 'staging', 'dev'];

const sel = (
  matchLabels: Record<string, string> = {},
  matchExpressions: LabelSelector['matchExpressions'] = [],
): LabelSelector => ({ matchLabels, matchExpressions });

/**
 * A synthetic cluster: `pods` pods spread over `namespaces` namespaces, `policies` policies of
 * mixed shapes (default denies, same-namespace, namespace-label, pod AND namespace selectors,
 * matchExpressions, ipBlock with except, named ports, endPort ranges, DNS egress).
 */
export function syntheticWorld(options: {
  seed: number;
  pods: number;
  namespaces: number;
  policies: number;
}): World {
  const rnd = random(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)] as T;
  const namespaces: NamespaceInfo[] = Array.from({ length: options.namespaces }, (_, i) => ({
    name: `ns-${i}`,
    labels: { team: pick(TEAMS), env: pick(ENVS) },
  }));
  const pods: PodInfo[] = Array.from({ length: options.pods }, (_, i) => {
    const ns = namespaces[i % namespaces.length]!;
    const app = pick(APPS);
    return {
      namespace: ns.name,
      name: `${app}-${i}`,
      labels: { app, tier: pick(TIERS), ...(rnd() < 0.5 ? { canary: 'true' } : {}) },
      ips: [`10.${Math.floor(i / 65536) + 1}.${Math.floor(i / 256) % 256}.${i % 256}`],
      ports: [
        { name: 'http', containerPort: 80 + (i % 3), protocol: 'TCP' },
        { name: 'metrics', containerPort: 9090, protocol: 'TCP' },
        { name: 'dns', containerPort: 53, protocol: 'UDP' },
      ],
      hostNetwork: false,
    };
  });
  const shapes: ((ns: string, i: number) => NetworkPolicyInfo)[] = [
    (ns, i) => policy(ns, `deny-ingress-${i}`, sel(), ['Ingress'], [], []),
    (ns, i) => policy(ns, `deny-egress-${i}`, sel(), ['Egress'], [], []),
    (ns, i) =>
      policy(
        ns,
        `same-ns-${i}`,
        sel({ app: pick(APPS) }),
        ['Ingress'],
        [rule([{ podSelector: sel() }])],
        [],
      ),
    (ns, i) =>
      policy(
        ns,
        `from-team-${i}`,
        sel({ tier: pick(TIERS) }),
        ['Ingress'],
        [
          rule(
            [{ namespaceSelector: sel({ team: pick(TEAMS) }) }],
            [{ protocol: 'TCP', port: 'http' }],
          ),
        ],
        [],
      ),
    (ns, i) =>
      policy(
        ns,
        `and-${i}`,
        sel({ app: pick(APPS) }),
        ['Ingress'],
        [
          rule(
            [
              {
                namespaceSelector: sel({ env: pick(ENVS) }),
                podSelector: sel({ app: pick(APPS) }),
              },
            ],
            [{ protocol: 'TCP', port: 80 }],
          ),
        ],
        [],
      ),
    (ns, i) =>
      policy(
        ns,
        `expr-${i}`,
        sel({}, [{ key: 'app', operator: 'In', values: [pick(APPS), pick(APPS)] }]),
        ['Ingress'],
        [
          rule([
            {
              podSelector: sel({}, [{ key: 'canary', operator: 'DoesNotExist', values: [] }]),
              namespaceSelector: sel({}, [{ key: 'env', operator: 'NotIn', values: ['dev'] }]),
            },
          ]),
        ],
        [],
      ),
    (ns, i) =>
      policy(
        ns,
        `ipblock-${i}`,
        sel({ tier: 'data' }),
        ['Ingress', 'Egress'],
        [
          rule([
            { ipBlock: { cidr: '10.1.0.0/16', except: [`10.1.${Math.floor(rnd() * 4)}.0/24`] } },
          ]),
        ],
        [
          rule(
            [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.3.0/24'] } }],
            [{ protocol: 'TCP', port: 80, endPort: 81 }],
          ),
        ],
      ),
    (ns, i) =>
      policy(
        ns,
        `dns-${i}`,
        sel(),
        ['Egress'],
        [],
        [
          rule(
            [
              {
                namespaceSelector: sel({ team: pick(TEAMS) }),
                podSelector: sel({ app: 'search' }),
              },
            ],
            [
              { protocol: 'UDP', port: 53 },
              { protocol: 'TCP', port: 53 },
            ],
          ),
          rule([{ podSelector: sel() }]),
        ],
      ),
    (ns, i) =>
      policy(
        ns,
        `metrics-${i}`,
        sel({ canary: 'true' }),
        ['Ingress'],
        [
          rule([{ namespaceSelector: sel() }], [{ protocol: 'TCP', port: 'metrics' }]),
          rule(null, [{ protocol: 'TCP', port: 80, endPort: 82 }]),
        ],
        [],
      ),
  ];
  const policies = Array.from({ length: options.policies }, (_, i) =>
    pick(shapes)(pick(namespaces).name, i),
  );
  return { namespaces, pods, externals: [{ name: 'backup', ip: '10.1.2.7' }], policies };
}

function rule(peers: PolicyPeer[] | null, ports: PolicyRule['ports'] = null): PolicyRule {
  return { peers, ports };
}

function policy(
  namespace: string,
  name: string,
  podSelector: LabelSelector,
  policyTypes: NetworkPolicyInfo['policyTypes'],
  ingress: PolicyRule[],
  egress: PolicyRule[],
): NetworkPolicyInfo {
  return {
    namespace,
    name,
    podSelector,
    policyTypes,
    policyTypesDefaulted: false,
    ingress,
    egress,
  };
}

export const BENCH_PROBES: readonly ProbePort[] = [
  { port: 80, protocol: 'TCP' },
  { port: 'http', protocol: 'TCP' },
  { port: 9090, protocol: 'TCP' },
  { port: 53, protocol: 'UDP' },
];

/**
 * `count` cluster policies over a synthetic world, seeded, across both tiers and all three
 * actions: Admin guardrails (deny a team's namespaces, accept monitoring by a named port, pass
 * intra-environment traffic, deny egress to a network), Baseline defaults (deny ingress from
 * other teams, accept DNS egress) — ClusterNetworkPolicy v1beta1 shapes, priorities 0–1000 with
 * distinct values in each tier.
 */
export function syntheticClusterPolicies(seed: number, count: number): ClusterPolicyInfo[] {
  const rnd = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)] as T;
  const ns = (labels: Record<string, string>): ClusterPeer => ({
    kind: 'namespaces',
    selector: sel(labels),
  });
  const shapes: ((i: number) => Omit<ClusterPolicyInfo, 'kind' | 'apiVersion' | 'name'>)[] = [
    () => ({
      tier: 'Admin',
      subject: { namespaces: sel({ team: pick(TEAMS) }) },
      ingress: [{ action: 'Deny', peers: [ns({ env: 'dev' })], ports: null }],
      egress: [],
    }),
    () => ({
      tier: 'Admin',
      subject: { namespaces: sel() },
      ingress: [
        {
          action: 'Accept',
          peers: [
            {
              kind: 'pods',
              pods: { namespaceSelector: sel(), podSelector: sel({ app: 'search' }) },
            },
          ],
          ports: [{ namedPort: 'metrics' }],
        },
      ],
      egress: [],
    }),
    () => ({
      tier: 'Admin',
      subject: {
        pods: {
          namespaceSelector: sel({ env: pick(ENVS) }),
          podSelector: sel({ tier: pick(TIERS) }),
        },
      },
      ingress: [
        { action: 'Pass', peers: [ns({ env: pick(ENVS) })], ports: null },
        {
          action: 'Deny',
          peers: [ns({})],
          ports: [{ protocol: 'TCP', port: 80, endPort: 82 }],
        },
      ],
      egress: [
        { action: 'Deny', peers: [{ kind: 'networks', cidrs: ['10.1.3.0/24'] }], ports: null },
      ],
    }),
    () => ({
      tier: 'Baseline',
      subject: { namespaces: sel({ team: pick(TEAMS) }) },
      ingress: [
        { action: 'Accept', peers: [ns({ team: pick(TEAMS) })], ports: null },
        { action: 'Deny', peers: [ns({})], ports: null },
      ],
      egress: [{ action: 'Accept', peers: [ns({})], ports: [{ protocol: 'UDP', port: 53 }] }],
    }),
  ];
  const used = { Admin: new Set<number>(), Baseline: new Set<number>() };
  return Array.from({ length: count }, (_, i) => {
    const shape = pick(shapes)(i);
    let priority = Math.floor(rnd() * 1001);
    while (used[shape.tier].has(priority)) priority = (priority + 1) % 1001;
    used[shape.tier].add(priority);
    return {
      kind: 'ClusterNetworkPolicy',
      apiVersion: 'policy.networking.k8s.io/v1beta1',
      name: `cnp-${i}`,
      ...shape,
      priority,
    };
  });
}
