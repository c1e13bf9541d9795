import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { parseScenario } from '../src/dsl/load.js';
import { CASES_DIR, scenarioFiles } from '../test/support/scenarios.js';

/*
 * npm run bench:load — reading many scenarios that share files, as a suite does (test/cases: 100
 * of its scenarios name one 10 kB topology file). In the same run: every scenario parsed through
 * the product's loader with the files it has read before (parsed texts kept, the usual path), and
 * each scenario from a directory of its own (every file it names read for the first time under
 * that path, as every load was before texts were kept); then the built
 * CLI end to end, `polygraph check` of every case. BENCH_RUNS passes each (default 3), median.
 * Needs `npm run build`. Recorded in docs/BENCHMARKS.md.
 */
const runs = Number(process.env.BENCH_RUNS ?? 3);
const CLI = new URL('../dist/cli/main.js', import.meta.url).pathname;
if (!existsSync(CLI)) {
  console.error(`${CLI} is missing: run npm run build first`);
  process.exit(2);
}
const files = scenarioFiles(CASES_DIR);
const texts = await Promise.all(files.map((f) => readFile(f, 'utf8')));

const median = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/**
 * Every scenario once. `apart`: each from a directory of its own (links to test/cases' entries),
 * so that no file it names has been read under that path: what every load cost before texts
 * were kept.
 */
async function pass(apart: boolean): Promise<number> {
  const paths = files.map((file, i) => {
    if (!apart) return file;
    const dir = mkdtempSync(join(tmp, `${String(i)}-`));
    for (const entry of readdirSync(CASES_DIR))
      symlinkSync(join(CASES_DIR, entry), join(dir, entry));
    return join(dir, relative(CASES_DIR, file));
  });
  const t0 = performance.now();
  for (const [i, path] of paths.entries()) await parseScenario(texts[i] ?? '', path);
  return performance.now() - t0;
}

const tmp = mkdtempSync(join(tmpdir(), 'polygraph-bench-load-'));
await pass(false); // the first reading of every file: not measured
const kept: number[] = [];
const fresh: number[] = [];
for (let r = 0; r < runs; r++) {
  kept.push(await pass(false));
  fresh.push(await pass(true));
}
rmSync(tmp, { recursive: true, force: true });
const cli: number[] = [];
for (let r = 0; r < runs; r++) {
  const t0 = performance.now();
  const out = spawnSync('node', [CLI, 'check', ...files], { encoding: 'utf8' });
  cli.push(performance.now() - t0);
  if (out.status !== 0) {
    console.error(`polygraph check exited ${String(out.status)}: ${out.stderr.slice(0, 500)}`);
    process.exit(1);
  }
}
const ms = (x: number) => `${x.toFixed(0)} ms`;
console.log(`${String(files.length)} scenarios of test/cases, median of ${String(runs)}:`);
console.log(`  loaded, files read before (kept):     ${ms(median(kept))}`);
console.log(`  loaded, each from its own directory:  ${ms(median(fresh))}`);
console.log(
  `  ratio:                                ${(median(fresh) / median(kept)).toFixed(1)}x`,
);
console.log(`  polygraph check of all (built CLI):   ${ms(median(cli))}`);
