#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { createRequire } from 'node:module';
import { formatIssue } from '../domain/issue.js';
import { ClusterError } from '../cluster/index.js';
import { assertNever } from '../domain/assert.js';
import { InputError, InterruptedError, ToolError, UsageError } from '../domain/errors.js';
import { failing } from '../engine/results.js';
import type { CommandResult } from './result.js';
import { processIo, type Io } from './io.js';

/** Exit codes (docs/CLI.md). */
export const EXIT = { ok: 0, mismatch: 1, invalid: 2, cluster: 3, internal: 4 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** How a command ended: the result it handed back, or what it threw. */
export type Ending = { readonly result: CommandResult } | { readonly error: unknown };

/**
 * The one place where outcomes become exit codes: every command result and every error class
 * polygraph raises, each mapped exactly once.
 */
export function exitCode(ending: Ending, io: Io): ExitCode {
  if ('result' in ending) {
    const result = ending.result;
    switch (result.kind) {
      case 'done':
        return EXIT.ok;
      case 'check':
      case 'run':
        return result.results.some((r) => failing(r.counts) > 0) ? EXIT.mismatch : EXIT.ok;
      case 'fuzz':
        return result.differing + result.flaky > 0 ? EXIT.mismatch : EXIT.ok;
      case 'diff':
        return result.changed ? EXIT.mismatch : EXIT.ok;
      case 'report':
        if (result.outputs > 0 && result.failedOutputs === result.outputs) return EXIT.cluster;
        return result.passed ? EXIT.ok : EXIT.mismatch;
      default:
        return assertNever(result, 'command result');
    }
  }
  const error = ending.error;
  if (error instanceof CommanderError) {
    if (
      error.code === 'commander.helpDisplayed' ||
      error.code === 'commander.version' ||
      error.code === 'commander.help'
    )
      return EXIT.ok;
    return EXIT.invalid; // commander already printed the message
  }
  if (error instanceof InputError) {
    io.err(
      `polygraph: invalid input, ${String(error.issues.length)} problem${error.issues.length === 1 ? '' : 's'}:`,
    );
    for (const issue of error.issues) io.err(`  ${formatIssue(issue)}`);
    return EXIT.invalid;
  }
  if (error instanceof UsageError) {
    io.err(`polygraph: ${error.message}`);
    return EXIT.invalid;
  }
  if (error instanceof InterruptedError) {
    io.err(`polygraph: ${error.message}`);
    return EXIT.cluster;
  }
  if (error instanceof ClusterError) {
    io.err(`polygraph: ${error.message}`);
    return EXIT.cluster;
  }
  if (error instanceof ToolError) {
    io.err(`polygraph: ${error.message}`);
    if (error.hint !== undefined) io.err(`  hint: ${error.hint}`);
    return EXIT.cluster;
  }
  io.err(
    `polygraph: internal error (a bug in polygraph; please report it with this output):\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  return EXIT.internal;
}

function version(): string {
  const require = createRequire(import.meta.url);
  return (require('../../package.json') as { version: string }).version;
}

type CommandFactory = (io: Io, done: (result: CommandResult) => void) => Command;

/**
 * Every command, in the order the help lists them, each module loaded only when its command is
 * built: a run of `check` does not load the cluster client, the fuzz generator or the HTML report.
 */
const COMMANDS: readonly (readonly [string, () => Promise<CommandFactory>])[] = [
  ['model', async () => (await import('./model-command.js')).modelCommand],
  ['explain', async () => (await import('./model-command.js')).explainCommand],
  ['diff', async () => (await import('./commands/diff.js')).diffCommand],
  ['check', async () => (await import('./commands/check.js')).checkCommand],
  ['init', async () => (await import('./commands/init.js')).initCommand],
  ['run', async () => (await import('./commands/run.js')).runCommand],
  ['fuzz', async () => (await import('./commands/fuzz.js')).fuzzCommand],
  ['clean', async () => (await import('./commands/clean.js')).cleanCommand],
  ['report', async () => (await import('./commands/report.js')).reportCommand],
  ['cluster', async () => (await import('./commands/cluster.js')).clusterCommand],
];

/**
 * The CLI for these arguments: when the first names a command, that command alone (what it
 * parses and does is the same); otherwise (help, --version, a mistyped command, which commander
 * answers with a suggestion) every command.
 */
export async function program(
  io: Io,
  done: (result: CommandResult) => void = () => undefined,
  argv: readonly string[] = [],
): Promise<Command> {
  const root = new Command('polygraph')
    .description(
      'Connectivity testing harness for Kubernetes NetworkPolicies: an exact model of the spec,\nchecked against your expectations and against live clusters.',
    )
    .version(version(), '-V, --version')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => {
        io.out(s.trimEnd());
      },
      writeErr: (s) => {
        io.err(s.trimEnd());
      },
    })
    .addHelpText(
      'after',
      '\nExit codes: 0 success, 1 mismatch (diff: changes found), 2 invalid input or usage, 3 cluster failure, 4 internal error.\nDocs: docs/MODEL.md (semantics), docs/OUTPUT.md (JSON), docs/CLI.md.',
    );
  const named = COMMANDS.filter(([name]) => name === argv[0]);
  const factories = await Promise.all(
    (named.length > 0 ? named : COMMANDS).map(([, load]) => load()),
  );
  for (const sub of factories.map((factory) => factory(io, done))) {
    sub.exitOverride().configureOutput({
      writeOut: (s) => {
        io.out(s.trimEnd());
      },
      writeErr: (s) => {
        io.err(s.trimEnd());
      },
    });
    root.addCommand(sub);
  }
  reflow(root);
  return root;
}

/**
 * Descriptions are written as source lines; the help wraps them to the terminal's width, so a
 * single line break becomes a space (a blank line still separates paragraphs).
 */
function reflow(command: Command): void {
  command.description(command.description().replace(/([^\n])\n(?=[^\n])/g, '$1 '));
  for (const sub of command.commands) reflow(sub);
}

/** Runs the CLI and returns the exit code; never throws. */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  let result: CommandResult = { kind: 'done' };
  try {
    const cli = await program(
      io,
      (r) => {
        result = r;
      },
      argv,
    );
    await cli.parseAsync(argv, { from: 'user' });
  } catch (error) {
    return exitCode({ error }, io);
  }
  return exitCode({ result }, io);
}

if (
  import.meta.url === `file://${process.argv[1] ?? ''}` ||
  process.argv[1]?.endsWith('/polygraph')
) {
  process.exitCode = await main(process.argv.slice(2));
}
