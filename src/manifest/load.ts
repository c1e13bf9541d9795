import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { InputError } from '../domain/errors.js';
import type { Issue } from '../domain/issue.js';
import type { ExternalInfo } from '../model/types.js';
import { parseYamlDocuments, type SourceDocument } from './document.js';
import { collectObjects, type ManifestSet } from './objects.js';

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/** Files named on the command line, and the manifest files found under named directories. */
export async function expandPaths(
  paths: readonly string[],
): Promise<{ files: string[]; issues: Issue[] }> {
  const files: string[] = [];
  const issues: Issue[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
      a.name.localeCompare(b.name),
    );
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (MANIFEST_EXTENSIONS.has(extname(entry.name).toLowerCase())) files.push(full);
    }
  };
  for (const path of paths) {
    try {
      const info = await stat(path);
      if (info.isDirectory()) await walk(path);
      else files.push(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      issues.push({
        path: '',
        location: { file: path, line: 1, col: 1 },
        message: code === 'ENOENT' ? 'no such file or directory' : `cannot read: ${String(error)}`,
      });
    }
  }
  return { files, issues };
}

/**
 * Loads Kubernetes manifests from files and directories into the model's World.
 * Throws InputError listing every problem (file, line, field) when any is found.
 */
export async function loadManifests(
  paths: readonly string[],
  options: { defaultNamespace?: string; externals?: readonly ExternalInfo[] } = {},
): Promise<ManifestSet> {
  const { files, issues } = await expandPaths(paths);
  const documents: SourceDocument[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      issues.push({
        path: '',
        location: { file, line: 1, col: 1 },
        message: `cannot read: ${String(error)}`,
      });
      continue;
    }
    const parsed = parseYamlDocuments(text, file);
    documents.push(...parsed.documents);
    issues.push(...parsed.issues);
  }
  const { manifests, issues: objectIssues } = collectObjects(documents, options);
  issues.push(...objectIssues);
  if (issues.length > 0) throw new InputError(issues);
  return manifests;
}

/** The same from in-memory text (tests, scenarios with inline manifests). */
export function loadManifestText(
  text: string,
  file: string,
  options: { defaultNamespace?: string; externals?: readonly ExternalInfo[] } = {},
): ManifestSet {
  const parsed = parseYamlDocuments(text, file);
  const { manifests, issues } = collectObjects(parsed.documents, options);
  const all = [...parsed.issues, ...issues];
  if (all.length > 0) throw new InputError(all);
  return manifests;
}
