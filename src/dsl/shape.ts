/**
 * The shape phase: the zod schema checks the parsed document, and every zod issue becomes a
 * message a person can act on ("expected X, got Y", "unknown field … did you mean …", the
 * branch of a union that was meant). Afterwards the parts that did not fit are pruned, so that
 * the semantic phase can still check everything else.
 */
import { z } from 'zod';
import { closest } from '../domain/suggest.js';
import { describe } from '../model/raw.js';
import { formatPath, valueAt, type Path } from './path.js';
import { SCENARIO, SCENARIO_API_VERSION, SCENARIO_KIND, type ScenarioFile } from './schema.js';

export interface ShapeIssue {
  readonly path: Path;
  readonly message: string;
}

/** A parsed file whose lists may have holes where an item did not fit the schema. */
export type Holey<T> = T extends readonly (infer U)[]
  ? (Holey<U> | undefined)[]
  : T extends object
    ? { [K in keyof T]: Holey<T[K]> }
    : T;

export type ScenarioShape = Holey<ScenarioFile>;

/** zod's finished issue, read field by field (extra fields are added by `annotate`). */
type RawIssue = Readonly<Record<string, unknown>>;

/** Reads the source text of a plain scalar, to explain YAML 1.1 surprises with the user's words. */
export type PlainText = (path: Path) => string | undefined;

/** Records on each issue what the message needs from the schema that raised it. */
function annotate(issue: z.core.$ZodRawIssue): undefined {
  const record = issue as unknown as Record<string, unknown>;
  const inst = issue.inst as z.core.$ZodType | undefined;
  if (!inst?._zod) return undefined;
  const description = z.globalRegistry.get(inst)?.description;
  if (description !== undefined) record.expectedText = description;
  const def = inst._zod.def;
  if (issue.code === 'unrecognized_keys' && def.type === 'object')
    record.known = Object.keys((def as z.core.$ZodObjectDef).shape);
  if (issue.code === 'invalid_union' && def.type === 'union') {
    const options = (def as z.core.$ZodUnionDef).options;
    const keys = options.map((option) => {
      const optionDef = option._zod.def;
      if (optionDef.type !== 'object') return undefined;
      const shape = Object.keys((optionDef as z.core.$ZodObjectDef).shape);
      return shape.length === 1 ? shape[0] : undefined;
    });
    if (keys.every((k) => k !== undefined)) record.oneKeyOf = keys;
  }
  return undefined;
}

const NOUNS: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'a map',
  record: 'a map',
  array: 'a list',
};

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

function issuePath(issue: RawIssue): Path {
  return Array.isArray(issue.path) ? (issue.path as Path) : [];
}

function issueList(value: unknown): RawIssue[] {
  return Array.isArray(value) ? (value as RawIssue[]) : [];
}

/** A failed shape check, and what to prune so that the rest can be checked further. */
interface Finding extends ShapeIssue {
  readonly prune: Path;
}

class Converter {
  readonly findings: Finding[] = [];
  constructor(
    private readonly root: unknown,
    private readonly plainText: PlainText,
  ) {}

  private add(path: Path, message: string, prune: Path = path): void {
    this.findings.push({ path, message, prune });
  }

  private got(path: Path, expected: string): string {
    const input = valueAt(this.root, path);
    if (expected === 'a string' && (typeof input === 'boolean' || typeof input === 'number')) {
      const text = this.plainText(path) ?? String(input);
      if (typeof input === 'boolean' && text !== 'true' && text !== 'false')
        return `expected a string, got ${text}, which YAML 1.1 (as kubectl reads manifests) takes for the boolean ${input}: quote it, "${text}"`;
      return `expected a string, got ${describe(input)}: quote it, "${text}"`;
    }
    return `expected ${expected}, got ${describe(input)}`;
  }

  /** Why a value the user wrote as a word is a boolean, for messages that expect something else. */
  private yaml11(path: Path, input: unknown): string {
    if (typeof input !== 'boolean') return '';
    const text = this.plainText(path);
    if (text === undefined || text === 'true' || text === 'false') return '';
    return ` (YAML 1.1, as kubectl reads manifests, takes ${text} for the boolean ${input}: quote it, "${text}")`;
  }

  convert(issue: RawIssue, base: Path): void {
    const path = [...base, ...issuePath(issue)];
    const input = valueAt(this.root, path);
    const expectedText = typeof issue.expectedText === 'string' ? issue.expectedText : undefined;
    switch (issue.code) {
      case 'unrecognized_keys': {
        const known = strings(issue.known);
        for (const key of strings(issue.keys)) {
          const guess = closest(key, known);
          this.add(
            [...path, key],
            `unknown field "${key}"${guess ? `; did you mean "${guess}"?` : ''} (expected one of: ${known.join(', ')})`,
          );
        }
        return;
      }
      case 'invalid_type': {
        if (input === undefined) {
          this.add(
            path,
            `required${expectedText ? `: ${expectedText}` : ''}`,
            path.length === 1 ? path : path.slice(0, -1),
          );
          return;
        }
        if (path.length === 0) {
          this.add(
            path,
            `expected a scenario (a map with apiVersion: ${SCENARIO_API_VERSION} and kind: ${SCENARIO_KIND}), got ${describe(input)}`,
          );
          return;
        }
        const expected = typeof issue.expected === 'string' ? issue.expected : '';
        if (path[path.length - 2] === 'rules' && typeof input === 'string') {
          // `- 'to shop/web: allow'` (quoted whole) or `- to shop/web` (no verdict).
          const colon = /^(.*\S)\s*:\s+(\S+)$/.exec(input);
          this.add(
            path,
            colon
              ? `expected a rule, a map "from PATTERN to PATTERN on PROBE": VERDICT, got the string ${JSON.stringify(input)}: the verdict belongs outside the quotes, ${colon[1] ?? ''}: ${colon[2] ?? ''}`
              : `expected a rule, a map "from PATTERN to PATTERN on PROBE": VERDICT, got the string ${JSON.stringify(input)} with no verdict: write ${input}: allow (or deny, unresolvable)`,
          );
          return;
        }
        this.add(path, this.got(path, NOUNS[expected] ?? expected));
        return;
      }
      case 'invalid_value': {
        const values = strings(issue.values);
        const last = path[path.length - 1];
        if (path.length === 1 && (last === 'apiVersion' || last === 'kind')) {
          const want = last === 'apiVersion' ? SCENARIO_API_VERSION : SCENARIO_KIND;
          const message =
            input === undefined
              ? `required: ${last}: ${want}`
              : `expected ${last} ${want}${last === 'kind' ? ' (this file is not a polygraph scenario)' : ''}, got ${describe(input)}`;
          this.add(path, message);
          return;
        }
        if (input === undefined) {
          this.add(path, `required: one of ${values.join(', ')}`, path.slice(0, -1));
          return;
        }
        const guess = typeof input === 'string' ? closest(input, values) : undefined;
        this.add(
          path,
          `expected one of ${values.join(', ')}, got ${describe(input)}${guess ? `; did you mean "${guess}"?` : ''}${this.yaml11(path, input)}`,
        );
        return;
      }
      case 'too_small':
      case 'too_big': {
        if (issue.origin === 'string') this.add(path, 'must not be empty');
        else if (issue.origin === 'array') this.add(path, 'expected at least one item, got none');
        else {
          const bound = Number(issue.code === 'too_small' ? issue.minimum : issue.maximum);
          const range = path.some((p) => p === 'ports' || p === 'probes' || p === 'port');
          this.add(
            path,
            range
              ? `port ${describe(input).replace('the number ', '')} out of range: expected 1-65535`
              : `expected a number ${issue.code === 'too_small' ? 'at least' : 'at most'} ${bound}, got ${describe(input)}`,
          );
        }
        return;
      }
      case 'invalid_format': {
        const message = typeof issue.message === 'string' ? issue.message : '';
        const expected = message.startsWith('Invalid')
          ? `a string matching ${String(issue.pattern)}`
          : message;
        this.add(path, `expected ${expected}, got ${describe(input)}`);
        return;
      }
      case 'invalid_key': {
        // The key is the whole entry (a rule): name the entry, and drop it whole.
        const key = path[path.length - 1];
        const inner = issueList(issue.issues)[0];
        const message = typeof inner?.message === 'string' ? inner.message : '';
        const expected = message.startsWith('Invalid') || message === '' ? 'a valid key' : message;
        const entry = path.slice(0, -1);
        this.add(entry, `expected ${expected}, got ${JSON.stringify(key)}`, entry);
        return;
      }
      case 'invalid_union':
        this.union(issue, path, input, expectedText);
        return;
      default:
        this.add(path, `not allowed here: ${describe(input)}`);
    }
  }

  private union(issue: RawIssue, path: Path, input: unknown, expectedText?: string): void {
    const branches = Array.isArray(issue.errors) ? (issue.errors as unknown[]).map(issueList) : [];
    if (Array.isArray(issue.oneKeyOf)) {
      this.oneKeyUnion(strings(issue.oneKeyOf), branches, path, input);
      return;
    }
    const fitting = branches.filter((errors) => !mismatched(errors));
    const only = fitting[0];
    const scalarOnly =
      only !== undefined &&
      only.every((e) => issuePath(e).length === 0 && e.code === 'invalid_format');
    if (fitting.length === 1 && only !== undefined && !scalarOnly) {
      for (const error of only) this.convert(error, path);
      return;
    }
    const nouns = branches.map((errors) => {
      const root = errors.find((e) => issuePath(e).length === 0 && e.code === 'invalid_type');
      return NOUNS[String(root?.expected)] ?? 'something else';
    });
    this.add(
      path,
      `expected ${expectedText ?? nouns.join(' or ')}, got ${describe(input)}${this.yaml11(path, input)}`,
    );
  }

  /** A union of one-key maps (actions): the key says which branch was meant. */
  private oneKeyUnion(keys: string[], branches: RawIssue[][], path: Path, input: unknown): void {
    const list = keys.join(', ');
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      this.add(path, `expected an action (a map with one of: ${list}), got ${describe(input)}`);
      return;
    }
    const present = Object.keys(input);
    const known = present.filter((k) => keys.includes(k));
    if (present.length === 1 && known.length === 0) {
      const key = present[0] ?? '';
      const guess = closest(key, keys);
      this.add(
        [...path, key],
        `unknown action "${key}"${guess ? `; did you mean "${guess}"?` : ''} (expected one of: ${list})`,
        path,
      );
      return;
    }
    if (present.length !== 1) {
      this.add(
        path,
        present.length === 0
          ? `expected an action (a map with one of: ${list}), got an empty map`
          : `an action has exactly one key, got ${present.length}: ${present.join(', ')} (write one action per list item)`,
      );
      return;
    }
    const errors = branches[keys.indexOf(known[0] ?? '')] ?? [];
    for (const error of errors) this.convert(error, path);
  }
}

/** Whether a union branch failed because the input is of another type altogether. */
function mismatched(errors: readonly RawIssue[]): boolean {
  return errors.some((e) => {
    if (issuePath(e).length > 0) return false;
    if (e.code === 'invalid_type') return true;
    if (e.code === 'invalid_union' && Array.isArray(e.errors))
      return (e.errors as unknown[]).every((branch) => mismatched(issueList(branch)));
    return false;
  });
}

/** Required top-level fields stand in for removed ones so that the rest can still be checked. */
const PLACEHOLDERS: Readonly<Record<string, unknown>> = {
  apiVersion: SCENARIO_API_VERSION,
  kind: SCENARIO_KIND,
  metadata: { name: 'scenario' },
  topology: {},
};

function validate(value: unknown, plainText: PlainText): Finding[] {
  const result = SCENARIO.safeParse(value, { reportInput: true, error: annotate });
  if (result.success) return [];
  const converter = new Converter(value, plainText);
  for (const issue of result.error.issues) converter.convert(issue as unknown as RawIssue, []);
  return converter.findings;
}

/** A copy without holes, for zod. */
function compact(value: unknown): unknown {
  if (Array.isArray(value)) return value.filter((v) => v !== undefined).map(compact);
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, compact(v)]));
  return value;
}

/** A path into the compact copy → the same place in the value with holes. */
function holeyPath(holey: unknown, path: Path): Path {
  const mapped: (string | number)[] = [];
  let node = holey;
  for (const part of path) {
    if (Array.isArray(node) && typeof part === 'number') {
      let seen = -1;
      let index = node.length;
      for (let i = 0; i < node.length; i++) {
        if (node[i] !== undefined) seen++;
        if (seen === part) {
          index = i;
          break;
        }
      }
      mapped.push(index);
      node = node[index] as unknown;
    } else {
      mapped.push(part);
      node = valueAt(node, [part]);
    }
  }
  return mapped;
}

/** Removes the node at `path`; false when that would remove the whole document. */
function prune(holey: unknown, path: Path): boolean {
  if (path.length === 0) return false;
  const parent = valueAt(holey, path.slice(0, -1));
  const last = path[path.length - 1] ?? '';
  if (typeof parent !== 'object' || parent === null) return true;
  if (Array.isArray(parent)) {
    if (typeof last === 'number') parent[last] = undefined;
    return true;
  }
  const map = parent as Record<string, unknown>;
  if (path.length === 1 && typeof last === 'string' && last in PLACEHOLDERS)
    map[last] = structuredClone(PLACEHOLDERS[last]);
  else Reflect.deleteProperty(map, String(last));
  return true;
}

/**
 * Checks the shape of a parsed scenario. Returns every issue, and the document with what did not
 * fit removed (lists keep their indices: a removed item leaves a hole), or undefined when nothing
 * is left to check.
 */
export function checkShape(
  value: unknown,
  plainText: PlainText,
): { issues: ShapeIssue[]; shape: ScenarioShape | undefined } {
  const findings = validate(value, plainText);
  const issues = findings.map(({ path, message }) => ({ path, message }));
  if (findings.length === 0) return { issues, shape: value as ScenarioShape };
  const holey = structuredClone(value);
  let pending: Path[] = findings.map((f) => f.prune);
  for (let round = 0; round < 64; round++) {
    for (const path of pending.sort((a, b) => b.length - a.length))
      if (!prune(holey, path)) return { issues, shape: undefined };
    const copy = compact(holey);
    const more = validate(copy, () => undefined);
    if (more.length === 0) return { issues, shape: holey as ScenarioShape };
    pending = more.map((f) => holeyPath(holey, f.prune));
  }
  return { issues, shape: undefined };
}

export { formatPath };
