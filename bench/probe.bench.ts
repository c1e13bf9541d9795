import pLimit from 'p-limit';
import { performance } from 'node:perf_hooks';
import { Cluster } from '../src/cluster/index.js';
import { podKey } from '../src/domain/endpoint.js';
import type { Scenario, ScenarioPolicy, ScenarioStep } from '../src/dsl/types.js';
import { clusterBackend } from '../src/engine/live-cluster.js';
import { newRunId } from '../src/engine/names.js';
import { runScenario } from '../src/engine/run.js';
import { IssueSink } from '../src/model/raw.js';
import { DEFAULT_MODEL_OPTIONS, type PodInfo, type World } from '../src/model/types.js';
import { readNetworkPolicy } from '../src/model/validate.js';
import type { ProbeJob } from '../src/probe/batch-protocol.js';
import { runProbeBatch } from '../src/probe/batch.js';
import { PROBE_CONTAINER } from '../src/probe/probe-pod.js';
import * as lab from '../test/lab/lab.js';

/*
 * npm run bench:probe — on the lab (npm run lab:up first), or on the cluster of
 * POLYGRAPH_KUBECONFIG / KUBECONFIG with POLYGRAPH_IMAGE.
 *
 * 9 pods (namespaces x, y, z × pods a, b, c) serving 80 and 81 on TCP and UDP: 324 probes per
 * step. Two steps run by the engine exactly as `polygraph run` runs them (each source pod
 * probing through its probe session, opened with the pods), each including its actions and its
 * settling: allow-all (an allow-all ingress policy in each namespace) and default-deny (the
 * allow-all policies deleted, a deny-all ingress policy in each namespace). Then the peers'
 * method on the same pods and the same matrix: one exec per probe, 15 concurrent workers, once
 * under default-deny and once under allow-all. Prints one line per measure and the ratios;
 * recorded in docs/BENCHMARKS.md. BENCH_RUNS (default 3) repeats the engine's scenario.
 *
 * Then the exposure window: how long after the API server accepted a policy the first probe
 * round sees it enforced, over BENCH_EXPOSURE_REPS (default 20; 0 skips) repetitions of a
 * default-deny step (a deny-all ingress policy on y) and an allow-list step (x/a admitted to y
 * on 80/TCP), each followed by a reset: x/a, x/b → y/a, y/b on 80/TCP, settling only the changed
 * cells (rounds of a few probes: the window is measured to within one short round). On one node
 * (every pod on the first node), and across nodes (x on one node, y on another) when the cluster
 * has two schedulable nodes.
 */
const runs = Number(process.env.BENCH_RUNS ?? 3);
const exposureReps = Number(process.env.BENCH_EXPOSURE_REPS ?? 20);
const NAMESPACES = ['x', 'y', 'z'];
const PODS = ['a', 'b', 'c'];
const PORTS = [80, 81];
const LOC = { file: '<bench>', line: 1, col: 1 };

function policy(namespace: string, name: string, spec: Record<string, unknown>): ScenarioPolicy {
  const manifest = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace },
    spec,
  };
  const info = readNetworkPolicy(manifest, new IssueSink());
  if (info === undefined) throw new Error(`bad policy ${name}`);
  return { info, manifest, location: LOC };
}

const pods: PodInfo[] = NAMESPACES.flatMap((namespace) =>
  PODS.map((name) => ({
    namespace,
    name,
    labels: { pod: name },
    ips: [],
    ports: PORTS.flatMap((port) =>
      (['TCP', 'UDP'] as const).map((protocol) => ({
        containerPort: port,
        protocol,
        name: `serve-${String(port)}-${protocol.toLowerCase()}`,
      })),
    ),
    hostNetwork: false,
  })),
);
const allowAll = NAMESPACES.map((ns) =>
  policy(ns, 'allow-all', { podSelector: {}, ingress: [{}], policyTypes: ['Ingress'] }),
);
const denyAll = NAMESPACES.map((ns) =>
  policy(ns, 'deny-all', { podSelector: {}, policyTypes: ['Ingress'] }),
);
const world: World = {
  namespaces: NAMESPACES.map((name) => ({ name, labels: {} })),
  pods,
  externals: [],
  policies: [],
};

function scenario(): Scenario {
  const steps: ScenarioStep[] = [
    {
      index: 0,
      name: 'allow-all',
      actions: [{ kind: 'apply', policies: allowAll }],
      world: { ...world, policies: allowAll.map((p) => p.info) },
      location: LOC,
    },
    {
      index: 1,
      name: 'default-deny',
      actions: [
        ...NAMESPACES.map((ns) => ({
          kind: 'delete-policy' as const,
          namespace: ns,
          name: 'allow-all',
        })),
        { kind: 'apply', policies: denyAll },
      ],
      world: { ...world, policies: denyAll.map((p) => p.info) },
      location: LOC,
    },
  ];
  return {
    file: '<bench>',
    name: 'probe benchmark',
    options: DEFAULT_MODEL_OPTIONS,
    initial: world,
    policies: [],
    steps,
    knownDeviations: [],
  };
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

const kubeconfig =
  process.env.POLYGRAPH_KUBECONFIG ?? process.env.KUBECONFIG ?? lab.kubeconfigPath();
const image = process.env.POLYGRAPH_IMAGE ?? (await lab.probeImageRef());
const cluster = Cluster.connect({ kubeconfig });
const backend = clusterBackend(cluster);
console.log(`cluster ${cluster.server}, Kubernetes ${await cluster.serverVersion()}`);

// The engine, as `polygraph run` runs it: the step times include the actions and settling.
const stepTimes = new Map<string, number[]>();
const lastRunId = newRunId();
for (let r = 1; r <= runs; r++) {
  const keep = r === runs; // the last run's pods serve the one-exec-per-probe comparison
  const t0 = performance.now();
  let setupMs = 0;
  const result = await runScenario(scenario(), backend, {
    image,
    concurrency: 9,
    ...(keep ? { keep: true, runId: lastRunId } : {}),
    onEvent: (event) => {
      if (event.kind === 'step' && event.index === 0) setupMs = performance.now() - t0;
    },
  });
  console.log(
    `run ${String(r)} setup (namespaces, 9 pods Ready, 9 probe sessions open): ${s(setupMs)}`,
  );
  for (const step of result.steps) {
    const live = step.live;
    if (live === undefined) continue;
    const bad = step.counts.byClass['cluster-deviates'] + step.counts.byClass['probe-error'];
    console.log(
      `run ${String(r)} step ${step.name}: ${s(live.durationMs)} (settle: ${String(live.settle.cells)} changed cells, ${String(live.settle.rounds)} rounds, exposure ${live.settle.exposureMs === undefined ? '-' : `${String(live.settle.exposureMs)} ms`}; ${String(live.probes)} probes in ${s(live.probeMs)}; ${String(bad)} cells off the model)`,
    );
    stepTimes.set(step.name, [...(stepTimes.get(step.name) ?? []), live.durationMs]);
  }
}

// The peers' method on the kept pods: one exec per probe, 15 workers.
const live = new Map(
  await Promise.all(
    pods.map(async (p) => {
      const info = await cluster.getPod(`${p.namespace}-${lastRunId}`, p.name);
      return [podKey(p.namespace, p.name), info] as const;
    }),
  ),
);
const jobs: { from: string; job: ProbeJob }[] = [];
let n = 0;
for (const from of live.keys())
  for (const [, to] of live)
    for (const port of PORTS)
      for (const protocol of ['TCP', 'UDP'] as const)
        jobs.push({
          from,
          job: { id: `j${String(n++)}`, host: to.ip ?? '', port, protocol, timeoutSeconds: 1 },
        });

async function onePerProbe(): Promise<{ ms: number; allowed: number; errors: number }> {
  const limit = pLimit(15);
  const t0 = performance.now();
  const results = await Promise.all(
    jobs.map(({ from, job }) =>
      limit(async () => {
        const pod = live.get(from)!;
        const [r] = await runProbeBatch(
          cluster,
          { namespace: pod.namespace, pod: pod.name, container: PROBE_CONTAINER },
          [job],
        );
        return r;
      }),
    ),
  );
  return {
    ms: performance.now() - t0,
    allowed: results.filter((r) => r?.outcome === 'allowed').length,
    errors: results.filter((r) => r?.outcome === 'probe-error').length,
  };
}

try {
  const deny = await onePerProbe();
  console.log(
    `one exec per probe, 15 workers, default-deny: ${String(jobs.length)} probes in ${s(deny.ms)} (${String(deny.allowed)} allowed, ${String(deny.errors)} probe errors)`,
  );
  for (const ns of NAMESPACES) {
    await cluster.deleteNetworkPolicy(`${ns}-${lastRunId}`, 'deny-all');
  }
  await new Promise((r) => setTimeout(r, 1000)); // only the peers' method waits like this
  const allow = await onePerProbe();
  console.log(
    `one exec per probe, 15 workers, allow-all: ${String(jobs.length)} probes in ${s(allow.ms)} (${String(allow.allowed)} allowed, ${String(allow.errors)} probe errors)`,
  );
  const engineAllow = median(stepTimes.get('allow-all') ?? []);
  const engineDeny = median(stepTimes.get('default-deny') ?? []);
  console.log(
    `SUMMARY engine step incl. settling (median of ${String(runs)}): allow-all ${s(engineAllow)}, default-deny ${s(engineDeny)}; ` +
      `one exec per probe: allow-all ${s(allow.ms)}, default-deny ${s(deny.ms)}; ` +
      `ratio allow-all ${(allow.ms / engineAllow).toFixed(1)}×, default-deny ${(deny.ms / engineDeny).toFixed(1)}×`,
  );
} finally {
  await Promise.all(
    NAMESPACES.map((ns) => cluster.deleteNamespace(`${ns}-${lastRunId}`, { wait: true })),
  );
}

// The exposure window, on one node and across nodes.
function exposureScenario(nodeOf: (namespace: string) => string | undefined): Scenario {
  const base: World = {
    namespaces: [
      { name: 'x', labels: {} },
      { name: 'y', labels: {} },
    ],
    pods: ['x', 'y'].flatMap((namespace) => {
      const node = nodeOf(namespace);
      return ['a', 'b'].map((name): PodInfo => ({
        namespace,
        name,
        labels: { pod: name },
        ips: [],
        ports: [{ containerPort: 80, protocol: 'TCP', name: 'http' }],
        hostNetwork: false,
        ...(node === undefined ? {} : { nodeName: node }),
      }));
    }),
    externals: [],
    policies: [],
  };
  const deny = policy('y', 'deny-all', { podSelector: {}, policyTypes: ['Ingress'] });
  const allowList = policy('y', 'from-x-a', {
    podSelector: {},
    policyTypes: ['Ingress'],
    ingress: [
      {
        from: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'x' } },
            podSelector: { matchLabels: { pod: 'a' } },
          },
        ],
        ports: [{ port: 80, protocol: 'TCP' }],
      },
    ],
  });
  const steps: ScenarioStep[] = [];
  for (let rep = 0; rep < exposureReps; rep++) {
    const step = (name: string, actions: ScenarioStep['actions'], policies: ScenarioPolicy[]) =>
      steps.push({
        index: steps.length,
        name: `${name} ${String(rep + 1)}`,
        actions,
        world: { ...base, policies: policies.map((p) => p.info) },
        location: LOC,
      });
    step('default-deny', [{ kind: 'apply', policies: [deny] }], [deny]);
    step('allow-list', [{ kind: 'apply', policies: [allowList] }], [deny, allowList]);
    step(
      'reset',
      [
        { kind: 'delete-policy', namespace: 'y', name: 'deny-all' },
        { kind: 'delete-policy', namespace: 'y', name: 'from-x-a' },
      ],
      [],
    );
  }
  return {
    file: '<bench>',
    name: 'exposure window',
    options: DEFAULT_MODEL_OPTIONS,
    initial: base,
    policies: [],
    steps,
    knownDeviations: [],
  };
}

const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? NaN;

if (exposureReps > 0) {
  const nodes = (await cluster.listNodes()).filter((n) => n.schedulable).map((n) => n.name);
  const first = nodes[0];
  const placements: { label: string; nodeOf: (ns: string) => string | undefined }[] = [
    { label: 'one node', nodeOf: () => first },
  ];
  const second = nodes[1];
  if (second !== undefined)
    placements.push({
      label: 'across nodes',
      nodeOf: (ns) => (ns === 'x' ? first : second),
    });
  else console.log('exposure across nodes: the cluster has one schedulable node; not measured');
  for (const { label, nodeOf } of placements) {
    const result = await runScenario(exposureScenario(nodeOf), backend, {
      image,
      concurrency: 4,
      settleScope: 'changed',
    });
    const windows = new Map<string, number[]>();
    let off = 0;
    let unsettled = 0;
    for (const step of result.steps) {
      const kind = step.name.replace(/ \d+$/, '');
      off += step.counts.byClass['cluster-deviates'] + step.counts.byClass['probe-error'];
      const settle = step.live?.settle;
      if (settle?.settled === false) unsettled++;
      if (settle?.exposureMs !== undefined)
        windows.set(kind, [...(windows.get(kind) ?? []), settle.exposureMs]);
    }
    for (const kind of ['default-deny', 'allow-list']) {
      const xs = windows.get(kind) ?? [];
      console.log(
        `SUMMARY exposure window ${label}, ${kind} (${String(xs.length)} repetitions, ms from the API accepting the policy to the end of the first round that shows it): ` +
          `min ${String(quantile(xs, 0))}, median ${String(quantile(xs, 0.5))}, p90 ${String(quantile(xs, 0.9))}, max ${String(Math.max(...xs))}`,
      );
    }
    console.log(
      `exposure ${label}: ${String(off)} cells off the model, ${String(unsettled)} steps not settled within the bound`,
    );
  }
}
