/**
 * Reporters as independent sinks: each target renders the result document in its format and
 * writes it to its file. A reporter that throws or a file that cannot be written fails that
 * target only; the others are still written, and the caller learns which failed and why.
 */
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { assertNever } from '../domain/assert.js';
import type { ResultDocument } from './document.js';
import { renderHtml } from './html.js';
import { renderJunit } from './junit.js';
import { renderMarkdown } from './markdown.js';

export const REPORT_KINDS = ['json', 'junit', 'html', 'markdown'] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];

export interface ReportTarget {
  readonly kind: ReportKind;
  readonly path: string;
  /** Append instead of replacing the file (the GitHub Actions step summary). */
  readonly append?: boolean;
}

export interface ReportOutcome {
  readonly target: ReportTarget;
  /** Why the report was not written; absent when it was. */
  readonly error?: string;
}

/** `KIND=FILE`, e.g. `junit=reports/polygraph.xml`: the target, or what is wrong with the text. */
export function parseReportTarget(text: string): ReportTarget | string {
  const eq = text.indexOf('=');
  const kind = eq < 0 ? text : text.slice(0, eq);
  const path = eq < 0 ? '' : text.slice(eq + 1);
  if (!(REPORT_KINDS as readonly string[]).includes(kind))
    return `expected KIND=FILE with KIND one of ${REPORT_KINDS.join(', ')}, got "${text}"`;
  if (path === '') return `expected KIND=FILE, got "${text}": the file is missing`;
  return { kind: kind as ReportKind, path };
}

export function renderReport(kind: ReportKind, doc: ResultDocument): string {
  switch (kind) {
    case 'json':
      return `${JSON.stringify(doc, null, 2)}\n`;
    case 'junit':
      return renderJunit(doc);
    case 'html':
      return renderHtml(doc);
    case 'markdown':
      return renderMarkdown(doc);
    default:
      return assertNever(kind, 'report kind');
  }
}

/**
 * Creates the missing directories above a report file, one level at a time: Node's
 * `mkdir({recursive: true})` never returns for some paths (under /proc, for one).
 */
async function ensureDirectory(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    try {
      await mkdir(d);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') break;
      if (code === 'ENOENT' && dirname(d) !== d) {
        missing.push(d);
        continue;
      }
      throw error;
    }
    break;
  }
  for (const d of missing.reverse()) await mkdir(d);
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Renders and writes every target, each on its own: one failing never stops the others. */
export async function writeReports(
  doc: ResultDocument,
  targets: readonly ReportTarget[],
): Promise<ReportOutcome[]> {
  return Promise.all(
    targets.map(async (target): Promise<ReportOutcome> => {
      try {
        const text = renderReport(target.kind, doc);
        await ensureDirectory(dirname(target.path));
        if (target.append === true) await appendFile(target.path, text);
        else await writeFile(target.path, text);
        return { target };
      } catch (error) {
        return { target, error: reason(error) };
      }
    }),
  );
}
