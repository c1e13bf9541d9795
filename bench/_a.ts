import { NetworkModel } from '../src/model/engine.js';
import { BENCH_PROBES, syntheticClusterPolicies, syntheticWorld } from './synthetic.js';
const world = syntheticWorld({ seed: 42, pods: 1000, namespaces: 50, policies: 300 });
const tw = { ...world, clusterPolicies: syntheticClusterPolicies(42, 50) };
for (const [name, w] of [
  ['plain', world],
  ['tiered', tw],
] as const) {
  for (let k = 0; k < 5; k++) {
    const m = new NetworkModel(w);
    for (const p of BENCH_PROBES) m.table(p);
  }
  global.gc?.();
  const before = process.memoryUsage();
  let total = 0;
  const v8 = await import('node:v8');
  const h0 = v8.getHeapStatistics();
  for (let k = 0; k < 20; k++) {
    const m = new NetworkModel(w);
    for (const p of BENCH_PROBES) m.table(p).count();
  }
  const h1 = v8.getHeapStatistics();
  console.log(
    name,
    'total_heap delta',
    ((h1.total_heap_size - h0.total_heap_size) / 1e6).toFixed(1),
    'external',
    ((process.memoryUsage().arrayBuffers - before.arrayBuffers) / 1e6).toFixed(1),
    total,
  );
}
