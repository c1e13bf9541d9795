/**
 * `--report KIND=FILE` (docs/REPORTS.md): the reports a command writes besides its stdout, and the
 * rule that keeps their failures from changing what the exit code means.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { UsageError } from '../domain/errors.js';
import type { ResultDocument } from '../report/document.js';
import {
  parseReportTarget,
  writeReports,
  type ReportOutcome,
  type ReportTarget,
} from '../report/sinks.js';
import type { ScenarioResult } from '../engine/results.js';
import { resultDocument, type DocumentOptions } from '../report/check-json.js';
import { palette } from '../report/style.js';
import { renderText } from '../report/text.js';
import type { Io } from './io.js';
import { polygraphVersion } from './version.js';

export const REPORT_OPTION_HELP =
  'write a report besides stdout, repeatable: json, junit, html or markdown, e.g. --report junit=polygraph.xml';

export function reportArg(value: string, previous: ReportTarget[] | undefined): ReportTarget[] {
  const target = parseReportTarget(value);
  if (typeof target === 'string') throw new InvalidArgumentError(target);
  return [...(previous ?? []), target];
}

/** Two reports into one file would overwrite each other: a usage error before any work. */
export function checkTargets(targets: readonly ReportTarget[]): void {
  const seen = new Set<string>();
  for (const t of targets) {
    if (seen.has(t.path)) throw new UsageError(`two --report options write ${t.path}`);
    seen.add(t.path);
  }
}

/** The GitHub Actions step summary, when the variable is set: markdown appended to it. */
export function stepSummaryTarget(env: NodeJS.ProcessEnv = process.env): ReportTarget[] {
  const path = env.GITHUB_STEP_SUMMARY;
  return path === undefined || path === '' ? [] : [{ kind: 'markdown', path, append: true }];
}

export interface ReportsWritten {
  readonly requested: number;
  readonly failed: number;
}

/**
 * Writes every report; each failure is one line on stderr and never stops the others. The step
 * summary is written too but, being implicit, is not counted among the requested reports.
 */
export async function emitReports(
  io: Io,
  doc: ResultDocument,
  requested: readonly ReportTarget[],
  implicit: readonly ReportTarget[] = [],
): Promise<ReportsWritten> {
  const outcomes: ReportOutcome[] = await writeReports(doc, [...requested, ...implicit]);
  let failed = 0;
  outcomes.forEach((o, i) => {
    if (o.error === undefined) return;
    if (i < requested.length) failed++;
    const what = i < requested.length ? `the ${o.target.kind} report` : 'the GitHub step summary';
    io.err(`polygraph: could not write ${what} to ${o.target.path}: ${o.error}`);
  });
  return { requested: requested.length, failed };
}

/** How `check` and `run` print their results. */
export interface ResultFlags {
  readonly output: 'text' | 'json';
  readonly color?: boolean;
  readonly tables?: boolean;
}

/**
 * The results of `check` or `run`: the verdict on stdout (text, or the document with the notable
 * cells), then the reports asked for, which carry every cell with its reason. The exit code is
 * the stdout verdict's: a report that fails only adds a line on stderr (docs/REPORTS.md).
 */
export async function emitResults(
  io: Io,
  results: readonly ScenarioResult[],
  flags: ResultFlags,
  targets: readonly ReportTarget[],
  document: Omit<DocumentOptions, 'listedCells' | 'generator' | 'generatedAt'> = {},
): Promise<void> {
  const notable = resultDocument(results, { ...(document.kind ? { kind: document.kind } : {}) });
  if (flags.output === 'json') io.out(JSON.stringify(notable, null, 2));
  else
    io.out(
      renderText(notable, palette(io.color(flags.color)), {
        tables: flags.tables === true ? 'always' : 'auto',
        width: io.width(),
      }),
    );
  await emitReports(
    io,
    resultDocument(results, {
      ...document,
      listedCells: 'all',
      generator: { name: 'polygraph', version: polygraphVersion() },
      generatedAt: new Date(),
    }),
    targets,
    stepSummaryTarget(),
  );
}

/** The output options `check` and `run` share: -o, --report, --tables, --no-color. */
export function addResultOptions(command: Command): Command {
  return command
    .addOption(
      new Option('-o, --output <format>', 'output format')
        .choices(['text', 'json'])
        .default('text'),
    )
    .option('--report <KIND=FILE>', REPORT_OPTION_HELP, reportArg)
    .option('--tables', 'text: print the truth tables of every step, not only of disagreeing ones')
    .option('--no-color', 'plain output (also when NO_COLOR is set or stdout is not a terminal)');
}
