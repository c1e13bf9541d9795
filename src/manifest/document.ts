import {
  isMap as isYamlMap,
  type ScalarTag,
  type Tags,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseAllDocuments,
  type Document,
  type Node,
} from 'yaml';
import type { Issue, SourceLocation } from '../domain/issue.js';

/**
 * One YAML document of a file, with what is needed to turn a field path into file:line:col.
 * Kubernetes manifests are read with the YAML 1.1 schema, as kubectl reads them: an unquoted
 * `yes`, `on` or `y` is a boolean there, and the API would reject it where a string belongs.
 */
export interface SourceDocument {
  readonly file: string;
  readonly value: unknown;
  readonly start: SourceLocation;
  /** Location of the field at `path` (e.g. `spec.ingress[0].from`) or of its nearest parent. */
  locate(path: string, base?: readonly (string | number)[]): SourceLocation;
  /** The source text of a plain scalar at `path`, if that is what stands there. */
  plainText(path: string, base?: readonly (string | number)[]): string | undefined;
}

/** `spec.ingress[0].from` → ['spec', 'ingress', 0, 'from'] */
export function splitPath(path: string): (string | number)[] {
  const parts: (string | number)[] = [];
  for (const match of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (match[2] !== undefined) parts.push(Number(match[2]));
    else if (match[1] !== undefined) parts.push(match[1]);
  }
  return parts;
}

export interface ParsedYaml {
  documents: SourceDocument[];
  issues: Issue[];
}

/*
 * Parsed texts by file and text, least recently used first: a suite whose scenarios share a
 * topology file (test/cases has one named by 100 scenarios) parses it once, not once per
 * scenario (the YAML reader takes ~1 ms per kB; npm run bench:load). The text is part of the key,
 * so an edited file is parsed again; the values are frozen, shared by every reader. A parsed
 * document keeps its syntax tree (for locations), many times the text's size: texts above
 * 256 kB (Helm streams) are not kept, nor more than 2 MB of text in all.
 */
const CACHE_MAX_TEXT = 256 << 10;
const CACHE_MAX_CHARS = 2 << 20;
const parsedTexts = new Map<string, ParsedYaml>();
let cachedChars = 0;

/**
 * The YAML documents of a text (kubectl's YAML 1.1 reading), each with its locations, and the
 * reader's errors as issues. A text read before under the same file name is not parsed again.
 */
export function parseYamlDocuments(text: string, file: string): ParsedYaml {
  if (text.length > CACHE_MAX_TEXT) return parse(text, file);
  const key = `${file}\0${text}`;
  let parsed = parsedTexts.get(key);
  if (parsed === undefined) {
    parsed = parse(text, file);
    for (const d of parsed.documents) deepFreeze(d.value);
    cachedChars += key.length;
    for (const old of parsedTexts.keys()) {
      if (cachedChars <= CACHE_MAX_CHARS) break;
      parsedTexts.delete(old);
      cachedChars -= old.length;
    }
  } else {
    // Most recently used last: the first entries are the ones to drop.
    parsedTexts.delete(key);
  }
  parsedTexts.set(key, parsed);
  return { documents: [...parsed.documents], issues: [...parsed.issues] };
}

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const v of Object.values(value)) deepFreeze(v);
}

function parse(text: string, file: string): ParsedYaml {
  const lines = new LineCounter();
  const parsed = parseAllDocuments(text, {
    customTags: kubectlScalars,
    version: '1.1',
    lineCounter: lines,
    prettyErrors: false,
    uniqueKeys: true,
  });
  const docs: Document[] = Array.isArray(parsed) ? parsed : [];
  const at = (offset: number): SourceLocation => {
    const pos = lines.linePos(offset);
    return { file, line: pos.line, col: pos.col };
  };
  const issues: Issue[] = [];
  const documents: SourceDocument[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) {
      for (const error of doc.errors)
        issues.push({
          path: '',
          message: `invalid YAML: ${firstLine(error.message)}`,
          location: at(error.pos[0]),
        });
      continue;
    }
    for (const warning of doc.warnings)
      if (warning.code !== 'TAG_RESOLVE_FAILED')
        issues.push({
          path: '',
          message: `YAML: ${firstLine(warning.message)}`,
          location: at(warning.pos[0]),
        });
    // An empty document (`---` alone, comments only, as Helm renders them) or a bare `null`:
    // kubectl skips both (cli-runtime's StreamVisitor), so they are no objects and no error.
    const root = doc.contents;
    if (root === null || (isScalar(root) && root.value === null)) continue;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 1000 });
    } catch (error) {
      issues.push({
        path: '',
        message: `invalid YAML: ${firstLine(String(error))}`,
        location: at(root.range?.[0] ?? 0),
      });
      continue;
    }
    const start = at(root.range?.[0] ?? 0);
    documents.push({
      file,
      value,
      start,
      locate(path, base = []) {
        return at(offsetOf(root, [...base, ...splitPath(path)]));
      },
      plainText(path, base = []) {
        const node = doc.getIn([...base, ...splitPath(path)], true);
        return isScalar(node) && node.type === 'PLAIN' && node.range
          ? text.slice(node.range[0], node.range[1])
          : undefined;
      },
    });
  }
  return { documents, issues };
}

/**
 * kubectl reads YAML with go-yaml v2 (through sigs.k8s.io/yaml): YAML 1.1 booleans, nulls and
 * 0b/0x/0 ints, but no timestamps (a date stays the string written) and no base-60 numbers
 * (`1:20` is a string), while integers follow Go's ParseInt(s, 0), which also reads `0o17`.
 */
function kubectlScalars(tags: Tags): Tags {
  const kept = tags.filter(
    (t) =>
      typeof t === 'string' ||
      (t.tag !== 'tag:yaml.org,2002:timestamp' && !('format' in t && t.format === 'TIME')),
  );
  const octal0o: ScalarTag = {
    identify: (value) => typeof value === 'number',
    default: true,
    tag: 'tag:yaml.org,2002:int',
    format: 'OCT',
    test: /^[-+]?0o[0-7_]+$/,
    resolve: (source) => {
      const sign = source.startsWith('-') ? -1 : 1;
      return sign * parseInt(source.replace(/^[-+]?0o/, '').replace(/_/g, ''), 8);
    },
  };
  return [...kept, octal0o];
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

/** Offset of the deepest node along `path` (the key itself for map entries). */
function offsetOf(root: Node, path: readonly (string | number)[]): number {
  let node: unknown = root;
  let offset = root.range?.[0] ?? 0;
  for (const part of path) {
    if (isYamlMap(node)) {
      const pair = node.items.find(
        (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(part),
      );
      if (!pair) break;
      const key = pair.key as Node;
      offset = key.range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof part === 'number') {
      const item = node.items[part] as Node | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else break;
  }
  return offset;
}
