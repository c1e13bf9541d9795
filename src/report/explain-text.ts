import type { Check, FlowExplanation, SideWalk, TierWalk } from '../model/explain.js';
import { formatRuleRef } from '../model/engine.js';
import { probeLabel } from '../model/explain.js';
import type { Palette } from './style.js';

function mark(check: Check, colors: Palette): string {
  return check.ok ? colors.allow('✓') : colors.deny('✗');
}

function renderTier(tier: TierWalk, colors: Palette): string[] {
  const lines = [`  ${colors.bold(`${tier.tier} tier`)}`];
  if (tier.tier !== 'NetworkPolicy' && tier.policies.length === 0)
    lines.push(`    no ${tier.tier} tier policy with rules for this direction`);
  for (const policy of tier.policies) {
    const title = `${policy.policy}${policy.priority !== undefined ? ` (priority ${policy.priority})` : ''}`;
    if (!policy.evaluated) {
      lines.push(`    ${colors.dim(`${title}: not evaluated (decided before it)`)}`);
      continue;
    }
    lines.push(`    ${policy.selects.ok ? colors.bold(title) : colors.dim(title)}`);
    lines.push(`      ${mark(policy.selects, colors)} ${policy.selects.text}`);
    for (const rule of policy.rules) {
      const name = rule.name !== undefined ? ` "${rule.name}"` : '';
      lines.push(
        `      ${rule.path}${name} ${rule.action}: ${rule.matches ? colors.bold('matches') : 'does not match'}`,
      );
      for (const c of rule.peers) lines.push(`        ${mark(c, colors)} ${c.text}`);
      for (const c of rule.ports) lines.push(`        ${mark(c, colors)} ${c.text}`);
    }
  }
  lines.push(`    => ${tier.outcome}`);
  return lines;
}

function renderNetworkPolicies(
  side: SideWalk,
  colors: Palette,
  lines: string[],
  indent: string,
): void {
  if (side.policies.length === 0)
    lines.push(`${indent}no NetworkPolicy in namespace ${side.subject.split('/')[0] ?? ''}`);
  for (const policy of side.policies) {
    const applies = policy.selects.ok && policy.covers.ok;
    lines.push(`${indent}${applies ? colors.bold(policy.policy) : colors.dim(policy.policy)}`);
    lines.push(`${indent}  ${mark(policy.selects, colors)} ${policy.selects.text}`);
    if (policy.selects.ok)
      lines.push(`${indent}  ${mark(policy.covers, colors)} ${policy.covers.text}`);
    if (!applies) continue;
    if (policy.rules.length === 0)
      lines.push(`${indent}  no ${side.direction} rules: nothing is admitted by this policy`);
    for (const rule of policy.rules) {
      lines.push(
        `${indent}  ${rule.path}: ${rule.admits ? colors.allow(`admits ${side.peer}`) : colors.deny(`does not admit ${side.peer}`)}`,
      );
      for (const c of rule.peers) lines.push(`${indent}    ${mark(c, colors)} ${c.text}`);
      for (const c of rule.ports) lines.push(`${indent}    ${mark(c, colors)} ${c.text}`);
    }
  }
}

function renderSide(side: SideWalk, colors: Palette): string[] {
  const title =
    side.direction === 'egress' ? `Egress from ${side.subject}` : `Ingress to ${side.subject}`;
  const lines = [colors.bold(title)];
  if (side.note) {
    lines.push(`  ${side.note}`);
  } else if (side.tiers) {
    // Cluster policies exist: the tiers in evaluation order.
    for (const tier of side.tiers) {
      if (tier.tier !== 'NetworkPolicy') {
        lines.push(...renderTier(tier, colors));
        continue;
      }
      lines.push(`  ${colors.bold('NetworkPolicy tier')}`);
      if (tier.outcome !== 'not reached') renderNetworkPolicies(side, colors, lines, '    ');
      lines.push(`    => ${tier.outcome}`);
    }
  } else {
    if (side.policies.length === 0)
      lines.push(`  no NetworkPolicy in namespace ${side.subject.split('/')[0] ?? ''}`);
    for (const policy of side.policies) {
      const applies = policy.selects.ok && policy.covers.ok;
      lines.push(`  ${applies ? colors.bold(policy.policy) : colors.dim(policy.policy)}`);
      lines.push(`    ${mark(policy.selects, colors)} ${policy.selects.text}`);
      if (policy.selects.ok) lines.push(`    ${mark(policy.covers, colors)} ${policy.covers.text}`);
      if (!applies) continue;
      if (policy.rules.length === 0)
        lines.push(`    no ${side.direction} rules: nothing is admitted by this policy`);
      for (const rule of policy.rules) {
        lines.push(
          `    ${rule.path}: ${rule.admits ? colors.allow(`admits ${side.peer}`) : colors.deny(`does not admit ${side.peer}`)}`,
        );
        for (const c of rule.peers) lines.push(`      ${mark(c, colors)} ${c.text}`);
        for (const c of rule.ports) lines.push(`      ${mark(c, colors)} ${c.text}`);
      }
    }
  }
  const d = side.decision;
  const result =
    d.kind === 'not-isolated'
      ? side.tiers
        ? `no tier decided: allowed (the default)`
        : `not isolated for ${side.direction}: allowed`
      : d.kind === 'not-subject'
        ? 'not subject to NetworkPolicy: allowed'
        : d.kind === 'own-node'
          ? `traffic between a pod and its own node (${d.node}) is always allowed`
          : d.kind === 'allowed'
            ? `allowed by ${d.admittedBy.map(formatRuleRef).join(', ')}`
            : d.deniedBy
              ? `denied by ${formatRuleRef(d.deniedBy)}`
              : `isolated by ${d.policies.join(', ')} and no rule admits ${side.peer}: denied`;
  lines.push(`  => ${side.allowed ? colors.allow(result) : colors.deny(result)}`);
  return lines;
}

export function renderExplanation(x: FlowExplanation, colors: Palette): string {
  const port = 'port' in x.result ? x.result.port : undefined;
  const over = x.family === undefined ? '' : ` over IPv${String(x.family)}`;
  const lines = [
    colors.bold(`Flow ${x.from} -> ${x.to} on ${probeLabel(x.probe, port)}${over}`),
    '',
  ];
  if (!('verdict' in x.result)) {
    lines.push(`Not evaluated: ${x.result.reason}`);
    return lines.join('\n');
  }
  if (x.self) lines.push(x.self, '');
  for (const s of x.sides) lines.push(...renderSide(s, colors), '');
  const verdict = x.result.verdict === 'allow' ? colors.allow('ALLOW') : colors.deny('DENY');
  lines.push(`Verdict: ${verdict}: ${x.result.reason}`);
  return lines.join('\n');
}
