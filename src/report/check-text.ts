/** `check` (and, later, `run`) results as text: rendered from the result document (text.ts). */
import type { CellClass } from '../compare/classify.js';
import type { Counts, ScenarioResult } from '../engine/results.js';
import { checkDocument } from './check-json.js';
import type { Palette } from './style.js';
import { renderText, type TextOptions } from './text.js';

/** "45 cells: 40 agree, 5 unresolvable" — only the classes that occur, agree first. */
export function formatCounts(counts: Counts): string {
  const parts = (Object.entries(counts.byClass) as [CellClass, number][])
    .filter(([, n]) => n > 0)
    .map(([c, n]) => `${String(n)} ${c}`);
  return `${String(counts.cells)} cell${counts.cells === 1 ? '' : 's'}${parts.length > 0 ? `: ${parts.join(', ')}` : ''}`;
}

export function renderCheck(
  results: readonly ScenarioResult[],
  colors: Palette,
  options: TextOptions = {},
): string {
  return renderText(checkDocument(results), colors, options);
}
