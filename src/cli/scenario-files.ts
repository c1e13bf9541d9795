import { InputError } from '../domain/errors.js';
import type { Issue } from '../domain/issue.js';
import { loadScenario } from '../dsl/load.js';
import type { Scenario } from '../dsl/types.js';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Scenario arguments as given: files stay; a directory stands for its own `*.yaml` / `*.yml`
 * files, sorted (not its subdirectories, where policy files live, as in scenarios/policies/).
 * A path that cannot be read is passed on, for the loader to report with its location.
 */
export async function scenarioFiles(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    let directory = false;
    try {
      directory = (await stat(path)).isDirectory();
    } catch {
      directory = false;
    }
    if (!directory) {
      files.push(path);
      continue;
    }
    const entries = (await readdir(path, { withFileTypes: true }))
      .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
      .map((e) => join(path, e.name))
      .sort();
    files.push(...(entries.length > 0 ? entries : [path]));
  }
  return files;
}

/**
 * Every scenario of the arguments, validated before anything runs: all problems of all files in
 * one InputError.
 */
export async function loadScenarios(paths: readonly string[]): Promise<Scenario[]> {
  const issues: Issue[] = [];
  const scenarios: Scenario[] = [];
  for (const file of await scenarioFiles(paths)) {
    try {
      scenarios.push(await loadScenario(file));
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      issues.push(...error.issues);
    }
  }
  if (issues.length > 0) throw new InputError(issues);
  return scenarios;
}
