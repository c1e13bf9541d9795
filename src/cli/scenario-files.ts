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
