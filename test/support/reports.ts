import { execa } from 'execa';
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './scenarios.js';

/* Real check results for the reporters' tests, from the built CLI and scenarios/. */
export const CLI = join(ROOT, 'dist/cli/main.js');

/**
 * scenarios/three-tier.yaml with two expectations turned wrong, so that two cells disagree:
 * web → api on 5000 expected deny (the policies allow it), web → db on 3306 expected allow
 * (they deny it). Written next to a copy of its policies, so its relative path still holds.
 */
export async function flippedThreeTier(dir: string): Promise<string> {
  const text = await readFile(join(ROOT, 'scenarios/three-tier.yaml'), 'utf8');
  const flipped = text
    .replace('name: three-tier', 'name: three-tier-flipped')
    .replace(
      '- from shop/web to shop/api on 5000: allow',
      '- from shop/web to shop/api on 5000: deny',
    )
    .replace(
      '- from shop/api to shop/db on 3306: allow',
      '- from shop/api to shop/db on 3306: allow\n    - from shop/web to shop/db on 3306: allow',
    );
  if (flipped === text) throw new Error('scenarios/three-tier.yaml changed: update the fixture');
  await cp(join(ROOT, 'scenarios/policies'), join(dir, 'policies'), { recursive: true });
  const file = join(dir, 'three-tier-flipped.yaml');
  await writeFile(file, flipped);
  return file;
}

export async function polygraph(args: readonly string[], env: Record<string, string> = {}) {
  const r = await execa('node', [CLI, ...args], {
    reject: false,
    cwd: ROOT,
    env: { NO_COLOR: '1', GITHUB_STEP_SUMMARY: '', ...env },
  });
  return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

export async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'polygraph-reports-'));
}
