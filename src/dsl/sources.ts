/**
 * Files a scenario refers to (policy files and directories, topology manifests), read through a
 * `readFile` seam so that tests can give text, and NetworkPolicies read from them.
 */
import { readFile as fsReadFile } from 'node:fs/promises';
import type { Issue } from '../domain/issue.js';
import { parseYamlDocuments, type SourceDocument } from '../manifest/document.js';
import { expandPaths } from '../manifest/load.js';
import { explainYaml11, objectId } from '../manifest/objects.js';
import { IssueSink, describe, isMap, join } from '../model/raw.js';
import { isClusterPolicyKind, readClusterPolicy } from '../model/cluster-validate.js';
import { readNetworkPolicy } from '../model/validate.js';
import type { Path } from './path.js';
import type { ScenarioClusterPolicy, ScenarioPolicy } from './types.js';

/** Reads a text file; rejects with a Node.js error (ENOENT, EISDIR…) as fs.readFile does. */
export type ReadFile = (path: string) => Promise<string>;

export const defaultReadFile: ReadFile = (path) => fsReadFile(path, 'utf8');

/** Why a text is not a YAML file, if it is not. */
export function binaryProblem(text: string): string | undefined {
  return text.includes('\0') || text.includes('\uFFFD')
    ? 'not a text file (expected YAML)'
    : undefined;
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error
    ? String(error.code)
    : undefined;
}

/**
 * The non-empty YAML documents of a file, or of every manifest file below a directory.
 * `problem` says why the path itself could not be read (reported at the scenario's entry).
 */
export async function readSource(
  path: string,
  readFile: ReadFile,
): Promise<{ documents: SourceDocument[]; issues: Issue[]; problem?: string }> {
  let files: string[];
  const texts = new Map<string, string>();
  try {
    texts.set(path, await readFile(path));
    files = [path];
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT')
      return { documents: [], issues: [], problem: 'no such file or directory' };
    if (code !== 'EISDIR')
      return {
        documents: [],
        issues: [],
        problem: `cannot read: ${error instanceof Error ? error.message : String(error)}`,
      };
    const expanded = await expandPaths([path]);
    files = expanded.files;
    if (files.length === 0)
      return {
        documents: [],
        issues: [],
        problem: 'no .yaml, .yml or .json file in this directory',
      };
  }
  const documents: SourceDocument[] = [];
  const issues: Issue[] = [];
  for (const file of files) {
    let text = texts.get(file);
    if (text === undefined) {
      try {
        text = await readFile(file);
      } catch (error) {
        issues.push({
          path: '',
          location: { file, line: 1, col: 1 },
          message: `cannot read: ${error instanceof Error ? error.message : String(error)}`,
        });
        continue;
      }
    }
    const binary = binaryProblem(text);
    if (binary) {
      issues.push({ path: '', location: { file, line: 1, col: 1 }, message: binary });
      continue;
    }
    const parsed = parseYamlDocuments(text, file);
    issues.push(...parsed.issues);
    // Empty documents (`---` alone, comments only) are skipped, as kubectl skips them.
    documents.push(...parsed.documents.filter((d) => d.value !== null && d.value !== undefined));
  }
  return { documents, issues };
}

/**
 * The NetworkPolicies of one object (or List) at `base` in `doc`. `prefix` set: the object is
 * inline in the scenario and issue paths start with it; otherwise issues name the object.
 */
export function readPolicies(
  doc: SourceDocument,
  value: unknown,
  base: Path,
  issues: Issue[],
  prefix?: string,
): (ScenarioPolicy | ScenarioClusterPolicy)[] {
  const inline = prefix !== undefined;
  const report = (sink: IssueSink, object?: string): void => {
    for (const issue of sink.issues)
      issues.push({
        path: inline ? join(prefix, issue.path).replace(/\.$/, '') : issue.path,
        message: explainYaml11(doc, issue.path, base, issue.message),
        location: doc.locate(issue.path, base),
        ...(object !== undefined && !inline ? { object } : {}),
      });
  };
  const sink = new IssueSink();
  if (!isMap(value)) {
    sink.add('', `expected a NetworkPolicy, got ${describe(value)}`);
    report(sink);
    return [];
  }
  const kind = value.kind;
  if (!inline && typeof kind === 'string' && kind.endsWith('List') && Array.isArray(value.items))
    return (value.items as unknown[]).flatMap((item, i) =>
      readPolicies(doc, item, [...base, 'items', i], issues),
    );
  if (isClusterPolicyKind(kind)) {
    const meta = isMap(value.metadata) ? value.metadata : {};
    const info = readClusterPolicy(value, kind, sink);
    report(sink, objectId(kind, undefined, typeof meta.name === 'string' ? meta.name : '?'));
    return info ? [{ info, manifest: value, location: doc.locate('', base) }] : [];
  }
  // A policy file may hold other objects too (one set of manifests for topology.manifests and
  // policies): only its NetworkPolicies and cluster policies are read here.
  if (!inline && typeof kind === 'string' && kind !== 'NetworkPolicy') return [];
  if (kind !== 'NetworkPolicy') {
    sink.add(
      'kind',
      kind === undefined
        ? 'required: kind: NetworkPolicy (or ClusterNetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy)'
        : typeof kind === 'string' && kind.endsWith('List')
          ? `expected a NetworkPolicy, got a ${kind}: an inline entry is one NetworkPolicy (list its items one by one, or put the List in a file)`
          : `expected a NetworkPolicy, got ${typeof kind === 'string' ? `a ${kind}` : describe(kind)} (Namespaces, Pods and workloads belong under topology.manifests)`,
    );
    report(sink);
    return [];
  }
  const meta = isMap(value.metadata) ? value.metadata : {};
  const namespace = typeof meta.namespace === 'string' ? meta.namespace : 'default';
  const name = typeof meta.name === 'string' ? meta.name : '?';
  const info = readNetworkPolicy(value, sink, 'default');
  report(sink, objectId('NetworkPolicy', namespace, name));
  if (!info) return [];
  return [
    {
      info,
      manifest: { ...value, metadata: { ...meta, namespace: info.namespace } },
      location: doc.locate('', base),
    },
  ];
}
