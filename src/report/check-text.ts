/** `check` (and, later, `run`) results as text: per step the cells that disagree, then counts. */
import { formatProbe } from '../domain/probe.js';
import type { CellClass } from '../compare/classify.js';
import type { CellResult, Counts, ScenarioResult, StepResult } from '../engine/results.js';
import { failing, addCounts } from '../engine/results.js';
import type { Palette } from './style.js';

const SHOWN: readonly CellClass[] = [
  'expectation-contradicts-spec',
  'cluster-deviates',
  'model-disagrees',
  'flaky',
  'probe-error',
  'known-deviation',
];

const TITLE: Readonly<Record<CellClass, string>> = {
  agree: 'agree',
  'expectation-contradicts-spec': 'the expectation contradicts the spec',
  'cluster-deviates': 'the cluster deviates from the spec',
  'known-deviation': 'known deviation',
  'model-disagrees': "the model disagrees with both (a bug in polygraph's model)",
  unchecked: 'unchecked',
  unresolvable: 'unresolvable',
  'probe-error': 'probe error',
  skipped: 'skipped',
  flaky: 'flaky',
};

function verdictWord(v: string | undefined): string {
  return v ?? 'nothing';
}

function cellLine(cell: CellResult, colors: Palette): string[] {
  const head = `${formatProbe(cell.probe)} ${cell.from} -> ${cell.to}`;
  const parts = [`expected ${verdictWord(cell.expected)}`, `the spec says ${cell.modelled}`];
  if (cell.observed !== undefined)
    parts.push(
      cell.tries === undefined
        ? `observed ${cell.observed}`
        : `observed ${cell.tries.join(', then ')}`,
    );
  const lines = [
    `    ${colors.deny('✗')} ${colors.bold(head)}: ${parts.join(', ')}`,
    `        ${colors.dim(cell.explanation)}`,
  ];
  if (cell.observedDetail !== undefined && cell.observed !== undefined)
    lines.push(`        ${colors.dim(`probe: ${cell.observedDetail}`)}`);
  return lines;
}

/** "probes 324 in 0.62 s; changed cells enforced 180 ms after the last action" */
function liveLine(step: StepResult): string | undefined {
  const live = step.live;
  if (live === undefined) return undefined;
  const s = live.settle;
  const settle =
    s.cells === 0
      ? 'no cell changed'
      : s.settled
        ? `${String(s.cells)} changed cell${s.cells === 1 ? '' : 's'} enforced within ${String(s.exposureMs ?? 0)} ms of the last action (${String(s.rounds)} round${s.rounds === 1 ? '' : 's'})`
        : `${String(s.cells)} changed cells NOT all enforced within the settle bound`;
  return `    live: ${settle}; ${String(live.probes)} probes in ${(live.probeMs / 1000).toFixed(2)} s; step ${(live.durationMs / 1000).toFixed(2)} s`;
}

/** Skipped cells, counted by reason (they are many and alike: SCTP, externals). */
function skippedLines(step: StepResult): string[] {
  const reasons = new Map<string, number>();
  for (const c of step.cells)
    if (c.class === 'skipped') {
      const why = c.observedDetail ?? 'skipped';
      reasons.set(why, (reasons.get(why) ?? 0) + 1);
    }
  if (reasons.size === 0) return [];
  return [
    `    skipped (${String([...reasons.values()].reduce((a, b) => a + b, 0))}):`,
    ...[...reasons].map(([why, n]) => `      ${String(n)} × ${why}`),
  ];
}

/** "45 cells: 40 agree, 5 unresolvable" — only the classes that occur, agree first. */
export function formatCounts(counts: Counts): string {
  const parts = (Object.entries(counts.byClass) as [CellClass, number][])
    .filter(([, n]) => n > 0)
    .map(([c, n]) => `${String(n)} ${c === 'agree' ? 'agree' : c}`);
  return `${String(counts.cells)} cell${counts.cells === 1 ? '' : 's'}${parts.length > 0 ? `: ${parts.join(', ')}` : ''}`;
}

function renderStep(step: StepResult, total: number, colors: Palette): string[] {
  const lines = [
    `  step ${String(step.index + 1)}/${String(total)} ${colors.bold(step.name)}: ${formatCounts(step.counts)}`,
  ];
  const live = liveLine(step);
  if (live !== undefined) lines.push(colors.dim(live));
  for (const cls of SHOWN) {
    const cells = step.cells.filter((c) => c.class === cls);
    if (cells.length === 0) continue;
    lines.push(`    ${TITLE[cls]} (${String(cells.length)}):`);
    for (const cell of cells) lines.push(...cellLine(cell, colors));
  }
  lines.push(...skippedLines(step));
  return lines;
}

export function renderCheck(results: readonly ScenarioResult[], colors: Palette): string {
  const lines: string[] = [];
  for (const r of results) {
    const bad = failing(r.counts);
    lines.push(`${bad === 0 ? colors.allow('PASS') : colors.deny('FAIL')} ${r.file} (${r.name})`);
    if (r.live !== undefined)
      lines.push(
        colors.dim(
          `  run ${r.live.runId} on ${r.live.server}: ${Object.entries(r.live.namespaces)
            .map(([ns, live]) => (ns === live ? ns : `${ns} as ${live}`))
            .join(
              ', ',
            )}${r.live.plugin === undefined ? '' : `; known deviations of ${r.live.plugin}`}`,
        ),
      );
    if (r.live?.kept !== undefined)
      lines.push(`  kept on the cluster; remove with: ${r.live.kept}`);
    for (const step of r.steps) lines.push(...renderStep(step, r.steps.length, colors));
  }
  const total = addCounts(results.map((r) => r.counts));
  const steps = results.reduce((n, r) => n + r.steps.length, 0);
  const bad = failing(total);
  lines.push('');
  lines.push(
    `${bad === 0 ? colors.allow('agree') : colors.deny('disagree')}: ${String(results.length)} scenario${results.length === 1 ? '' : 's'}, ${String(steps)} step${steps === 1 ? '' : 's'}, ${formatCounts(total)}`,
  );
  if (total.byClass.unchecked > 0)
    lines.push(
      colors.dim(
        `note: ${String(total.byClass.unchecked)} cell(s) are unchecked: no default, rule or table of the expectation covers them`,
      ),
    );
  return lines.join('\n');
}
