import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = new URL('../../', import.meta.url).pathname;
export const CASES_DIR = join(ROOT, 'test/cases');
export const SCENARIOS_DIR = join(ROOT, 'scenarios');

/** Scenario files below `dir` (sorted), leaving out topologies/ and policies/ (plain manifests). */
export function scenarioFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) {
      if (entry !== 'topologies' && entry !== 'policies') files.push(...scenarioFiles(full));
    } else if (entry.endsWith('.yaml')) files.push(full);
  }
  return files;
}
