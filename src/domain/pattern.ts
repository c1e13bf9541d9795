/**
 * Endpoint patterns, as written in expectations and filters:
 *   `*`            every endpoint (pods, external peers and nodes)
 *   `NS/POD`       each part a name, `*`, or a label selector in brackets: `shop/web`, `shop/*`,
 *                  `*` slash `db` (any namespace), `shop/[tier=web]`, `[team=a]/*`
 *   `ext:NAME`     an external peer or a node
 * Selectors use kubectl's syntax: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`,
 * `!k`, comma-separated requirements all of which must hold.
 */

export type SelectorRequirement =
  | { readonly op: 'eq' | 'neq'; readonly key: string; readonly value: string }
  | { readonly op: 'in' | 'notin'; readonly key: string; readonly values: readonly string[] }
  | { readonly op: 'exists' | 'absent'; readonly key: string };

export type NamePart =
  | { readonly kind: 'any' }
  | { readonly kind: 'name'; readonly name: string }
  | { readonly kind: 'selector'; readonly requirements: readonly SelectorRequirement[] };

export type Pattern =
  | { readonly kind: 'all'; readonly text: string }
  | { readonly kind: 'external'; readonly name: string; readonly text: string }
  | {
      readonly kind: 'pod';
      readonly namespace: NamePart;
      readonly pod: NamePart;
      readonly text: string;
    };

/** What a pattern is matched against. */
export interface PatternSubject {
  /** `ns/pod`, or `ext:NAME` / `ext:NAME@IP` for a non-pod endpoint. */
  readonly key: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly namespaceLabels?: Readonly<Record<string, string>>;
}

const LABEL_PART = /^[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?$/;

/** Parses a kubectl label selector (`tier=web,env in (a,b),!legacy`). */
export function parseSelector(text: string): SelectorRequirement[] | string {
  const requirements: SelectorRequirement[] = [];
  // Split on commas outside parentheses.
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  for (const raw of parts) {
    const part = raw.trim();
    if (part === '') return `empty requirement in selector "${text}"`;
    let m = /^(\S+?)\s*(==|!=|=)\s*(\S*)$/.exec(part);
    if (m) {
      const [, key = '', op = '', value = ''] = m;
      if (!LABEL_PART.test(key)) return `"${key}" is not a label key`;
      if (value !== '' && !LABEL_PART.test(value)) return `"${value}" is not a label value`;
      requirements.push({ op: op === '!=' ? 'neq' : 'eq', key, value });
      continue;
    }
    m = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(part);
    if (m) {
      const [, key = '', op = '', list = ''] = m;
      if (!LABEL_PART.test(key)) return `"${key}" is not a label key`;
      const values = list.split(',').map((v) => v.trim());
      const bad = values.find((v) => v !== '' && !LABEL_PART.test(v));
      if (bad !== undefined) return `"${bad}" is not a label value`;
      requirements.push({ op: op === 'in' ? 'in' : 'notin', key, values });
      continue;
    }
    m = /^(!?)\s*(\S+)$/.exec(part);
    if (m && LABEL_PART.test(m[2] ?? '')) {
      requirements.push({ op: m[1] === '!' ? 'absent' : 'exists', key: m[2] ?? '' });
      continue;
    }
    return `cannot read "${part}" as a label requirement: expected k=v, k!=v, k in (a,b), k notin (a,b), k or !k`;
  }
  return requirements;
}

function parsePart(text: string, what: 'namespace' | 'pod'): NamePart | string {
  if (text === '*') return { kind: 'any' };
  if (text.startsWith('[')) {
    if (!text.endsWith(']')) return `unclosed "[" in ${what} selector "${text}"`;
    const requirements = parseSelector(text.slice(1, -1));
    return typeof requirements === 'string' ? requirements : { kind: 'selector', requirements };
  }
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(text))
    return `"${text}" is not a ${what} name, "*" or a [label selector]`;
  return { kind: 'name', name: text };
}

/** Splits `NS/POD` on the slash that is outside brackets. */
function splitNamespace(text: string): [string, string] | undefined {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '[') depth++;
    else if (ch === ']') depth--;
    else if (ch === '/' && depth === 0) return [text.slice(0, i), text.slice(i + 1)];
  }
  return undefined;
}

export function parsePattern(text: string): Pattern | string {
  const t = text.trim();
  if (t === '*') return { kind: 'all', text: t };
  if (t.startsWith('ext:')) {
    const name = t.slice(4);
    if (!/^[A-Za-z0-9][-A-Za-z0-9_.:]*$/.test(name)) return `"${t}" is not ext:NAME`;
    return { kind: 'external', name, text: t };
  }
  const split = splitNamespace(t);
  if (split === undefined)
    return `"${t}" is not an endpoint pattern: expected NAMESPACE/POD (either may be *, or a [label selector]), ext:NAME or *`;
  const namespace = parsePart(split[0], 'namespace');
  if (typeof namespace === 'string') return namespace;
  const pod = parsePart(split[1], 'pod');
  if (typeof pod === 'string') return pod;
  return { kind: 'pod', namespace, pod, text: t };
}

export function matchesRequirements(
  requirements: readonly SelectorRequirement[],
  labels: Readonly<Record<string, string>>,
): boolean {
  return requirements.every((r) => {
    const value = Object.hasOwn(labels, r.key) ? labels[r.key] : undefined;
    switch (r.op) {
      case 'eq':
        return value === r.value;
      case 'neq':
        return value !== r.value;
      case 'in':
        return value !== undefined && r.values.includes(value);
      case 'notin':
        return value === undefined || !r.values.includes(value);
      case 'exists':
        return value !== undefined;
      case 'absent':
        return value === undefined;
    }
  });
}

function matchesPart(
  part: NamePart,
  name: string | undefined,
  labels: Readonly<Record<string, string>>,
): boolean {
  switch (part.kind) {
    case 'any':
      return true;
    case 'name':
      return part.name === name;
    case 'selector':
      return matchesRequirements(part.requirements, labels);
  }
}

/** `ext:NAME@IP` → `NAME`; undefined for pods. */
function externalName(key: string): string | undefined {
  if (!key.startsWith('ext:')) return undefined;
  const rest = key.slice(4);
  const at = rest.lastIndexOf('@');
  return at > 0 ? rest.slice(0, at) : rest;
}

export function matchPattern(pattern: Pattern, subject: PatternSubject): boolean {
  const ext = externalName(subject.key);
  switch (pattern.kind) {
    case 'all':
      return true;
    case 'external':
      return ext === pattern.name;
    case 'pod': {
      if (ext !== undefined) return false;
      const slash = subject.key.indexOf('/');
      const namespace = subject.namespace ?? subject.key.slice(0, slash);
      const name = subject.name ?? subject.key.slice(slash + 1);
      return (
        matchesPart(pattern.namespace, namespace, subject.namespaceLabels ?? {}) &&
        matchesPart(pattern.pod, name, subject.labels ?? {})
      );
    }
  }
}
