import { formatProbe } from '../domain/probe.js';
import type { Palette } from './style.js';
import { emptyCounts, type Counts, type ProbeView } from './view.js';

/** One truth table as text (small tables; the CLI streams the lines). */
export function renderTruthTable(view: ProbeView, colors: Palette, width: number): string {
  return [...truthTableLines(view, colors, width)].join('\n');
}

export const MODEL_LEGEND =
  'Legend: . allowed   X denied   - not served (the destination declares other ports)   ? the destination serves no port of that name   rows: from, columns: to';

/**
 * One truth table as text. Column headers are the destination keys; when they do not all fit in
 * `width`, the columns are split into groups that do, each printed as a table of its own with
 * every row (`columns 1-12 of 40`).
 */
export function* truthTableLines(
  view: ProbeView,
  colors: Palette,
  width: number,
  counts: Counts = emptyCounts(),
): Generator<string> {
  const rowWidth = Math.max('from\\to'.length, ...view.from.map((e) => e.key.length));
  const widths = view.to.map((e) => Math.max(1, e.key.length));
  // Greedy column groups: as many columns as fit after the row labels (at least one).
  const groups: [number, number][] = [];
  let start = 0;
  while (start < view.to.length) {
    let used = rowWidth;
    let end = start;
    while (end < view.to.length && (end === start || used + (widths[end] ?? 1) + 2 <= width)) {
      used += (widths[end] ?? 1) + 2;
      end++;
    }
    groups.push([start, end]);
    start = end;
  }
  // One pass to count; rows are recomputed per column group so that memory stays bounded.
  for (const from of view.from) view.row(from, counts);
  const paint = (mark: string): string => {
    switch (mark) {
      case '.':
        return colors.allow(mark);
      case 'X':
        return colors.deny(mark);
      case '?':
      case '-':
        return colors.warn(mark);
      default:
        return mark;
    }
  };
  yield colors.bold(formatProbe(view.probe));
  for (const [g, [first, end]] of groups.entries()) {
    if (groups.length > 1) {
      if (g > 0) yield '';
      yield colors.dim(`columns ${first + 1}-${end} of ${view.to.length}`);
    }
    const headers = view.to.slice(first, end).map((e) => e.key);
    yield `${'from\\to'.padEnd(rowWidth)}  ${headers.join('  ')}`;
    for (const from of view.from) {
      const row = view.row(from, undefined, first, end);
      const marks: string[] = [];
      for (let c = first; c < end; c++) {
        // Centre the mark under its header.
        const w = widths[c] ?? 1;
        const left = Math.floor((w - 1) / 2);
        marks.push(' '.repeat(left) + paint(row[c - first] ?? ' ') + ' '.repeat(w - 1 - left));
      }
      yield `${from.key.padEnd(rowWidth)}  ${marks.join('  ')}`.trimEnd();
    }
  }
  const extra = [
    counts.notServed > 0 ? `, ${counts.notServed} not served` : '',
    counts.unresolved > 0 ? `, ${counts.unresolved} unresolved` : '',
  ].join('');
  yield colors.dim(
    `${formatProbe(view.probe)}: ${counts.allowed} allowed, ${counts.denied} denied${extra}`,
  );
}
