import type { Issue } from '../domain/issue.js';
import { closest } from '../domain/suggest.js';

/**
 * Helpers to read untyped API objects (parsed YAML/JSON) field by field, recording every
 * problem with its field path instead of stopping at the first.
 */
export class IssueSink {
  readonly issues: Issue[] = [];
  add(path: string, message: string): void {
    this.issues.push({ path, message });
  }
}

export type RawMap = Readonly<Record<string, unknown>>;

export function describe(value: unknown): string {
  if (value === null || value === undefined) return 'nothing (null)';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string':
      return `the string ${JSON.stringify(value)}`;
    case 'number':
      return `the number ${value}`;
    case 'boolean':
      return `the boolean ${value}`;
    case 'object':
      return 'a map';
    default:
      return typeof value;
  }
}

export function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

export function isMap(value: unknown): value is RawMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A map, or undefined (with an issue) when the value is something else. Null reads as absent. */
export function readMap(value: unknown, path: string, sink: IssueSink): RawMap | undefined {
  if (value === undefined || value === null) return undefined;
  if (isMap(value)) return value;
  sink.add(path, `expected a map, got ${describe(value)}`);
  return undefined;
}

export function readList(
  value: unknown,
  path: string,
  sink: IssueSink,
): readonly unknown[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return value as readonly unknown[];
  sink.add(path, `expected a list, got ${describe(value)}`);
  return undefined;
}

export function readString(value: unknown, path: string, sink: IssueSink): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  const hint =
    typeof value === 'number' || typeof value === 'boolean'
      ? ' (quote it in YAML: "' + String(value) + '")'
      : '';
  sink.add(path, `expected a string, got ${describe(value)}${hint}`);
  return undefined;
}

export function readInteger(value: unknown, path: string, sink: IssueSink): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  sink.add(path, `expected an integer, got ${describe(value)}`);
  return undefined;
}

export function readBoolean(value: unknown, path: string, sink: IssueSink): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'boolean') return value;
  sink.add(path, `expected true or false, got ${describe(value)}`);
  return undefined;
}

/** Unknown keys are errors, as with the API server's strict field validation. */
export function checkKeys(
  map: RawMap,
  known: readonly string[],
  path: string,
  sink: IssueSink,
): void {
  for (const key of Object.keys(map)) {
    if (known.includes(key)) continue;
    const guess = closest(key, known);
    sink.add(
      join(path, key),
      `unknown field "${key}"${guess ? `; did you mean "${guess}"?` : ''} (expected one of: ${known.join(', ')})`,
    );
  }
}
