import { Command, InvalidArgumentError, Option } from 'commander';
import { Cluster } from '../../cluster/index.js';
import { InterruptedError, UsageError } from '../../domain/errors.js';
import { DEFAULT_PROBE_IMAGE } from '../../engine/api.js';
import { runOnCluster } from '../../engine/live-run.js';
import { progressReporter } from '../../report/progress.js';
import type { ReportTarget } from '../../report/sinks.js';
import type { Io } from '../io.js';
import type { Family } from '../../domain/job.js';
import { collect, externalArg, externalExecArg, familyArg, familyHelp } from '../options.js';
import { addResultOptions, checkTargets, emitResults } from '../reports.js';
import type { CommandResult } from '../result.js';
import { loadScenarios } from '../scenario-files.js';

/** The public, pinned probe image (servers and the probe client: bash, netcat-openbsd). */
export const DEFAULT_IMAGE = DEFAULT_PROBE_IMAGE;

function positiveInt(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < 1)
      throw new InvalidArgumentError(`expected a whole number ≥ 1 for ${name}, got "${value}"`);
    return Number(value);
  };
}

interface RunFlags {
  kubeconfig?: string;
  context?: string;
  image: string;
  concurrency: number;
  timeout: number;
  settleTimeout: number;
  keep?: boolean;
  namespaceNames: 'suffix' | 'exact';
  placement: 'spread' | 'pack';
  plugin?: string;
  external?: { name: string; ip: string }[];
  externalExec?: { name: string; command: string[] }[];
  skipCanary?: boolean;
  parallel: number;
  family?: Family[];
  output: 'text' | 'json';
  color?: boolean;
  report?: ReportTarget[];
  tables?: boolean;
}

/**
 * SIGINT/SIGTERM abort the run, which then removes what it created; a second signal exits at
 * once (leaving what is there for `polygraph clean`).
 */
function interruptions(io: Io): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const handler = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      io.err(`polygraph: ${name} again: stopping now; polygraph clean removes what is left`);
      process.exit(130);
    }
    io.err(`polygraph: ${name}: cleaning up (again to stop at once)`);
    controller.abort(
      new InterruptedError(`interrupted by ${name}; what the run created was removed`),
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

export function runCommand(io: Io, done: (result: CommandResult) => void): Command {
  return addResultOptions(
    new Command('run')
      .summary('run scenarios on a live cluster: expected vs model vs observed')
      .description(
        'Creates the namespaces (with a run suffix) and a probe pod per scenario pod, applies the\n' +
          "policies (cluster policies bound to the run's namespaces, where the cluster serves their\n" +
          'CRDs), and per step: performs the actions, settles by probing, probes every cell from\n' +
          'inside the pods (one long-lived probe session per source pod) and decides the same cells\n' +
          'with the model. Connections a step holds (hold:) are opened before its actions and used\n' +
          "again after them: open, reset or dropped, against the step's expect.\n" +
          'Every cell is classified (docs/RUN.md); everything created is removed at the end.\n' +
          'Exit 0 all agree, 1 a cell or a held connection disagrees, 2 invalid input, 3 cluster or\n' +
          'infrastructure failure.',
      )
      .argument(
        '<scenario...>',
        'scenario files (YAML, apiVersion polygraph.dev/v1alpha1), or directories of them',
      )
      .option('--kubeconfig <file>', 'kubeconfig (default: KUBECONFIG, then ~/.kube/config)')
      .option('--context <name>', 'kubeconfig context (default: its current context)')
      .option('--image <ref>', 'probe image (agnhost or a mirror of it)', DEFAULT_IMAGE)
      .option(
        '--concurrency <n>',
        'source pods probing at once (one probe session each)',
        positiveInt('--concurrency'),
        10,
      )
      .option(
        '--timeout <ms>',
        'per-probe timeout (whole seconds, rounded up)',
        positiveInt('--timeout'),
        1000,
      )
      .option(
        '--settle-timeout <ms>',
        "bound of settling after a step's actions: a cell that does not show its new verdict by then is probed as it is, then re-probed",
        positiveInt('--settle-timeout'),
        15_000,
      )
      .option(
        '--keep',
        'leave namespaces, pods and policies on the cluster (prints how to remove them)',
      )
      .addOption(
        new Option(
          '--namespace-names <mode>',
          'suffix: <ns>-<run id>; exact: as written (refuses existing namespaces)',
        )
          .choices(['suffix', 'exact'])
          .default('suffix'),
      )
      .addOption(
        new Option(
          '--placement <mode>',
          'spread: probe pods round-robin over the schedulable nodes (cells cross nodes); pack: all on one node',
        )
          .choices(['spread', 'pack'])
          .default('spread'),
      )
      .option(
        '--plugin <name>',
        "the network plugin, for the scenarios' knownDeviations (e.g. kube-router; default: the one detected from its DaemonSet)",
      )
      .option(
        '--external <name=ip>',
        'a live host that stands for a scenario external (probed as a destination; repeatable)',
        collect(externalArg),
      )
      .option(
        '--external-exec <name=command>',
        'a command that runs the probe client on that host, to probe from it (e.g. "ext1=docker exec ext1"; split on blanks, no shell; repeatable)',
        collect(externalExecArg),
      )
      .option('--family <4|6|both>', familyHelp('live'), familyArg)
      .option(
        '--parallel <n>',
        'scenarios running at once, each in its own namespaces (scenarios with the same namespaces, pods, labels and ports share one deployment, reset between them)',
        positiveInt('--parallel'),
        1,
      )
      .option('--skip-canary', 'do not check that the cluster enforces NetworkPolicies first'),
  ).action(async (paths: string[], flags: RunFlags) => {
    const targets = flags.report ?? [];
    checkTargets(targets);
    const mapped = new Set((flags.external ?? []).map((e) => e.name));
    for (const e of flags.externalExec ?? [])
      if (!mapped.has(e.name))
        throw new UsageError(
          `--external-exec ${e.name}=… needs the host's address too: add --external ${e.name}=IP (ipBlock rules decide by the source's address)`,
        );
    if (flags.parallel > 1 && flags.namespaceNames === 'exact')
      throw new UsageError(
        '--parallel above 1 needs --namespace-names suffix: scenarios running at once would share namespaces named as written',
      );
    const scenarios = await loadScenarios(paths);
    const progress = progressReporter({
      line: (t) => {
        io.err(t);
      },
      ...(io.errIsTTY?.() === true && io.errRaw !== undefined
        ? { live: (t: string) => io.errRaw?.(t) }
        : {}),
    });
    const cluster = Cluster.connect({
      ...(flags.kubeconfig === undefined ? {} : { kubeconfig: flags.kubeconfig }),
      ...(flags.context === undefined ? {} : { context: flags.context }),
    });
    const { signal, dispose } = interruptions(io);
    const startedAt = new Date();
    try {
      // Scenarios with the same topology share one deployment, reset between them
      // (src/engine/suite.ts); the first failure stops the suite and is thrown once everything
      // is cleaned up.
      const { results, preflight } = await runOnCluster(cluster, scenarios, {
        image: flags.image,
        concurrency: flags.concurrency,
        timeoutSeconds: Math.max(1, Math.ceil(flags.timeout / 1000)),
        settleTimeoutMs: flags.settleTimeout,
        signal,
        onEvent: progress.onEvent,
        parallel: flags.parallel,
        namespaceNames: flags.namespaceNames,
        placement: flags.placement,
        ...(flags.keep === true ? { keep: true } : {}),
        ...(flags.plugin === undefined ? {} : { plugin: flags.plugin }),
        ...(flags.skipCanary === true ? { skipCanary: true } : {}),
        ...(flags.family === undefined ? {} : { families: flags.family }),
        externals: new Map((flags.external ?? []).map((e) => [e.name, e.ip])),
        externalSources: new Map((flags.externalExec ?? []).map((e) => [e.name, e.command])),
        onPreflight: ({ version, facts, warnings }) => {
          for (const warning of warnings) io.err(`warning: ${warning}`);
          progress.message(
            `cluster ${cluster.server}, Kubernetes ${version}${facts.nodes === undefined ? '' : `, ${String(facts.nodes)} node${facts.nodes === 1 ? '' : 's'}`}${facts.networkPlugin === undefined ? '' : `, network plugin ${facts.networkPlugin} (detected)`}`,
          );
        },
        onCanary: (canary) => {
          progress.message(
            `enforcement canary: a deny-all policy was enforced within ${String(canary.enforcedAfterMs)} ms`,
          );
        },
      });
      const { version, facts } = preflight;
      progress.end();
      await emitResults(io, results, flags, targets, {
        kind: 'RunResult',
        startedAt,
        durationMs: Date.now() - startedAt.getTime(),
        cluster: { server: cluster.server, kubernetesVersion: version, ...facts },
      });
      done({ kind: 'run', results });
    } finally {
      progress.end();
      dispose();
    }
  });
}
