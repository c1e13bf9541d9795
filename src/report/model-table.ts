import { formatProbe } from '../domain/probe.js';
import type { TruthTable } from '../model/engine.js';
import type { Palette } from './style.js';

export const MODEL_LEGEND =
  'Legend: . allowed   X denied   ? the destination serves no port of that name   rows: from, columns: to';

/**
 * One truth table as text. Column headers are the destination keys when they fit in `width`;
 * otherwise columns are numbered and the numbers are listed under the table.
 */
export function renderTruthTable(table: TruthTable, colors: Palette, width: number): string {
  const endpoints = table.endpoints;
  const rowWidth = Math.max('from\\to'.length, ...endpoints.map((e) => e.key.length));
  const fits = rowWidth + endpoints.reduce((sum, e) => sum + e.key.length + 2, 0) <= width;
  const headers = endpoints.map((e, i) => (fits ? e.key : String(i + 1)));
  const widths = headers.map((h) => Math.max(1, h.length));
  const lines: string[] = [];
  let allowed = 0;
  let denied = 0;
  lines.push(colors.bold(formatProbe(table.probe)));
  lines.push(`${'from\\to'.padEnd(rowWidth)}  ${headers.join('  ')}`);
  for (const from of endpoints) {
    const marks = endpoints.map((to, column) => {
      let mark = ' ';
      let paint = (s: string): string => s;
      if (!(from.kind === 'external' && to.kind === 'external')) {
        if (!table.isCell(from.index, to.index)) {
          mark = '?';
          paint = colors.warn;
        } else if (table.allowed(from.index, to.index)) {
          mark = '.';
          paint = colors.allow;
          allowed++;
        } else {
          mark = 'X';
          paint = colors.deny;
          denied++;
        }
      }
      // Centre the mark under its header.
      const w = widths[column] ?? 1;
      const left = Math.floor((w - 1) / 2);
      return ' '.repeat(left) + paint(mark) + ' '.repeat(w - 1 - left);
    });
    lines.push(`${from.key.padEnd(rowWidth)}  ${marks.join('  ')}`.trimEnd());
  }
  if (!fits) {
    lines.push('');
    lines.push(colors.dim(`columns: ${endpoints.map((e, i) => `${i + 1}=${e.key}`).join('  ')}`));
  }
  lines.push(colors.dim(`${formatProbe(table.probe)}: ${allowed} allowed, ${denied} denied`));
  return lines.join('\n');
}
