import { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { stringify } from 'yaml';
import { formatProbe, type ProbePort } from '../../domain/probe.js';
import { SCENARIO_API_VERSION, SCENARIO_KIND } from '../../dsl/schema.js';
import { initTables } from '../../engine/init.js';
import { liveScenarioDocument } from '../../engine/init-live.js';
import { UsageError } from '../../domain/errors.js';
import { loadManifests } from '../../manifest/load.js';
import { DEFAULT_MODEL_OPTIONS, type ExternalInfo } from '../../model/types.js';
import type { Io } from '../io.js';
import {
  addModelSwitches,
  collect,
  externalArg,
  modelOptions,
  probeArg,
  type ModelFlags,
} from '../options.js';
import type { CommandResult } from '../result.js';
import { addLiveOptions, readLive, type LiveFlags } from '../live.js';

interface InitFlags extends ModelFlags, LiveFlags {
  filename?: string[];
  namespace: string;
  external?: ExternalInfo[];
  probe?: ProbePort[];
  output?: string;
  name?: string;
}

/** A path as the scenario must write it: relative to the scenario file's directory. */
function fromScenario(path: string, output: string | undefined): string {
  const base = output === undefined ? process.cwd() : dirname(resolve(output));
  const rel = relative(base, resolve(path));
  return rel === '' ? '.' : rel;
}

const HEADER =
  '# REVIEW BEFORE USE: the expectations below are what the model computes for these\n' +
  '# policies today, not what anyone intended. Read every table, fix each cell that is not\n' +
  '# what you want (. allowed, X denied, ? the destination does not serve the port,\n' +
  '# - not checked), then keep the file as a regression test: polygraph check FILE.\n';

export function initCommand(io: Io, done: (result: CommandResult) => void): Command {
  const command = addLiveOptions(addModelSwitches(new Command('init')), 'the topology');
  return command
    .summary('write a scenario whose expectations are the current model tables')
    .description(
      'Writes a scenario (docs/SCENARIOS.md) for existing manifests (-f), or for the current state\n' +
        'of a live cluster (--kubeconfig, read-only: its namespaces, running pods and NetworkPolicies\n' +
        'written inline): the pods as the topology, the NetworkPolicies, and as expectations the\n' +
        'tables the model computes today (table notation). Review every cell before committing it:\n' +
        'the tables say what the policies do, not what you intend.',
    )
    .option(
      '-f, --filename <path>',
      'manifest file or directory (repeatable): pods, workloads, namespaces and NetworkPolicies; or --kubeconfig',
      collect(String),
    )
    .option(
      '-n, --namespace <ns>',
      'namespace of objects that name none; with --kubeconfig, the only namespace read',
      'default',
    )
    .option(
      '--external <name=ip>',
      'a non-pod peer as a row and column of the tables (repeatable)',
      collect(externalArg),
    )
    .option(
      '--probe <port[/protocol]>',
      'probe this port (repeatable); default: every port the pods serve',
      collect(probeArg),
    )
    .option('-o, --output <file>', 'write the scenario to this file instead of stdout')
    .option('--name <name>', 'metadata.name of the scenario (default: the first path)')
    .action(async (flags: InitFlags) => {
      if (flags.kubeconfig !== undefined) {
        if (flags.filename !== undefined)
          throw new UsageError('give either -f PATH or --kubeconfig FILE, not both');
        if (flags.external !== undefined)
          throw new UsageError(
            '--external is for -f manifests; add externals to the scenario written',
          );
        const live = await readLive(io, flags, command);
        const { document, tables } = await liveScenarioDocument(live.state, modelOptions(flags), {
          ...(flags.name === undefined ? {} : { name: flags.name }),
          ...(flags.probe === undefined ? {} : { probes: flags.probe }),
        });
        await emit(HEADER + stringify(document, { lineWidth: 0 }), flags.output, tables);
        return;
      }
      if (flags.context !== undefined || flags.allNamespaces === true)
        throw new UsageError('--context and -A read a live cluster: they need --kubeconfig FILE');
      if (flags.filename === undefined)
        throw new UsageError(
          'give the manifests with -f PATH, or a live cluster with --kubeconfig FILE',
        );
      const filename = flags.filename;
      const manifests = await loadManifests(filename, { defaultNamespace: flags.namespace });
      const options = modelOptions(flags);
      const world = {
        ...manifests.world,
        externals: [...manifests.world.externals, ...(flags.external ?? [])],
      };
      const { tables, rules } = await initTables(world, options, flags.probe);
      const paths = filename.map((p) => fromScenario(p, flags.output));
      const changed = Object.fromEntries(
        (Object.keys(DEFAULT_MODEL_OPTIONS) as (keyof typeof options)[])
          .filter((k) => options[k] !== DEFAULT_MODEL_OPTIONS[k])
          .map((k) => [k, options[k]]),
      );
      const externals = Object.fromEntries(
        (flags.external ?? []).map((e) => [e.name, { ip: e.ip }]),
      );
      const document = {
        apiVersion: SCENARIO_API_VERSION,
        kind: SCENARIO_KIND,
        metadata: {
          name: flags.name ?? paths[0] ?? 'scenario',
          description: `generated by polygraph init from ${paths.join(', ')}`,
        },
        topology: {
          manifests: paths,
          ...(Object.keys(externals).length > 0 ? { externals } : {}),
        },
        policies: paths,
        ...(Object.keys(changed).length > 0 ? { options: changed } : {}),
        ...(flags.probe ? { probes: flags.probe.map(formatProbe) } : {}),
        expect: {
          ...(rules.length === 0 ? {} : { rules: rules.map((r) => ({ [r.cells]: r.verdict })) }),
          tables: Object.fromEntries(tables.map((t) => [formatProbe(t.probe), t.text])),
        },
      };
      await emit(HEADER + stringify(document, { lineWidth: 0 }), flags.output, tables.length);
    });
  async function emit(text: string, output: string | undefined, tables: number): Promise<void> {
    if (output === undefined) io.out(text.trimEnd());
    else {
      await writeFile(output, text);
      io.err(`wrote ${output}: ${String(tables)} table(s); review every cell`);
    }
    done({ kind: 'done' });
  }
}
