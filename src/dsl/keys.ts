/**
 * Map keys, which the shared YAML reader turns into strings without a word: a YAML 1.1 key
 * `no:` becomes "false", `~:` becomes "", `0x10:` becomes "16". A namespace named `no` would
 * silently be a namespace named "false". These keys are reported, and renamed back to the text
 * written so that the rest of the file is checked with the name the user meant. Duplicate keys
 * are named, with the place of the first one.
 */
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Node } from 'yaml';
import type { Issue, SourceLocation } from '../domain/issue.js';
import { formatPath, type Path } from './path.js';

function reading(value: unknown): string | undefined {
  if (typeof value === 'boolean') return `the boolean ${String(value)}`;
  if (value === null) return 'null (no key)';
  if (typeof value === 'number') return `the number ${String(value)}`;
  return undefined;
}

/** The key a plain JS object has for a YAML key value (as the yaml package writes it). */
function jsKey(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

interface Walk {
  readonly text: string;
  readonly at: (offset: number) => SourceLocation;
  readonly issues: Issue[];
}

/**
 * Walks `node` and its `value`; returns the value with the keys renamed (a copy of each map and
 * list on the way to a renamed key, never a change to `value`, which the YAML reader shares).
 */
function walk(node: unknown, value: unknown, path: Path, w: Walk): unknown {
  if (isSeq(node)) {
    const list = Array.isArray(value) ? (value as unknown[]) : undefined;
    let copy: unknown[] | undefined;
    node.items.forEach((item, i) => {
      const before = list?.[i];
      const after = walk(item, before, [...path, i], w);
      if (list && after !== before) (copy ??= [...list])[i] = after;
    });
    return copy ?? value;
  }
  if (!isMap(node)) return value;
  const object =
    typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  // By the key the object has: the name as written, and the value walked.
  const renamed = new Map<string, string>();
  const walked = new Map<string, unknown>();
  for (const pair of node.items) {
    const key = pair.key as Node | null;
    if (!isScalar(key) || !key.range) continue;
    const read = key.type === 'PLAIN' ? reading(key.value) : undefined;
    const written = w.text.slice(key.range[0], key.range[1]);
    const from = jsKey(key.value);
    let name = from;
    let held = from;
    if (read !== undefined && written !== from) {
      w.issues.push({
        path: formatPath([...path, written]),
        message: `the key ${written} is ${read} in YAML 1.1 (as kubectl reads manifests), not the string "${written}": quote it, "${written}"`,
        location: w.at(key.range[0]),
      });
      name = written;
      if (object && Object.hasOwn(object, from) && !Object.hasOwn(object, written))
        renamed.set(from, written);
      else held = written;
    }
    const before = object?.[held];
    const after = walk(pair.value, before, [...path, name], w);
    if (object && after !== before) walked.set(held, after);
  }
  if (!object || (renamed.size === 0 && walked.size === 0)) return value;
  // Same place in the map, the name as written.
  return Object.fromEntries(
    Object.entries(object).map(([k, v]) => [
      renamed.get(k) ?? k,
      walked.has(k) ? walked.get(k) : v,
    ]),
  );
}

/**
 * Reports the map keys of the document starting at `start` that YAML 1.1 does not read as the
 * string written, and gives `value` with those keys renamed back to the text written (`value`
 * itself is left as it is).
 */
export function yaml11Keys(
  text: string,
  file: string,
  start: SourceLocation,
  value: unknown,
): { issues: Issue[]; value: unknown } {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { version: '1.1', lineCounter: lines, uniqueKeys: false });
  if (!Array.isArray(docs)) return { issues: [], value };
  const at = (offset: number): SourceLocation => {
    const pos = lines.linePos(offset);
    return { file, line: pos.line, col: pos.col };
  };
  const doc = docs.find((d) => {
    const offset = d.contents?.range[0];
    if (offset === undefined) return false;
    const pos = at(offset);
    return pos.line === start.line && pos.col === start.col;
  });
  if (!doc) return { issues: [], value };
  const issues: Issue[] = [];
  return { issues, value: walk(doc.contents, value, [], { text, at, issues }) };
}

/**
 * "Map keys must be unique" says neither which key nor where the first one is: for each
 * duplicate key, by its location, the key as written and the location of the first.
 */
export function duplicateKeys(
  text: string,
  file: string,
): Map<string, { key: string; first: SourceLocation }> {
  const lines = new LineCounter();
  const found = new Map<string, { key: string; first: SourceLocation }>();
  let docs;
  try {
    docs = parseAllDocuments(text, { version: '1.1', lineCounter: lines, uniqueKeys: false });
  } catch {
    return found;
  }
  if (!Array.isArray(docs)) return found;
  const at = (offset: number): SourceLocation => {
    const pos = lines.linePos(offset);
    return { file, line: pos.line, col: pos.col };
  };
  const visit = (node: unknown): void => {
    if (isSeq(node)) for (const item of node.items) visit(item);
    if (!isMap(node)) return;
    const seen = new Map<string, SourceLocation>();
    for (const pair of node.items) {
      const key = pair.key as Node | null;
      if (isScalar(key) && key.range) {
        const id = jsKey(key.value);
        const here = at(key.range[0]);
        const first = seen.get(id);
        if (first)
          found.set(`${here.line}:${here.col}`, {
            key: text.slice(key.range[0], key.range[1]),
            first,
          });
        else seen.set(id, here);
      }
      visit(pair.value);
    }
  };
  for (const doc of docs) visit(doc.contents);
  return found;
}
