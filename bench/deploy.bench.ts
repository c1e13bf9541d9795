import { performance } from 'node:perf_hooks';
import { Cluster, findNamespace, waitPodsReady, type PodSpecInput } from '../src/cluster/index.js';
import { clientsOf } from '../src/cluster/cluster.js';
import { MANAGED_BY, MANAGED_BY_LABEL, newRunId } from '../src/engine/names.js';
import { probeServers, scenarioProbePod, type ScenarioPodRequest } from '../src/probe/probe-pod.js';
import * as lab from '../test/lab/lab.js';

/*
 * npm run bench:deploy — on the lab (npm run lab:up first), or on the cluster of
 * POLYGRAPH_KUBECONFIG / KUBECONFIG with POLYGRAPH_IMAGE.
 *
 * What a run spends around its probes: its probe pods created until Ready, and its namespaces
 * deleted until gone. The topology of most of test/cases (topologies/trio.yaml): namespaces x, y,
 * z with pods a, b, c, each declaring 80 and 81 on TCP, UDP and SCTP and eight more ports, ten
 * servers a pod. Each round deploys it four ways and deletes it, the four interleaved so that
 * each sees the same machine:
 *  - pods: one container per server (the layout before), or one container for all
 *    (scenarioProbePod, what runs now);
 *  - cleanup: the namespaces deleted alone (before), or Cluster.deleteNamespace, which deletes
 *    their pods at once first (now);
 * and prints each measure's median over BENCH_ROUNDS (default 3) and the ratios. Recorded in
 * docs/BENCHMARKS.md.
 */
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const NAMESPACES = ['x', 'y', 'z'];
const PODS = ['a', 'b', 'c'];
const PORTS: ScenarioPodRequest['ports'] = [
  ...[80, 81].flatMap((port) =>
    (['TCP', 'UDP', 'SCTP'] as const).map((protocol) => ({
      containerPort: port,
      protocol,
      name: `serve-${String(port)}-${protocol.toLowerCase()}`,
    })),
  ),
  { containerPort: 53, protocol: 'TCP' },
  { containerPort: 53, protocol: 'UDP' },
  ...[82, 443, 7999, 8000, 8040, 8080, 8081].map((port) => ({
    containerPort: port,
    protocol: 'TCP' as const,
  })),
  { containerPort: 8000, protocol: 'UDP' },
];

type Layout = 'container per server' | 'one container';
type Cleanup = 'namespaces alone' | 'pods first';

/** The layout before: the first server in `probe` (with the ports), each other in its own. */
function containerPerServer(request: ScenarioPodRequest): PodSpecInput {
  const pod = scenarioProbePod(request);
  const [probe] = pod.containers;
  if (probe === undefined) throw new Error('no container');
  const servers = probeServers(request);
  return {
    ...pod,
    containers: servers.map((args, i) => ({
      name: i === 0 ? probe.name : `serve-${String(i)}`,
      image: request.image,
      command: ['/agnhost'],
      args,
      ...(i === 0 ? { ports: probe.ports } : {}),
    })),
  };
}

const kubeconfig =
  process.env.POLYGRAPH_KUBECONFIG ?? process.env.KUBECONFIG ?? lab.kubeconfigPath();
const image = process.env.POLYGRAPH_IMAGE ?? (await lab.probeImageRef());
const cluster = Cluster.connect({ kubeconfig });
// The baseline deletes a namespace as polygraph did before: the namespace alone.
const core = clientsOf(cluster).core;

/** Until the namespace is gone (as Cluster.deleteNamespace waits, for the baseline's deletion). */
async function gone(namespace: string): Promise<void> {
  while ((await findNamespace(cluster, namespace)) !== undefined)
    await new Promise((r) => setTimeout(r, 250));
}

async function deploy(layout: Layout, cleanup: Cleanup): Promise<{ ready: number; gone: number }> {
  const id = newRunId();
  const names = NAMESPACES.map((ns) => `bench-${ns}-${id}`);
  for (const name of names) await cluster.createNamespace(name, { [MANAGED_BY_LABEL]: MANAGED_BY });
  const t0 = performance.now();
  await Promise.all(
    names.flatMap((namespace) =>
      PODS.map((name) => {
        const request = { namespace, name, labels: { pod: name }, image, ports: PORTS };
        return cluster.createPod(
          layout === 'one container' ? scenarioProbePod(request) : containerPerServer(request),
        );
      }),
    ),
  );
  await Promise.all(names.map((ns) => waitPodsReady(cluster, ns, PODS, { timeoutMs: 180_000 })));
  const t1 = performance.now();
  await Promise.all(
    names.map(async (ns) => {
      if (cleanup === 'pods first') await cluster.deleteNamespace(ns, { wait: true });
      else {
        await core.deleteNamespace({ name: ns });
        await gone(ns);
      }
    }),
  );
  return { ready: (t1 - t0) / 1000, gone: (performance.now() - t1) / 1000 };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

const variants: [Layout, Cleanup][] = [
  ['container per server', 'namespaces alone'],
  ['one container', 'pods first'],
  ['container per server', 'pods first'],
  ['one container', 'namespaces alone'],
];
const ready = new Map<Layout, number[]>();
const deleted = new Map<string, number[]>();
console.log(
  `9 probe pods of ${String(probeServers({ namespace: '', name: '', labels: {}, image, ports: PORTS }).length)} servers each, ${String(rounds)} rounds, ${cluster.server}`,
);
for (let round = 1; round <= rounds; round++) {
  for (const [layout, cleanup] of variants) {
    const r = await deploy(layout, cleanup);
    console.log(
      `round ${String(round)}: ${layout.padEnd(20)} Ready in ${r.ready.toFixed(1)} s; ${`${cleanup} (${layout})`.padEnd(40)} gone in ${r.gone.toFixed(1)} s`,
    );
    ready.set(layout, [...(ready.get(layout) ?? []), r.ready]);
    const key = `${cleanup} (${layout})`;
    deleted.set(key, [...(deleted.get(key) ?? []), r.gone]);
  }
}
const m = (xs: number[] | undefined) => median(xs ?? []);
const before = m(ready.get('container per server'));
const now = m(ready.get('one container'));
console.log(`\nmedians over ${String(rounds)} rounds`);
console.log(`pods Ready, a container per server: ${before.toFixed(1)} s`);
console.log(
  `pods Ready, one container:          ${now.toFixed(1)} s  (${(before / now).toFixed(2)}x)`,
);
for (const layout of ['container per server', 'one container'] as const) {
  const alone = m(deleted.get(`namespaces alone (${layout})`));
  const first = m(deleted.get(`pods first (${layout})`));
  console.log(
    `namespaces gone (${layout}): alone ${alone.toFixed(1)} s, pods first ${first.toFixed(1)} s  (${(alone / first).toFixed(2)}x)`,
  );
}
const total0 = before + m(deleted.get('namespaces alone (container per server)'));
const total1 = now + m(deleted.get('pods first (one container)'));
console.log(
  `deploy + cleanup, before → now: ${total0.toFixed(1)} s → ${total1.toFixed(1)} s  (${(total0 / total1).toFixed(2)}x)`,
);
