import { Command, Option } from 'commander';
import { loadScenario } from '../../dsl/load.js';
import { checkScenario } from '../../engine/check.js';
import type { ScenarioResult } from '../../engine/results.js';
import { InputError } from '../../domain/errors.js';
import type { Issue } from '../../domain/issue.js';
import type { ReportTarget } from '../../report/sinks.js';
import type { Io } from '../io.js';
import { checkTargets, emitResults, REPORT_OPTION_HELP, reportArg } from '../reports.js';
import type { CommandResult } from '../result.js';
import { scenarioFiles } from '../scenario-files.js';

interface CheckFlags {
  output: 'text' | 'json';
  color?: boolean;
  report?: ReportTarget[];
  tables?: boolean;
}

export function checkCommand(io: Io, done: (result: CommandResult) => void): Command {
  return new Command('check')
    .summary('check the expectations of scenarios against the model, offline')
    .description(
      'Validates each scenario file (docs/SCENARIOS.md), plans every step, decides every cell with\n' +
        "the model of the NetworkPolicy spec and compares it with the scenario's expectation. Prints\n" +
        'each cell that disagrees with the policy and rule that decide it, and a summary per step.\n' +
        'Exit 0 when everything agrees, 1 when a cell disagrees, 2 when a file is invalid.\n' +
        'Reports (--report; the GitHub step summary when GITHUB_STEP_SUMMARY is set)\n' +
        'are written besides stdout; one that fails is named on stderr and changes no\n' +
        'exit code (docs/REPORTS.md).',
    )
    .argument(
      '<scenario...>',
      'scenario files (YAML, apiVersion polygraph.dev/v1alpha1), or directories of them',
    )
    .addOption(
      new Option('-o, --output <format>', 'output format')
        .choices(['text', 'json'])
        .default('text'),
    )
    .option('--report <KIND=FILE>', REPORT_OPTION_HELP, reportArg)
    .option('--tables', 'text: print the truth tables of every step, not only of disagreeing ones')
    .option('--no-color', 'plain output (also when NO_COLOR is set or stdout is not a terminal)')
    .action(async (paths: string[], flags: CheckFlags) => {
      const targets = flags.report ?? [];
      checkTargets(targets);
      // Every file is validated before anything is checked: all problems of all files at once.
      const issues: Issue[] = [];
      const scenarios = [];
      for (const file of await scenarioFiles(paths)) {
        try {
          scenarios.push(await loadScenario(file));
        } catch (error) {
          if (!(error instanceof InputError)) throw error;
          issues.push(...error.issues);
        }
      }
      if (issues.length > 0) throw new InputError(issues);
      const results: ScenarioResult[] = [];
      for (const scenario of scenarios) results.push(await checkScenario(scenario));
      await emitResults(io, results, flags, targets);
      done({ kind: 'check', results });
    });
}
