/**
 * The result document as GitHub-flavoured Markdown, for `$GITHUB_STEP_SUMMARY` or a pull request
 * comment: per scenario a table of counts per step and the cells worth reading, with the model's
 * reason. Long lists are cut (a step summary holds at most 1 MiB); the JSON report has them all.
 */
import type { CellClass } from '../compare/classify.js';
import { CELL_CLASSES } from '../compare/classify.js';
import type { CellJson, ResultDocument } from './document.js';
import {
  cellPlacement,
  classCounts,
  failingCount,
  formatCounts,
  plural,
  SHOWN,
} from './result-view.js';

/** Cells listed per scenario at most. */
export const MARKDOWN_CELL_LIMIT = 100;

/** Text in a table cell: no HTML, no emphasis, no table breaks. */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/[\\`*_[\]|<>#~]/g, (c) => `\\${c}`)
    .replace(/\r?\n/g, ' ')
    .replace(/&/g, '&amp;');
}

function code(text: string): string {
  return `\`${text.replace(/`/g, 'ʼ')}\``;
}

const SHORT: Readonly<Record<CellClass, string>> = {
  agree: 'agree',
  'expectation-contradicts-spec': 'expectation contradicts spec',
  'cluster-deviates': 'cluster deviates',
  'known-deviation': 'known deviation',
  'model-disagrees': 'model disagrees',
  unchecked: 'unchecked',
  unresolvable: 'unresolvable',
  'probe-error': 'probe error',
  skipped: 'skipped',
  flaky: 'flaky',
};

function row(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

export function renderMarkdown(doc: ResultDocument): string {
  const command = doc.kind === 'RunResult' ? 'run' : 'check';
  const passed = failingCount(doc.summary) === 0;
  const live = doc.scenarios.some((s) => s.steps.some((st) => st.cells.some((c) => c.observed)));
  const lines = [
    `## polygraph ${command}: ${passed ? '✅ agree' : '❌ disagree'}`,
    '',
    `${plural(doc.summary.scenarios, 'scenario')}, ${plural(doc.summary.steps, 'step')}, ${formatCounts(doc.summary)}.`,
  ];
  if (doc.cluster !== undefined) {
    const facts = Object.entries(doc.cluster)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k} ${code(typeof v === 'string' ? v : JSON.stringify(v))}`);
    if (facts.length > 0) lines.push('', `Cluster: ${facts.join(', ')}.`);
  }
  for (const scenario of doc.scenarios) {
    const ok = failingCount(scenario.summary) === 0;
    lines.push(
      '',
      `### ${ok ? '✅' : '❌'} ${escapeMarkdown(scenario.name)} (${code(scenario.file)})`,
    );
    const classes = CELL_CLASSES.filter((c) => (scenario.summary.classes[c] ?? 0) > 0);
    const timing = scenario.steps.some((s) => s.timing?.timeToEnforceMs !== undefined);
    lines.push(
      '',
      row([
        'step',
        'probes',
        'cells',
        ...classes.map((c) => SHORT[c]),
        ...(timing ? ['time to enforce'] : []),
      ]),
      row(['---', '---', '---:', ...classes.map(() => '---:'), ...(timing ? ['---:'] : [])]),
    );
    for (const step of scenario.steps) {
      const n = new Map(classCounts(step.summary));
      const enforce = step.timing?.timeToEnforceMs;
      lines.push(
        row([
          `${String(step.index + 1)}. ${escapeMarkdown(step.name)}`,
          step.probes.map(code).join(' '),
          String(step.summary.cells),
          ...classes.map((c) => String(n.get(c) ?? 0)),
          ...(timing ? [enforce === undefined ? '' : `${(enforce / 1000).toFixed(1)} s`] : []),
        ]),
      );
    }
    const held = scenario.steps.flatMap((step) =>
      (step.held ?? []).map((h) => ({ step: `${String(step.index + 1)}. ${step.name}`, h })),
    );
    if (held.length > 0) {
      lines.push(
        '',
        `**${plural(held.length, 'held connection')}** (opened before a step's actions, used again after them):`,
        '',
        row(['step', 'probe', 'from', 'to', 'expected', 'observed', 'class', 'detail']),
        row(['---', '---', '---', '---', '---', '---', '---', '---']),
      );
      for (const { step, h } of held)
        lines.push(
          row([
            escapeMarkdown(step),
            code(h.probe),
            code(h.from),
            code(h.to),
            h.expected ?? '—',
            h.observed ?? '—',
            h.class,
            escapeMarkdown(h.detail ?? ''),
          ]),
        );
    }
    const families = scenario.steps.flatMap((step) =>
      (step.familyNotes ?? []).map((n) => ({ step: `${String(step.index + 1)}. ${step.name}`, n })),
    );
    if (families.length > 0) {
      lines.push(
        '',
        `**${plural(families.length, 'flow')} whose IP families were decided differently:**`,
        '',
        row(['step', 'probe', 'from', 'to', 'families']),
        row(['---', '---', '---', '---', '---']),
      );
      for (const { step, n } of families)
        lines.push(
          row([
            escapeMarkdown(step),
            code(n.probe),
            code(n.from),
            code(n.to),
            escapeMarkdown(n.note),
          ]),
        );
    }
    const notable: { step: string; cell: CellJson }[] = [];
    for (const cls of SHOWN)
      for (const step of scenario.steps)
        for (const cell of step.cells)
          if (cell.class === cls)
            notable.push({ step: `${String(step.index + 1)}. ${step.name}`, cell });
    if (notable.length === 0) continue;
    lines.push(
      '',
      `**${plural(notable.length, 'cell')} to read** (the model's reason in the last column):`,
      '',
      row([
        'step',
        'probe',
        'from',
        'to',
        'expected',
        'model',
        ...(live ? ['observed'] : []),
        'class',
        'why',
      ]),
      row(['---', '---', '---', '---', '---', '---', ...(live ? ['---'] : []), '---', '---']),
    );
    for (const { step, cell } of notable.slice(0, MARKDOWN_CELL_LIMIT))
      lines.push(
        row([
          escapeMarkdown(step),
          code(cell.probe),
          code(cell.from),
          code(cell.to),
          cell.expected ?? '—',
          cell.modelled,
          ...(live ? [cell.observed ?? '—'] : []),
          SHORT[cell.class],
          escapeMarkdown(
            [
              cellPlacement(scenario.live?.nodes, cell.from, cell.to)?.placement,
              cell.explanation,
              cell.detail,
              cell.reproduce && `reproduce: ${cell.reproduce}`,
            ]
              .filter((t) => t)
              .join('; '),
          ),
        ]),
      );
    if (notable.length > MARKDOWN_CELL_LIMIT)
      lines.push(
        '',
        `… and ${plural(notable.length - MARKDOWN_CELL_LIMIT, 'more cell')}: the JSON or HTML report lists them all.`,
      );
  }
  return `${lines.join('\n')}\n`;
}
