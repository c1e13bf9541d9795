#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { createRequire } from 'node:module';
import { formatIssue } from '../domain/issue.js';
import { InputError, UsageError } from '../domain/errors.js';
import { explainCommand, modelCommand } from './model-command.js';
import { processIo, type Io } from './io.js';

/** Exit codes (docs/CLI.md). */
export const EXIT = { ok: 0, mismatch: 1, invalid: 2, cluster: 3, internal: 4 } as const;

function version(): string {
  const require = createRequire(import.meta.url);
  return (require('../../package.json') as { version: string }).version;
}

export function program(io: Io): Command {
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
      '\nExit codes: 0 success, 1 mismatch, 2 invalid input or usage, 3 cluster failure, 4 internal error.\nDocs: docs/MODEL.md (semantics), docs/OUTPUT.md (JSON), docs/CLI.md.',
    );
  for (const sub of [modelCommand(io), explainCommand(io)]) {
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
  return root;
}

/** Runs the CLI and returns the exit code; never throws. */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  try {
    await program(io).parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (error) {
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
        `polygraph: invalid input, ${error.issues.length} problem${error.issues.length === 1 ? '' : 's'}:`,
      );
      for (const issue of error.issues) io.err(`  ${formatIssue(issue)}`);
      return EXIT.invalid;
    }
    if (error instanceof UsageError) {
      io.err(`polygraph: ${error.message}`);
      return EXIT.invalid;
    }
    io.err(
      `polygraph: internal error (a bug in polygraph; please report it with this output):\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    return EXIT.internal;
  }
}

if (
  import.meta.url === `file://${process.argv[1] ?? ''}` ||
  process.argv[1]?.endsWith('/polygraph')
) {
  process.exitCode = await main(process.argv.slice(2));
}
