import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { externalAlias } from '../../src/domain/endpoint.js';
import { InputError } from '../../src/domain/errors.js';
import { formatIssue } from '../../src/domain/issue.js';
import { parseProbe, type ProbePort } from '../../src/domain/probe.js';
import { loadManifestText } from '../../src/manifest/load.js';
import type { ExternalInfo, ModelOptions, World } from '../../src/model/types.js';

/** A hand-written model case (format: test/cases/README.md). */
export interface ModelCase {
  readonly file: string;
  readonly name: string;
  readonly source: string;
  readonly topology: string;
  readonly manifests: string;
  readonly externals: readonly ExternalInfo[];
  readonly options: Partial<ModelOptions>;
  readonly pods?: readonly string[];
  readonly expect: readonly CaseExpectation[];
}

export type Cell = 'allow' | 'deny';

export interface CaseExpectation {
  readonly probe: ProbePort;
  readonly probeText: string;
  /** The expected verdict of a cell, or undefined when the case does not check it. */
  readonly expected: (from: string, to: string) => Cell | undefined;
}

export const CASES_DIR = new URL('../cases/', import.meta.url).pathname;

export function listCaseFiles(dir = CASES_DIR): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) {
      if (entry !== 'topologies') files.push(...listCaseFiles(full));
    } else if (entry.endsWith('.yaml') && !entry.startsWith('_')) files.push(full);
  }
  return files;
}

function fail(file: string, message: string): never {
  throw new Error(`${relative(process.cwd(), file)}: ${message}`);
}

export function matchesPattern(pattern: string, key: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('ext:') || key.startsWith('ext:'))
    return pattern === key || pattern === externalAlias(key);
  const [ns, pod] = pattern.split('/');
  const [keyNs, keyPod] = key.split('/');
  return (ns === '*' || ns === keyNs) && (pod === '*' || pod === keyPod);
}

function verdictOf(file: string, value: unknown): Cell {
  if (value === 'allow' || value === 'deny') return value;
  return fail(file, `verdict must be allow or deny, got ${JSON.stringify(value)}`);
}

function compileRules(file: string, entry: Record<string, unknown>): CaseExpectation['expected'] {
  const initial = verdictOf(file, entry.default);
  const rules = ((entry.rules ?? []) as Record<string, unknown>[]).map((r) => ({
    from: typeof r.from === 'string' ? r.from : '*',
    to: typeof r.to === 'string' ? r.to : '*',
    verdict: verdictOf(file, r.verdict),
  }));
  return (from, to) => {
    let cell = initial;
    for (const rule of rules)
      if (matchesPattern(rule.from, from) && matchesPattern(rule.to, to)) cell = rule.verdict;
    return cell;
  };
}

function compileTable(file: string, text: string): CaseExpectation['expected'] {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const [header, ...rows] = lines;
  if (!header) return fail(file, 'empty table');
  const headerWords = header.split(/\s+/);
  const width = (rows[0]?.split(/\s+/).length ?? 1) - 1;
  // The header may start with a corner word ("from\to"), which keeps YAML indentation simple.
  const columns = headerWords.length === width + 1 ? headerWords.slice(1) : headerWords;
  const cells = new Map<string, Cell>();
  for (const row of rows) {
    const [from, ...marks] = row.split(/\s+/);
    if (!from || marks.length !== columns.length)
      fail(file, `table row "${row}" has ${marks.length} cells, expected ${columns.length}`);
    marks.forEach((mark, i) => {
      const to = columns[i] ?? '';
      if (mark === '.') cells.set(`${from} ${to}`, 'allow');
      else if (mark === 'X') cells.set(`${from} ${to}`, 'deny');
      else if (mark !== '-') fail(file, `table cell "${mark}" must be ".", "X" or "-"`);
    });
  }
  return (from, to) => cells.get(`${from} ${to}`);
}

export function loadCase(file: string): ModelCase {
  const raw = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  if (typeof raw.name !== 'string') fail(file, 'name is required');
  if (typeof raw.source !== 'string') fail(file, 'source is required');
  const topology =
    typeof raw.topology === 'string'
      ? readFileSync(join(CASES_DIR, 'topologies', `${raw.topology}.yaml`), 'utf8')
      : '';
  const manifests = typeof raw.manifests === 'string' ? raw.manifests : '';
  const expect = ((raw.expect ?? []) as Record<string, unknown>[]).map((entry) => {
    const probeText = String(entry.probe);
    const probe = parseProbe(probeText);
    if (typeof probe === 'string') return fail(file, probe);
    const expected =
      typeof entry.table === 'string' ? compileTable(file, entry.table) : compileRules(file, entry);
    return { probe, probeText, expected };
  });
  if (expect.length === 0) fail(file, 'expect must list at least one probe');
  const known = [
    'name',
    'source',
    'topology',
    'manifests',
    'externals',
    'options',
    'pods',
    'expect',
  ];
  for (const key of Object.keys(raw)) if (!known.includes(key)) fail(file, `unknown key "${key}"`);
  for (const key of Object.keys(raw.options ?? {}))
    if (!['selfTraffic', 'ipBlockMatchesPods', 'hostNetwork'].includes(key))
      fail(file, `unknown option "${key}"`);
  return {
    file,
    name: raw.name,
    source: raw.source,
    topology,
    manifests,
    externals: (raw.externals ?? []) as ExternalInfo[],
    options: raw.options ?? {},
    ...(Array.isArray(raw.pods) ? { pods: raw.pods as string[] } : {}),
    expect,
  };
}

/** The case's world: its own objects replace topology objects of the same kind and name. */
export function worldOf(c: ModelCase): World {
  try {
    const base = loadManifestText(c.topology, 'topology', { externals: c.externals }).world;
    const own = loadManifestText(c.manifests, relative(process.cwd(), c.file)).world;
    const merge = <T extends { name: string; namespace?: string }>(
      a: readonly T[],
      b: readonly T[],
    ): T[] => {
      const id = (o: T): string => `${o.namespace ?? ''}/${o.name}`;
      const replaced = new Set(b.map(id));
      return [...a.filter((o) => !replaced.has(id(o))), ...b];
    };
    return {
      namespaces: merge(base.namespaces, own.namespaces),
      pods: merge(base.pods, own.pods),
      externals: base.externals,
      policies: merge(base.policies, own.policies),
    };
  } catch (error) {
    if (error instanceof InputError)
      throw new Error(`invalid manifests:\n${error.issues.map(formatIssue).join('\n')}`);
    throw error;
  }
}
