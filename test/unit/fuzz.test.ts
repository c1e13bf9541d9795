import { expect } from 'chai';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { readFileSync } from 'node:fs';
import { execa } from 'execa';
import fc from 'fast-check';
import { InputError, UsageError } from '../../src/domain/errors.js';
import { defaultShapes, replaySets } from '../../src/cli/commands/fuzz.js';
import { FAILING_CLASSES } from '../../src/compare/classify.js';
import { check } from '../../src/engine/api.js';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fuzz } from '../../src/fuzz/fuzz.js';
import { NETWORK_POLICY_SHAPES, PolicyGenerator, SHAPES } from '../../src/fuzz/generate.js';
import { Random, setSeed } from '../../src/fuzz/random.js';
import { fuzzScenario } from '../../src/fuzz/scenario.js';
import { candidates, embeds } from '../../src/fuzz/shrink.js';
import { parseScenario } from '../../src/dsl/load.js';
import { fuzzDocument, fuzzText, minimalCaseFiles } from '../../src/report/fuzz.js';
import {
  clusterPoliciesIgnored,
  deviatingOracle,
  sharedChain,
  unresolvedNamedPort,
} from '../support/fuzz-oracle.js';

/*
 * polygraph fuzz, offline: the generator, the shrinker and the grouping, driven by the model with
 * deviations injected after kube-router's (test/support/fuzz-oracle.ts). The minimal cases and
 * the groups expected are written by hand from the injected deviations.
 */

const SHARED_CHAIN_GROUP =
  'the spec denies, the cluster allows: a selected pod to a selected pod; 1 policy: [policyTypes Ingress+Egress; ingress: no rule; egress: allow-all {}]';
const NAMED_PORT_GROUP =
  'the spec denies, the cluster allows: a selected pod to a selected pod; 1 policy: [policyTypes Ingress; ingress: any peer on named/TCP (resolves on none)]';

describe('fuzz: the generator', function () {
  // Property runs over many seeds: 5–10 s alone, three times that with the other Node
  // versions' suites on the same cores (.ci/run).
  this.timeout(60_000);
  it('makes only sets the product validation (as strict as the API server) accepts, for any seed, cluster policies included, and none the model warns of', async () => {
    const generator = new PolicyGenerator(SHAPES);
    let clusterPolicies = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.nat(1000), async (seed, i) => {
        const policies = generator.set(new Random(setSeed(seed, i)));
        const scenario = await fuzzScenario({ name: 'p', policies });
        const cluster = scenario.clusterPolicies ?? [];
        clusterPolicies += cluster.length;
        expect(scenario.policies.length + cluster.length).to.equal(policies.length);
        expect(cluster.length).to.be.within(1, 3);
        // No overlapping equal priorities, no peer without a field: the comparison is defined.
        expect(scenario.warnings ?? []).to.deep.equal([]);
      }),
      { seed: 20261201, numRuns: 300 },
    );
    expect(clusterPolicies).to.be.greaterThan(300);
  });

  it('draws the NetworkPolicies of a seed first: with cluster policies the set holds the same ones, or none', () => {
    for (let i = 0; i < 100; i++) {
      const alone = new PolicyGenerator(NETWORK_POLICY_SHAPES).set(new Random(setSeed(8, i)));
      const mixed = new PolicyGenerator(SHAPES).set(new Random(setSeed(8, i)));
      const networkPolicies = mixed.filter((p) => p.kind === 'NetworkPolicy');
      expect(networkPolicies.length === 0 || alone.length === networkPolicies.length, String(i)).to
        .be.true;
      if (networkPolicies.length > 0) expect(networkPolicies).to.deep.equal(alone);
      expect(mixed.slice(networkPolicies.length).every((p) => p.kind === 'ClusterNetworkPolicy')).to
        .be.true;
    }
  });

  it('covers ClusterNetworkPolicy v1beta1: both tiers, every action, subjects, peers, ports; equal priorities only for rules of disjoint directions', () => {
    const generator = new PolicyGenerator(SHAPES);
    const sets = Array.from({ length: 400 }, (_, i) =>
      generator.set(new Random(setSeed(3, i))).filter((p) => p.kind === 'ClusterNetworkPolicy'),
    );
    const text = sets.map((set) => JSON.stringify(set)).join('\n');
    for (const needle of [
      '"apiVersion":"policy.networking.k8s.io/v1beta1"',
      '"tier":"Admin"',
      '"tier":"Baseline"',
      '"action":"Accept"',
      '"action":"Deny"',
      '"action":"Pass"',
      '"subject":{"namespaces":',
      '"subject":{"pods":{"namespaceSelector"',
      '"subject":{"pods":{"podSelector"',
      '"from":[{"namespaces":',
      '"pods":{"podSelector"',
      '"networks":["',
      '"tcp":{"destinationPort":{"number":',
      '"udp":{"destinationPort":{"range":{"start":',
      '"destinationNamedPort":"http"',
      '"operator":"NotIn"',
      '"egress":[{"action"',
    ])
      expect(text, needle).to.include(needle);
    let shared = 0;
    for (const set of sets) {
      const specs = set.map(
        (p) => p.spec as { tier: string; priority: number; ingress?: unknown; egress?: unknown },
      );
      for (const [i, a] of specs.entries())
        for (const b of specs.slice(i + 1)) {
          if (a.tier !== b.tier || a.priority !== b.priority) continue;
          shared++;
          // One for ingress alone, the other for egress alone.
          expect(
            (a.ingress === undefined) !== (b.ingress === undefined) &&
              (a.egress === undefined) !== (b.egress === undefined),
            JSON.stringify([a, b]),
          ).to.equal(true);
        }
      // A rule with a networks peer never names a port (the CRD's rule).
      for (const spec of specs)
        for (const rule of (spec.egress ?? []) as { to: object[]; protocols?: object[] }[])
          if (rule.to.some((peer) => 'networks' in peer))
            expect(JSON.stringify(rule.protocols ?? [])).not.to.include('destinationNamedPort');
    }
    expect(shared).to.be.greaterThan(0);
  });

  it('is deterministic: a seed and an index give the same set', () => {
    const a = new PolicyGenerator().set(new Random(setSeed(42, 7)));
    const b = new PolicyGenerator().set(new Random(setSeed(42, 7)));
    expect(a).to.deep.equal(b);
    expect(new PolicyGenerator().set(new Random(setSeed(42, 8)))).not.to.deep.equal(a);
  });

  it('covers the spec: every operator, peers combined, named/unresolvable ports, endPort, ipBlock except, policyTypes forms, rule lists', () => {
    const generator = new PolicyGenerator();
    const text = Array.from({ length: 400 }, (_, i) =>
      JSON.stringify(generator.set(new Random(setSeed(3, i)))),
    ).join('\n');
    for (const needle of [
      '"operator":"In"',
      '"operator":"NotIn"',
      '"operator":"Exists"',
      '"operator":"DoesNotExist"',
      '"matchLabels"',
      '"namespaceSelector":{',
      '"kubernetes.io/metadata.name"',
      '"endPort"',
      '"except"',
      '"ipBlock"',
      '"port":"http"',
      '"port":"metrics"',
      '"port":"serve-80-udp","protocol":"TCP"',
      '"policyTypes":[]',
      '"policyTypes":["Ingress","Egress"]',
      '"ingress":[]',
      '"egress":[{}]',
      '"ingress":[{}]',
      '"podSelector":{}',
    ])
      expect(text, needle).to.include(needle);
    // Both peers in one element (AND) and two peers in one rule (OR).
    expect(text).to.match(/"namespaceSelector":\{[^}]*\}+,"podSelector"/);
    expect(text).to.match(/"from":\[\{[^\]]*\},\{/);
    // policyTypes omitted.
    expect(text).to.match(/"spec":\{"podSelector":[^\n]*?\}(,"ingress"|,"egress"|\}\})/);
  });

  it('leaves out a shape family that is not asked for, in cluster policies too', () => {
    const generator = new PolicyGenerator(SHAPES.filter((s) => s !== 'ipblock' && s !== 'egress'));
    const text = Array.from({ length: 200 }, (_, i) =>
      JSON.stringify(generator.set(new Random(setSeed(5, i)))),
    ).join('\n');
    expect(text).to.include('"kind":"ClusterNetworkPolicy"');
    expect(text).not.to.include('ipBlock');
    expect(text).not.to.include('"networks"');
    expect(text).not.to.include('"egress"');
    expect(text).not.to.include('"Egress"');
    const plain = Array.from({ length: 200 }, (_, i) =>
      JSON.stringify(new PolicyGenerator(NETWORK_POLICY_SHAPES).set(new Random(setSeed(5, i)))),
    ).join('\n');
    expect(plain).not.to.include('ClusterNetworkPolicy');
  });
});

describe('fuzz: the shrinker', () => {
  it('proposes every single removal, shallowest first, never the identity of a policy', () => {
    const policies = [
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'p0', namespace: 'x' },
        spec: {
          podSelector: { matchLabels: { app: 'web' } },
          ingress: [{ ports: [{ port: 80 }] }],
        },
      },
    ];
    const all = candidates(policies).map((c) => JSON.stringify(c));
    expect(all[0]).to.equal('[]');
    // The policy; ingress; matchLabels, its label; the rule; its ports, the port, its number.
    expect(all).to.have.length(8);
    expect(all).to.include(
      JSON.stringify([
        { ...policies[0], spec: { podSelector: {}, ingress: [{ ports: [{ port: 80 }] }] } },
      ]),
    );
    expect(
      all.every((c) => c === '[]' || c.includes('"metadata":{"name":"p0","namespace":"x"}')),
    ).to.equal(true);
  });

  it('never proposes removing what a ClusterNetworkPolicy requires: tier, priority, subject', () => {
    const policies = [
      {
        apiVersion: 'policy.networking.k8s.io/v1beta1',
        kind: 'ClusterNetworkPolicy',
        metadata: { name: 'c0' },
        spec: {
          tier: 'Admin',
          priority: 10,
          subject: { namespaces: {} },
          ingress: [{ action: 'Deny', from: [{ namespaces: {} }] }],
        },
      },
    ];
    const all = candidates(policies).map((c) => JSON.stringify(c));
    // The policy; ingress; the rule; its action, its from, the peer, the peer's field; the
    // subject's field.
    expect(all).to.have.length(8);
    expect(all[0]).to.equal('[]');
    for (const c of all.slice(1)) expect(c).to.include('"tier":"Admin","priority":10,"subject":{');
  });

  it('embeds: a case with pieces removed is found in the set it came from, not in another', () => {
    const big = {
      podSelector: { matchLabels: { a: 'b' } },
      egress: [{ to: [{}] }, { ports: [{ port: 80 }] }],
    };
    expect(embeds({ podSelector: {}, egress: [{}] }, big)).to.equal(true);
    expect(embeds({ podSelector: {}, egress: [{ ports: [{ port: 80 }] }] }, big)).to.equal(true);
    expect(embeds({ podSelector: {}, egress: [{ ports: [{ port: 81 }] }] }, big)).to.equal(false);
    expect(embeds({ podSelector: {}, ingress: [{}] }, big)).to.equal(false);
  });
});

describe('fuzz: shrinking and grouping against injected deviations', function () {
  this.timeout(60_000); // as the generator's
  it('shrinks the shared-chain deviation to its minimal case and groups every set that shows it', async () => {
    const oracle = deviatingOracle([sharedChain]);
    const run = await fuzz(oracle, { seed: 1, cases: 40 });
    expect(run.groups.map((g) => g.signature)).to.deep.equal([SHARED_CHAIN_GROUP]);
    const [group] = run.groups;
    // Written by hand: one policy selecting every pod, Egress with an allow-all rule, nothing
    // else (policyTypes defaulted to Ingress+Egress by the egress rule).
    expect(group?.minimal.policies.map((p) => p.spec)).to.deep.equal([
      { podSelector: {}, egress: [{}] },
    ]);
    expect(group?.minimal.shrink.minimal).to.equal(true);
    // The six cells between the three pods of the policy's namespace, on each of 4 probes.
    const ns = (group?.minimal.policies[0]?.metadata as { namespace: string }).namespace;
    expect(group?.minimal.cells).to.have.length(24);
    expect(
      group?.minimal.cells.every(
        (c) => c.from.startsWith(`${ns}/`) && c.to.startsWith(`${ns}/`) && c.from !== c.to,
      ),
    ).to.equal(true);
    // Every set with a differing cell is in the group, and every differing cell is covered.
    const differing = run.sets.filter((s) => s.differing > 0);
    expect(differing.length).to.be.greaterThan(3);
    expect([...(group?.sets ?? [])].sort((a, b) => a - b)).to.deep.equal(
      differing.map((s) => s.index),
    );
    expect(group?.cells).to.equal(run.totals.differing);
    expect(run.sets.every((s) => s.unshrunk === 0 && s.intermittent.length === 0)).to.equal(true);
  });

  it('separates two deviations into two groups with their own minimal cases', async () => {
    const run = await fuzz(deviatingOracle([sharedChain, unresolvedNamedPort]), {
      seed: 1,
      cases: 40,
    });
    expect(run.groups.map((g) => g.signature).sort()).to.deep.equal(
      [NAMED_PORT_GROUP, SHARED_CHAIN_GROUP].sort(),
    );
    const named = run.groups.find((g) => g.signature === NAMED_PORT_GROUP);
    // By hand: an Ingress policy over every pod whose one rule names a port no pod serves for TCP.
    const spec = named?.minimal.policies[0]?.spec as {
      podSelector: unknown;
      ingress: { ports: { port: string }[] }[];
    };
    expect(Object.keys(spec)).to.deep.equal(['podSelector', 'ingress']);
    expect(spec.podSelector).to.deep.equal({});
    expect(spec.ingress).to.have.length(1);
    expect(spec.ingress[0]?.ports).to.have.length(1);
    expect(['metrics', 'serve-80-udp']).to.include(spec.ingress[0]?.ports[0]?.port);
    expect(run.groups.reduce((n, g) => n + g.cells, 0)).to.equal(run.totals.differing);
  });

  it('prints a minimal case as a scenario that check accepts and that expects the spec on its cells', async () => {
    const run = await fuzz(deviatingOracle([sharedChain]), { seed: 1, cases: 5 });
    const text = run.groups[0]?.minimal.scenario ?? '';
    const scenario = await parseScenario(text, 'minimal.yaml');
    expect(scenario.policies).to.have.length(1);
    expect(scenario.steps[0]?.expect?.rules).to.have.length(24);
    expect(scenario.steps[0]?.expect?.rules.every((r) => r.verdict === 'deny')).to.equal(true);
    expect(text).to.include('# observed: allow; the spec: denied');
  });

  it('does not shrink a cell that does not differ again: it is intermittent', async () => {
    // The deviation shows on the first run of each set only.
    let runs = 0;
    const oracle = deviatingOracle([sharedChain], { onlyOnCall: () => ++runs % 2 === 1 });
    const run = await fuzz(oracle, { seed: 1, cases: 1 });
    expect(run.sets[0]?.differing).to.be.greaterThan(0);
    expect(run.groups).to.deep.equal([]);
    expect(run.sets[0]?.intermittent.length).to.be.greaterThan(0);
    expect(run.totals.intermittent).to.equal(run.sets[0]?.intermittent.length);
  });

  it('bounds shrinking by steps', async () => {
    const oracle = deviatingOracle([sharedChain]);
    const run = await fuzz(oracle, { seed: 1, cases: 1, bounds: { maxSteps: 2, maxMs: 60_000 } });
    expect(run.groups[0]?.minimal.shrink.steps).to.equal(2);
    expect(run.groups[0]?.minimal.shrink.minimal).to.equal(false);
  });

  it('finds nothing when the cluster follows the spec', async () => {
    const run = await fuzz(deviatingOracle([]), { seed: 9, cases: 20 });
    expect(run.totals.differing).to.equal(0);
    expect(run.groups).to.deep.equal([]);
    expect(run.totals.cells).to.equal(20 * 9 * 9 * 4);
  });

  it('stops when asked, after the current set, and says so', async () => {
    let n = 0;
    const run = await fuzz(deviatingOracle([]), { seed: 9, cases: 20, stop: () => ++n > 3 });
    expect(run.sets).to.have.length(3);
    expect(run.stopped).to.equal('interrupted');
  });

  it('refuses a replayed set the validation refuses', async () => {
    const bad = [
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'p', namespace: 'x' },
        spec: { podSelector: {}, policyTypes: ['Sideways'] },
      },
    ];
    let error: unknown;
    try {
      await fuzz(deviatingOracle([]), { seed: 0, replay: [{ name: 'bad', policies: bad }] });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(InputError);
  });
});

describe('fuzz: cluster policies against a cluster that enforces none of them', function () {
  this.timeout(60_000); // as the generator's
  const CNP = 'policy.networking.k8s.io/v1beta1';
  // By hand: an Admin Deny into z from the team blue namespaces (x, y) on 80/TCP, a second peer
  // that matches no pod (no pod has role=none), a NetworkPolicy in y and a Baseline Pass that
  // decide nothing the Deny decides.
  const SET = [
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'p0', namespace: 'y' },
      spec: {
        podSelector: { matchLabels: { app: 'db' } },
        ingress: [{ from: [{ podSelector: {} }] }],
      },
    },
    {
      apiVersion: CNP,
      kind: 'ClusterNetworkPolicy',
      metadata: { name: 'c0' },
      spec: {
        tier: 'Admin',
        priority: 10,
        subject: { namespaces: { matchLabels: { team: 'red' } } },
        ingress: [
          {
            action: 'Deny',
            from: [
              { namespaces: { matchLabels: { env: 'prod' } } },
              { pods: { podSelector: { matchLabels: { role: 'none' } } } },
            ],
            protocols: [{ tcp: { destinationPort: { number: 80 } } }],
          },
        ],
      },
    },
    {
      apiVersion: CNP,
      kind: 'ClusterNetworkPolicy',
      metadata: { name: 'c1' },
      spec: {
        tier: 'Baseline',
        priority: 10,
        subject: { pods: { podSelector: { matchLabels: { pod: 'a' } } } },
        egress: [{ action: 'Pass', to: [{ networks: ['0.0.0.0/0'] }] }],
      },
    },
  ];

  it('shrinks a set to the one Deny that decides, and describes it in the signature', async () => {
    const run = await fuzz(clusterPoliciesIgnored(), {
      seed: 0,
      replay: [{ name: 'cnp', policies: SET }],
    });
    // x (env prod) -> z on 80/TCP: the spec denies, the cluster allows.
    expect(run.sets[0]?.differingCells).to.have.length(9);
    expect(
      run.sets[0]?.differingCells.every((k) => /^80\/TCP x\/[abc] z\/[abc]$/.test(k)),
    ).to.equal(true);
    expect(run.groups.map((g) => g.signature)).to.deep.equal([
      'the spec denies, the cluster allows: a cluster policy subject to a cluster policy subject; 1 cluster policy: [Admin tier; subject namespaces; ingress: Deny namespaces on any port]',
    ]);
    const group = run.groups[0];
    // Every piece that does not decide the cell is gone: the NetworkPolicy, the Baseline
    // policy, the peer that matches nothing, the ports, every selector term.
    expect(group?.minimal.policies).to.deep.equal([
      {
        apiVersion: CNP,
        kind: 'ClusterNetworkPolicy',
        metadata: { name: 'c0' },
        spec: {
          tier: 'Admin',
          priority: 10,
          subject: { namespaces: {} },
          ingress: [{ action: 'Deny', from: [{ namespaces: {} }] }],
        },
      },
    ]);
    expect(group?.minimal.shrink.minimal).to.equal(true);
    // Deny every pod to every other pod, every probe (a pod to itself is not subject to it).
    expect(group?.minimal.cells).to.have.length(9 * 8 * 4);
    expect(group?.cells).to.equal(9);
    // The minimal case as a scenario: check accepts it, with its cluster policy.
    const scenario = await parseScenario(group?.minimal.scenario ?? '', 'minimal.yaml');
    expect(scenario.policies).to.have.length(0);
    expect(scenario.clusterPolicies?.map((p) => p.info.name)).to.deep.equal(['c0']);
    expect(scenario.steps[0]?.expect?.rules).to.have.length(288);
    const file = join(await mkdtemp(join(tmpdir(), 'fuzz-cnp-')), 'minimal.yaml');
    await writeFile(file, group?.minimal.scenario ?? '');
    const checked = await check(file);
    // The 288 cells it expects agree with the model; nothing fails (a pod to itself: no rule).
    expect(checked.counts.byClass.agree).to.equal(288);
    expect(FAILING_CLASSES.map((c) => checked.counts.byClass[c])).to.deep.equal([0, 0, 0, 0]);
  });

  it('every generated deviation shrinks to one cluster policy with one Accept or Deny rule', async () => {
    // A Pass alone decides nothing the next tiers would not; one deciding rule is enough for a
    // cell where the cluster policies change the verdict, and every other piece goes.
    const run = await fuzz(clusterPoliciesIgnored(), {
      seed: 3,
      cases: 12,
      shapes: SHAPES,
      bounds: { maxSteps: 1000, maxMs: 600_000 },
    });
    expect(run.shapes).to.include('cluster-policies');
    expect(run.groups.length).to.be.greaterThan(0);
    for (const g of run.groups) {
      const cluster = g.minimal.policies.filter((p) => p.kind === 'ClusterNetworkPolicy');
      expect(cluster, g.signature).to.have.length(1);
      const spec = cluster[0]?.spec as {
        ingress?: { action: string }[];
        egress?: { action: string }[];
      };
      const rules = [...(spec.ingress ?? []), ...(spec.egress ?? [])];
      expect(rules, g.signature).to.have.length(1);
      expect(['Accept', 'Deny'], g.signature).to.include(rules[0]?.action);
      expect(g.minimal.shrink.minimal, g.signature).to.equal(true);
      expect(g.signature).to.match(
        /1 cluster policy: \[(Admin|Baseline) tier; subject (namespaces|pods); (ingress|egress): (Accept|Deny) /,
      );
      expect((await parseScenario(g.minimal.scenario, 'm.yaml')).clusterPolicies).to.have.length(1);
    }
    expect(
      run.groups.reduce((n, g) => n + g.cells, 0) + run.sets.reduce((n, s) => n + s.unshrunk, 0),
    ).to.equal(run.totals.differing);
  });

  it('is on by default only where the cluster serves ClusterNetworkPolicy v1beta1 and the plugin is not known to ignore it', () => {
    const served = (version: string, kind = 'ClusterNetworkPolicy') => ({
      group: 'policy.networking.k8s.io',
      version,
      kind,
      plural: 'clusternetworkpolicies',
      namespaced: false,
    });
    expect(defaultShapes([served('v1beta1')], undefined).shapes).to.deep.equal([...SHAPES]);
    expect(defaultShapes([served('v1beta1'), served('v1alpha2')], 'calico').shapes).to.include(
      'cluster-policies',
    );
    for (const [list, plugin, reason] of [
      [
        [],
        undefined,
        'the cluster does not serve ClusterNetworkPolicy policy.networking.k8s.io/v1beta1',
      ],
      [[served('v1alpha2')], undefined, 'does not serve'],
      [[served('v1alpha1', 'AdminNetworkPolicy')], 'cilium', 'does not serve'],
      [[served('v1beta1')], 'kube-router', 'but kube-router does not enforce it'],
    ] as const) {
      const chosen = defaultShapes(list, plugin);
      expect(chosen.shapes).to.deep.equal([...NETWORK_POLICY_SHAPES]);
      expect(chosen.note).to.include(reason);
    }
  });

  it('replays a minimal case with a cluster policy, which agrees with the model (its expectations are written by hand)', async () => {
    const file = new URL('../e2e/fixtures/fuzz/cluster-policy-deny.yaml', import.meta.url).pathname;
    expect((await check(file)).counts.byClass.agree).to.equal(324);
    const [set] = await replaySets([file]);
    expect(set?.policies.map((p) => p.kind)).to.deep.equal(['ClusterNetworkPolicy']);
    const run = await fuzz(clusterPoliciesIgnored(), { seed: 0, replay: [set!], shrink: false });
    // By hand: x, y -> z on 80/TCP; the set is its own case (no shrinking).
    expect(run.sets[0]?.differingCells).to.have.length(18);
    expect(run.groups.map((g) => g.signature)).to.deep.equal([
      'the spec denies, the cluster allows: a pod no policy selects to a cluster policy subject; 1 cluster policy: [Admin tier; subject namespaces; ingress: Deny namespaces on number/TCP]',
    ]);
  });
});

describe('fuzz: the result document and its text', () => {
  const CLUSTER = { server: 'https://10.0.0.1:6443', kubernetesVersion: 'v1.32.4' };

  it('validates against schemas/fuzz-output.schema.json and reads groups and counts in text', async () => {
    const run = await fuzz(deviatingOracle([sharedChain, unresolvedNamedPort]), {
      seed: 1,
      cases: 12,
    });
    const doc = fuzzDocument(run, {
      startedAt: new Date('2026-12-01T04:00:00Z'),
      cluster: CLUSTER,
      plugin: 'kube-router',
      clusterRuns: 7,
    });
    const validate = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true }).compile(
      JSON.parse(
        readFileSync(new URL('../../schemas/fuzz-output.schema.json', import.meta.url), 'utf8'),
      ) as object,
    );
    const json = JSON.parse(JSON.stringify(doc)) as unknown;
    expect(validate(json), JSON.stringify(validate.errors, null, 2)).to.equal(true);
    expect(doc.comparison).to.equal('observed-vs-model');
    expect(doc.seed).to.equal(1);
    expect(doc.totals.sets).to.equal(12);
    expect(doc.totals.groups).to.equal(doc.groups.length);

    const text = fuzzText(doc);
    expect(text).to.include('polygraph fuzz, seed 1: 12 sets, 3,888 cells');
    expect(text).to.include(`group 1: ${SHARED_CHAIN_GROUP}`);
    expect(text).to.include('observed vs the model of the spec (no expectation)');
    expect(text).to.match(
      /✗ \d+\/(TCP|UDP) (\w)\/\w -> \2\/\w: the spec says deny, the cluster allows/,
    );
    expect(text).to.match(
      /deviations: 12 sets, 3,888 cells: [\d,]+ cells in \d+ sets differ from the spec, in \d groups?; 7 runs on the cluster/,
    );
    expect(minimalCaseFiles(doc).get('group-1.yaml')).to.equal(doc.groups[0]?.minimal.scenario);
  });

  it('a document with no group says the cluster agrees', async () => {
    const run = await fuzz(deviatingOracle([]), { seed: 2, cases: 2 });
    const text = fuzzText(
      fuzzDocument(run, { startedAt: new Date(), cluster: CLUSTER, clusterRuns: 2 }),
    );
    expect(text).to.match(
      /\nagree: 2 sets, 648 cells: 0 cells in 0 sets differ from the spec, in 0 groups; 2 runs on the cluster$/,
    );
  });
});

describe('fuzz: replayed sets', () => {
  const FIXTURES = new URL('../e2e/fixtures/fuzz/', import.meta.url).pathname;
  const files = [
    'shared-chain',
    'named-port-resolving-nowhere',
    'ipblock-peers-merged',
    'egress-ipblock-named-port',
  ];

  it('the four minimal cases of kube-router patterns agree with the model (their expectations are written by hand)', async () => {
    for (const f of files) {
      const result = await check(`${FIXTURES}${f}.yaml`);
      expect(result.counts.byClass.agree, f).to.equal(324);
    }
  });

  it('reads minimal-case scenario files and fuzz JSON results; refuses another topology', async () => {
    const sets = await replaySets(files.map((f) => `${FIXTURES}${f}.yaml`));
    expect(sets.map((s) => s.name)).to.deep.equal(files.map((f) => `fuzz ${f}`));
    expect(sets[0]?.policies[0]?.spec).to.deep.equal({
      podSelector: {},
      policyTypes: ['Ingress', 'Egress'],
      egress: [{ to: [{ podSelector: {} }] }],
    });
    const dir = await mkdtemp(join(tmpdir(), 'fuzz-replay-'));
    const run = await fuzz(deviatingOracle([]), { seed: 4, cases: 3 });
    const json = join(dir, 'result.json');
    await writeFile(
      json,
      JSON.stringify(
        fuzzDocument(run, {
          startedAt: new Date(),
          cluster: { server: 's', kubernetesVersion: 'v' },
          clusterRuns: 3,
        }),
      ),
    );
    const again = await replaySets([json]);
    expect(again.map((s) => s.policies)).to.deep.equal(run.sets.map((s) => s.policies));
    let error: unknown;
    try {
      await replaySets([new URL('../../scenarios/three-tier.yaml', import.meta.url).pathname]);
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(UsageError);
    expect((error as Error).message).to.include('is not the fuzz topology');
  });
});

describe('polygraph fuzz: usage (built CLI, no cluster needed)', function () {
  this.timeout(30_000);
  const CLI = new URL('../../dist/cli/main.js', import.meta.url).pathname;
  const polygraph = async (...args: string[]) => {
    const r = await execa('node', [CLI, 'fuzz', ...args], {
      reject: false,
      env: { NO_COLOR: '1' },
    });
    return { code: r.exitCode, stderr: r.stderr, stdout: r.stdout };
  };

  it('exits 2 before touching a cluster on conflicting or bad options', async () => {
    for (const [args, message] of [
      [['--cases', '3', '--duration', '1m'], 'give --cases or --duration, not both'],
      [['--shapes', 'selectors,nope'], 'unknown shape nope'],
      [['--duration', 'soon'], 'expected a duration such as 90s, 5m or 1h'],
      [['--external-exec', 'ip netns exec pg-ext1'], 'needs the host'],
      [['--replay', 'scenarios/three-tier.yaml'], 'is not the fuzz topology'],
      [['--replay', 'x.json', '--cases', '2'], 'leave out --cases and --duration'],
    ] as const) {
      const r = await polygraph(...args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).to.equal(2);
      expect(r.stderr).to.include(message);
      expect(r.stdout).to.equal('');
    }
  });

  it('--help names the options and the exit codes', async () => {
    const r = await polygraph('--help');
    expect(r.code).to.equal(0);
    for (const flag of [
      '--seed',
      '--cases',
      '--duration',
      '--shapes',
      '--replay',
      '--no-shrink',
      '--write-cases',
    ])
      expect(r.stdout).to.include(flag);
    expect(r.stdout.replace(/\s+/g, ' ')).to.include('Exit 0 no cell differs, 1 a cell differs');
    expect(r.stdout.replace(/\s+/g, ' ')).to.include(
      'cluster-policies only where the cluster serves ClusterNetworkPolicy v1beta1 and the plugin, named or detected, is none of kube-router, flannel, weave',
    );
  });
});
