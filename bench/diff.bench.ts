import { spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { worldManifests } from './manifests.js';
import { BENCH_PROBES, syntheticWorld } from './synthetic.js';

/*
 * npm run bench:diff — `polygraph diff` end to end, as a user runs it: the built CLI on two
 * manifest files of the seeded synthetic cluster of bench:model (1,000 pods in 50 namespaces, 300
 * policies, 4 probes: 4 M cells a side), the "after" side without every 30th policy (10 removed:
 * default-denies open cells, allow rules close them). Measured in the same run, so that the ratio
 * holds on a busy machine: `diff -o json`, `diff` as text, and `model -o json` of one side (the
 * work of one side, for the ratio). Each is run BENCH_RUNS times (default 3); the median is
 * reported with CPU time and peak RSS (GNU time). Results are recorded in docs/BENCHMARKS.md.
 * Options (env): BENCH_RUNS, BENCH_PODS, BENCH_POLICIES, BENCH_SEED, BENCH_DROP_EVERY (30).
 * Needs `npm run build`.
 */
const runs = Number(process.env.BENCH_RUNS ?? 3);
const pods = Number(process.env.BENCH_PODS ?? 1000);
const policies = Number(process.env.BENCH_POLICIES ?? 300);
const seed = Number(process.env.BENCH_SEED ?? 42);
const dropEvery = Number(process.env.BENCH_DROP_EVERY ?? 30);

const CLI = new URL('../dist/cli/main.js', import.meta.url).pathname;
if (!existsSync(CLI)) {
  console.error(`${CLI} is missing: run npm run build first`);
  process.exit(2);
}

const before = syntheticWorld({ seed, pods, namespaces: 50, policies });
const after = { ...before, policies: before.policies.filter((_, i) => i % dropEvery !== 0) };
const dir = mkdtempSync(join(tmpdir(), 'polygraph-bench-diff-'));
const beforeFile = join(dir, 'before.yaml');
const afterFile = join(dir, 'after.yaml');
writeFileSync(beforeFile, worldManifests(before));
writeFileSync(afterFile, worldManifests(after));
const probeArgs = BENCH_PROBES.flatMap((p) => ['--probe', `${String(p.port)}/${p.protocol}`]);
const externalArgs = before.externals.map((e) => `--external=${e.name}=${e.ip}`);

interface Measure {
  wallS: number;
  cpuS: number;
  rssMb: number;
  outMb: number;
  status: number | null;
  output: string;
}

/** One run of the CLI, stdout to a file; wall, CPU (user + system) and peak RSS of the child. */
function measure(args: readonly string[], name: string): Measure {
  const output = join(dir, name);
  const time = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
  const fd = openSync(output, 'w');
  const started = performance.now();
  const r = time
    ? spawnSync(time, ['-f', 'maxrss_kb=%M user_s=%U sys_s=%S', process.execPath, CLI, ...args], {
        stdio: ['ignore', fd, 'pipe'],
        env: { ...process.env, NO_COLOR: '1' },
      })
    : spawnSync(process.execPath, [CLI, ...args], { stdio: ['ignore', fd, 'pipe'] });
  const wallS = (performance.now() - started) / 1000;
  closeSync(fd);
  const stderr = r.stderr.toString();
  const cpuS =
    Number(/user_s=([\d.]+)/.exec(stderr)?.[1] ?? NaN) +
    Number(/sys_s=([\d.]+)/.exec(stderr)?.[1] ?? NaN);
  const rssMb = Number(/maxrss_kb=(\d+)/.exec(stderr)?.[1] ?? NaN) / 1024;
  return { wallS, cpuS, rssMb, outMb: statSync(output).size / 1e6, status: r.status, output };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

const commands: { label: string; args: string[]; file: string; ok: number[] }[] = [
  {
    label: 'diff before.yaml after.yaml -o json',
    args: ['diff', beforeFile, afterFile, ...probeArgs, ...externalArgs, '-o', 'json'],
    file: 'diff.json',
    ok: [0, 1],
  },
  {
    label: 'diff before.yaml after.yaml (text)',
    args: ['diff', beforeFile, afterFile, ...probeArgs, ...externalArgs],
    file: 'diff.txt',
    ok: [0, 1],
  },
  {
    label: 'model -f before.yaml -o json (one side)',
    args: ['model', '-f', beforeFile, ...probeArgs, ...externalArgs, '-o', 'json'],
    file: 'model.json',
    ok: [0],
  },
];

console.log(
  `load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} (a busy machine slows every figure; compare the ratios)`,
);
console.log(
  `${String(before.pods.length)} pods, ${String(before.namespaces.length)} namespaces; before ${String(before.policies.length)} policies, after ${String(after.policies.length)}; ${String(BENCH_PROBES.length)} probes; files in ${dir}`,
);
const measured = new Map<string, Measure[]>(commands.map((c) => [c.label, []]));
// Interleaved, so that every command sees the same machine load.
for (let i = 0; i < runs; i++)
  for (const c of commands) {
    const m = measure(c.args, c.file);
    if (!c.ok.includes(m.status ?? -1))
      throw new Error(`${c.label} exited ${String(m.status)} (output in ${m.output})`);
    measured.get(c.label)?.push(m);
  }

const summary = JSON.parse(readFileSync(join(dir, 'diff.json'), 'utf8')) as {
  summary?: Record<string, unknown>;
  opened?: unknown[];
  closed?: unknown[];
};
console.log(
  `diff found ${String(summary.opened?.length ?? '?')} opened and ${String(summary.closed?.length ?? '?')} closed cells`,
);
const wall = (label: string) => median((measured.get(label) ?? []).map((m) => m.wallS));
const cpu = (label: string) => median((measured.get(label) ?? []).map((m) => m.cpuS));
for (const c of commands) {
  const ms = measured.get(c.label) ?? [];
  console.log(
    `${c.label}: ${wall(c.label).toFixed(2)} s wall (median of ${String(ms.length)}; ${ms.map((m) => m.wallS.toFixed(2)).join(', ')}), ` +
      `cpu ${cpu(c.label).toFixed(2)} s, ${median(ms.map((m) => m.rssMb)).toFixed(0)} MB peak RSS, ${median(ms.map((m) => m.outMb)).toFixed(2)} MB written`,
  );
}
const json = commands[0]?.label ?? '';
const model = commands[2]?.label ?? '';
const ratio = wall(json) / wall(model);
const cpuRatio = cpu(json) / cpu(model);
console.log(
  `\ndiff -o json against model -o json of one side: ${ratio.toFixed(2)}x wall, ${cpuRatio.toFixed(2)}x CPU ` +
    `(two sides compiled and compared; target: diff end to end < 3 s, as model's: ${wall(json) < 3 ? 'met' : 'NOT met'} in wall time, ${cpu(json) < 3 ? 'met' : 'NOT met'} in CPU time)`,
);
