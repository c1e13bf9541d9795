/**
 * Endpoint patterns, as `--from`/`--to` and scenario files write them:
 *
 * - `*` every endpoint, external peers included;
 * - `NS/POD` pods, where each part is a name (`*` wildcards allowed, `web-*`), `*`, or a
 *   kubectl-style label selector in square brackets: `shop/[tier=web]`, `[team=a]/*`;
 * - `ext:NAME` (or `ext:NAME@IP`, `ext:*`) external peers.
 *
 * Selectors: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`, comma-separated
 * and ANDed; as in kubectl, `!=` and `notin` also match objects without the label.
 * Pure: no I/O, nothing internal imported.
 */

export type RequirementOperator = '=' | '!=' | 'in' | 'notin' | 'exists' | '!';

export interface Requirement {
  readonly key: string;
  readonly operator: RequirementOperator;
  readonly values: readonly string[];
}

/** One part of a pattern: anything, a name (glob), or a label selector. */
export type PatternPart =
  | { readonly kind: 'any' }
  | { readonly kind: 'name'; readonly name: string; readonly regex: RegExp }
  | { readonly kind: 'selector'; readonly requirements: readonly Requirement[] };

export type Pattern =
  | { readonly kind: 'all'; readonly text: string }
  | { readonly kind: 'external'; readonly text: string; readonly name: PatternPart }
  | {
      readonly kind: 'pod';
      readonly text: string;
      readonly namespace: PatternPart;
      readonly pod: PatternPart;
    };

/** What a pattern is matched against: a pod (`ns/name`) or an external peer (`ext:NAME@IP`). */
export interface PatternEndpoint {
  readonly key: string;
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly namespaceLabels?: Readonly<Record<string, string>>;
  readonly external?: boolean;
}

const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;
const NAME_GLOB = /^[a-z0-9*]([-a-z0-9.*]*[a-z0-9*])?$/;

/** Splits on commas outside parentheses. */
function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      terms.push(text.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(text.slice(start));
  return terms.map((t) => t.trim());
}

/** A kubectl-style selector (the text between the brackets), or an error message. */
export function parseSelector(text: string): Requirement[] | string {
  const requirements: Requirement[] = [];
  if (text.trim() === '') return requirements;
  for (const term of splitTerms(text)) {
    let match: RegExpExecArray | null;
    let requirement: Requirement | undefined;
    if ((match = /^(\S+?)\s+(in|notin)\s*\((.*)\)$/.exec(term))) {
      const values = (match[3] ?? '').split(',').map((v) => v.trim());
      requirement = {
        key: match[1] ?? '',
        operator: match[2] === 'in' ? 'in' : 'notin',
        values,
      };
    } else if ((match = /^([^=!\s]+)\s*(==|=|!=)\s*(.*)$/.exec(term))) {
      requirement = {
        key: match[1] ?? '',
        operator: match[2] === '!=' ? '!=' : '=',
        values: [(match[3] ?? '').trim()],
      };
    } else if ((match = /^!\s*(\S+)$/.exec(term))) {
      requirement = { key: match[1] ?? '', operator: '!', values: [] };
    } else if (/^\S+$/.test(term)) {
      requirement = { key: term, operator: 'exists', values: [] };
    }
    if (!requirement || term === '')
      return `"${term}" is not a selector term: expected k=v, k!=v, k in (a,b), k notin (a,b), k or !k`;
    if (!LABEL_KEY.test(requirement.key) || (requirement.key.split('/').pop() ?? '').length > 63)
      return `"${requirement.key}" is not a valid label key`;
    const bad = requirement.values.find((v) => v.length > 63 || !LABEL_VALUE.test(v));
    if (bad !== undefined) return `"${bad}" is not a valid label value`;
    requirements.push(requirement);
  }
  return requirements;
}

function parsePart(text: string, what: string): PatternPart | string {
  if (text === '*') return { kind: 'any' };
  if (text.startsWith('[')) {
    if (!text.endsWith(']')) return `${what} "${text}": a selector must end with "]"`;
    const requirements = parseSelector(text.slice(1, -1));
    if (typeof requirements === 'string') return `${what} "${text}": ${requirements}`;
    return { kind: 'selector', requirements };
  }
  if (!NAME_GLOB.test(text))
    return `${what} "${text}" is not a name, "*" or a [label selector] (names: lowercase letters, digits, "-", "."; "*" as a wildcard)`;
  const regex = new RegExp(`^${text.replace(/\./g, '\\.').replace(/\*/g, '.*')}$`);
  return { kind: 'name', name: text, regex };
}

/**
 * Parses a pattern. A bare pod part (no `/`) is resolved in `options.namespace` when given
 * (`-n shop` makes `web` mean `shop/web`), and is an error otherwise. Returns an error message
 * on failure.
 */
export function parsePattern(text: string, options: { namespace?: string } = {}): Pattern | string {
  const trimmed = text.trim();
  if (trimmed === '') return 'expected NS/POD, *, or ext:NAME, got nothing';
  if (trimmed === '*') return { kind: 'all', text: trimmed };
  if (trimmed.startsWith('ext:')) {
    const name = trimmed.slice(4).split('@')[0] ?? '';
    const part = name === '*' ? { kind: 'any' as const } : parsePart(name, 'external name');
    if (typeof part === 'string') return part;
    return { kind: 'external', text: trimmed, name: part };
  }
  // The first "/" outside brackets splits namespace from pod.
  let depth = 0;
  let slash = -1;
  for (let i = 0; i < trimmed.length; i++) {
    const c = trimmed[i];
    if (c === '[') depth++;
    else if (c === ']') depth--;
    else if (c === '/' && depth === 0) {
      slash = i;
      break;
    }
  }
  let namespaceText: string;
  let podText: string;
  if (slash < 0) {
    if (options.namespace === undefined)
      return `"${trimmed}": expected NS/POD (e.g. shop/web, shop/*, shop/[tier=web]), * or ext:NAME`;
    namespaceText = options.namespace;
    podText = trimmed;
  } else {
    namespaceText = trimmed.slice(0, slash);
    podText = trimmed.slice(slash + 1);
  }
  const namespace = parsePart(namespaceText, 'namespace');
  if (typeof namespace === 'string') return namespace;
  const pod = parsePart(podText, 'pod');
  if (typeof pod === 'string') return pod;
  return {
    kind: 'pod',
    text: slash < 0 ? `${namespaceText}/${podText}` : trimmed,
    namespace,
    pod,
  };
}

export function matchesRequirements(
  requirements: readonly Requirement[],
  labels: Readonly<Record<string, string>>,
): boolean {
  return requirements.every((r) => {
    const has = Object.hasOwn(labels, r.key);
    const value = labels[r.key];
    switch (r.operator) {
      case '=':
        return has && value === r.values[0];
      case '!=':
        return !has || value !== r.values[0];
      case 'in':
        return has && r.values.includes(value ?? '');
      case 'notin':
        return !has || !r.values.includes(value ?? '');
      case 'exists':
        return has;
      case '!':
        return !has;
    }
  });
}

function matchesPart(
  part: PatternPart,
  name: string,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  switch (part.kind) {
    case 'any':
      return true;
    case 'name':
      return part.regex.test(name);
    case 'selector':
      return matchesRequirements(part.requirements, labels ?? {});
  }
}

export function matchPattern(pattern: Pattern, endpoint: PatternEndpoint): boolean {
  const external = endpoint.external ?? endpoint.key.startsWith('ext:');
  switch (pattern.kind) {
    case 'all':
      return true;
    case 'external': {
      if (!external) return false;
      const name = endpoint.key.slice(4).split('@')[0] ?? '';
      return matchesPart(pattern.name, name, endpoint.labels);
    }
    case 'pod': {
      if (external) return false;
      const slash = endpoint.key.indexOf('/');
      const namespace = endpoint.namespace ?? endpoint.key.slice(0, slash);
      const name = endpoint.key.slice(slash + 1);
      return (
        matchesPart(pattern.namespace, namespace, endpoint.namespaceLabels) &&
        matchesPart(pattern.pod, name, endpoint.labels)
      );
    }
  }
}
