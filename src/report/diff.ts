/**
 * `polygraph diff` for people (text) and for programs (one JSON document, `kind: DiffResult`,
 * schemas/diff-output.schema.json): every cell opened or closed by a change, with the verdict
 * that decides it before and after.
 */
import { formatProbe } from '../domain/probe.js';
import {
  cellName,
  hasChanges,
  type CellChange,
  type DiffResult,
  type DiffSummary,
  type WorldChanges,
} from '../compare/diff.js';
import { cellJson, type CellJson } from './model-json.js';
import type { Palette } from './style.js';

export const DIFF_API_VERSION = 'polygraph.dev/v1alpha1';

/** What one side of a diff was read from, for the header and the document. */
export interface DiffSide {
  /** `-f base/`, `the cluster https://… (all namespaces)`, `… + --apply pr.yaml`. */
  readonly source: string;
  readonly namespaces: number;
  readonly pods: number;
  readonly policies: number;
}

export interface DiffCellJson {
  readonly port: number | string;
  readonly protocol: string;
  readonly from: string;
  readonly to: string;
  readonly before: CellJson;
  readonly after: CellJson;
}

export interface DiffDocument {
  readonly apiVersion: typeof DIFF_API_VERSION;
  readonly kind: 'DiffResult';
  readonly options: DiffResult['options'];
  readonly before: DiffSide;
  readonly after: DiffSide;
  readonly probes: readonly { port: number | string; protocol: string }[];
  readonly changed: boolean;
  readonly changes: WorldChanges;
  readonly opened: readonly DiffCellJson[];
  readonly closed: readonly DiffCellJson[];
  readonly summary: DiffSummary;
}

function cell(change: CellChange): DiffCellJson {
  return {
    port: change.probe.port,
    protocol: change.probe.protocol,
    from: change.from,
    to: change.to,
    before: cellJson(change.before),
    after: cellJson(change.after),
  };
}

/** The fields of a DiffDocument before its cells, in the document's order. */
function documentHead(
  result: DiffResult,
  sides: { before: DiffSide; after: DiffSide },
): Omit<DiffDocument, 'opened' | 'closed' | 'summary'> {
  return {
    apiVersion: DIFF_API_VERSION,
    kind: 'DiffResult',
    options: result.options,
    before: sides.before,
    after: sides.after,
    probes: result.probes.map((p) => ({ port: p.port, protocol: p.protocol })),
    changed: hasChanges(result),
    changes: result.changes,
  };
}

export function diffDocument(
  result: DiffResult,
  sides: { before: DiffSide; after: DiffSide },
): DiffDocument {
  return {
    ...documentHead(result, sides),
    opened: result.opened.map(cell),
    closed: result.closed.map(cell),
    summary: result.summary,
  };
}

/**
 * The document of `diffDocument`, as JSON text in pieces: the same keys in the same order, each
 * top-level field on its own line and each changed cell on its own line (compact), every cell
 * converted when its line is written. A sweeping change has tens of thousands of cells: the
 * pieces keep the whole document out of memory as one object and as one string.
 */
export function* diffJsonChunks(
  result: DiffResult,
  sides: { before: DiffSide; after: DiffSide },
): Generator<string> {
  yield `{\n${Object.entries(documentHead(result, sides))
    .map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)},\n`)
    .join('')}`;
  for (const key of ['opened', 'closed'] as const) {
    const cells = result[key];
    yield `  "${key}": [${cells.length === 0 ? '' : '\n'}`;
    let i = 0;
    for (const change of cells)
      yield `    ${JSON.stringify(cell(change))}${++i < cells.length ? ',' : ''}\n`;
    yield `${cells.length === 0 ? '' : '  '}],\n`;
  }
  yield `  "summary": ${JSON.stringify(result.summary)}\n}\n`;
}

const plural = (n: number, word: string): string => `${String(n)} ${word}${n === 1 ? '' : 's'}`;

function sideLine(label: string, side: DiffSide): string {
  return `${label} ${side.source} (${plural(side.namespaces, 'namespace')}, ${plural(side.pods, 'pod')}, ${plural(side.policies, 'NetworkPolicy').replace(/Policys$/, 'Policies')})`;
}

/** "this change closes 14 flows, opens 2" — or says there is none. */
export function diffSummaryLine(result: DiffResult): string {
  const s = result.summary;
  const { added, removed } = result.changes.endpoints;
  const parts: string[] = [];
  if (s.closed > 0 || s.opened > 0)
    parts.push(`this change closes ${plural(s.closed, 'flow')}, opens ${String(s.opened)}`);
  else parts.push('this change opens and closes no flow');
  if (added.length > 0) parts.push(`adds ${plural(added.length, 'endpoint')}`);
  if (removed.length > 0) parts.push(`removes ${plural(removed.length, 'endpoint')}`);
  const tail = `${plural(s.compared, 'cell')} compared on ${plural(result.probes.length, 'probe')}, ${String(s.unchanged)} unchanged${s.oneSided > 0 ? `, ${String(s.oneSided)} evaluated on one side only` : ''}`;
  return `${parts.join(', ')} (${tail})`;
}

function changeLines(change: CellChange, colors: Palette): string[] {
  const mark = change.change === 'opened' ? colors.allow('+') : colors.deny('-');
  return [
    `  ${mark} ${cellName(change)}`,
    `      before: ${change.before.reason}`,
    `      after:  ${change.after.reason}`,
  ];
}

/** The text report: sides, object changes, closed then opened cells, one summary line. */
export function diffTextLines(
  result: DiffResult,
  sides: { before: DiffSide; after: DiffSide },
  colors: Palette,
): string[] {
  const lines = [sideLine('before:', sides.before), sideLine('after: ', sides.after)];
  const c = result.changes;
  const list = (what: string, items: readonly string[]) => {
    if (items.length > 0) lines.push(`  ${what}: ${items.join(', ')}`);
  };
  const objects: string[] = [];
  const before = lines.length;
  list('NetworkPolicies added', c.policies.added);
  list('NetworkPolicies changed', c.policies.changed);
  list('NetworkPolicies removed', c.policies.removed);
  list('namespaces added', c.namespaces.added);
  list('namespaces relabelled', c.namespaces.relabelled);
  list('namespaces removed', c.namespaces.removed);
  list('pods changed (labels, ports, IPs or node)', c.endpoints.changed);
  const endpoint = (e: WorldChanges['endpoints']['added'][number]) =>
    `${e.key} (${String(e.allowed)} of ${plural(e.cells, 'cell')} allowed)`;
  list('endpoints added', c.endpoints.added.map(endpoint));
  list('endpoints removed', c.endpoints.removed.map(endpoint));
  objects.push(...lines.splice(before));
  lines.push(objects.length > 0 ? 'objects:' : 'objects: no difference', ...objects);
  if (result.closed.length > 0) {
    lines.push(colors.deny(`closed (${String(result.closed.length)}):`));
    for (const change of result.closed) lines.push(...changeLines(change, colors));
  }
  if (result.opened.length > 0) {
    lines.push(colors.allow(`opened (${String(result.opened.length)}):`));
    for (const change of result.opened) lines.push(...changeLines(change, colors));
  }
  if (result.probes.length > 0)
    lines.push(colors.dim(`probes: ${result.probes.map(formatProbe).join(', ')}`));
  lines.push(colors.bold(diffSummaryLine(result)));
  return lines;
}
