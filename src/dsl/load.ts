import { readFile } from 'node:fs/promises';
import { InputError } from '../domain/errors.js';
import type { Issue } from '../domain/issue.js';
import { parseYamlDocuments } from '../manifest/document.js';
import { duplicateKeys, yaml11Keys } from './keys.js';
import { formatPath } from './path.js';
import { Resolver } from './resolve.js';
import { checkShape } from './shape.js';
import { binaryProblem, defaultReadFile, type ReadFile } from './sources.js';
import type { Scenario } from './types.js';

/**
 * Reads a scenario file (docs/SCENARIOS.md). Throws InputError listing every problem, each with
 * file, line and column, when the file is not a valid scenario.
 */
export async function loadScenario(path: string): Promise<Scenario> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message =
      code === 'ENOENT'
        ? 'no such file or directory'
        : code === 'EISDIR'
          ? 'is a directory: expected a scenario file'
          : `cannot read: ${error instanceof Error ? error.message : String(error)}`;
    throw new InputError([{ path: '', location: { file: path, line: 1, col: 1 }, message }], {
      cause: error,
    });
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    text = '\0';
  }
  return parseScenario(text, path);
}

/**
 * The same from text: `file` names it in messages and anchors relative paths (policies,
 * manifests), which are read with `readFile`.
 */
export async function parseScenario(
  text: string,
  file: string,
  readFile: ReadFile = defaultReadFile,
): Promise<Scenario> {
  const fail = (issues: readonly Issue[]): never => {
    throw new InputError(issues);
  };
  const start = { file, line: 1, col: 1 };
  const binary = binaryProblem(text);
  if (binary) fail([{ path: '', location: start, message: binary }]);
  const parsed = parseYamlDocuments(text, file);
  if (parsed.issues.length > 0) fail(clearerYamlIssues(parsed.issues, text, file));
  // Empty documents (`---` alone, comments only) are skipped, as kubectl skips them.
  const documents = parsed.documents.filter((d) => d.value !== null && d.value !== undefined);
  const [doc, second] = documents;
  if (doc === undefined)
    return fail([
      {
        path: '',
        location: start,
        message:
          'empty file: expected a scenario (apiVersion: polygraph.dev/v1alpha1, kind: Scenario)',
      },
    ]);
  if (second !== undefined) {
    const kind = (second.value as { kind?: unknown } | null)?.kind;
    fail([
      {
        path: '',
        location: second.start,
        message:
          kind === 'NetworkPolicy'
            ? `one scenario per file: document ${documents.indexOf(second) + 1} is a NetworkPolicy (list it under policies, inline or as a file)`
            : `one scenario per file: this is document ${documents.indexOf(second) + 1} (split the file, or remove the "---" above)`,
      },
    ]);
  }
  const keys = yaml11Keys(text, file, doc.start, doc.value);
  const shape = checkShape(keys.value, (path) => doc.plainText('', path));
  const issues: Issue[] = [...keys.issues];
  issues.push(
    ...shape.issues.map((issue) => ({
      path: formatPath(issue.path),
      message: issue.message,
      location: doc.locate('', issue.path),
    })),
  );
  if (!shape.shape) return fail(inReadingOrder(issues, file));
  const resolver = new Resolver(
    file,
    text,
    doc,
    readFile,
    shape.issues.map((i) => i.path),
  );
  const scenario = await resolver.resolve(shape.shape);
  issues.push(...resolver.issues);
  if (issues.length > 0) fail(inReadingOrder(issues, file));
  return scenario;
}

/** The YAML reader's messages that leave the reader guessing, made specific. */
function clearerYamlIssues(issues: readonly Issue[], text: string, file: string): Issue[] {
  let duplicates: ReturnType<typeof duplicateKeys> | undefined;
  return issues.map((issue) => {
    const { location } = issue;
    if (issue.message.includes('Map keys must be unique') && location) {
      duplicates ??= duplicateKeys(text, file);
      const found = duplicates.get(`${location.line}:${location.col}`);
      if (found)
        return {
          ...issue,
          message: `invalid YAML: duplicate key ${/^["']/.test(found.key) ? found.key : `"${found.key}"`} (the first is at line ${found.first.line}, column ${found.first.col}): a key may appear once in a map`,
        };
    }
    if (issue.message.includes('Excessive alias count'))
      return {
        ...issue,
        message:
          'invalid YAML: the aliases (*name) expand to too much data (more than 1000 expansions), as in a "billion laughs" file: write the values out',
      };
    return issue;
  });
}

/** The scenario file's issues by line and column, then those of the files it refers to. */
function inReadingOrder(issues: readonly Issue[], file: string): Issue[] {
  const files = [file, ...new Set(issues.map((i) => i.location?.file ?? file))];
  const rank = (issue: Issue): number => files.indexOf(issue.location?.file ?? file);
  return [...issues].sort(
    (a, b) =>
      rank(a) - rank(b) ||
      (a.location?.line ?? 0) - (b.location?.line ?? 0) ||
      (a.location?.col ?? 0) - (b.location?.col ?? 0),
  );
}
