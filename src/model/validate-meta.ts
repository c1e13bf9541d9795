/*
 * The apimachinery pieces every object has, validated exactly as the API server does
 * (k8s.io/apimachinery/pkg/util/validation, pkg/api/validation/objectmeta.go,
 * metav1validation.ValidateLabelSelector): DNS-1123 names, label keys and values, label
 * selectors, and an object's name, namespace and labels.
 */
import { checkKeys, IssueSink, join, readList, readMap, readString } from './raw.js';
import {
  SELECTOR_OPERATORS,
  type LabelSelector,
  type LabelSelectorRequirement,
  type Labels,
  type SelectorOperator,
} from './types.js';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export function dns1123LabelProblem(value: string): string | undefined {
  if (value.length > 63) return 'must be no more than 63 characters';
  if (!DNS1123_LABEL.test(value))
    return 'must consist of lowercase letters, digits and "-", and start and end with a letter or digit (RFC 1123 label)';
  return undefined;
}

export function dns1123SubdomainProblem(value: string): string | undefined {
  if (value.length > 253) return 'must be no more than 253 characters';
  if (!DNS1123_SUBDOMAIN.test(value))
    return 'must consist of lowercase letters, digits, "-" and ".", and start and end with a letter or digit (RFC 1123 subdomain)';
  return undefined;
}

export function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined) {
    if (prefix.length === 0) return 'prefix part must not be empty';
    const problem = dns1123SubdomainProblem(prefix);
    if (problem) return `prefix part ${problem}`;
  }
  if (name.length === 0) return 'name part must not be empty';
  if (name.length > 63) return 'name part must be no more than 63 characters';
  if (!QUALIFIED_NAME_PART.test(name))
    return 'name part must consist of letters, digits, "-", "_" or ".", and start and end with a letter or digit';
  return undefined;
}

export function labelValueProblem(value: string): string | undefined {
  if (value.length > 63) return 'must be no more than 63 characters';
  if (!LABEL_VALUE.test(value))
    return 'must be empty or consist of letters, digits, "-", "_" or ".", and start and end with a letter or digit';
  return undefined;
}

/** A map of labels (metadata.labels or matchLabels). */
export function readLabels(value: unknown, path: string, sink: IssueSink): Labels {
  const map = readMap(value, path, sink);
  const labels: Record<string, string> = {};
  if (!map) return labels;
  for (const [key, raw] of Object.entries(map)) {
    const keyPath = join(path, key);
    const keyProblem = labelKeyProblem(key);
    if (keyProblem) sink.add(keyPath, `invalid label key "${key}": ${keyProblem}`);
    // A null value decodes as "" (the zero value), a valid label value.
    const text = raw === null ? '' : readString(raw, keyPath, sink);
    if (text === undefined) continue;
    const valueProblem = labelValueProblem(text);
    if (valueProblem) sink.add(keyPath, `invalid label value "${text}": ${valueProblem}`);
    if (!keyProblem && !valueProblem) labels[key] = text;
  }
  return labels;
}

function isOperator(value: string): value is SelectorOperator {
  return (SELECTOR_OPERATORS as readonly string[]).includes(value);
}

/** metav1.LabelSelector with ValidateLabelSelector's rules. */
export function readSelector(value: unknown, path: string, sink: IssueSink): LabelSelector {
  const map = readMap(value, path, sink);
  if (!map) return { matchLabels: {}, matchExpressions: [] };
  checkKeys(map, ['matchLabels', 'matchExpressions'], path, sink);
  const matchLabels = readLabels(map.matchLabels, join(path, 'matchLabels'), sink);
  const matchExpressions: LabelSelectorRequirement[] = [];
  const expressionsPath = join(path, 'matchExpressions');
  const expressions = readList(map.matchExpressions, expressionsPath, sink) ?? [];
  expressions.forEach((rawExpression, i) => {
    const exprPath = join(expressionsPath, i);
    const expr = readMap(rawExpression, exprPath, sink);
    if (!expr) {
      if (rawExpression === null) sink.add(exprPath, 'expected a map, got nothing (null)');
      return;
    }
    checkKeys(expr, ['key', 'operator', 'values'], exprPath, sink);
    const key = readString(expr.key, join(exprPath, 'key'), sink);
    const operator = readString(expr.operator, join(exprPath, 'operator'), sink);
    const valuesPath = join(exprPath, 'values');
    const rawValues = readList(expr.values, valuesPath, sink) ?? [];
    const values: string[] = [];
    rawValues.forEach((v, j) => {
      const text = v === null ? '' : readString(v, join(valuesPath, j), sink);
      if (text === undefined) return;
      const problem = labelValueProblem(text);
      if (problem) sink.add(join(valuesPath, j), `invalid label value "${text}": ${problem}`);
      values.push(text);
    });
    let ok = true;
    if (key === undefined) {
      if (expr.key === undefined || expr.key === null) sink.add(join(exprPath, 'key'), 'required');
      ok = false;
    } else {
      const problem = labelKeyProblem(key);
      if (problem) {
        sink.add(join(exprPath, 'key'), `invalid label key "${key}": ${problem}`);
        ok = false;
      }
    }
    if (operator === undefined) {
      if (expr.operator === undefined || expr.operator === null)
        sink.add(join(exprPath, 'operator'), 'required: one of In, NotIn, Exists, DoesNotExist');
      return;
    }
    if (!isOperator(operator)) {
      sink.add(
        join(exprPath, 'operator'),
        `"${operator}" is not a valid selector operator: expected one of In, NotIn, Exists, DoesNotExist`,
      );
      return;
    }
    if ((operator === 'In' || operator === 'NotIn') && values.length === 0) {
      sink.add(valuesPath, `must be specified (non-empty) when operator is ${operator}`);
      ok = false;
    }
    if ((operator === 'Exists' || operator === 'DoesNotExist') && rawValues.length > 0) {
      sink.add(valuesPath, `may not be specified when operator is ${operator}`);
      ok = false;
    }
    if (ok && key !== undefined) matchExpressions.push({ key, operator, values });
  });
  return { matchLabels, matchExpressions };
}

/** metadata.name (required, DNS-1123 subdomain) and metadata.namespace (DNS-1123 label). */
export function readObjectMeta(
  value: unknown,
  sink: IssueSink,
  defaultNamespace: string,
  options: { namespaced?: boolean } = {},
): { name?: string; namespace: string; labels: Labels } {
  const meta = readMap(value, 'metadata', sink);
  if (!meta) {
    sink.add('metadata', 'required: the object needs metadata.name');
    return { namespace: defaultNamespace, labels: {} };
  }
  const name = readString(meta.name, 'metadata.name', sink);
  if (name === undefined) {
    if (meta.name === undefined || meta.name === null)
      sink.add(
        'metadata.name',
        meta.generateName !== undefined
          ? 'required: generateName is not supported, give the object a name'
          : 'required',
      );
  } else {
    const problem = dns1123SubdomainProblem(name);
    if (problem) sink.add('metadata.name', `invalid name "${name}": ${problem}`);
  }
  let namespace = defaultNamespace;
  if (options.namespaced !== false) {
    const ns = readString(meta.namespace, 'metadata.namespace', sink);
    if (ns !== undefined) {
      const problem = dns1123LabelProblem(ns);
      if (problem) sink.add('metadata.namespace', `invalid namespace "${ns}": ${problem}`);
      namespace = ns;
    }
  }
  const labels = readLabels(meta.labels, 'metadata.labels', sink);
  return { ...(name !== undefined ? { name } : {}), namespace, labels };
}
