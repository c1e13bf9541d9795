import { assertNever } from '../domain/assert.js';
import type { LabelSelector, Labels } from './types.js';

/** metav1.LabelSelector semantics: every matchLabels pair and every expression must hold. */
export function matchesSelector(selector: LabelSelector, labels: Labels): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels)) {
    if (!Object.hasOwn(labels, key) || labels[key] !== value) return false;
  }
  for (const requirement of selector.matchExpressions) {
    const has = Object.hasOwn(labels, requirement.key);
    switch (requirement.operator) {
      case 'In':
        // Stryker disable next-line StringLiteral: equivalent, the fallback is read only when the key is absent, and then `!has` has decided
        if (!has || !requirement.values.includes(labels[requirement.key] ?? '')) return false;
        break;
      case 'NotIn':
        // Stryker disable next-line StringLiteral: equivalent, the fallback is read only when the key is absent, and then `has` has decided
        if (has && requirement.values.includes(labels[requirement.key] ?? '')) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        assertNever(requirement.operator, 'selector operator');
    }
  }
  return true;
}

/** The reasons a selector does not match, one per failing term (for explanations). */
export function selectorMismatches(selector: LabelSelector, labels: Labels): string[] {
  const reasons: string[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels)) {
    if (!Object.hasOwn(labels, key)) reasons.push(`has no label ${key}`);
    else if (labels[key] !== value) reasons.push(`${key}=${String(labels[key])}, not ${value}`);
  }
  for (const r of selector.matchExpressions) {
    const has = Object.hasOwn(labels, r.key);
    // Stryker disable next-line StringLiteral: equivalent, `value` is used only when the key is present
    const value = labels[r.key] ?? '';
    switch (r.operator) {
      case 'In':
        if (!has) reasons.push(`has no label ${r.key} (${r.key} In [${r.values.join(', ')}])`);
        else if (!r.values.includes(value))
          reasons.push(`${r.key}=${value} is not in [${r.values.join(', ')}]`);
        break;
      case 'NotIn':
        if (has && r.values.includes(value))
          reasons.push(`${r.key}=${value} is in [${r.values.join(', ')}] (NotIn)`);
        break;
      case 'Exists':
        if (!has) reasons.push(`has no label ${r.key} (Exists)`);
        break;
      case 'DoesNotExist':
        if (has) reasons.push(`has label ${r.key} (DoesNotExist)`);
        break;
      default:
        assertNever(r.operator, 'selector operator');
    }
  }
  return reasons;
}

/** kubectl-style rendering: `app=web,tier in (a,b),!legacy`; `{}` selects everything. */
export function formatSelector(selector: LabelSelector): string {
  const terms = Object.entries(selector.matchLabels).map(([k, v]) => `${k}=${v}`);
  for (const r of selector.matchExpressions) {
    switch (r.operator) {
      case 'In':
        terms.push(`${r.key} in (${r.values.join(',')})`);
        break;
      case 'NotIn':
        terms.push(`${r.key} notin (${r.values.join(',')})`);
        break;
      case 'Exists':
        terms.push(r.key);
        break;
      case 'DoesNotExist':
        terms.push(`!${r.key}`);
        break;
      default:
        assertNever(r.operator, 'selector operator');
    }
  }
  return terms.length === 0 ? '{}' : terms.join(',');
}
