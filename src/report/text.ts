/**
 * The result document as terminal text: per scenario PASS/FAIL, per step the counts and every
 * cell worth reading with the model's reason, truth tables (expected vs modelled, and observed
 * on a live run) for the steps that need them, then one summary line.
 */
import type { CellClass } from '../compare/classify.js';
import type { ResultDocument, StepJson } from './document.js';
import type { Palette } from './style.js';
import {
  failingCount,
  formatCounts,
  heldLine,
  isFailing,
  plural,
  SHOWN,
  stepGrids,
  TITLE,
  cellPlacement,
  type CellView,
  type ProbeGrid,
} from './result-view.js';
import { OUTCOME_MARK, VERDICT_MARK } from './check-json.js';

export interface TextOptions {
  /** `auto`: tables of the probes with cells worth reading; `always`: every table. */
  readonly tables?: 'auto' | 'always' | 'never';
  /** Terminal width: wide tables are split into column groups that fit. */
  readonly width?: number;
}

function cellLine(
  cell: StepJson['cells'][number],
  colors: Palette,
  nodes: Readonly<Record<string, string>> | undefined,
): string[] {
  const where = cellPlacement(nodes, cell.from, cell.to)?.placement;
  const head = `${cell.probe} ${cell.from} -> ${cell.to}${where === undefined ? '' : ` ${where}`}`;
  const parts = [`expected ${cell.expected ?? 'nothing'}`, `the spec says ${cell.modelled}`];
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
  if (cell.detail !== undefined) lines.push(`        ${colors.dim(`probe: ${cell.detail}`)}`);
  if (cell.reproduce !== undefined)
    lines.push(`        ${colors.dim(`reproduce: ${cell.reproduce}`)}`);
  return lines;
}

/** The legend printed once under the first table. */
export function tableLegend(live: boolean): string {
  return [
    `Legend: rows are sources, columns destinations; each cell is expected${live ? ', modelled, observed' : ' then modelled'}:`,
    `  . allow  X deny  ? unresolvable  - unchecked${live ? '  R refused  D dropped  E probe error  S skipped' : ''}`,
    `  ! a disagreement (red); green agrees; dim is unchecked or unresolvable`,
  ].join('\n');
}

function paintFor(cls: CellClass, colors: Palette): (s: string) => string {
  if (cls === 'agree') return colors.allow;
  if (isFailing(cls)) return colors.deny;
  if (cls === 'unchecked' || cls === 'unresolvable') return colors.dim;
  return colors.warn;
}

function cellText(cell: CellView, live: boolean): string {
  const expected = cell.expected === undefined ? '-' : VERDICT_MARK[cell.expected];
  const observed = live ? (cell.observed === undefined ? '-' : OUTCOME_MARK[cell.observed]) : '';
  return `${expected}${VERDICT_MARK[cell.modelled]}${observed}${isFailing(cell.class) ? '!' : ''}`;
}

/**
 * Splits columns into groups whose lines fit in `available` characters (at least one column per
 * group), given each column's width and the gap between columns.
 */
export function columnGroups(widths: readonly number[], available: number, gap = 2): number[][] {
  const groups: number[][] = [];
  let group: number[] = [];
  let used = 0;
  widths.forEach((w, i) => {
    if (group.length > 0 && used + gap + w > available) {
      groups.push(group);
      group = [];
      used = 0;
    }
    used += (group.length > 0 ? gap : 0) + w;
    group.push(i);
  });
  if (group.length > 0) groups.push(group);
  return groups;
}

const INDENT = '    ';

/**
 * One probe's matrix. Column headers are the destination keys; when one key alone is wider than
 * the terminal allows, columns are numbered and the numbers listed under the table. Matrices too
 * wide for the terminal are split into column groups, each repeating the row labels.
 */
export function renderGrid(grid: ProbeGrid, colors: Palette, width: number): string[] {
  const endpoints = grid.endpoints;
  const rowWidth = Math.max('from\\to'.length, ...endpoints.map((e) => e.length));
  const markWidth = (grid.live ? 3 : 2) + 1;
  const available = Math.max(1, width - INDENT.length - rowWidth - 2);
  const numbered = endpoints.some((e) => Math.max(e.length, markWidth) > available);
  const headers = endpoints.map((e, i) => (numbered ? String(i + 1) : e));
  const widths = headers.map((h) => Math.max(markWidth, h.length));
  const groups = columnGroups(widths, available);
  const lines: string[] = [`${INDENT}${colors.bold(grid.probe)}`];
  groups.forEach((columns, g) => {
    if (groups.length > 1)
      lines.push(
        colors.dim(
          `${INDENT}columns ${String(g + 1)}/${String(groups.length)}: ${String((columns[0] ?? 0) + 1)}-${String((columns[columns.length - 1] ?? 0) + 1)} of ${String(endpoints.length)}`,
        ),
      );
    const header = columns.map((c) => (headers[c] ?? '').padEnd(widths[c] ?? 0)).join('  ');
    lines.push(`${INDENT}${'from\\to'.padEnd(rowWidth)}  ${header}`.trimEnd());
    grid.rows.forEach((row, r) => {
      const marks = columns.map((c) => {
        const w = widths[c] ?? markWidth;
        const cell = row[c];
        if (cell === undefined) return ' '.repeat(w);
        const text = cellText(cell, grid.live);
        return paintFor(cell.class, colors)(text) + ' '.repeat(Math.max(0, w - text.length));
      });
      lines.push(
        `${INDENT}${(endpoints[r] ?? '').padEnd(rowWidth)}  ${marks.join('  ')}`.trimEnd(),
      );
    });
  });
  if (numbered) {
    // The key of each number, as many per line as fit.
    let line = `${INDENT}columns:`;
    for (const entry of endpoints.map((e, i) => `${String(i + 1)}=${e}`)) {
      if (line.trim() !== 'columns:' && line.length + 2 + entry.length > width) {
        lines.push(colors.dim(line));
        line = INDENT;
      }
      line += `  ${entry}`;
    }
    lines.push(colors.dim(line));
  }
  return lines;
}

/** "3 changed cells enforced within 180 ms of the last action (2 rounds); 324 probes in 0.62 s" */
function liveLine(step: StepJson): string | undefined {
  const live = step.live;
  if (live === undefined) return undefined;
  const s = live.settle;
  const settle =
    s.cells === 0
      ? 'no cell changed'
      : s.settled
        ? `${plural(s.cells, 'changed cell')} enforced within ${String(s.exposureMs ?? 0)} ms of the last action (${plural(s.rounds, 'round')})`
        : `${plural(s.cells, 'changed cell')} NOT all enforced within the settle bound`;
  return `    live: ${settle}; ${String(live.probes)} probes in ${(live.probeMs / 1000).toFixed(2)} s; step ${(live.durationMs / 1000).toFixed(2)} s`;
}

/** Skipped cells, counted by reason (they are many and alike: SCTP, externals). */
function skippedLines(step: StepJson): string[] {
  const reasons = new Map<string, number>();
  for (const c of step.cells)
    if (c.class === 'skipped') {
      const why = c.detail ?? 'skipped';
      reasons.set(why, (reasons.get(why) ?? 0) + 1);
    }
  const total = step.summary.classes.skipped ?? 0;
  if (total === 0) return [];
  return [
    `    skipped (${String(total)}):`,
    ...[...reasons].map(([why, n]) => `      ${String(n)} × ${why}`),
  ];
}

/** Held connections, apart from the cells: every one, since a step declares few. */
function heldLines(step: StepJson, colors: Palette): string[] {
  const held = step.held ?? [];
  if (held.length === 0) return [];
  const lines = [
    `    held connections (${String(held.length)}; opened before the actions, used again after them):`,
  ];
  for (const h of held) {
    const mark =
      h.class === 'agree'
        ? colors.allow('✓')
        : h.class === 'disagree'
          ? colors.deny('✗')
          : colors.dim('-');
    lines.push(`    ${mark} ${h.class === 'disagree' ? colors.bold(heldLine(h)) : heldLine(h)}`);
    if (h.detail !== undefined) lines.push(`        ${colors.dim(`client: ${h.detail}`)}`);
  }
  return lines;
}

/** Flows whose IP families were decided differently (dual-stack steps). */
function familyLines(step: StepJson, colors: Palette): string[] {
  const notes = step.familyNotes ?? [];
  if (notes.length === 0) return [];
  return [
    `    IP families decided differently (${String(notes.length)}):`,
    ...notes.map((n) => `      ${colors.bold(`${n.probe} ${n.from} -> ${n.to}`)}: ${n.note}`),
  ];
}

function renderStep(
  step: StepJson,
  total: number,
  colors: Palette,
  options: Required<TextOptions>,
  nodes: Readonly<Record<string, string>> | undefined,
): { lines: string[]; tables: boolean; live: boolean } {
  const lines = [
    `  step ${String(step.index + 1)}/${String(total)} ${colors.bold(step.name)}: ${formatCounts(step.summary)}`,
  ];
  const live = liveLine(step);
  if (live !== undefined) lines.push(colors.dim(live));
  for (const cls of SHOWN) {
    const cells = step.cells.filter((c) => c.class === cls);
    if (cells.length === 0) continue;
    lines.push(`    ${TITLE[cls]} (${String(cells.length)}):`);
    for (const cell of cells) lines.push(...cellLine(cell, colors, nodes));
  }
  lines.push(...skippedLines(step));
  lines.push(...familyLines(step, colors));
  lines.push(...heldLines(step, colors));
  if (options.tables === 'never') return { lines, tables: false, live: false };
  const grids = stepGrids(step, nodes).filter(
    (g) => options.tables === 'always' || g.cells.some((c) => SHOWN.includes(c.class)),
  );
  for (const grid of grids) {
    lines.push('');
    lines.push(...renderGrid(grid, colors, options.width));
  }
  if (grids.length > 0) lines.push('');
  return { lines, tables: grids.length > 0, live: grids.some((g) => g.live) };
}

export function renderText(
  doc: ResultDocument,
  colors: Palette,
  options: TextOptions = {},
): string {
  const opts: Required<TextOptions> = {
    tables: options.tables ?? 'auto',
    width: options.width ?? 120,
  };
  const lines: string[] = [];
  let tables = false;
  let live = false;
  for (const r of doc.scenarios) {
    const bad = failingCount(r.summary);
    lines.push(`${bad === 0 ? colors.allow('PASS') : colors.deny('FAIL')} ${r.file} (${r.name})`);
    if (r.live !== undefined)
      lines.push(
        colors.dim(
          `  run ${r.live.runId} on ${r.live.server}: ${Object.entries(r.live.namespaces)
            .map(([ns, liveName]) => (ns === liveName ? ns : `${ns} as ${liveName}`))
            .join(
              ', ',
            )}${placementNote(r.live)}${r.live.plugin === undefined ? '' : `; known deviations of ${r.live.plugin}`}${r.live.kept === undefined ? '' : `; kept: ${r.live.kept}`}`,
        ),
      );
    const nodeLine = nodesLine(r.live?.nodes);
    if (nodeLine !== undefined) lines.push(colors.dim(nodeLine));
    for (const step of r.steps) {
      const rendered = renderStep(step, r.steps.length, colors, opts, r.live?.nodes);
      lines.push(...rendered.lines);
      tables ||= rendered.tables;
      live ||= rendered.live;
    }
  }
  if (tables) lines.push(colors.dim(tableLegend(live)));
  const { scenarios, steps } = doc.summary;
  lines.push('');
  lines.push(
    `${failingCount(doc.summary) === 0 ? colors.allow('agree') : colors.deny('disagree')}: ${plural(scenarios, 'scenario')}, ${plural(steps, 'step')}, ${formatCounts(doc.summary)}`,
  );
  const unchecked = doc.summary.classes.unchecked ?? 0;
  if (unchecked > 0)
    lines.push(
      colors.dim(
        `note: ${String(unchecked)} cell(s) are unchecked: no default, rule or table of the expectation covers them`,
      ),
    );
  return lines.join('\n');
}

/**
 * "  nodes: node1 app/a, app/c; node2 app/b — a cell between pods on different nodes crosses
 * nodes", when the pods ran on more than one node: with it, every cell of the tables says whether
 * it crossed nodes (the cells listed above say it themselves).
 */
function nodesLine(nodes: Readonly<Record<string, string>> | undefined): string | undefined {
  if (nodes === undefined) return undefined;
  const byNode = new Map<string, string[]>();
  for (const [pod, node] of Object.entries(nodes))
    byNode.set(node, [...(byNode.get(node) ?? []), pod]);
  if (byNode.size < 2) return undefined;
  const list = [...byNode]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([node, pods]) => `${node} ${pods.join(', ')}`);
  return `  nodes: ${list.join('; ')} (a cell between pods on different nodes crosses nodes)`;
}

/** `; pods spread over 3 nodes`, when polygraph placed them. */
function placementNote(live: {
  placement?: string | undefined;
  nodes?: Readonly<Record<string, string>> | undefined;
}): string {
  if (live.placement === undefined) return '';
  const count = new Set(Object.values(live.nodes ?? {})).size;
  return `; pods ${live.placement === 'pack' ? 'packed on' : 'spread over'} ${String(count)} node${count === 1 ? '' : 's'}`;
}
