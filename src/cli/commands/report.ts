import { Command, Option } from 'commander';
import { readFile } from 'node:fs/promises';
import { isNode, LineCounter, parseDocument } from 'yaml';
import { InputError } from '../../domain/errors.js';
import type { Issue, SourceLocation } from '../../domain/issue.js';
import { parseResultDocument, type ResultDocument } from '../../report/document.js';
import type { ReportTarget } from '../../report/sinks.js';
import { palette } from '../../report/style.js';
import { renderText } from '../../report/text.js';
import type { Io } from '../io.js';
import { checkTargets, emitReports, REPORT_OPTION_HELP, reportArg } from '../reports.js';
import type { CommandResult } from '../result.js';

interface ReportFlags {
  output?: 'text' | 'json';
  color?: boolean;
  report?: ReportTarget[];
  tables?: boolean;
}

async function readInput(file: string): Promise<string> {
  if (file !== '-') return readFile(file, 'utf8');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Where a field of the JSON text starts (JSON is YAML: the yaml parser gives positions). */
function locate(
  text: string,
  file: string,
  segments: readonly (string | number)[],
): SourceLocation {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  for (let n = segments.length; n >= 0; n--) {
    const node: unknown = doc.getIn(segments.slice(0, n), true);
    if (isNode(node) && node.range) {
      const { line, col } = lines.linePos(node.range[0]);
      return { file, line, col };
    }
  }
  return { file, line: 1, col: 1 };
}

/** A saved result document, validated: the document, or an InputError with every problem. */
export async function loadResultDocument(file: string): Promise<ResultDocument> {
  const name = file === '-' ? '<stdin>' : file;
  let text: string;
  try {
    text = await readInput(file);
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(error);
    throw new InputError([
      { message: reason, path: '', location: { file: name, line: 1, col: 1 } },
    ]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const at = /position (\d+)/.exec(message);
    const offset = at ? Number(at[1]) : 0;
    const before = text.slice(0, offset).split('\n');
    const location = {
      file: name,
      line: before.length,
      col: (before[before.length - 1]?.length ?? 0) + 1,
    };
    throw new InputError([{ message: `not a JSON document: ${message}`, path: '', location }]);
  }
  const parsed = parseResultDocument(value);
  if ('document' in parsed) return parsed.document;
  const issues: Issue[] = parsed.problems.map((p) => ({
    message: p.message,
    path: p.path,
    location: locate(text, name, p.segments),
  }));
  throw new InputError(issues);
}

export function reportCommand(io: Io, done: (result: CommandResult) => void): Command {
  return new Command('report')
    .summary('re-render the reports of a saved result (check -o json, --report json=FILE)')
    .description(
      'Reads a result document (docs/REPORTS.md), validates it against\n' +
        'schemas/result.schema.json and writes the reports asked for with --report.\n' +
        'Prints the text on stdout when no --report is given, or as -o asks.\n' +
        "Exit as the result's own command: 0 everything agrees, 1 a cell disagrees;\n" +
        '2 the file is not a valid result (every problem listed); 3 no output\n' +
        'could be written.',
    )
    .argument('<result>', 'a result JSON file, or - for stdin')
    .addOption(new Option('-o, --output <format>', 'stdout format').choices(['text', 'json']))
    .option('--report <KIND=FILE>', REPORT_OPTION_HELP, reportArg)
    .option('--tables', 'text: print the truth tables of every step, not only of disagreeing ones')
    .option('--no-color', 'plain output (also when NO_COLOR is set or stdout is not a terminal)')
    .action(async (file: string, flags: ReportFlags) => {
      const targets = flags.report ?? [];
      checkTargets(targets);
      const doc = await loadResultDocument(file);
      const output = flags.output ?? (targets.length === 0 ? 'text' : undefined);
      if (output === 'json') io.out(JSON.stringify(doc, null, 2));
      else if (output === 'text')
        io.out(
          renderText(doc, palette(io.color(flags.color)), {
            tables: flags.tables === true ? 'always' : 'auto',
            width: io.width(),
          }),
        );
      const written = await emitReports(io, doc, targets);
      done({
        kind: 'report',
        passed: doc.passed,
        outputs: written.requested + (output === undefined ? 0 : 1),
        failedOutputs: written.failed,
      });
    });
}
