import { performance } from 'node:perf_hooks';
import { NetworkModel } from '../src/model/engine.js';
import { BENCH_PROBES, syntheticWorld } from './synthetic.js';

/*
 * npm run bench:model — the whole model matrix of a seeded synthetic cluster: 1,000 pods in 50
 * namespaces, 300 policies of mixed shapes, 4 probes (4 M cells). Prints one line per run and a
 * median; results are recorded in docs/BENCHMARKS.md.
 * Options (env): BENCH_RUNS (default 7), BENCH_PODS, BENCH_POLICIES, BENCH_SEED.
 */
const runs = Number(process.env.BENCH_RUNS ?? 7);
const pods = Number(process.env.BENCH_PODS ?? 1000);
const policies = Number(process.env.BENCH_POLICIES ?? 300);
const seed = Number(process.env.BENCH_SEED ?? 42);
const world = syntheticWorld({ seed, pods, namespaces: 50, policies });
const n = world.pods.length + world.externals.length;

function once() {
  const t0 = performance.now();
  const model = new NetworkModel(world);
  const t1 = performance.now();
  let allowed = 0;
  let cells = 0;
  for (const probe of BENCH_PROBES) {
    const table = model.table(probe);
    for (let s = 0; s < n; s++)
      for (let d = 0; d < n; d++) {
        if (!table.isCell(s, d)) continue;
        cells++;
        if (table.allowed(s, d)) allowed++;
      }
  }
  const t2 = performance.now();
  return { compileMs: t1 - t0, matrixMs: t2 - t1, totalMs: t2 - t0, cells, allowed, model };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const results = [];
for (let i = 0; i < runs; i++) {
  const r = once();
  results.push(r);
  console.log(
    `run ${i + 1}: compile ${r.compileMs.toFixed(0)} ms, 4 tables ${r.matrixMs.toFixed(0)} ms, total ${r.totalMs.toFixed(0)} ms (${r.cells} cells, ${r.allowed} allowed)`,
  );
}
const total = median(results.map((r) => r.totalMs));
const cells = results[0]?.cells ?? 0;

// Provenance: the per-cell verdict with its reasons, on a sample of 100,000 cells.
const model = results[0]!.model;
const sample = 100_000;
const rnd = (() => {
  let x = 1;
  return () => (x = (x * 48271) % 2147483647) / 2147483647;
})();
const t0 = performance.now();
for (let i = 0; i < sample; i++) {
  const from = model.endpoints[Math.floor(rnd() * n)]!;
  const to = model.endpoints[Math.floor(rnd() * n)]!;
  model.verdict(from.key, to.key, BENCH_PROBES[i % BENCH_PROBES.length]!);
}
const verdictUs = ((performance.now() - t0) * 1000) / sample;

console.log(
  `\n${world.pods.length} pods + ${world.externals.length} external, ${world.namespaces.length} namespaces, ${world.policies.length} policies, ${BENCH_PROBES.length} probes: ` +
    `${cells} cells in ${total.toFixed(0)} ms (median of ${runs}), ${(cells / (total / 1000) / 1e6).toFixed(1)} M cells/s; ` +
    `compile ${median(results.map((r) => r.compileMs)).toFixed(0)} ms, tables ${median(results.map((r) => r.matrixMs)).toFixed(0)} ms; ` +
    `verdict with provenance ${verdictUs.toFixed(1)} µs/cell`,
);
