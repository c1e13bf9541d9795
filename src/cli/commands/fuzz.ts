import { Command, InvalidArgumentError, Option } from 'commander';
import { randomInt } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Cluster, servedResources, type ServedResource } from '../../cluster/index.js';
import { InputError, InterruptedError, UsageError } from '../../domain/errors.js';
import { loadScenario, parseScenario } from '../../dsl/load.js';
import { DEFAULT_PROBE_IMAGE } from '../../engine/api.js';
import { clusterFacts } from '../../engine/facts.js';
import { clusterBackend } from '../../engine/live-cluster.js';
import { topologyKey } from '../../engine/pool.js';
import {
  checkAccess,
  checkClusterPolicySupport,
  enforcementCanary,
} from '../../engine/preflight.js';
import { scenarioNamespaces } from '../../engine/run.js';
import { fuzz, type FuzzEvent, type ReplaySet } from '../../fuzz/fuzz.js';
import {
  NETWORK_POLICY_SHAPES,
  PolicyGenerator,
  SHAPES,
  type PolicyObject,
  type Shape,
} from '../../fuzz/generate.js';
import { FUZZ_SETTLE_MS, liveOracle } from '../../fuzz/live.js';
import { Random } from '../../fuzz/random.js';
import { fuzzScenario, scenarioText } from '../../fuzz/scenario.js';
import { EXTERNAL_NAME } from '../../fuzz/topology.js';
import { parseIp } from '../../model/cidr.js';
import { CLUSTER_POLICY_GROUP } from '../../model/cluster-validate.js';
import { fuzzDocument, fuzzText, minimalCaseFiles } from '../../report/fuzz.js';
import type { Io } from '../io.js';
import type { CommandResult } from '../result.js';

interface FuzzFlags {
  kubeconfig?: string;
  context?: string;
  image: string;
  seed?: number;
  cases?: number;
  duration?: number;
  shapes?: Shape[];
  replay?: string[];
  shrink: boolean;
  shrinkSteps: number;
  shrinksPerSet: number;
  shrinkTime: number;
  settleTimeout: number;
  concurrency: number;
  timeout: number;
  plugin?: string;
  externalHost?: string;
  externalExec?: string;
  skipCanary?: boolean;
  writeCases?: string;
  output: 'text' | 'json';
}

function whole(name: string, min = 1) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < min)
      throw new InvalidArgumentError(
        `expected a whole number ≥ ${String(min)} for ${name}, got "${value}"`,
      );
    return Number(value);
  };
}

/** `90s`, `5m`, `1h`, or milliseconds. */
export function durationArg(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (m === null)
    throw new InvalidArgumentError(`expected a duration such as 90s, 5m or 1h, got "${value}"`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 'ms') as 'ms'];
  return Math.round(Number(m[1]) * unit);
}

function shapesArg(value: string): Shape[] {
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const unknown = names.filter((n) => !(SHAPES as readonly string[]).includes(n));
  if (unknown.length > 0 || names.length === 0)
    throw new InvalidArgumentError(
      `unknown shape ${unknown.join(', ') || '(none given)'}: expected a comma-separated list of ${SHAPES.join(', ')}`,
    );
  return names as Shape[];
}

/**
 * Sets to replay: a fuzz result (`-o json`; every set it ran) or scenario files over the fuzz
 * topology (the minimal cases fuzz writes), whose policies are run.
 */
export async function replaySets(paths: readonly string[]): Promise<ReplaySet[]> {
  const sets: ReplaySet[] = [];
  const fuzzKey = topologyKey(await fuzzScenario({ name: 'k', policies: [] }), ['x', 'y', 'z']);
  for (const path of paths) {
    if (path.endsWith('.json')) {
      let doc: unknown;
      try {
        doc = JSON.parse(await readFile(path, 'utf8'));
      } catch (error) {
        throw new UsageError(
          `--replay ${path}: not a readable JSON document (${error instanceof Error ? error.message : String(error)})`,
        );
      }
      const saved = (doc as { kind?: unknown; sets?: unknown }).sets;
      if ((doc as { kind?: unknown }).kind !== 'FuzzResult' || !Array.isArray(saved))
        throw new UsageError(
          `--replay ${path}: expected the JSON result of polygraph fuzz (kind FuzzResult)`,
        );
      for (const s of saved as { name?: unknown; policies?: unknown }[])
        if (typeof s.name === 'string' && Array.isArray(s.policies))
          sets.push({ name: s.name, policies: s.policies as PolicyObject[] });
      continue;
    }
    const scenario = await loadScenario(path);
    if (topologyKey(scenario, scenarioNamespaces(scenario)) !== fuzzKey)
      throw new UsageError(
        `--replay ${path}: its topology is not the fuzz topology (replay scenario files that polygraph fuzz wrote)`,
      );
    sets.push({
      name: scenario.name,
      policies: [
        ...scenario.policies.map((p) => ({ ...p.manifest })),
        ...(scenario.clusterPolicies ?? []).map((p) => ({ ...p.manifest })),
      ],
    });
  }
  return sets;
}

/**
 * Network plugins known not to enforce ClusterNetworkPolicies in any release: kube-router (the
 * lab's v2.1.0 stores nothing of them, docs/LAB.md), Flannel (no policy at all), Weave Net
 * (archived without them).
 */
export const IGNORES_CLUSTER_POLICIES: readonly string[] = ['kube-router', 'flannel', 'weave'];

/**
 * The shapes of a run without `--shapes`: every family, `cluster-policies` included only when the
 * cluster serves ClusterNetworkPolicy v1beta1 (API discovery) and the plugin (named, else
 * detected) is not known to ignore it — there every set with a deciding cluster policy would only
 * show that. `note` says which, for stderr.
 */
export function defaultShapes(
  served: readonly ServedResource[],
  plugin: string | undefined,
): { shapes: Shape[]; note: string } {
  const api = `ClusterNetworkPolicy ${CLUSTER_POLICY_GROUP}/v1beta1`;
  if (!served.some((r) => r.kind === 'ClusterNetworkPolicy' && r.version === 'v1beta1'))
    return {
      shapes: [...NETWORK_POLICY_SHAPES],
      note: `cluster policies not generated: the cluster does not serve ${api}`,
    };
  if (plugin !== undefined && IGNORES_CLUSTER_POLICIES.includes(plugin))
    return {
      shapes: [...NETWORK_POLICY_SHAPES],
      note: `cluster policies not generated: the cluster serves ${api}, but ${plugin} does not enforce it (--shapes with cluster-policies generates them anyway)`,
    };
  return {
    shapes: [...SHAPES],
    note: `cluster policies generated: the cluster serves ${api}${plugin === undefined ? '' : ` and ${plugin} is not known to ignore it`}`,
  };
}

/** Generated ClusterNetworkPolicies as a scenario, for the preflight of their API. */
async function clusterPolicyProbe(seed: number) {
  const policies = new PolicyGenerator(SHAPES).clusterPolicies(new Random(seed));
  return parseScenario(
    scenarioText({ name: 'cluster-policies', policies }),
    '--shapes cluster-policies',
  );
}

export function fuzzCommand(io: Io, done: (result: CommandResult) => void): Command {
  return new Command('fuzz')
    .summary('differential testing of a network plugin: random policy sets vs the spec, shrunk')
    .description(
      'Deploys one topology (namespaces x, y, z; pods a, b, c with varied labels; 80 and 81 over TCP\n' +
        'and UDP under names), then for each seeded random policy set: applies it, settles by probing,\n' +
        'probes every cell and compares it with the model of the spec (there is no expectation). A set\n' +
        'with a differing cell is run again, then shrunk on the cluster to a minimal case, and minimal\n' +
        'cases are grouped by signature. Everything created is removed at the end. Ctrl-C stops after\n' +
        'the current set and still reports. docs/GUIDE-FUZZ.md.\n' +
        'Exit 0 no cell differs, 1 a cell differs, 2 invalid input, 3 cluster or infrastructure failure.',
    )
    .option('--kubeconfig <file>', 'kubeconfig (default: KUBECONFIG, then ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context (default: its current context)')
    .option('--image <ref>', 'probe image (agnhost or a mirror of it)', DEFAULT_PROBE_IMAGE)
    .option(
      '--seed <n>',
      'seed of the random sets (default: a random one, reported)',
      whole('--seed', 0),
    )
    .option('--cases <n>', 'policy sets to run (default 100)', whole('--cases'))
    .option('--duration <d>', 'run sets for this long instead (e.g. 10m)', durationArg)
    .addOption(
      new Option(
        '--shapes <list>',
        `shape families to generate, comma-separated: ${SHAPES.join(', ')} (default: all, but cluster-policies only where the cluster serves ClusterNetworkPolicy v1beta1 and the plugin, named or detected, is none of ${IGNORES_CLUSTER_POLICIES.join(', ')}, which ignore it; named, cluster-policies needs the API: exit 3 without)`,
      ).argParser(shapesArg),
    )
    .option(
      '--replay <file...>',
      'run saved sets instead: a fuzz JSON result, or minimal-case scenario files',
    )
    .option(
      '--no-shrink',
      'group each differing set as it is, without shrinking it (it is still run twice)',
    )
    .option(
      '--shrinks-per-set <n>',
      'deviations shrunk per set at most (other cells are counted, not grouped)',
      whole('--shrinks-per-set'),
      2,
    )
    .option('--shrink-steps <n>', 'cluster runs per shrink at most', whole('--shrink-steps'), 40)
    .addOption(
      new Option('--shrink-time <d>', 'time per shrink at most')
        .argParser(durationArg)
        .default(180_000, '3m'),
    )
    .option(
      '--settle-timeout <ms>',
      'bound of settling per set (a differing cell waits it out)',
      whole('--settle-timeout'),
      FUZZ_SETTLE_MS,
    )
    .option('--concurrency <n>', 'source pods probing at once', whole('--concurrency'), 10)
    .option(
      '--timeout <ms>',
      'per-probe timeout (whole seconds, rounded up)',
      whole('--timeout'),
      1000,
    )
    .option('--plugin <name>', 'the network plugin, recorded in the result (default: detected)')
    .option(
      '--external-host <ip>',
      'a host outside the cluster the pods can reach, added as ext:host (probed as a destination)',
    )
    .option(
      '--external-exec <command>',
      'a command that runs the probe client on that host, to probe from it (split on blanks, no shell)',
    )
    .option('--skip-canary', 'do not check that the cluster enforces NetworkPolicies first')
    .option(
      '--write-cases <dir>',
      "write each group's minimal case as a scenario file (group-N.yaml)",
    )
    .addOption(
      new Option('-o, --output <format>', 'text or json (one document on stdout)')
        .choices(['text', 'json'])
        .default('text'),
    )
    .action(async (flags: FuzzFlags) => {
      if (flags.cases !== undefined && flags.duration !== undefined)
        throw new UsageError('give --cases or --duration, not both');
      if (flags.replay !== undefined && (flags.cases !== undefined || flags.duration !== undefined))
        throw new UsageError('--replay runs the saved sets: leave out --cases and --duration');
      if (flags.externalHost !== undefined && parseIp(flags.externalHost) === undefined)
        throw new UsageError(`--external-host: "${flags.externalHost}" is not an IP address`);
      if (flags.externalExec !== undefined && flags.externalHost === undefined)
        throw new UsageError(
          "--external-exec needs the host's address too: add --external-host IP",
        );
      const replay = flags.replay === undefined ? undefined : await replaySets(flags.replay);
      const seed = flags.seed ?? randomInt(0, 2 ** 31);
      const cluster = Cluster.connect({
        ...(flags.kubeconfig === undefined ? {} : { kubeconfig: flags.kubeconfig }),
        ...(flags.context === undefined ? {} : { context: flags.context }),
      });
      const live = clusterBackend(cluster);
      const tty = io.errIsTTY?.() === true && io.errRaw !== undefined;
      let stop = false;
      const controller = new AbortController();
      const handler = (name: NodeJS.Signals) => {
        if (controller.signal.aborted) {
          io.err(`polygraph: ${name} again: stopping now; polygraph clean removes what is left`);
          process.exit(130);
        }
        if (stop) {
          io.err(
            `polygraph: ${name} again: abandoning the current set, cleaning up (again to stop at once)`,
          );
          controller.abort(
            new InterruptedError(`interrupted by ${name}; what fuzz created was removed`),
          );
          return;
        }
        stop = true;
        io.err(`polygraph: ${name}: stopping after the current set (again to abandon it)`);
      };
      process.on('SIGINT', handler);
      process.on('SIGTERM', handler);
      const common = {
        image: flags.image,
        concurrency: flags.concurrency,
        timeoutSeconds: Math.max(1, Math.ceil(flags.timeout / 1000)),
        signal: controller.signal,
      };
      const startedAt = new Date();
      let oracle: ReturnType<typeof liveOracle> | undefined;
      try {
        const version = await checkAccess(cluster);
        const facts = await clusterFacts(cluster);
        io.err(
          `cluster ${cluster.server}, Kubernetes ${version}${facts.networkPlugin === undefined ? '' : `, network plugin ${facts.networkPlugin} (detected)`}; seed ${String(seed)}`,
        );
        const plugin = flags.plugin ?? facts.networkPlugin;
        let shapes = flags.shapes ?? [...NETWORK_POLICY_SHAPES];
        if (flags.shapes === undefined && replay === undefined) {
          const chosen = defaultShapes(
            await servedResources(cluster, CLUSTER_POLICY_GROUP),
            plugin,
          );
          shapes = chosen.shapes;
          io.err(chosen.note);
        }
        // Cluster policies to apply, generated or replayed: the preflight of run (the API served,
        // else exit 3; the permissions; those already in the cluster, as warnings).
        const withClusterPolicies =
          replay === undefined
            ? shapes.includes('cluster-policies')
              ? [await clusterPolicyProbe(seed)]
              : []
            : await Promise.all(
                replay
                  .filter((s) => s.policies.some((p) => p.kind !== 'NetworkPolicy'))
                  .map((s) => fuzzScenario({ name: s.name, policies: s.policies })),
              );
        const support = await checkClusterPolicySupport(cluster, withClusterPolicies);
        for (const warning of support.warnings) io.err(`warning: ${warning}`);
        if (flags.skipCanary !== true) await enforcementCanary(live, common);
        oracle = liveOracle(live, {
          ...common,
          settleTimeoutMs: flags.settleTimeout,
          ...(flags.externalHost === undefined
            ? {}
            : { externals: new Map([[EXTERNAL_NAME, flags.externalHost]]) }),
          ...(flags.externalExec === undefined
            ? {}
            : {
                externalSources: new Map([
                  [EXTERNAL_NAME, flags.externalExec.split(/\s+/).filter((s) => s !== '')],
                ]),
              }),
        });
        const began = performance.now();
        const progress = (e: FuzzEvent) => {
          const elapsed = `${((performance.now() - began) / 1000).toFixed(0)} s`;
          const text =
            e.kind === 'set'
              ? e.differing === undefined
                ? `set ${String(e.index + 1)}${e.total === undefined ? '' : `/${String(e.total)}`}, ${elapsed}`
                : `set ${String(e.index + 1)}: ${String(e.differing)} cells differ`
              : `set ${String(e.index + 1)}: ${e.cell} ${flags.shrink ? `shrunk in ${String(e.steps)} cluster runs` : 'grouped'}, ${elapsed}`;
          if (tty) io.errRaw?.(`\r\x1b[2K${text}`);
          else if (e.kind === 'shrink' || (e.differing ?? 0) > 0) io.err(text);
        };
        const run = await fuzz(oracle.oracle, {
          seed,
          shapes,
          ...(replay === undefined ? {} : { replay }),
          ...(flags.cases === undefined ? {} : { cases: flags.cases }),
          ...(flags.duration === undefined ? {} : { durationMs: flags.duration }),
          shrink: flags.shrink,
          bounds: { maxSteps: flags.shrinkSteps, maxMs: flags.shrinkTime },
          shrinksPerSet: flags.shrinksPerSet,
          ...(flags.externalHost === undefined ? {} : { externalIp: flags.externalHost }),
          stop: () => stop || controller.signal.aborted,
          onEvent: progress,
        });
        if (tty) io.errRaw?.('\r\x1b[2K');
        const doc = fuzzDocument(run, {
          startedAt,
          cluster: { server: cluster.server, kubernetesVersion: version, ...facts },
          ...(plugin === undefined ? {} : { plugin }),
          ...(flags.externalHost === undefined ? {} : { externalIp: flags.externalHost }),
          clusterRuns: oracle.runs(),
        });
        if (flags.writeCases !== undefined) {
          await mkdir(flags.writeCases, { recursive: true });
          for (const [file, text] of minimalCaseFiles(doc))
            await writeFile(join(flags.writeCases, file), text);
        }
        io.out(flags.output === 'json' ? JSON.stringify(doc, null, 2) : fuzzText(doc));
        done({ kind: 'fuzz', differing: doc.totals.differing, flaky: doc.totals.flaky });
      } catch (error) {
        if (error instanceof InputError) throw error;
        throw controller.signal.aborted && !(error instanceof InterruptedError)
          ? new InterruptedError('interrupted; what fuzz created was removed', { cause: error })
          : error;
      } finally {
        await oracle?.close().catch(() => undefined);
        process.off('SIGINT', handler);
        process.off('SIGTERM', handler);
      }
    });
}
