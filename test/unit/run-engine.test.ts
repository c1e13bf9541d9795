/**
 * The engine's logic against a recording fake cluster: namespace mapping, the order of actions,
 * settling, flaky cells, known deviations, cleanup on failure and on abort. A seam for logic
 * only; the lab proves the behaviour on Kubernetes (test/e2e/conformance.e2e.ts, run.e2e.ts).
 */
import { expect } from 'chai';
import type {
  ClusterObjectManifest,
  Labels,
  NetworkPolicyManifest,
  PodSpecInput,
} from '../../src/cluster/index.js';
import { ClusterError } from '../../src/cluster/index.js';
import { UsageError } from '../../src/domain/errors.js';
import type { JobResult, Outcome, RunnableJob } from '../../src/domain/job.js';
import { parsePattern, type Pattern } from '../../src/domain/pattern.js';
import type {
  Action,
  HeldConnection,
  Scenario,
  ScenarioClusterPolicy,
  ScenarioPolicy,
  ScenarioStep,
} from '../../src/dsl/types.js';
import { failing } from '../../src/engine/results.js';
import type {
  ClusterPolicyRef,
  LiveCluster,
  ProbeSettings,
} from '../../src/engine/live-cluster.js';
import type { NodeFacts } from '../../src/cluster/index.js';
import { TopologyPool, topologyKey } from '../../src/engine/pool.js';
import { liveClusterPolicy, livePolicy, namespaceMap } from '../../src/engine/names.js';
import { canaryScenario, enforcementCanary } from '../../src/engine/preflight.js';
import { runScenario } from '../../src/engine/run.js';
import { runSuite, SuiteQueue } from '../../src/engine/suite.js';
import { scenarioProbePod } from '../../src/probe/probe-pod.js';
import type { HeldClient } from '../../src/probe/hold.js';
import { NetworkModel } from '../../src/model/engine.js';
import { IssueSink } from '../../src/model/raw.js';
import { isClusterPolicyKind, readClusterPolicy } from '../../src/model/cluster-validate.js';
import {
  DEFAULT_MODEL_OPTIONS,
  type NetworkPolicyInfo,
  type PodInfo,
  type World,
} from '../../src/model/types.js';
import { readNetworkPolicy } from '../../src/model/validate.js';
import { targetAddress, type LivePod } from '../../src/probe/probe-runner.js';

const LOC = { file: 'test.yaml', line: 1, col: 1 };

function policy(manifest: Record<string, unknown>): ScenarioPolicy {
  const sink = new IssueSink();
  const info = readNetworkPolicy(manifest, sink);
  if (info === undefined) throw new Error(JSON.stringify(sink.issues));
  return { info, manifest, location: LOC };
}

const pod = (namespace: string, name: string, labels: Labels = {}): PodInfo => ({
  namespace,
  name,
  labels,
  ips: [],
  ports: [
    { containerPort: 80, protocol: 'TCP', name: 'http' },
    { containerPort: 80, protocol: 'UDP' },
  ],
  hostNetwork: false,
});

const DENY_X = policy({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'deny', namespace: 'x' },
  spec: { podSelector: {} },
});

const FROM_Y = policy({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'from-y', namespace: 'x' },
  spec: {
    podSelector: {},
    ingress: [
      {
        from: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'y' } },
          },
        ],
      },
    ],
  },
});

const BASE_WORLD: World = {
  namespaces: [
    { name: 'x', labels: { team: 'a', 'kubernetes.io/metadata.name': 'x' } },
    { name: 'y', labels: { 'kubernetes.io/metadata.name': 'y' } },
  ],
  pods: [pod('x', 'a', { app: 'a' }), pod('y', 'b', { app: 'b' })],
  externals: [],
  policies: [],
};

function step(
  index: number,
  name: string,
  actions: Action[],
  policies: NetworkPolicyInfo[],
): ScenarioStep {
  return {
    index,
    name,
    actions,
    world: { ...BASE_WORLD, policies },
    expect: { rules: [], tables: [] },
    location: LOC,
  };
}

function scenario(extra: Partial<Scenario> = {}): Scenario {
  return {
    file: 'test.yaml',
    name: 'test',
    options: DEFAULT_MODEL_OPTIONS,
    initial: { ...BASE_WORLD, policies: [DENY_X.info] },
    policies: [DENY_X],
    steps: [
      step(0, 'deny', [], [DENY_X.info]),
      step(1, 'allow y', [{ kind: 'apply', policies: [FROM_Y] }], [DENY_X.info, FROM_Y.info]),
    ],
    knownDeviations: [],
    ...extra,
  };
}

/** A scenario of another topology than scenario()'s: x/a and y/c only, no policy. */
function otherTopology(): Scenario {
  return scenario({
    name: 'other',
    initial: { ...BASE_WORLD, pods: [pod('x', 'a'), pod('y', 'c')], policies: [] },
  });
}

/** A kube-router deviation on step "deny": the cells from FROM to TO are observed allowed. */
function withDeviation(from: string, to: string, reason: string, intermittent = false): Scenario {
  return scenario({
    knownDeviations: [
      {
        plugin: 'kube-router',
        step: 'deny',
        cells: [
          {
            from: parsePattern(from) as Pattern,
            to: parsePattern(to) as Pattern,
            text: `from ${from} to ${to}`,
          },
        ],
        observed: 'allow',
        ...(intermittent ? { intermittent: true } : {}),
        reason,
        location: LOC,
      },
    ],
  });
}

type Call = string;

/**
 * A cluster that records every call and answers probes from a NetworkModel of the policies it
 * holds (scenario names recovered from the live ones), optionally lagging or lying.
 */
class FakeCluster implements LiveCluster {
  readonly server = 'https://fake:6443';
  readonly calls: Call[] = [];
  readonly namespaces = new Map<string, Labels>();
  readonly policies = new Map<string, NetworkPolicyManifest>();
  /** Cluster policies by `Kind/name`, as received. */
  readonly clusterPolicies = new Map<string, ClusterObjectManifest>();
  probeRounds = 0;
  /** Probe rounds after a policy change during which the old state still shows. */
  lag = 0;
  private stale = 0;
  private snapshot = new Map<string, NetworkPolicyManifest>();
  /** Overrides an outcome: (cell key, round) → outcome. */
  override?: (key: string, round: number) => Outcome | undefined;
  /** Overrides the outcome of the jobs of one family. */
  familyOverride?: (key: string, family: 4 | 6) => Outcome | undefined;
  /** Every probe as `from>to host`, the host being the address the job targets. */
  readonly probedHosts: string[] = [];
  failOn?: string;
  onProbe?: () => void;
  world: World = BASE_WORLD;

  /** The run id the live names carry, or a pattern of `-<run id>` for several runs. */
  constructor(readonly suffix: string | RegExp) {}

  private record(call: string): void {
    this.calls.push(call);
    if (this.failOn !== undefined && call.startsWith(this.failOn))
      throw new ClusterError('boom', { verb: 'fake', kind: 'Thing' });
  }

  createNamespace(name: string, labels: Labels): Promise<void> {
    this.record(`create-namespace ${name} ${JSON.stringify(labels)}`);
    this.namespaces.set(name, labels);
    return Promise.resolve();
  }
  findNamespace(name: string): Promise<Labels | undefined> {
    return Promise.resolve(this.namespaces.get(name));
  }
  setNamespaceLabels(name: string, labels: Labels): Promise<void> {
    this.record(`label-namespace ${name} ${JSON.stringify(labels)}`);
    return Promise.resolve();
  }
  /** The namespaces deleted with `wait` (the caller waits until they are gone). */
  readonly waitedFor: string[] = [];
  deleteNamespace(name: string, wait: boolean): Promise<void> {
    this.calls.push(`delete-namespace ${name}`);
    if (wait) this.waitedFor.push(name);
    this.namespaces.delete(name);
    return Promise.resolve();
  }
  /** The nodes listNodes answers; a ClusterError when set to 'forbidden'. */
  nodes: NodeFacts[] | 'forbidden' = [
    { name: 'n', ready: true, schedulable: true, internalIPs: ['10.240.0.1'] },
  ];
  /** Pod key → the node a pod was pinned to. */
  readonly pinned = new Map<string, string | undefined>();
  /** Each created pod's containers as `name: args`. */
  readonly podContainers = new Map<string, string[]>();
  createPod(spec: PodSpecInput): Promise<void> {
    this.record(`create-pod ${spec.namespace}/${spec.name}`);
    this.podContainers.set(
      `${spec.namespace}/${spec.name}`,
      spec.containers.map((c) => `${c.name}: ${(c.args ?? []).join(' ')}`),
    );
    this.pinned.set(`${spec.namespace}/${spec.name}`, spec.node);
    return Promise.resolve();
  }
  listNodes(): Promise<NodeFacts[]> {
    if (this.nodes === 'forbidden')
      return Promise.reject(
        new ClusterError('nodes is forbidden: User "ci" cannot list resource "nodes"', {
          verb: 'list',
          kind: 'Node',
        }),
      );
    return Promise.resolve(this.nodes);
  }
  /** Pods get an IPv6 address too (status.podIPs of a dual-stack cluster). */
  dualStack = false;
  waitPodsReady(namespace: string, names: readonly string[]) {
    this.record(`wait ${namespace} ${names.join(',')}`);
    return Promise.resolve(
      names.map((name, i) => ({
        namespace,
        name,
        ip: `10.244.0.${String(namespace.length * 10 + i)}`,
        ...(this.dualStack
          ? {
              ips: [
                `10.244.0.${String(namespace.length * 10 + i)}`,
                `fd00::${String(namespace.length * 10 + i)}`,
              ],
            }
          : {}),
        nodeName: this.pinned.get(`${namespace}/${name}`) ?? 'n',
        phase: 'Running',
        ready: true,
        labels: {},
        containerPorts: [],
      })),
    );
  }
  setPodLabels(namespace: string, name: string, labels: Labels): Promise<void> {
    this.record(`label-pod ${namespace}/${name} ${JSON.stringify(labels)}`);
    return Promise.resolve();
  }
  deletePod(namespace: string, name: string): Promise<void> {
    this.record(`delete-pod ${namespace}/${name}`);
    return Promise.resolve();
  }
  applyPolicy(p: NetworkPolicyManifest): Promise<void> {
    this.record(`apply ${p.metadata.namespace ?? ''}/${p.metadata.name}`);
    this.snapshot = new Map(this.policies);
    this.policies.set(`${p.metadata.namespace ?? ''}/${p.metadata.name}`, p);
    this.stale = this.lag;
    return Promise.resolve();
  }
  deletePolicy(namespace: string, name: string): Promise<void> {
    this.record(`delete-policy ${namespace}/${name}`);
    this.snapshot = new Map(this.policies);
    this.policies.delete(`${namespace}/${name}`);
    this.stale = this.lag;
    return Promise.resolve();
  }
  applyClusterPolicy(p: ClusterObjectManifest): Promise<void> {
    this.record(`apply-cluster ${p.kind}/${p.metadata.name}`);
    this.clusterPolicies.set(`${p.kind}/${p.metadata.name}`, p);
    return Promise.resolve();
  }
  deleteClusterPolicy(ref: ClusterPolicyRef): Promise<void> {
    this.record(`delete-cluster ${ref.kind}/${ref.name}`);
    this.clusterPolicies.delete(`${ref.kind}/${ref.name}`);
    return Promise.resolve();
  }
  /** Pods with an open probe session ("ns/pod"). */
  readonly sessions = new Set<string>();
  openProbes(pods: readonly LivePod[]): Promise<void> {
    for (const p of pods) this.sessions.add(`${p.namespace}/${p.name}`);
    this.calls.push(`open-probes ${pods.map((p) => `${p.namespace}/${p.name}`).join(',')}`);
    return Promise.resolve();
  }
  closeProbes(pods: readonly LivePod[]): Promise<void> {
    for (const p of pods) this.sessions.delete(`${p.namespace}/${p.name}`);
    this.calls.push(`close-probes ${pods.map((p) => `${p.namespace}/${p.name}`).join(',')}`);
    return Promise.resolve();
  }
  /** What each held connection does: its opening report and its test outcome, by host:port. */
  holdOpen: (id: string) => 'open' | 'probe-error' = () => 'open';
  holdTest: (id: string) => 'open' | 'reset' | 'dropped' = () => 'open';
  /** Hold clients not closed yet. */
  readonly openHoldClients = new Set<string>();
  holdFrom(pod: LivePod): HeldClient {
    const name = `${pod.namespace}/${pod.name}`;
    let closed = false;
    return {
      open: (requests) => {
        this.calls.push(
          `hold-open ${name} ${requests.map((r) => `${r.id}:${r.host}:${String(r.port)}/${r.protocol}`).join(',')}`,
        );
        this.openHoldClients.add(name);
        return Promise.resolve(
          requests.map((r) => ({
            id: r.id,
            outcome: this.holdOpen(r.id),
            elapsedMs: 1,
            detail: 'fake open',
          })),
        );
      },
      test: (ids) => {
        this.calls.push(`hold-test ${name} ${ids.join(',')}`);
        return Promise.resolve(
          ids.map((id) => ({ id, outcome: this.holdTest(id), elapsedMs: 1, detail: 'fake test' })),
        );
      },
      close: () => {
        if (closed) return;
        closed = true;
        this.openHoldClients.delete(name);
        this.calls.push(`hold-close ${name}`);
      },
    };
  }
  /** Source pods probed while their session was not open. */
  readonly probedWithoutSession: string[] = [];
  /** The sources of every probed job, and the last settings. */
  readonly probedFrom: string[] = [];
  settings: ProbeSettings | undefined;
  probe(
    jobs: readonly RunnableJob[],
    targets: ReadonlyMap<string, LivePod>,
    settings?: ProbeSettings,
  ): Promise<JobResult[]> {
    for (const { job } of jobs) {
      if (settings?.hosts?.has(job.from) === true) continue;
      const source = targets.get(job.from);
      const key = source === undefined ? job.from : `${source.namespace}/${source.name}`;
      if (!this.sessions.has(key)) this.probedWithoutSession.push(key);
    }
    this.onProbe?.();
    this.settings = settings;
    this.probedFrom.push(...jobs.map((j) => j.job.from));
    this.probeRounds++;
    const showing = this.stale > 0 ? this.snapshot : this.policies;
    if (this.stale > 0) this.stale--;
    const suffix = this.suffix;
    const unsuffix = (s: string) =>
      typeof suffix === 'string' ? s.replaceAll(`-${suffix}`, '') : s.replace(suffix, '');
    const infos = [...showing.values()].map((m) => {
      const info = readNetworkPolicy(
        JSON.parse(unsuffix(JSON.stringify(m))) as Record<string, unknown>,
        new IssueSink(),
      );
      if (info === undefined) throw new Error('fake: bad policy');
      return info;
    });
    // Cluster policies as received (bound to the live namespaces), read back with scenario names.
    const clusterInfos = [...this.clusterPolicies.values()].map((m) => {
      const object = JSON.parse(unsuffix(JSON.stringify(m))) as Record<string, unknown>;
      const sink = new IssueSink();
      const info = isClusterPolicyKind(m.kind)
        ? readClusterPolicy(object, m.kind, sink)
        : undefined;
      if (info === undefined)
        throw new Error(`fake: bad cluster policy ${JSON.stringify(sink.issues)}`);
      return info;
    });
    const model = new NetworkModel({
      ...this.world,
      policies: infos,
      ...(clusterInfos.length > 0 ? { clusterPolicies: clusterInfos } : {}),
    });
    return Promise.resolve(
      jobs.map(({ job, port }) => {
        const key = `${job.from}>${job.to}/${job.probe.protocol}`;
        const to = targets.get(job.to);
        this.probedHosts.push(
          `${job.from}>${job.to} ${to === undefined ? '?' : (targetAddress(to, job.family) ?? '-')}`,
        );
        const forced =
          (job.family === undefined ? undefined : this.familyOverride?.(key, job.family)) ??
          this.override?.(key, this.probeRounds);
        const v = model.verdict(job.from, job.to, { port, protocol: job.probe.protocol });
        const outcome: Outcome =
          forced ?? ('verdict' in v && v.verdict === 'allow' ? 'allowed' : 'refused');
        return { job, outcome, detail: 'fake' };
      }),
    );
  }
}

describe('engine run (fake cluster)', () => {
  it('maps namespaces and namespaceSelector names to the live ones; the model keeps the scenario names', async () => {
    const names = namespaceMap(['x', 'y'], 'abc123', 'suffix');
    expect([...names]).to.deep.equal([
      ['x', 'x-abc123'],
      ['y', 'y-abc123'],
    ]);
    const live = livePolicy(FROM_Y.manifest, names, 'abc123', 'suffix');
    expect(live.metadata.namespace).to.equal('x-abc123');
    expect(JSON.stringify(live.spec)).to.include('"kubernetes.io/metadata.name":"y-abc123"');
    const exact = livePolicy(FROM_Y.manifest, namespaceMap(['x', 'y'], 'r', 'exact'), 'r', 'exact');
    expect(exact.metadata.namespace).to.equal('x');

    const fake = new FakeCluster('run1');
    const result = await runScenario(scenario(), fake, { image: 'img', runId: 'run1' });
    expect(fake.calls[0]).to.equal(
      'create-namespace x-run1 {"team":"a","kubernetes.io/metadata.name":"x-run1","app.kubernetes.io/managed-by":"polygraph","polygraph.dev/run":"run1"}',
    );
    expect(result.live?.namespaces).to.deep.equal({ x: 'x-run1', y: 'y-run1' });
    expect(result.steps.map((s) => s.endpoints)).to.deep.equal([
      ['x/a', 'y/b'],
      ['x/a', 'y/b'],
    ]);
    // Step 1: deny into x; step 2: y may reach x.
    const cell = (s: number, from: string, to: string, protocol = 'TCP') =>
      result.steps[s]?.cells.find(
        (c) => c.from === from && c.to === to && c.probe.protocol === protocol,
      );
    expect(cell(0, 'y/b', 'x/a')?.observed).to.equal('refused');
    expect(cell(1, 'y/b', 'x/a')?.observed).to.equal('allowed');
    expect(cell(1, 'y/b', 'x/a')?.class).to.equal('unchecked');
    expect(result.counts.byClass['cluster-deviates']).to.equal(0);
  });

  it('acts in order: namespaces, pods, Ready, top-level policies, then each step; cleans up', async () => {
    const fake = new FakeCluster('r');
    await runScenario(scenario(), fake, { image: 'img', runId: 'r' });
    const kinds = fake.calls.map((c) => c.split(' ').slice(0, 2).join(' '));
    expect(kinds).to.deep.equal([
      'create-namespace x-r',
      'create-namespace y-r',
      'create-pod x-r/a',
      'create-pod y-r/b',
      'wait x-r',
      'wait y-r',
      'open-probes x-r/a,y-r/b',
      'apply x-r/deny',
      'apply x-r/from-y',
      'close-probes x-r/a,y-r/b',
      'delete-namespace x-r',
      'delete-namespace y-r',
    ]);
    expect(fake.sessions.size).to.equal(0);
    expect(fake.probedWithoutSession).to.deep.equal([]);
  });

  it("opens a created pod's probe session once it is Ready, closes a pod's before deleting it", async () => {
    const c = pod('y', 'c', { app: 'c' });
    const withC: World = { ...BASE_WORLD, pods: [...BASE_WORLD.pods, c] };
    const sc = scenario({
      initial: BASE_WORLD,
      policies: [],
      steps: [
        { ...step(0, 'add c', [{ kind: 'create-pod', pod: c }], []), world: withC },
        {
          ...step(1, 'remove b', [{ kind: 'delete-pod', namespace: 'y', name: 'b' }], []),
          world: { ...BASE_WORLD, pods: [BASE_WORLD.pods[0]!, c] },
        },
      ],
    });
    const fake = new FakeCluster('r');
    fake.world = withC;
    await runScenario(sc, fake, { image: 'img', runId: 'r' });
    const sessions = fake.calls.filter((k) => /^(open|close)-probes|^(wait|delete-pod)/.test(k));
    expect(sessions).to.deep.equal([
      'wait x-r a',
      'wait y-r b',
      'open-probes x-r/a,y-r/b',
      'wait y-r c',
      'open-probes y-r/c',
      'close-probes y-r/b',
      'delete-pod y-r/b',
      'close-probes x-r/a,y-r/c',
    ]);
    expect(fake.sessions.size).to.equal(0);
    expect(fake.probedWithoutSession).to.deep.equal([]);
  });

  it('settles by probing the changed cells until they flip, and records the exposure window', async () => {
    const fake = new FakeCluster('r');
    fake.lag = 3; // three probe rounds still show the previous policies
    let t = 0;
    const result = await runScenario(scenario(), fake, {
      image: 'img',
      runId: 'r',
      now: () => (t += 10),
    });
    const settle = result.steps[1]?.live?.settle;
    expect(settle?.cells).to.equal(2); // y/b → x/a on 80/TCP and 80/UDP
    expect(settle?.rounds).to.equal(4);
    expect(settle?.settled).to.equal(true);
    expect(settle?.exposureMs).to.be.greaterThan(0);
    expect(result.counts.byClass.flaky).to.equal(0);
    expect(result.counts.byClass['cluster-deviates']).to.equal(0);
  });

  it('gives up settling after the bound and reports what the cluster does', async () => {
    const fake = new FakeCluster('r');
    // The cluster never enforces the new policy: y/b → x/a stays refused.
    fake.override = (key) => (key.startsWith('y/b>x/a') ? 'refused' : undefined);
    let t = 0;
    const result = await runScenario(scenario(), fake, {
      image: 'img',
      runId: 'r',
      settleTimeoutMs: 1000,
      now: () => (t += 100),
    });
    const step = result.steps[1];
    expect(step?.live?.settle.settled).to.equal(false);
    const cell = step?.cells.find((c) => c.from === 'y/b' && c.to === 'x/a');
    expect(cell?.class).to.equal('cluster-deviates');
    expect(cell?.tries).to.deep.equal(['refused', 'refused', 'refused']);
  });

  it('on a dual-stack cluster probes every cell on each family, to the address of that family, and notes families that disagree', async () => {
    const fake = new FakeCluster('r');
    fake.dualStack = true;
    // The cluster enforces the deny into x on IPv4 only: y/b → x/a on 80/TCP opens on IPv6.
    fake.familyOverride = (key, family) =>
      key === 'y/b>x/a/TCP' && family === 6 ? 'allowed' : undefined;
    const phases: string[] = [];
    let t = 0;
    const result = await runScenario(scenario(), fake, {
      image: 'img',
      runId: 'r',
      retries: 0,
      settleTimeoutMs: 1000,
      now: () => (t += 100),
      onEvent: (e) => {
        if (e.kind === 'phase') phases.push(e.message);
      },
    });
    expect(phases).to.include('probing every cell on IPv4 and IPv6');
    const step = result.steps[0];
    expect(step?.families).to.deep.equal([4, 6]);
    // 2 pods, 2 probes (80/TCP, 80/UDP), 2 families.
    expect(step?.cells).to.have.length(16);
    const cell = (family: 4 | 6) =>
      step?.cells.find(
        (c) =>
          c.from === 'y/b' && c.to === 'x/a' && c.probe.protocol === 'TCP' && c.family === family,
      );
    expect(cell(4)).to.deep.include({ modelled: 'deny', observed: 'refused', class: 'unchecked' });
    expect(cell(6)).to.deep.include({
      modelled: 'deny',
      observed: 'allowed',
      class: 'cluster-deviates',
    });
    expect(step?.familyNotes?.map((n) => n.note)).to.deep.equal([
      'families disagree: observed IPv4 refused, IPv6 allowed',
    ]);
    // One cell, two probes: x/a's IPv4 address, then its IPv6 address (live names x-r, y-r).
    const hosts = fake.probedHosts.filter((h) => h.startsWith('y/b>x/a '));
    expect(new Set(hosts)).to.deep.equal(new Set(['y/b>x/a 10.244.0.30', 'y/b>x/a fd00::30']));
  });

  it('a requested family the live pods lack is a usage error, and the run cleans up', async () => {
    const fake = new FakeCluster('r');
    let error: unknown;
    try {
      await runScenario(scenario(), fake, { image: 'img', runId: 'r', families: [6] });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(UsageError);
    expect((error as Error).message).to.equal(
      '--family 6: test.yaml: no pod has an IPv6 address in status.podIPs (they have IPv4): the cluster does not give pods that family; use --family 4',
    );
    expect(fake.calls.filter((c) => c.startsWith('delete-namespace'))).to.have.length(2);
  });

  it('reports a cell whose outcome changes between tries as flaky, never as passed', async () => {
    const fake = new FakeCluster('r');
    let tableRound = 0;
    fake.override = (key, round) => {
      if (key !== 'x/a>y/b/TCP') return undefined;
      tableRound = round;
      // Disagrees once, then agrees.
      return round % 2 === 0 ? 'dropped' : undefined;
    };
    // No time to settle: the table is the first round, and the re-probes see the flip.
    const result = await runScenario(scenario(), fake, {
      image: 'img',
      runId: 'r',
      settleTimeoutMs: 0,
    });
    expect(tableRound).to.be.greaterThan(0);
    const flaky = result.steps.flatMap((s) => s.cells).filter((c) => c.class === 'flaky');
    expect(flaky.length).to.be.greaterThan(0);
    expect(flaky[0]?.tries?.length).to.be.greaterThan(1);
  });

  it('UDP: a reply on one try and silence on the others is allowed, not flaky; an ICMP unreachable then a reply is flaky', async () => {
    // (The scenario expects nothing of this cell: decided, it is unchecked.)
    for (const [first, cls] of [
      ['dropped', 'unchecked'],
      ['refused', 'flaky'],
    ] as const) {
      const fake = new FakeCluster('r');
      let silenced = 0;
      fake.override = (key, round) => {
        if (key !== 'x/a>y/b/UDP') return undefined;
        // Every other round unanswered (or refused), as from a server short of CPU.
        if (round % 2 === 0) {
          silenced++;
          return first;
        }
        return undefined;
      };
      const result = await runScenario(scenario(), fake, {
        image: 'img',
        runId: 'r',
        settleTimeoutMs: 0,
      });
      expect(silenced, first).to.be.greaterThan(0);
      const cells = result.steps
        .flatMap((st) => st.cells)
        .filter((c) => c.from === 'x/a' && c.to === 'y/b' && c.probe.protocol === 'UDP');
      const tried = cells.filter((c) => (c.tries?.length ?? 0) > 1);
      expect(tried.length, first).to.be.greaterThan(0);
      for (const c of tried) {
        expect(c.class, `${first}: ${c.tries?.join(',') ?? ''}`).to.equal(cls);
        expect(c.tries).to.include(first).and.to.include('allowed');
        if (cls === 'unchecked') {
          expect(c.observed).to.equal('allowed');
          expect(c.observedDetail).to.not.equal(undefined);
        }
      }
    }
  });

  it('settling waits out a transient on a cell the step does not change (a deny-all enforced before the rule that admits)', async () => {
    const fake = new FakeCluster('r');
    // x/a -> y/b is allowed before and after every step; the first round after each change
    // shows it refused, as a plugin does that applies a deny-all before the allow.
    let lastRound = 0;
    let transient = 0;
    fake.override = (key, round) => {
      if (key !== 'x/a>y/b/TCP') return undefined;
      if (round === lastRound + 1 && transient < 2) {
        transient++;
        lastRound = round;
        return 'refused';
      }
      return undefined;
    };
    const result = await runScenario(scenario(), fake, { image: 'img', runId: 'r' });
    const cells = result.steps
      .flatMap((st) => st.cells)
      .filter((c) => c.from === 'x/a' && c.to === 'y/b');
    expect(transient).to.be.greaterThan(0);
    for (const c of cells) {
      expect(c.class, JSON.stringify(c)).to.equal('unchecked');
      expect(c.tries).to.equal(undefined);
    }
    expect(result.steps[0]?.live?.settle.rounds).to.be.greaterThan(1);
    expect(result.steps[0]?.live?.settle.settled).to.equal(true);
  });

  it('classifies declared deviations of the named plugin as known-deviation, of others as cluster-deviates', async () => {
    const sc = withDeviation('y/*', 'x/*', 'shared chain');
    const fake = new FakeCluster('r');
    fake.override = (key) => (key.startsWith('y/b>x/a') ? 'allowed' : undefined);
    const known = await runScenario(sc, fake, { image: 'img', runId: 'r', plugin: 'kube-router' });
    const c0 = known.steps[0]?.cells.find((c) => c.from === 'y/b' && c.to === 'x/a');
    expect(c0?.class).to.equal('known-deviation');
    expect(c0?.explanation).to.include('known deviation of kube-router');
    expect(known.steps[0]?.live?.settle.settled).to.equal(true);

    const lying = new FakeCluster('r');
    lying.override = fake.override;
    const other = await runScenario(sc, lying, {
      image: 'img',
      runId: 'r',
      plugin: 'calico',
      settleTimeoutMs: 0,
    });
    const c1 = other.steps[0]?.cells.find((c) => c.from === 'y/b' && c.to === 'x/a');
    expect(c1?.class).to.equal('cluster-deviates');
  });

  it('an intermittent deviation: either the spec or the deviation is accepted and never re-probed; declared strict, a mix is flaky', async () => {
    const deviation = (intermittent: boolean) =>
      withDeviation('y/b', 'x/a', 'order of the pod list', intermittent);
    const cellOf = (r: Awaited<ReturnType<typeof runScenario>>) =>
      r.steps[0]?.cells.filter((c) => c.from === 'y/b' && c.to === 'x/a') ?? [];
    /** The cell shows `outcomes` on its successive probes, then the spec's verdict. */
    const showing = (...outcomes: Outcome[]) => {
      const fake = new FakeCluster('r');
      const seen = new Map<string, number>();
      fake.override = (key) => {
        if (!key.startsWith('y/b>x/a')) return undefined;
        const n = seen.get(key) ?? 0;
        seen.set(key, n + 1);
        return outcomes[n];
      };
      return fake;
    };
    const opts = { image: 'img', runId: 'r', plugin: 'kube-router', settleTimeoutMs: 0 };

    // The deviation shows: known-deviation, probed once.
    const shown = cellOf(await runScenario(deviation(true), showing('allowed'), opts));
    expect(shown.length).to.be.greaterThan(0);
    for (const c of shown) {
      expect(c.class).to.equal('known-deviation');
      expect(c.tries).to.equal(undefined);
      expect(c.explanation).to.include('known intermittent deviation of kube-router');
    }
    // The spec's verdict shows: settled at once, no re-probe waiting for the deviation.
    const spec = await runScenario(deviation(true), showing('refused', 'allowed'), {
      ...opts,
      settleTimeoutMs: 60_000,
    });
    // (unchecked: the step declares no expectation; the cluster agrees with the model)
    for (const c of cellOf(spec)) {
      expect(c.class).to.equal('unchecked');
      expect(c.observed).to.equal('refused');
      expect(c.tries).to.equal(undefined);
    }
    expect(spec.steps[0]?.live?.settle.settled).to.equal(true);
    // Declared strict (not intermittent), the same spec-then-deviation tries are flaky: failing.
    const strict = cellOf(await runScenario(deviation(false), showing('refused', 'allowed'), opts));
    expect(strict.map((c) => c.class)).to.include('flaky');
    // A probe error is never absorbed by the deviation.
    const broken = cellOf(
      await runScenario(deviation(true), showing('probe-error', 'allowed'), opts),
    );
    expect(broken.map((c) => c.class)).to.include('flaky');
  });

  it('places the probe pods: spread round-robin over the schedulable nodes, pack on the first, none when nodes cannot be listed', async () => {
    const world: World = {
      ...BASE_WORLD,
      pods: [pod('x', 'a'), pod('x', 'b'), pod('x', 'c'), pod('y', 'b')],
    };
    const sc = scenario({
      initial: world,
      policies: [],
      steps: [{ ...step(0, 'main', [], []), world }],
    });
    const nodes: NodeFacts[] = [
      { name: 'worker-b', ready: true, schedulable: true, internalIPs: [] },
      { name: 'control-plane', ready: true, schedulable: false, internalIPs: [] },
      { name: 'worker-a', ready: true, schedulable: true, internalIPs: [] },
    ];
    const spread = new FakeCluster('r');
    spread.world = world;
    spread.nodes = nodes;
    const s1 = await runScenario(sc, spread, { image: 'img', runId: 'r' });
    expect(Object.fromEntries(spread.pinned)).to.deep.equal({
      'x-r/a': 'worker-a',
      'x-r/b': 'worker-b',
      'x-r/c': 'worker-a',
      'y-r/b': 'worker-b',
    });
    expect(s1.live?.placement).to.equal('spread');
    expect(s1.live?.nodes).to.deep.equal({
      'x/a': 'worker-a',
      'x/b': 'worker-b',
      'x/c': 'worker-a',
      'y/b': 'worker-b',
    });
    // Every probed cell between two pods says whether it crossed nodes.
    const crossing = (from: string, to: string) =>
      s1.steps[0]?.cells.find((c) => c.from === from && c.to === to)?.crossNode;
    expect(crossing('x/a', 'x/b')).to.equal(true);
    expect(crossing('x/a', 'x/c')).to.equal(false);
    expect(crossing('y/b', 'x/b')).to.equal(false);

    const pack = new FakeCluster('r');
    pack.world = world;
    pack.nodes = nodes;
    await runScenario(sc, pack, { image: 'img', runId: 'r', placement: 'pack' });
    expect(new Set(pack.pinned.values())).to.deep.equal(new Set(['worker-a']));

    // A pod the topology pins to a node goes there; a node the cluster lacks stops the run.
    const pinnedWorld: World = {
      ...world,
      pods: [...world.pods.slice(0, 3), { ...pod('y', 'b'), nodeName: 'worker-b' }],
    };
    const pinnedSc = scenario({
      initial: pinnedWorld,
      policies: [],
      steps: [{ ...step(0, 'main', [], []), world: pinnedWorld }],
    });
    const pinned = new FakeCluster('r');
    pinned.world = pinnedWorld;
    pinned.nodes = nodes;
    await runScenario(pinnedSc, pinned, { image: 'img', runId: 'r', placement: 'pack' });
    expect(pinned.pinned.get('y-r/b')).to.equal('worker-b');
    expect(pinned.pinned.get('x-r/a')).to.equal('worker-a');
    const ghostWorld: World = { ...world, pods: [{ ...pod('x', 'a'), nodeName: 'node-1' }] };
    const ghost = new FakeCluster('r');
    ghost.nodes = nodes;
    let error: unknown;
    try {
      await runScenario(
        scenario({
          initial: ghostWorld,
          policies: [],
          steps: [{ ...step(0, 'main', [], []), world: ghostWorld }],
        }),
        ghost,
        { image: 'img', runId: 'r' },
      );
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).to.include(
      'x/a is pinned to node node-1 (its node in the topology), which is not a schedulable node of this cluster (worker-a, worker-b)',
    );
    expect(ghost.calls.filter((c) => c.startsWith('create-pod'))).to.deep.equal([]);
    expect(ghost.namespaces.size).to.equal(0);

    const forbidden = new FakeCluster('r');
    forbidden.world = world;
    forbidden.nodes = 'forbidden';
    const phases: string[] = [];
    const s3 = await runScenario(sc, forbidden, {
      image: 'img',
      runId: 'r',
      onEvent: (e) => {
        if (e.kind === 'phase') phases.push(e.message);
      },
    });
    expect([...forbidden.pinned.values()]).to.deep.equal([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(s3.live?.placement).to.equal(undefined);
    expect(phases.join('\n')).to.include(
      'list Node: nodes is forbidden: User "ci" cannot list resource "nodes": the scheduler places the probe pods',
    );
  });

  it('a topology pool runs the next scenario of the same topology on the deployed pods, reset: its policies deleted, its labels restored', async () => {
    const pool = new TopologyPool();
    const fake = new FakeCluster('p');
    const relabel = scenario({
      steps: [
        step(0, 'deny', [], [DENY_X.info]),
        step(
          1,
          'relabel',
          [
            { kind: 'label-pod', namespace: 'y', name: 'b', labels: { app: 'bb' } },
            { kind: 'label-namespace', namespace: 'x', labels: { team: 'z' } },
          ],
          [DENY_X.info],
        ),
      ],
    });
    const first = await runScenario(relabel, fake, { image: 'img', runId: 'p', pool });
    const created = fake.calls.filter((c) => c.startsWith('create-')).length;
    expect(created).to.equal(4); // 2 namespaces, 2 pods
    // Reset, not deleted: the policy removed, the pod and namespace labels back as declared.
    expect(fake.calls.filter((c) => c.startsWith('delete-namespace'))).to.deep.equal([]);
    expect(fake.calls).to.include('delete-policy x-p/deny');
    expect(fake.calls).to.include('label-pod y-p/b {"app":"b"}');
    expect(fake.calls.filter((c) => c.startsWith('label-namespace x-p')).at(-1)).to.include(
      '"team":"a"',
    );
    expect(fake.policies.size).to.equal(0);
    // Its probe sessions stay open for the next scenario.
    expect(fake.calls.filter((c) => c.startsWith('close-probes'))).to.deep.equal([]);
    expect([...fake.sessions].sort()).to.deep.equal(['x-p/a', 'y-p/b']);

    // The next scenario of the same topology creates nothing, and is as right as on new pods.
    const before = fake.calls.length;
    const second = await runScenario(scenario(), fake, { image: 'img', runId: 'other', pool });
    expect(fake.calls.slice(before).filter((c) => c.startsWith('create-'))).to.deep.equal([]);
    expect(second.live?.runId).to.equal('p');
    expect(second.live?.namespaces).to.deep.equal(first.live?.namespaces);
    expect(pool.reuses).to.equal(1);
    const fresh = await runScenario(scenario(), new FakeCluster('q'), { image: 'img', runId: 'q' });
    const verdicts = (r: typeof fresh) =>
      r.steps.map((st) => st.cells.map((c) => `${c.from}>${c.to} ${c.observed ?? ''} ${c.class}`));
    expect(verdicts(second)).to.deep.equal(verdicts(fresh));
    expect(fake.probedWithoutSession).to.deep.equal([]);

    // Another topology deploys its own.
    const other = scenario({
      initial: { ...BASE_WORLD, pods: [pod('x', 'a'), pod('y', 'c')], policies: [] },
    });
    const n = fake.calls.length;
    await runScenario(other, fake, { image: 'img', runId: 'o', pool });
    expect(fake.calls.slice(n).filter((c) => c.startsWith('create-namespace'))).to.have.length(2);

    // Pinning a pod to a node makes another topology: a deployment placed otherwise is not reused.
    const pinnedPods = BASE_WORLD.pods.map((p, i) => (i === 0 ? { ...p, nodeName: 'node2' } : p));
    expect(
      topologyKey(scenario({ initial: { ...BASE_WORLD, pods: pinnedPods } }), ['x', 'y']),
    ).to.not.equal(topologyKey(scenario(), ['x', 'y']));

    // A scenario that deletes a pod is not given back: its namespaces are deleted.
    const deleting = scenario({
      steps: [step(0, 'deny', [{ kind: 'delete-pod', namespace: 'y', name: 'b' }], [DENY_X.info])],
    });
    const m = fake.calls.length;
    await runScenario(deleting, fake, { image: 'img', pool });
    expect(fake.calls.slice(m).filter((c) => c.startsWith('delete-namespace'))).to.deep.equal([
      'delete-namespace x-p',
      'delete-namespace y-p',
    ]);
    // close() deletes what the pool still holds (the other topology's).
    await pool.close(fake);
    expect(fake.namespaces.size).to.equal(0);
    expect(fake.sessions.size).to.equal(0);
  });

  it('a suite runs scenarios of one topology on one deployment, releases a topology once no waiting scenario needs it, and returns outcomes in input order', async () => {
    const fake = new FakeCluster(/-s[0-9]\b/g);
    let ids = 0;
    const other = otherTopology();
    const ran: string[] = [];
    const { outcomes, reuses } = await runSuite(
      [scenario({ name: 's1' }), other, scenario({ name: 's2' }), scenario({ name: 's3' })],
      fake,
      {
        image: 'img',
        newRunId: () => `s${String(++ids)}`,
        onOutcome: (o) => ran.push(o.scenario.name),
      },
    );
    // One runner: the three of one topology back to back on one deployment, then the other.
    expect(ran).to.deep.equal(['s1', 's2', 's3', 'other']);
    expect(outcomes.map((o) => o.scenario.name)).to.deep.equal(['s1', 'other', 's2', 's3']);
    expect(outcomes.every((o) => o.result !== undefined && o.error === undefined)).to.equal(true);
    expect(reuses).to.equal(2);
    const creates = fake.calls.filter((c) => c.startsWith('create-namespace'));
    // x and y, twice: one deployment per topology, each with a run id of its own (an id is
    // drawn for every scenario; the three that reused s1's deployment ran under s1)
    expect(creates.map((c) => c.split(' ')[1])).to.deep.equal(['x-s1', 'y-s1', 'x-s4', 'y-s4']);
    // The first topology was deleted as soon as "other" was the only one left, before it ran.
    const firstDeleted = fake.calls.findIndex((c) => c.startsWith('delete-namespace'));
    expect(firstDeleted).to.be.greaterThan(-1);
    expect(firstDeleted).to.be.lessThan(fake.calls.indexOf(creates[2]!));
    // Nothing is left, and every deletion was waited for, as a single run's is by default.
    expect(fake.namespaces.size).to.equal(0);
    expect(fake.sessions.size).to.equal(0);
    expect(fake.waitedFor).to.deep.equal(['x-s1', 'y-s1', 'x-s4', 'y-s4']);
  });

  it('a suite told not to wait for cleanup deletes every deployment without waiting', async () => {
    const fake = new FakeCluster(/-w[0-9]\b/g);
    let ids = 0;
    const other = otherTopology();
    await runSuite([scenario({ name: 'w1' }), other, scenario({ name: 'w2' })], fake, {
      image: 'img',
      newRunId: () => `w${String(++ids)}`,
      waitForCleanup: false,
    });
    expect(fake.calls.filter((c) => c.startsWith('delete-namespace'))).to.have.length(4);
    expect(fake.waitedFor).to.deep.equal([]);
    expect(fake.namespaces.size).to.equal(0);
  });

  it('two runners on one topology: the idle deployment a runner releases is reported as the cleanup of the scenario that ran on it last', async () => {
    const fake = new FakeCluster(/-p[0-9]\b/g);
    let ids = 0;
    const cleanups: { index: number; namespaces: readonly string[] }[] = [];
    const { outcomes } = await runSuite(
      [scenario({ name: 'p1' }), scenario({ name: 'p2' }), scenario({ name: 'p3' })],
      fake,
      {
        image: 'img',
        parallel: 2,
        newRunId: () => `p${String(++ids)}`,
        onEvent: (event, index) => {
          if (event.kind === 'cleanup') cleanups.push({ index, namespaces: event.namespaces });
        },
      },
    );
    // Two deployments (p1's and p2's); the last scenario deletes the one it ran on, and the
    // other, idle, is released: each deletion is heard once, with its namespaces, as the cleanup
    // of the scenario that ran on that deployment last.
    const deleted = fake.calls
      .filter((c) => c.startsWith('delete-namespace'))
      .map((c) => c.split(' ')[1]);
    expect(deleted).to.have.length(4);
    expect(cleanups.flatMap((c) => c.namespaces).sort()).to.deep.equal([...deleted].sort());
    expect(new Set(cleanups.map((c) => c.index)).size).to.equal(2);
    for (const c of cleanups) {
      const runId = outcomes[c.index]?.result?.live?.runId ?? '?';
      expect(c.namespaces.map((ns) => ns.replace(/^[a-z]+-/, ''))).to.deep.equal([runId, runId]);
    }
    expect(fake.namespaces.size).to.equal(0);
  });

  it('a suite of one scenario deletes its deployment as a single run does: no reset, a cleanup event', async () => {
    const fake = new FakeCluster('one');
    const kinds: string[] = [];
    await runSuite([scenario()], fake, {
      image: 'img',
      newRunId: () => 'one',
      onEvent: (event, index) => kinds.push(`${String(index)} ${event.kind}`),
    });
    expect(kinds).to.include('0 cleanup');
    expect(fake.calls.filter((c) => c.startsWith('delete-policy'))).to.deep.equal([]);
    expect(fake.calls.filter((c) => c.startsWith('delete-namespace'))).to.deep.equal([
      'delete-namespace x-one',
      'delete-namespace y-one',
    ]);
    expect(fake.namespaces.size).to.equal(0);
  });

  it('a suite interrupted between two scenarios cleans up and ends with the signal’s reason, starting nothing more', async () => {
    const fake = new FakeCluster('i');
    const controller = new AbortController();
    const reason = new Error('interrupted');
    let error: unknown;
    await runSuite([scenario({ name: 'a' }), scenario({ name: 'b' })], fake, {
      image: 'img',
      newRunId: () => 'i',
      signal: controller.signal,
      onOutcome: () => {
        controller.abort(reason);
      },
    }).catch((e: unknown) => {
      error = e;
    });
    expect(error).to.equal(reason);
    // "a" ran and gave its deployment back; "b" never started; the pool deleted it at the end.
    expect(fake.calls.filter((c) => c.startsWith('create-namespace'))).to.have.length(2);
    expect(fake.namespaces.size).to.equal(0);
    expect(fake.sessions.size).to.equal(0);
  });

  it('the suite queue: a runner keeps its topology, else takes one no runner is using, else the first waiting', () => {
    const queue = new SuiteQueue(['A', 'B', 'A', 'C', 'B']);
    expect(queue.next(undefined, new Set())).to.equal(0); // A
    expect(queue.next(undefined, new Set(['A']))).to.equal(1); // B: A is busy
    expect(queue.next('A', new Set(['B']))).to.equal(2); // A again, its deployment is idle
    expect(queue.next('A', new Set(['B']))).to.equal(3); // no A left: C, which nobody runs
    expect(queue.next(undefined, new Set(['B']))).to.equal(4); // only B left, though busy
    expect(queue.next('B', new Set())).to.equal(undefined);
  });

  it('a suite that stops on error starts nothing after a failure, cleans up, and says which never ran', async () => {
    const fake = new FakeCluster('e');
    fake.failOn = 'create-pod';
    const { outcomes } = await runSuite([scenario({ name: 'a' }), scenario({ name: 'b' })], fake, {
      image: 'img',
      stopOnError: true,
    });
    expect(outcomes[0]!.error).to.be.instanceOf(ClusterError);
    expect(outcomes[1]).to.deep.include({ ms: 0 });
    expect(outcomes[1]!.result).to.equal(undefined);
    expect(outcomes[1]!.error).to.equal(undefined);
    expect(fake.namespaces.size).to.equal(0);
  });

  it('cleans up everything it created when an action fails, and rethrows', async () => {
    const fake = new FakeCluster('r');
    fake.failOn = 'apply x-r/from-y';
    let error: unknown;
    try {
      await runScenario(scenario(), fake, { image: 'img', runId: 'r' });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(ClusterError);
    expect(fake.calls.slice(-2)).to.deep.equal(['delete-namespace x-r', 'delete-namespace y-r']);
    expect(fake.namespaces.size).to.equal(0);
    expect(fake.sessions.size).to.equal(0);
  });

  it('cleans up when aborted (SIGINT), and keeps everything with keep', async () => {
    const fake = new FakeCluster('r');
    const controller = new AbortController();
    fake.onProbe = () => {
      controller.abort(new Error('interrupted'));
    };
    let error: unknown;
    try {
      await runScenario(scenario(), fake, { image: 'img', runId: 'r', signal: controller.signal });
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).to.equal('interrupted');
    expect(fake.namespaces.size).to.equal(0);
    expect(fake.sessions.size).to.equal(0);

    const kept = new FakeCluster('k');
    const result = await runScenario(scenario(), kept, { image: 'img', runId: 'k', keep: true });
    expect(kept.namespaces.size).to.equal(2);
    expect(kept.sessions.size).to.equal(0); // kept pods, but no stream holds the process
    expect(result.live?.kept).to.include('polygraph.dev/run=k');
  });

  it('holds connections across a step: opened before its actions, tested after its table, closed; classified against the expectation apart from the cells', async () => {
    const held = (
      from: string,
      to: string,
      protocol: 'TCP' | 'UDP',
      expectOutcome?: 'open' | 'reset' | 'dropped',
    ): HeldConnection => ({
      from,
      to,
      probe: { port: 80, protocol },
      port: 80,
      protocol,
      ...(expectOutcome === undefined ? {} : { expect: expectOutcome }),
      text: `from ${from} to ${to} on 80/${protocol}`,
      location: LOC,
    });
    const base = scenario();
    const allowY = base.steps[1];
    if (allowY === undefined) throw new Error('no step');
    const holding: Scenario = {
      ...base,
      steps: [
        base.steps[0] as ScenarioStep,
        {
          ...allowY,
          holds: [
            held('y/b', 'x/a', 'TCP', 'open'),
            held('y/b', 'x/a', 'UDP', 'dropped'),
            held('x/a', 'y/b', 'TCP'),
            held('x/a', 'y/b', 'UDP', 'reset'),
          ],
        },
      ],
    };
    const fake = new FakeCluster('r');
    fake.holdTest = (id) => (id === 'h3' ? 'reset' : 'open');
    fake.holdOpen = (id) => (id === 'h2' ? 'probe-error' : 'open');
    const result = await runScenario(holding, fake, { image: 'img', runId: 'r' });
    const calls = fake.calls.filter((c) => /^(hold-|apply x-r\/from-y)/.test(c));
    expect(calls).to.deep.equal([
      'hold-open y-r/b h0:10.244.0.30:80/TCP,h1:10.244.0.30:80/UDP',
      'hold-open x-r/a h2:10.244.0.30:80/TCP,h3:10.244.0.30:80/UDP',
      'apply x-r/from-y',
      'hold-test y-r/b h0,h1',
      'hold-test x-r/a h3',
      'hold-close y-r/b',
      'hold-close x-r/a',
    ]);
    expect(fake.openHoldClients.size).to.equal(0);
    // The destinations of held TCP connections serve that port over HTTP (keep-alive), its UDP
    // in a second process; without holds, one process serves both.
    const heldPod = fake.podContainers.get('x-r/a') ?? [];
    expect(heldPod).to.have.length(1);
    expect(heldPod[0]).to.match(/^probe: trap /);
    expect(heldPod[0]).to.include('/agnhost serve-hostname --port=80 &\n');
    expect(heldPod[0]).to.include('/agnhost serve-hostname --udp --http=false --port=80 &\n');
    const plain = new FakeCluster('p');
    await runScenario(base, plain, { image: 'img', runId: 'p' });
    expect(plain.podContainers.get('x-p/a')).to.deep.equal([
      'probe: serve-hostname --tcp --udp --http=false --port=80',
    ]);
    const last = result.steps[1];
    expect(
      last?.held?.map((h) => [h.from, h.to, h.probe.protocol, h.observed, h.class]),
    ).to.deep.equal([
      ['y/b', 'x/a', 'TCP', 'open', 'agree'],
      ['y/b', 'x/a', 'UDP', 'open', 'disagree'],
      ['x/a', 'y/b', 'TCP', 'probe-error', 'probe-error'],
      ['x/a', 'y/b', 'UDP', 'reset', 'agree'],
    ]);
    // The model's verdict for a fresh connection after the step, as context: y → x is allowed.
    expect(last?.held?.[0]?.freshModelled).to.equal('allow');
    expect(last?.counts.held?.byClass.disagree).to.equal(1);
    expect(failing(result.counts)).to.equal(1);
    expect(result.steps[0]?.held).to.equal(undefined);
  });

  it('closes the hold clients of a step when the run is aborted during it', async () => {
    const base = scenario();
    const second = base.steps[1] as ScenarioStep;
    const holding: Scenario = {
      ...base,
      steps: [
        base.steps[0] as ScenarioStep,
        {
          ...second,
          holds: [
            {
              from: 'y/b',
              to: 'x/a',
              probe: { port: 80, protocol: 'TCP' },
              port: 80,
              protocol: 'TCP',
              text: 'from y/b to x/a on 80/TCP',
              location: LOC,
            },
          ],
        },
      ],
    };
    const fake = new FakeCluster('r');
    const controller = new AbortController();
    fake.onProbe = () => {
      if (fake.openHoldClients.size > 0) controller.abort(new Error('interrupted'));
    };
    let error: unknown;
    try {
      await runScenario(holding, fake, { image: 'img', runId: 'r', signal: controller.signal });
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).to.equal('interrupted');
    expect(fake.calls).to.include('hold-close y-r/b');
    expect(fake.calls.filter((c) => c.startsWith('hold-test'))).to.deep.equal([]);
    expect(fake.openHoldClients.size).to.equal(0);
    expect(fake.namespaces.size).to.equal(0);
  });

  it('with exact names, refuses a namespace that exists and touches nothing', async () => {
    const fake = new FakeCluster('');
    fake.namespaces.set('x', { team: 'theirs' });
    let error: unknown;
    try {
      await runScenario(scenario(), fake, { image: 'img', namespaceNames: 'exact' });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(ClusterError);
    expect((error as Error).message).to.include('polygraph did not create it');
    expect(fake.calls).to.deep.equal([]);
    expect(fake.namespaces.get('x')).to.deep.equal({ team: 'theirs' });
  });

  it('skips cells it cannot probe with the reason: SCTP, unmapped externals, hostNetwork pods', async () => {
    const world: World = {
      ...BASE_WORLD,
      pods: [
        { ...pod('x', 'a'), ports: [{ containerPort: 80, protocol: 'SCTP' }] },
        { ...pod('y', 'h'), hostNetwork: true },
        pod('y', 'b'),
      ],
      externals: [
        { name: 'web', ip: '203.0.113.9', ports: [{ containerPort: 80, protocol: 'TCP' }] },
      ],
    };
    const sc = scenario({
      initial: world,
      policies: [],
      steps: [{ ...step(0, 'main', [], []), world }],
    });
    const fake = new FakeCluster('r');
    fake.world = world;
    const result = await runScenario(sc, fake, { image: 'img', runId: 'r' });
    const cells = result.steps[0]!.cells;
    const skipped = cells.filter((c) => c.class === 'skipped');
    const why = skipped.map((c) => c.observedDetail ?? '');
    expect(why.some((w) => w.startsWith('SCTP'))).to.equal(true);
    expect(why.some((w) => w.includes('ext:web has no live address'))).to.equal(true);
    expect(why.some((w) => w.includes('hostNetwork'))).to.equal(true);
    expect(fake.calls.some((c) => c.includes('create-pod y-r/h'))).to.equal(false);
    // A mapped external is probed.
    const mappedFake = new FakeCluster('r');
    mappedFake.world = world;
    const mapped = await runScenario(sc, mappedFake, {
      image: 'img',
      runId: 'r',
      externals: new Map([['web', '10.250.0.10']]),
    });
    const toWeb = mapped.steps[0]!.cells.find(
      (c) => c.from === 'y/b' && c.to === 'ext:web' && c.probe.protocol === 'TCP',
    );
    expect(toWeb?.class).to.equal('unchecked');
    expect(toWeb?.observed).to.equal('allowed');
    // From an external: skipped with the flag to use, until a command runs probes there.
    const fromWeb = (r: typeof mapped) =>
      r.steps[0]!.cells.filter((c) => c.from === 'ext:web' && c.to === 'y/b');
    expect(fromWeb(mapped).map((c) => c.observedDetail)).to.deep.include(
      'ext:web is outside the cluster: name a command that runs probes on a host standing for it with --external-exec web=COMMAND',
    );
    const sourceFake = new FakeCluster('r');
    sourceFake.world = world;
    const sourced = await runScenario(sc, sourceFake, {
      image: 'img',
      runId: 'r',
      externals: new Map([['web', '10.250.0.10']]),
      externalSources: new Map([['web', ['ip', 'netns', 'exec', 'e']]]),
    });
    expect(sourceFake.probedFrom).to.include('ext:web');
    expect([...(sourceFake.settings?.hosts ?? [])]).to.deep.equal([
      ['ext:web', ['ip', 'netns', 'exec', 'e']],
    ]);
    const probed = fromWeb(sourced).filter((c) => c.probe.protocol === 'TCP');
    expect(probed.map((c) => [c.class, c.observed])).to.deep.equal([['unchecked', 'allowed']]);
    // A command without an address is a usage error, before anything is created.
    const noAddress = new FakeCluster('r');
    let error: unknown;
    try {
      await runScenario(sc, noAddress, {
        image: 'img',
        runId: 'r',
        externalSources: new Map([['web', ['docker', 'exec', 'web']]]),
      });
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).to.include('add --external web=IP');
    expect(noAddress.calls).to.deep.equal([]);
  });

  it('the enforcement canary passes a cluster that denies, refuses one that does not (exit 3)', async () => {
    const world = canaryScenario().initial;
    const enforcing = new FakeCluster('c1');
    enforcing.world = world;
    const ok = await enforcementCanary(enforcing, { image: 'img', runId: 'c1' });
    expect(ok.enforcedAfterMs).to.be.a('number');
    expect(enforcing.namespaces.size).to.equal(0);

    const ignoring = new FakeCluster('c2');
    ignoring.world = world;
    ignoring.override = () => 'allowed'; // Flannel: policies accepted, nothing enforced
    let error: unknown;
    try {
      await enforcementCanary(ignoring, { image: 'img', runId: 'c2', boundMs: 0 });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(ClusterError);
    expect((error as Error).message).to.include('this cluster does not enforce NetworkPolicies');
    expect(ignoring.namespaces.size).to.equal(0);
  });

  it('probe pods declare the scenario ports as written and serve each number on its protocols (a held TCP port over HTTP keep-alive)', () => {
    const request = {
      namespace: 'x-r',
      name: 'a',
      labels: { app: 'a' },
      image: 'img',
      ports: [
        { containerPort: 80, protocol: 'TCP' as const, name: 'http' },
        { containerPort: 80, protocol: 'UDP' as const },
        { containerPort: 81, protocol: 'TCP' as const },
        { containerPort: 53, protocol: 'UDP' as const, name: 'dns' },
        { containerPort: 9, protocol: 'SCTP' as const },
      ],
    };
    const spec = scenarioProbePod(request);
    // One container; one process per port number, TCP and UDP together, started by bash.
    const servers = (pod: PodSpecInput): string[] =>
      (pod.containers[0]?.args?.[0] ?? '').split('\n').filter((l) => l.startsWith('/agnhost '));
    expect(spec.containers.map((c) => [c.name, c.command])).to.deep.equal([
      ['probe', ['/bin/bash', '-c']],
    ]);
    expect(servers(spec)).to.deep.equal([
      '/agnhost serve-hostname --udp --http=false --port=53 &',
      '/agnhost serve-hostname --tcp --udp --http=false --port=80 &',
      '/agnhost serve-hostname --tcp --http=false --port=81 &',
    ]);
    // A port a step holds TCP connections to: HTTP mode, its UDP in a second process.
    const held = scenarioProbePod({ ...request, keepAlive: new Set([80]) });
    expect(servers(held)).to.deep.equal([
      '/agnhost serve-hostname --udp --http=false --port=53 &',
      '/agnhost serve-hostname --port=80 &',
      '/agnhost serve-hostname --udp --http=false --port=80 &',
      '/agnhost serve-hostname --tcp --http=false --port=81 &',
    ]);
    // One server: agnhost itself, no shell.
    const one = scenarioProbePod({ ...request, ports: [{ containerPort: 80, protocol: 'TCP' }] });
    expect(one.containers.map((c) => [c.name, c.command, c.args])).to.deep.equal([
      ['probe', ['/agnhost'], ['serve-hostname', '--tcp', '--http=false', '--port=80']],
    ]);
    expect(spec.containers[0]?.ports).to.deep.equal([
      { containerPort: 80, protocol: 'TCP', name: 'http' },
      { containerPort: 80, protocol: 'UDP' },
      { containerPort: 81, protocol: 'TCP' },
      { containerPort: 53, protocol: 'UDP', name: 'dns' },
      { containerPort: 9, protocol: 'SCTP' },
    ]);
    expect(
      scenarioProbePod({ namespace: 'x', name: 'b', labels: {}, image: 'img', ports: [] })
        .containers[0]?.args,
    ).to.deep.equal(['pause']);
  });
});

function clusterPolicy(manifest: Record<string, unknown>): ScenarioClusterPolicy {
  const sink = new IssueSink();
  const kind = manifest.kind;
  const info = isClusterPolicyKind(kind) ? readClusterPolicy(manifest, kind, sink) : undefined;
  if (info === undefined) throw new Error(JSON.stringify(sink.issues));
  return { info, manifest, location: LOC };
}

/** Admin tier: nothing from namespace y reaches namespace x. */
const DENY_Y_TO_X = clusterPolicy({
  apiVersion: 'policy.networking.k8s.io/v1beta1',
  kind: 'ClusterNetworkPolicy',
  metadata: { name: 'deny-y-to-x', labels: { owner: 'sec' } },
  spec: {
    tier: 'Admin',
    priority: 10,
    subject: { namespaces: { matchLabels: { 'kubernetes.io/metadata.name': 'x' } } },
    ingress: [
      {
        name: 'no-y',
        action: 'Deny',
        from: [{ namespaces: { matchLabels: { 'kubernetes.io/metadata.name': 'y' } } }],
      },
    ],
  },
});

/** Step 0 no policy (every cell allowed); step 1 applies DENY_Y_TO_X: y/b → x/a denied. */
function clusterScenario(): Scenario {
  const rule = (from: string, to: string, verdict: 'allow' | 'deny') => ({
    cells: {
      from: parsePattern(from) as Pattern,
      to: parsePattern(to) as Pattern,
      text: `from ${from} to ${to}`,
    },
    verdict,
    location: LOC,
  });
  const world = { ...BASE_WORLD, policies: [] };
  return {
    file: 'cnp.yaml',
    name: 'cnp',
    options: DEFAULT_MODEL_OPTIONS,
    initial: world,
    policies: [],
    steps: [
      {
        index: 0,
        name: 'none',
        actions: [],
        world,
        expect: { default: 'allow', rules: [], tables: [] },
        location: LOC,
      },
      {
        index: 1,
        name: 'deny y to x',
        actions: [{ kind: 'apply', policies: [], clusterPolicies: [DENY_Y_TO_X] }],
        world: { ...world, clusterPolicies: [DENY_Y_TO_X.info] },
        expect: { default: 'allow', rules: [rule('y/b', 'x/a', 'deny')], tables: [] },
        location: LOC,
      },
    ],
    knownDeviations: [],
  };
}

describe('engine run with cluster policies (fake cluster)', () => {
  it('sends a cluster policy bound to the run: subject limited to its namespaces, names mapped, run name and labels', () => {
    const names = namespaceMap(['x', 'y'], 'c1', 'suffix');
    expect(liveClusterPolicy(DENY_Y_TO_X.manifest, names, 'c1', 'suffix')).to.deep.equal({
      apiVersion: 'policy.networking.k8s.io/v1beta1',
      kind: 'ClusterNetworkPolicy',
      metadata: {
        name: 'deny-y-to-x-c1',
        labels: {
          owner: 'sec',
          'app.kubernetes.io/managed-by': 'polygraph',
          'polygraph.dev/run': 'c1',
        },
      },
      spec: {
        tier: 'Admin',
        priority: 10,
        subject: {
          namespaces: {
            matchLabels: { 'kubernetes.io/metadata.name': 'x-c1' },
            matchExpressions: [
              { key: 'kubernetes.io/metadata.name', operator: 'In', values: ['x-c1', 'y-c1'] },
            ],
          },
        },
        ingress: [
          {
            name: 'no-y',
            action: 'Deny',
            from: [{ namespaces: { matchLabels: { 'kubernetes.io/metadata.name': 'y-c1' } } }],
          },
        ],
      },
    });
    // A pods subject without a namespaceSelector (every namespace) gets one; a pods peer's
    // namespace names are mapped and the peer is not bound; a Baseline v1alpha1 keeps `default`.
    const banp = {
      apiVersion: 'policy.networking.k8s.io/v1alpha1',
      kind: 'BaselineAdminNetworkPolicy',
      metadata: { name: 'default' },
      spec: {
        subject: {
          pods: {
            podSelector: { matchLabels: { app: 'a' } },
            namespaceSelector: {
              matchExpressions: [
                { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['y'] },
              ],
            },
          },
        },
        egress: [
          {
            action: 'Deny',
            to: [
              {
                pods: {
                  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'y' } },
                  podSelector: {},
                },
              },
              { networks: ['10.0.0.0/8'] },
            ],
          },
        ],
      },
    };
    const live = liveClusterPolicy(banp, names, 'c1', 'suffix');
    expect(live.metadata.name).to.equal('default');
    expect(live.spec).to.deep.equal({
      subject: {
        pods: {
          podSelector: { matchLabels: { app: 'a' } },
          namespaceSelector: {
            matchExpressions: [
              { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['y-c1'] },
              { key: 'kubernetes.io/metadata.name', operator: 'In', values: ['x-c1', 'y-c1'] },
            ],
          },
        },
      },
      egress: [
        {
          action: 'Deny',
          to: [
            {
              pods: {
                namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'y-c1' } },
                podSelector: {},
              },
            },
            { networks: ['10.0.0.0/8'] },
          ],
        },
      ],
    });
    const anyNamespace = liveClusterPolicy(
      {
        ...DENY_Y_TO_X.manifest,
        spec: { tier: 'Baseline', priority: 1, subject: { pods: { podSelector: {} } } },
      },
      names,
      'c1',
      'suffix',
    );
    expect(anyNamespace.spec.subject).to.deep.equal({
      pods: {
        podSelector: {},
        namespaceSelector: {
          matchExpressions: [
            { key: 'kubernetes.io/metadata.name', operator: 'In', values: ['x-c1', 'y-c1'] },
          ],
        },
      },
    });
  });

  it('applies a step’s cluster policy, probes its verdicts, and deletes it before the namespaces', async () => {
    const fake = new FakeCluster('c1');
    const result = await runScenario(clusterScenario(), fake, { image: 'img', runId: 'c1' });
    const applyAt = fake.calls.indexOf('apply-cluster ClusterNetworkPolicy/deny-y-to-x-c1');
    expect(applyAt).to.be.greaterThan(fake.calls.findIndex((c) => c.startsWith('wait ')));
    const tail = fake.calls.slice(-3);
    expect(tail).to.deep.equal([
      'delete-cluster ClusterNetworkPolicy/deny-y-to-x-c1',
      'delete-namespace x-c1',
      'delete-namespace y-c1',
    ]);
    expect(fake.clusterPolicies.size).to.equal(0);
    const cells = (i: number) =>
      (result.steps[i]?.cells ?? [])
        .filter((c) => c.from === 'y/b' && c.to === 'x/a')
        .map((c) => [c.probe.protocol, c.modelled, c.observed, c.class]);
    expect(cells(0)).to.deep.equal([
      ['TCP', 'allow', 'allowed', 'agree'],
      ['UDP', 'allow', 'allowed', 'agree'],
    ]);
    expect(cells(1)).to.deep.equal([
      ['TCP', 'deny', 'refused', 'agree'],
      ['UDP', 'deny', 'refused', 'agree'],
    ]);
  });

  it('a step that deletes a cluster policy deletes the live one at once, and the cleanup does not again', async () => {
    const base = clusterScenario();
    const world = base.initial;
    const deleting: Scenario = {
      ...base,
      steps: [
        ...base.steps,
        {
          index: 2,
          name: 'delete it',
          actions: [
            {
              kind: 'delete-cluster-policy',
              policyKind: 'ClusterNetworkPolicy',
              apiVersion: 'policy.networking.k8s.io/v1beta1',
              name: 'deny-y-to-x',
            },
          ],
          world,
          expect: { default: 'allow', rules: [], tables: [] },
          location: LOC,
        },
      ],
    };
    const fake = new FakeCluster('c9');
    const result = await runScenario(deleting, fake, { image: 'img', runId: 'c9' });
    const deletes = fake.calls.filter((c) => c.startsWith('delete-cluster'));
    expect(deletes).to.deep.equal(['delete-cluster ClusterNetworkPolicy/deny-y-to-x-c9']);
    expect(fake.calls.indexOf(deletes[0] ?? '')).to.be.lessThan(
      fake.calls.indexOf('delete-namespace x-c9') - 1,
    );
    const cells = (result.steps[2]?.cells ?? [])
      .filter((c) => c.from === 'y/b' && c.to === 'x/a')
      .map((c) => [c.probe.protocol, c.modelled, c.observed, c.class]);
    expect(cells).to.deep.equal([
      ['TCP', 'allow', 'allowed', 'agree'],
      ['UDP', 'allow', 'allowed', 'agree'],
    ]);
  });

  it('a cluster that accepts cluster policies but does not enforce them deviates, never passes', async () => {
    const fake = new FakeCluster('c2');
    fake.override = (key) => (key.startsWith('y/b>x/a/') ? 'allowed' : undefined);
    const result = await runScenario(clusterScenario(), fake, {
      image: 'img',
      runId: 'c2',
      settleTimeoutMs: 0,
      retries: 0,
    });
    const failing = result.steps
      .flatMap((s) => s.cells.map((c) => ({ step: s.name, ...c })))
      .filter((c) => c.class !== 'agree')
      .map((c) => [
        c.step,
        c.from,
        c.to,
        c.probe.protocol,
        c.expected,
        c.modelled,
        c.observed,
        c.class,
      ]);
    expect(failing).to.deep.equal([
      ['deny y to x', 'y/b', 'x/a', 'TCP', 'deny', 'deny', 'allowed', 'cluster-deviates'],
      ['deny y to x', 'y/b', 'x/a', 'UDP', 'deny', 'deny', 'allowed', 'cluster-deviates'],
    ]);
  });

  it('a cluster policy that cannot be deleted does not stop the cleanup of the others and of the namespaces', async () => {
    const other = clusterPolicy({
      ...DENY_Y_TO_X.manifest,
      metadata: { name: 'also-deny-y-to-x' },
    });
    const two = clusterScenario();
    const withTwo: Scenario = {
      ...two,
      clusterPolicies: [DENY_Y_TO_X, other],
      initial: { ...two.initial, clusterPolicies: [DENY_Y_TO_X.info, other.info] },
      steps: [],
    };
    const fake = new FakeCluster('c6');
    fake.failOn = 'delete-cluster ClusterNetworkPolicy/deny-y-to-x-c6';
    let error: unknown;
    try {
      await runScenario(withTwo, fake, { image: 'img', runId: 'c6' });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(ClusterError);
    expect(fake.calls.slice(-4)).to.deep.equal([
      'delete-cluster ClusterNetworkPolicy/deny-y-to-x-c6',
      'delete-cluster ClusterNetworkPolicy/also-deny-y-to-x-c6',
      'delete-namespace x-c6',
      'delete-namespace y-c6',
    ]);
    expect([...fake.clusterPolicies.keys()]).to.deep.equal(['ClusterNetworkPolicy/deny-y-to-x-c6']);
  });

  it('deletes cluster policies when interrupted, on a pool reset, and keeps them (with the command) under keep', async () => {
    const aborted = new FakeCluster('c3');
    const controller = new AbortController();
    aborted.onProbe = () => {
      if (aborted.clusterPolicies.size > 0) controller.abort(new Error('interrupted'));
    };
    let error: unknown;
    // A third step, so that a probe comes after the abort.
    const three = clusterScenario();
    const last = three.steps[1];
    if (last === undefined) throw new Error('no step');
    const withThird: Scenario = {
      ...three,
      steps: [...three.steps, { ...last, index: 2, name: 'again', actions: [] }],
    };
    try {
      await runScenario(withThird, aborted, {
        image: 'img',
        runId: 'c3',
        signal: controller.signal,
      });
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).to.equal('interrupted');
    expect(aborted.calls).to.include('delete-cluster ClusterNetworkPolicy/deny-y-to-x-c3');
    expect(aborted.clusterPolicies.size).to.equal(0);
    expect(aborted.namespaces.size).to.equal(0);

    const pool = new TopologyPool();
    const pooled = new FakeCluster('c4');
    await runScenario(clusterScenario(), pooled, { image: 'img', runId: 'c4', pool });
    expect(pooled.calls).to.include('delete-cluster ClusterNetworkPolicy/deny-y-to-x-c4');
    expect(pooled.calls.filter((c) => c.startsWith('delete-namespace'))).to.deep.equal([]);
    expect(pooled.clusterPolicies.size).to.equal(0);
    await pool.close(pooled);

    const kept = new FakeCluster('c5');
    const result = await runScenario(clusterScenario(), kept, {
      image: 'img',
      runId: 'c5',
      keep: true,
    });
    expect(kept.clusterPolicies.size).to.equal(1);
    expect(result.live?.kept).to.equal(
      'kubectl delete namespace,clusternetworkpolicy -l polygraph.dev/run=c5   (or: polygraph clean)',
    );
  });
});
