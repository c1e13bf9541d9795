import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { NetworkModel } from '../src/model/engine.js';
import { worldManifests } from './manifests.js';
import type { World } from '../src/model/types.js';
import { BENCH_PROBES, syntheticClusterPolicies, syntheticWorld } from './synthetic.js';

/*
 * npm run bench:model — the whole model matrix of a seeded synthetic cluster: 1,000 pods in 50
 * namespaces, 300 policies of mixed shapes, 4 probes (4 M cells). Prints one line per run and a
 * median; then the CLI end to end (`model -o json` to a file) on the same cluster written as
 * manifests. Results are recorded in docs/BENCHMARKS.md.
 * Then the tiered case: the same cluster plus 50 ClusterNetworkPolicies across the Admin and
 * Baseline tiers (target: < 2x the NetworkPolicy-only time).
 * Options (env): BENCH_RUNS (default 7), BENCH_PODS, BENCH_POLICIES, BENCH_SEED,
 * BENCH_CLUSTER_POLICIES (default 50), BENCH_CLI=0 to skip the CLI run (which needs
 * `npm run build`).
 */
const runs = Number(process.env.BENCH_RUNS ?? 7);
const pods = Number(process.env.BENCH_PODS ?? 1000);
const policies = Number(process.env.BENCH_POLICIES ?? 300);
const seed = Number(process.env.BENCH_SEED ?? 42);
const world = syntheticWorld({ seed, pods, namespaces: 50, policies });
const n = world.pods.length + world.externals.length;

function once(input: World = world) {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const model = new NetworkModel(input);
  const t1 = performance.now();
  let allowed = 0;
  let cells = 0;
  for (const probe of BENCH_PROBES) {
    const counted = model.table(probe).count();
    cells += counted.cells;
    allowed += counted.allowed;
  }
  const t2 = performance.now();
  const used = process.cpuUsage(cpu);
  return {
    compileMs: t1 - t0,
    matrixMs: t2 - t1,
    totalMs: t2 - t0,
    cpuMs: (used.user + used.system) / 1000,
    cells,
    allowed,
    model,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
console.log(
  `load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} (a busy machine slows every figure)`,
);
const results = [];
for (let i = 0; i < runs; i++) {
  const cpu = process.cpuUsage();
  const r = once();
  const used = process.cpuUsage(cpu);
  const cpuMs = used.user / 1000;
  results.push({ ...r, cpuMs });
  console.log(
    `run ${i + 1}: compile ${r.compileMs.toFixed(0)} ms, 4 tables ${r.matrixMs.toFixed(0)} ms, total ${r.totalMs.toFixed(0)} ms (cpu user ${cpuMs.toFixed(0)} ms, system ${(used.system / 1000).toFixed(0)} ms; ${r.cells} cells, ${r.allowed} allowed)`,
  );
}
const total = median(results.map((r) => r.totalMs));
const cells = results[0]?.cells ?? 0;
const model = results[0]?.model ?? new NetworkModel(world);

// Every cell read one by one (what a report does), on the first probe's table.
let readNsPerCell = NaN;
if (n <= 2000) {
  const table = model.table(BENCH_PROBES[0] ?? { port: 80, protocol: 'TCP' });
  const t0 = performance.now();
  let seen = 0;
  for (let s = 0; s < n; s++)
    for (let d = 0; d < n; d++) if (table.isCell(s, d) && table.allowed(s, d)) seen++;
  readNsPerCell = ((performance.now() - t0) * 1e6) / (n * n);
  if (seen !== model.table(BENCH_PROBES[0] ?? { port: 80, protocol: 'TCP' }).count().allowed)
    throw new Error('per-cell read and count() disagree');
}

// Provenance: the per-cell verdict with its reasons, on a sample of 100,000 cells.
const sample = 100_000;
const rnd = (() => {
  let x = 1;
  return () => (x = (x * 48271) % 2147483647) / 2147483647;
})();
const t0 = performance.now();
for (let i = 0; i < sample; i++) {
  const from = model.endpoints[Math.floor(rnd() * n)];
  const to = model.endpoints[Math.floor(rnd() * n)];
  const probe = BENCH_PROBES[i % BENCH_PROBES.length];
  if (from && to && probe) model.verdict(from.key, to.key, probe);
}
const verdictUs = ((performance.now() - t0) * 1000) / sample;

console.log(
  `\n${world.pods.length} pods + ${world.externals.length} external, ${world.namespaces.length} namespaces, ${world.policies.length} policies, ${BENCH_PROBES.length} probes: ` +
    `${cells} cells in ${total.toFixed(0)} ms (median of ${runs}), ${(cells / (total / 1000) / 1e6).toFixed(1)} M cells/s; ` +
    `compile ${median(results.map((r) => r.compileMs)).toFixed(0)} ms, tables ${median(results.map((r) => r.matrixMs)).toFixed(0)} ms, ` +
    `cpu user ${median(results.map((r) => r.cpuMs)).toFixed(0)} ms; ` +
    (Number.isNaN(readNsPerCell)
      ? ''
      : `reading every cell ${readNsPerCell.toFixed(1)} ns/cell; `) +
    `verdict with provenance ${verdictUs.toFixed(1)} µs/cell`,
);

// The tiered case: the same cluster with cluster policies in both tiers, timed the same way,
// interleaved with NetworkPolicy-only runs so that both see the same machine load.
const clusterCount = Number(process.env.BENCH_CLUSTER_POLICIES ?? 50);
const tieredWorld: World = {
  ...world,
  clusterPolicies: syntheticClusterPolicies(seed, clusterCount),
};
const plain = { wall: [] as number[], cpu: [] as number[] };
const tiered = { wall: [] as number[], cpu: [] as number[] };
let tieredCells = 0;
let tieredAllowed = 0;
// Untimed warm-up of the tiered path, so that both are measured compiled by the JIT (the
// NetworkPolicy-only path was warmed by the runs above).
for (let i = 0; i < 3; i++) once(tieredWorld);
for (let i = 0; i < runs; i++) {
  const p = once();
  plain.wall.push(p.totalMs);
  plain.cpu.push(p.cpuMs);
  const r = once(tieredWorld);
  tiered.wall.push(r.totalMs);
  tiered.cpu.push(r.cpuMs);
  tieredCells = r.cells;
  tieredAllowed = r.allowed;
}
const tiers = tieredWorld.clusterPolicies ?? [];
const wallRatio = median(tiered.wall) / median(plain.wall);
const cpuRatio = median(tiered.cpu) / median(plain.cpu);
console.log(
  `\ntiered: + ${tiers.length} ClusterNetworkPolicies (${tiers.filter((p) => p.tier === 'Admin').length} Admin, ${tiers.filter((p) => p.tier === 'Baseline').length} Baseline): ` +
    `${tieredCells} cells (${tieredAllowed} allowed); compile + 4 tables, medians of ${runs} runs interleaved with NetworkPolicy-only runs, after a warm-up: ` +
    `${median(tiered.wall).toFixed(0)} ms wall against ${median(plain.wall).toFixed(0)} ms (${wallRatio.toFixed(2)}x), ` +
    `${median(tiered.cpu).toFixed(0)} ms CPU against ${median(plain.cpu).toFixed(0)} ms (${cpuRatio.toFixed(2)}x); target < 2x: ${wallRatio < 2 && cpuRatio < 2 ? 'met' : wallRatio < 2 || cpuRatio < 2 ? `met in ${wallRatio < 2 ? 'wall' : 'CPU'} time only` : 'NOT met'}`,
);

// The CLI end to end: manifests in, `model -o json` out to a file.
const CLI = new URL('../dist/cli/main.js', import.meta.url).pathname;
if (process.env.BENCH_CLI !== '0') {
  if (!existsSync(CLI)) {
    console.log(`\nCLI: ${CLI} is missing, run npm run build first (or BENCH_CLI=0)`);
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'polygraph-bench-'));
    const input = join(dir, 'cluster.yaml');
    writeFileSync(input, worldManifests(world));
    const output = join(dir, 'model.json');
    const args = [
      CLI,
      'model',
      '-f',
      input,
      ...world.externals.map((e) => `--external=${e.name}=${e.ip}`),
      ...BENCH_PROBES.flatMap((p) => ['--probe', `${p.port}/${p.protocol}`]),
      '-o',
      'json',
    ];
    // GNU time reports the peak resident set size of the child; without it, wall time only.
    const time = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
    const fd = openSync(output, 'w');
    const started = performance.now();
    const r = time
      ? spawnSync(time, ['-f', 'maxrss_kb=%M user_s=%U sys_s=%S', process.execPath, ...args], {
          stdio: ['ignore', fd, 'pipe'],
        })
      : spawnSync(process.execPath, args, { stdio: ['ignore', fd, 'pipe'] });
    const wallS = (performance.now() - started) / 1000;
    closeSync(fd);
    const stderr = r.stderr.toString();
    if (r.status !== 0) throw new Error(`CLI failed (${String(r.status)}): ${stderr}`);
    const rssKb = /maxrss_kb=(\d+)/.exec(stderr)?.[1];
    const cpuS =
      Number(/user_s=([\d.]+)/.exec(stderr)?.[1] ?? NaN) +
      Number(/sys_s=([\d.]+)/.exec(stderr)?.[1] ?? NaN);
    const inputMb = statSync(input).size / 1e6;
    const outputMb = statSync(output).size / 1e6;
    // A check that the document is whole: its last line closes it.
    const tail = execFileSync('tail', ['-c', '2', output]).toString();
    console.log(
      `\nCLI: polygraph model -f cluster.yaml (${inputMb.toFixed(1)} MB) ${BENCH_PROBES.map((p) => `--probe ${p.port}/${p.protocol}`).join(' ')} -o json > model.json: ` +
        `${wallS.toFixed(2)} s wall${Number.isNaN(cpuS) ? '' : ` (cpu ${cpuS.toFixed(2)} s)`}, ${rssKb ? `${(Number(rssKb) / 1024).toFixed(0)} MB peak RSS` : 'peak RSS not measured (no /usr/bin/time)'}, ` +
        `${outputMb.toFixed(1)} MB written${tail === '}\n' ? '' : ' (INCOMPLETE)'}; files in ${dir}`,
    );
  }
}
