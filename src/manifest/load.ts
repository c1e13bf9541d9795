import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { InputError } from '../domain/errors.js';
import type { Issue } from '../domain/issue.js';
import type { ExternalInfo } from '../model/types.js';
import { parseYamlDocuments, type SourceDocument } from './document.js';
import { collectObjects, type ManifestSet } from './objects.js';

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/** `-f -`: standard input, as kubectl reads it. */
export const STDIN_PATH = '-';
/** How standard input is named in messages. */
export const STDIN_NAME = '<stdin>';

export interface LoadOptions {
  defaultNamespace?: string;
  externals?: readonly ExternalInfo[];
  /** Reads standard input for `-f -` (tests replace it); default: the process's stdin. */
  stdin?: () => Promise<Buffer>;
}

/** One input file, and the path given on the command line it was found under. */
interface InputFile {
  readonly file: string;
  readonly given: string;
}

function problem(file: string, message: string): Issue {
  return { path: '', location: { file, line: 1, col: 1 }, message };
}

/** Files named on the command line, and the manifest files found under named directories. */
export async function expandPaths(
  paths: readonly string[],
): Promise<{ files: string[]; issues: Issue[] }> {
  const { inputs, issues } = await expandInputs(paths);
  return { files: inputs.map((i) => i.file), issues };
}

async function expandInputs(
  paths: readonly string[],
): Promise<{ inputs: InputFile[]; issues: Issue[]; failed: Set<string> }> {
  const inputs: InputFile[] = [];
  const issues: Issue[] = [];
  /** Paths already reported (missing, a URL, stdin twice). */
  const failed = new Set<string>();
  const walk = async (dir: string, given: string): Promise<void> => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
      a.name.localeCompare(b.name),
    );
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await walk(full, given);
      else if (MANIFEST_EXTENSIONS.has(extname(entry.name).toLowerCase()))
        inputs.push({ file: full, given });
    }
  };
  for (const path of paths) {
    if (path === STDIN_PATH) {
      if (inputs.some((i) => i.given === STDIN_PATH))
        issues.push(problem(STDIN_NAME, 'standard input (-f -) can be read only once'));
      else inputs.push({ file: STDIN_PATH, given: STDIN_PATH });
      continue;
    }
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
      failed.add(path);
      issues.push(
        problem(
          path,
          'is a URL: polygraph reads local files only and makes no network requests; download it and give the file, or pipe it (curl -fsSL URL | polygraph model -f -)',
        ),
      );
      continue;
    }
    try {
      const info = await stat(path);
      if (info.isDirectory()) await walk(path, path);
      else inputs.push({ file: path, given: path });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      failed.add(path);
      issues.push(
        problem(
          path,
          code === 'ENOENT' ? 'no such file or directory' : `cannot read: ${String(error)}`,
        ),
      );
    }
  }
  return { inputs, issues, failed };
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Leading bytes of common binary formats, to say what a file is instead of dumping it. */
const MAGIC: readonly [string, readonly number[]][] = [
  ['a PNG image', [0x89, 0x50, 0x4e, 0x47]],
  ['a JPEG image', [0xff, 0xd8, 0xff]],
  ['a GIF image', [0x47, 0x49, 0x46, 0x38]],
  ['a PDF document', [0x25, 0x50, 0x44, 0x46]],
  ['a gzip archive (decompress it first)', [0x1f, 0x8b]],
  ['a zip archive (extract it first)', [0x50, 0x4b, 0x03, 0x04]],
  ['an ELF executable', [0x7f, 0x45, 0x4c, 0x46]],
];

/**
 * The text of a manifest file, or why it is not one. YAML and JSON are UTF-8 text: a NUL byte
 * or an invalid UTF-8 sequence means a binary file, reported by what it looks like.
 */
export function decodeText(bytes: Buffer): { text: string } | { problem: string } {
  const kind = MAGIC.find(([, magic]) => magic.every((b, i) => bytes[i] === b))?.[0];
  let text: string | undefined;
  if (!kind && !bytes.includes(0)) {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      text = undefined;
    }
  }
  if (text !== undefined) return { text };
  return {
    problem: `not a text file${kind ? `: it looks like ${kind}` : ' (binary content)'}; expected Kubernetes manifests in YAML or JSON`,
  };
}

/**
 * Loads Kubernetes manifests from files, directories and standard input (`-`) into the model's
 * World. Throws InputError listing every problem (file, line, field) when any is found; a path
 * that holds no manifest at all is one (in CI a wrong path must not pass silently).
 */
export async function loadManifests(
  paths: readonly string[],
  options: LoadOptions = {},
): Promise<ManifestSet> {
  const { inputs, issues, failed } = await expandInputs(paths);
  const documents: SourceDocument[] = [];
  const found = new Map<string, number>(paths.map((p) => [p, 0]));
  for (const { file, given } of inputs) {
    const name = file === STDIN_PATH ? STDIN_NAME : file;
    let bytes: Buffer;
    try {
      bytes = file === STDIN_PATH ? await (options.stdin ?? readStdin)() : await readFile(file);
    } catch (error) {
      issues.push(problem(name, `cannot read: ${String(error)}`));
      failed.add(given);
      continue;
    }
    const decoded = decodeText(bytes);
    if ('problem' in decoded) {
      issues.push(problem(name, decoded.problem));
      failed.add(given);
      continue;
    }
    const parsed = parseYamlDocuments(decoded.text, name);
    documents.push(...parsed.documents);
    issues.push(...parsed.issues);
    const count = parsed.documents.length + parsed.issues.length;
    found.set(given, (found.get(given) ?? 0) + count);
  }
  for (const [given, count] of found) {
    if (count !== 0 || failed.has(given)) continue;
    issues.push(
      problem(
        given === STDIN_PATH ? STDIN_NAME : given,
        `no manifests found in ${given === STDIN_PATH ? 'standard input' : given}${inputs.some((i) => i.given === given) ? ' (only empty documents or comments)' : ' (no .yaml, .yml or .json file in it)'}`,
      ),
    );
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
