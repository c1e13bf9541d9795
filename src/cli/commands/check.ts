import { Command } from 'commander';
import type { Family } from '../../domain/job.js';
import { familyArg, familyHelp } from '../options.js';
import { checkScenario } from '../../engine/check.js';
import type { ScenarioResult } from '../../engine/results.js';
import type { ReportTarget } from '../../report/sinks.js';
import type { Io } from '../io.js';
import { addResultOptions, checkTargets, emitResults } from '../reports.js';
import type { CommandResult } from '../result.js';
import { loadScenarios } from '../scenario-files.js';

interface CheckFlags {
  output: 'text' | 'json';
  color?: boolean;
  report?: ReportTarget[];
  tables?: boolean;
  family?: Family[];
}

export function checkCommand(io: Io, done: (result: CommandResult) => void): Command {
  return addResultOptions(
    new Command('check')
      .summary('check the expectations of scenarios against the model, offline')
      .description(
        'Validates each scenario file (docs/SCENARIOS.md), plans every step, decides every cell with\n' +
          'the model of the NetworkPolicy spec (cluster policies in their tiers) and compares it with\n' +
          "the scenario's expectation. Prints each cell that disagrees with the policy and rule that\n" +
          'decide it, and a summary per step.\n' +
          'Exit 0 when everything agrees, 1 when a cell disagrees, 2 when a file is invalid.\n' +
          'Reports (--report; the GitHub step summary when GITHUB_STEP_SUMMARY is set)\n' +
          'are written besides stdout; one that fails is named on stderr and changes no\n' +
          'exit code (docs/REPORTS.md).',
      )
      .argument(
        '<scenario...>',
        'scenario files (YAML, apiVersion polygraph.dev/v1alpha1), or directories of them',
      )
      .option('--family <4|6|both>', familyHelp('declared'), familyArg),
  ).action(async (paths: string[], flags: CheckFlags) => {
    const targets = flags.report ?? [];
    checkTargets(targets);
    const scenarios = await loadScenarios(paths);
    for (const scenario of scenarios)
      for (const warning of scenario.warnings ?? [])
        io.err(`warning: ${scenario.file}: ${warning}`);
    const results: ScenarioResult[] = [];
    for (const scenario of scenarios)
      results.push(
        await checkScenario(scenario, flags.family === undefined ? {} : { families: flags.family }),
      );
    await emitResults(io, results, flags, targets);
    done({ kind: 'check', results });
  });
}
