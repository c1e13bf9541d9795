import { Command, Option } from 'commander';
import { hasChanges, diffModels, type DiffOptions } from '../../compare/diff.js';
import { UsageError } from '../../domain/errors.js';
import { parsePattern, type Pattern } from '../../domain/pattern.js';
import type { ProbePort } from '../../domain/probe.js';
import { loadManifests } from '../../manifest/load.js';
import { applyManifests, deleteManifests } from '../../manifest/overlay.js';
import { NetworkModel, type Endpoint } from '../../model/engine.js';
import type { ExternalInfo, World } from '../../model/types.js';
import { diffJsonChunks, diffTextLines, type DiffSide } from '../../report/diff.js';
import { palette } from '../../report/style.js';
import { withNewlines, writeChunks, type Io } from '../io.js';
import { addLiveOptions, liveSource, readLive, type LiveFlags } from '../live.js';
import {
  addModelSwitches,
  collect,
  endpointMatches,
  externalArg,
  modelOptions,
  probeArg,
  type ModelFlags,
} from '../options.js';
import type { CommandResult } from '../result.js';

interface DiffFlags extends ModelFlags, LiveFlags {
  before?: string[];
  after?: string[];
  cluster?: boolean;
  apply?: string[];
  delete?: string[];
  probe?: ProbePort[];
  from?: string[];
  to?: string[];
  allPorts?: boolean;
  external?: ExternalInfo[];
  output: 'text' | 'json';
  color?: boolean;
}

function patterns(texts: readonly string[] | undefined, flag: string, namespace: string) {
  return (texts ?? []).map((text) => {
    const pattern = parsePattern(text, { namespace });
    if (typeof pattern === 'string') throw new UsageError(`${flag} ${text}: ${pattern}`);
    return pattern;
  });
}

function matcher(list: readonly Pattern[]): ((e: Endpoint) => boolean) | undefined {
  if (list.length === 0) return undefined;
  return (e) => endpointMatches(list, e);
}

function side(source: string, world: World): DiffSide {
  return {
    source,
    namespaces: new Set([
      ...world.namespaces.map((n) => n.name),
      ...world.pods.map((p) => p.namespace),
    ]).size,
    pods: world.pods.length,
    policies: world.policies.length,
  };
}

const paths = (list: readonly string[]): string => list.map((p) => `-f ${p}`).join(' ');

export function diffCommand(io: Io, done: (result: CommandResult) => void): Command {
  const command = new Command('diff')
    .summary('what a change opens and closes: every cell whose verdict differs')
    .description(
      'Compares two worlds and prints every cell (source, destination, port) whose verdict\n' +
        'changes, grouped as closed and opened, with the policy and rule that decide it before and\n' +
        'after, and a summary ("this change closes 14 flows, opens 2"). A side is manifests\n' +
        '(BEFORE AFTER, or --before/--after, repeatable, - for stdin), or the live cluster\n' +
        '(--cluster, read-only) against itself with --apply FILE applied or --delete FILE removed.\n' +
        'Exit 0 no change, 1 changes found (gate CI on it), 2 invalid input, 3 cluster error.',
    )
    .argument('[before]', 'manifests before the change: a file, a directory, or - (stdin)')
    .argument('[after]', 'manifests after the change')
    .option('--before <path>', 'manifests before the change (repeatable)', collect(String))
    .option('--after <path>', 'manifests after the change (repeatable)', collect(String))
    .option('--cluster', 'before: the live cluster (--kubeconfig, else the default kubeconfig)')
    .option(
      '--apply <path>',
      'with --cluster, after: the cluster with these manifests applied (repeatable)',
      collect(String),
    )
    .option(
      '--delete <path>',
      'with --cluster, after: the cluster without the objects of these manifests (repeatable)',
      collect(String),
    )
    .option(
      '--probe <port[/protocol]>',
      'compare this port (repeatable); default: every port a pod declares on either side',
      collect(probeArg),
    )
    .option('--from <pattern>', 'sources to compare, as for model (repeatable)', collect(String))
    .option('--to <pattern>', 'destinations to compare (repeatable)', collect(String))
    .option(
      '--all-ports',
      'compare every destination on every probe, also ports it does not declare on either side',
    )
    .option(
      '-n, --namespace <ns>',
      'namespace of objects that name none; with --cluster, the only namespace read',
      'default',
    )
    .option(
      '--external <name=ip>',
      'a non-pod peer on both sides (repeatable)',
      collect(externalArg),
    )
    .addOption(
      new Option('-o, --output <format>', 'output format (json: docs/OUTPUT.md, DiffResult)')
        .choices(['text', 'json'])
        .default('text'),
    )
    .option('--no-color', 'plain output (also when NO_COLOR is set or stdout is not a terminal)');
  addLiveOptions(command, 'the before side');
  addModelSwitches(command);
  command.action(async (beforeArg: string | undefined, afterArg: string | undefined) => {
    const flags = command.opts<DiffFlags>();
    const fromPatterns = patterns(flags.from, '--from', flags.namespace);
    const toPatterns = patterns(flags.to, '--to', flags.namespace);
    const positional = [beforeArg, afterArg].filter((a): a is string => a !== undefined);
    const externals = flags.external ?? [];
    const load = (list: readonly string[]) =>
      loadManifests(list, { defaultNamespace: flags.namespace, externals });
    const clusterMode = flags.cluster === true || flags.kubeconfig !== undefined;
    let before: { world: World; source: string };
    let after: { world: World; source: string };
    const notes: string[] = [];
    if (clusterMode) {
      if (positional.length > 0 || flags.before !== undefined || flags.after !== undefined)
        throw new UsageError(
          'with --cluster the before side is the cluster and the after side is --apply/--delete: give no BEFORE/AFTER paths',
        );
      if (flags.apply === undefined && flags.delete === undefined)
        throw new UsageError('--cluster needs the change: --apply FILE and/or --delete FILE');
      if ([...(flags.apply ?? []), ...(flags.delete ?? [])].filter((p) => p === '-').length > 1)
        throw new UsageError('standard input (-) can be read only once');
      // Validate the change before reading the cluster: a typo costs no API call.
      const applied = flags.apply === undefined ? undefined : await load(flags.apply);
      const deleted =
        flags.delete === undefined
          ? undefined
          : await loadManifests(flags.delete, { defaultNamespace: flags.namespace });
      const live = await readLive(io, flags, command);
      const base: World = { ...live.world, externals: [...live.world.externals, ...externals] };
      let world = base;
      const changes: string[] = [];
      if (deleted !== undefined && flags.delete !== undefined) {
        const overlay = deleteManifests(world, deleted);
        world = overlay.world;
        notes.push(...overlay.notes);
        changes.push(`--delete ${flags.delete.join(' --delete ')}`);
      }
      if (applied !== undefined && flags.apply !== undefined) {
        const overlay = applyManifests(world, applied);
        world = overlay.world;
        notes.push(...overlay.notes);
        changes.push(`--apply ${flags.apply.join(' --apply ')}`);
      }
      before = { world: base, source: liveSource(live) };
      after = { world, source: `${liveSource(live)} ${changes.join(' ')}` };
    } else {
      if (flags.apply !== undefined || flags.delete !== undefined)
        throw new UsageError('--apply and --delete need --cluster (the world they change)');
      if (flags.allNamespaces === true || flags.context !== undefined)
        throw new UsageError('-A and --context need --cluster');
      const beforePaths = [
        ...(positional[0] === undefined ? [] : [positional[0]]),
        ...(flags.before ?? []),
      ];
      const afterPaths = [
        ...(positional[1] === undefined ? [] : [positional[1]]),
        ...(flags.after ?? []),
      ];
      if (beforePaths.length === 0 || afterPaths.length === 0)
        throw new UsageError(
          'give both sides: polygraph diff BEFORE AFTER, or --before PATH --after PATH (or --cluster --apply FILE)',
        );
      if ([...beforePaths, ...afterPaths].filter((p) => p === '-').length > 1)
        throw new UsageError('standard input (-) can be read only once: give it to one side');
      // Both sides are validated before anything is compared; every problem of both at once.
      const [b, a] = await Promise.allSettled([load(beforePaths), load(afterPaths)]);
      if (b.status === 'rejected') throw b.reason;
      if (a.status === 'rejected') throw a.reason;
      before = { world: b.value.world, source: paths(beforePaths) };
      after = { world: a.value.world, source: paths(afterPaths) };
    }
    const options = modelOptions(flags);
    const beforeModel = new NetworkModel(before.world, options);
    const afterModel = new NetworkModel(after.world, options);
    const from = matcher(fromPatterns);
    const to = matcher(toPatterns);
    for (const [list, test, flag] of [
      [fromPatterns, from, '--from'],
      [toPatterns, to, '--to'],
    ] as const)
      if (
        test !== undefined &&
        !beforeModel.endpoints.some(test) &&
        !afterModel.endpoints.some(test)
      )
        throw new UsageError(
          `${flag} ${list.map((p) => p.text).join(' ')} matches no endpoint on either side`,
        );
    const diffOptions: DiffOptions = {
      ...(flags.probe ? { probes: flags.probe } : {}),
      servedOnly: flags.allPorts !== true,
      ...(from ? { from } : {}),
      ...(to ? { to } : {}),
    };
    const result = diffModels(beforeModel, afterModel, diffOptions);
    for (const note of notes) io.err(`note: ${note}`);
    if (result.probes.length === 0)
      io.err(
        'note: no pod declares a container port on either side, so nothing is compared; name ports with --probe PORT[/PROTOCOL]',
      );
    const sides = {
      before: side(before.source, before.world),
      after: side(after.source, after.world),
    };
    if (flags.output === 'json') await writeChunks(io, diffJsonChunks(result, sides));
    else
      await writeChunks(
        io,
        withNewlines(diffTextLines(result, sides, palette(io.color(flags.color)))),
      );
    done({ kind: 'diff', changed: hasChanges(result) });
  });
  return command;
}
