import { Command, Option } from 'commander';
import { formatProbe, type ProbePort } from '../domain/probe.js';
import { UsageError } from '../domain/errors.js';
import { closest } from '../domain/suggest.js';
import { loadScenario } from '../dsl/load.js';
import { loadManifests } from '../manifest/load.js';
import type { ManifestSet } from '../manifest/objects.js';
import { NetworkModel, resolveProbePort, type Endpoint } from '../model/engine.js';
import { explainFlow } from '../model/explain.js';
import type { ExternalInfo } from '../model/types.js';
import { renderExplanation } from '../report/explain-text.js';
import { writeModelDocument } from '../report/model-json.js';
import { MODEL_LEGEND, truthTableLines } from '../report/model-table.js';
import { ProbeView, type Selection } from '../report/view.js';
import { parsePattern, type Pattern } from '../domain/pattern.js';
import { palette } from '../report/style.js';
import {
  addModelSwitches,
  collect,
  endpointMatches,
  externalArg,
  modelOptions,
  probeArg,
  type ModelFlags,
} from './options.js';
import { withNewlines, writeChunks, type Io } from './io.js';
import { addLiveOptions, readLive, type LiveFlags } from './live.js';

interface InputFlags extends ModelFlags, Partial<LiveFlags> {
  /** Absent for `explain --scenario` and `--kubeconfig`. */
  filename?: string[];
  /** explain: a scenario file instead of manifests, and the step whose world to explain. */
  scenario?: string;
  step?: string;
  namespace: string;
  external?: ExternalInfo[];
  color?: boolean;
}

function addInputOptions(
  command: Command,
  filename: 'required' | 'or-scenario' = 'required',
): Command {
  const help = 'manifest file or directory (repeatable; YAML, JSON, multi-document, kind: List)';
  if (filename === 'required')
    command.option('-f, --filename <path>', `${help}; or --kubeconfig`, collect(String));
  else
    command
      .option('-f, --filename <path>', `${help}; or --scenario`, collect(String))
      .option('--scenario <file>', 'explain a cell of a scenario file (docs/SCENARIOS.md) instead')
      .option(
        '--step <name>',
        'with --scenario: the step (its name or number, from 1) whose world to explain',
      );
  return addLiveOptions(addModelSwitches(command))
    .option(
      '-n, --namespace <ns>',
      'namespace of objects that name none; with --kubeconfig, the only namespace read',
      'default',
    )
    .option(
      '--external <name=ip>',
      'a non-pod peer (e.g. an external database) as a row and column of the table (repeatable)',
      collect(externalArg),
    )
    .option('--no-color', 'plain output (also when NO_COLOR is set or stdout is not a terminal)');
}

/** The world of one step of a scenario (explain --scenario FILE [--step NAME]). */
async function scenarioModel(flags: InputFlags & { scenario: string }) {
  if (flags.filename !== undefined)
    throw new UsageError('give either -f manifests or --scenario FILE, not both');
  const scenario = await loadScenario(flags.scenario);
  const names = scenario.steps.map((s, i) => `${String(i + 1)} "${s.name}"`).join(', ');
  let step = scenario.steps.length === 1 ? scenario.steps[0] : undefined;
  if (flags.step !== undefined)
    step =
      scenario.steps.find((s) => s.name === flags.step) ??
      (/^\d+$/.test(flags.step) ? scenario.steps[Number(flags.step) - 1] : undefined);
  if (step === undefined)
    throw new UsageError(
      flags.step === undefined
        ? `${flags.scenario} has ${String(scenario.steps.length)} steps: choose one with --step (${names})`
        : `${flags.scenario} has no step "${flags.step}" (steps: ${names})`,
    );
  const manifests: ManifestSet = { world: step.world, origins: new Map(), ignored: [] };
  return { manifests, model: new NetworkModel(step.world, scenario.options) };
}

async function buildModel(flags: InputFlags, io: Io, command: Command) {
  const live = flags.kubeconfig !== undefined;
  if (!live && (flags.context !== undefined || flags.allNamespaces === true))
    throw new UsageError('--context and -A read a live cluster: they need --kubeconfig FILE');
  if (live && (flags.filename !== undefined || flags.scenario !== undefined))
    throw new UsageError(
      'give either manifests (-f PATH, --scenario FILE) or a live cluster (--kubeconfig FILE), not both; to compare them: polygraph diff',
    );
  if (flags.scenario !== undefined) return scenarioModel({ ...flags, scenario: flags.scenario });
  if (flags.step !== undefined) throw new UsageError('--step needs --scenario FILE');
  if (flags.filename === undefined && !live)
    throw new UsageError(
      'give the manifests with -f PATH, a live cluster with --kubeconfig FILE (or a scenario with --scenario FILE for explain)',
    );
  const manifests: ManifestSet =
    flags.filename === undefined
      ? await (async () => {
          const read = await readLive(io, { ...flags, namespace: flags.namespace }, command);
          return {
            world: { ...read.world, externals: flags.external ?? [] },
            origins: new Map(),
            ignored: [],
          };
        })()
      : await loadManifests(flags.filename, {
          defaultNamespace: flags.namespace,
          externals: flags.external ?? [],
        });
  const names = new Map<string, string>();
  for (const e of manifests.world.externals) {
    const earlier = names.get(e.name);
    if (earlier !== undefined)
      throw new UsageError(
        `two external peers are named "${e.name}" (${earlier} and ${e.ip}${e.node ? ', a Node' : ''}): give each --external a name of its own`,
      );
    names.set(e.name, e.ip);
  }
  return { manifests, model: new NetworkModel(manifests.world, modelOptions(flags)) };
}

/** Every (port, protocol) some pod declares, ordered by protocol then port. */
function declaredProbes(model: NetworkModel): ProbePort[] {
  const seen = new Map<string, ProbePort>();
  for (const e of model.endpoints) {
    if (e.kind !== 'pod') continue;
    for (const p of e.pod.ports)
      seen.set(`${p.protocol}/${p.containerPort}`, { port: p.containerPort, protocol: p.protocol });
  }
  return [...seen.values()].sort(
    (a, b) => a.protocol.localeCompare(b.protocol) || Number(a.port) - Number(b.port),
  );
}

/** `name/PROTOCOL` of every named container port of `pods`, sorted and unique. */
function namedPorts(endpoints: readonly Endpoint[]): string[] {
  const names = new Set<string>();
  for (const e of endpoints)
    if (e.kind === 'pod')
      for (const p of e.pod.ports) if (p.name !== undefined) names.add(`${p.name}/${p.protocol}`);
  return [...names].sort();
}

/**
 * Why a probe by port name cannot be evaluated on any of `destinations`, or undefined when one of
 * them serves it: a misspelt name would otherwise give a table of `?` and exit 0.
 */
function unservedProbeName(
  probe: ProbePort,
  destinations: readonly Endpoint[],
  where?: string,
): string | undefined {
  if (typeof probe.port !== 'string') return undefined;
  const name = probe.port;
  if (destinations.some((e) => resolveProbePort(probe, e) !== undefined)) return undefined;
  const served = namedPorts(destinations);
  const otherProtocol = served.filter((s) => s.startsWith(`${name}/`));
  const guess = closest(
    name,
    served.filter((s) => s.endsWith(`/${probe.protocol}`)).map((s) => s.split('/')[0] ?? s),
  );
  const hint =
    otherProtocol.length > 0
      ? `; it is served as ${otherProtocol.join(' and ')}: --probe ${otherProtocol[0] ?? ''}`
      : guess !== undefined
        ? `; did you mean "${guess}"?`
        : '';
  const list = served.length > 0 ? `port names served: ${served.join(', ')}` : 'no port is named';
  const subject =
    where === undefined
      ? `no pod serves a ${probe.protocol} port named "${name}"`
      : `${where} serves no ${probe.protocol} port named "${name}"`;
  return `${subject}${hint} (${list})`;
}

/** Every endpoint matching one of `patterns` (all when none), in endpoint order. */
function select(
  model: NetworkModel,
  patterns: readonly Pattern[] | undefined,
  flag: string,
): Endpoint[] {
  if (!patterns || patterns.length === 0) return [...model.endpoints];
  const chosen = model.endpoints.filter((e) => endpointMatches(patterns, e));
  if (chosen.length === 0) {
    const texts = patterns.map((p) => p.text);
    const names = new Set(texts.map((t) => t.split('/').pop() ?? t));
    const sameName = model.endpoints
      .filter((e) => e.kind === 'pod' && names.has(e.name))
      .map((e) => e.key);
    const known = model.endpoints.map((e) => e.key);
    throw new UsageError(
      `${flag} ${texts.join(' ')} matches no endpoint${sameName.length > 0 ? `; did you mean ${sameName.join(' or ')}?` : ''} (known: ${known.slice(0, 12).join(', ')}${known.length > 12 ? ', …' : ''})`,
    );
  }
  return chosen;
}

function parsePatterns(texts: readonly string[] | undefined, flag: string, namespace: string) {
  return (texts ?? []).map((text) => {
    const pattern = parsePattern(text, { namespace });
    if (typeof pattern === 'string') throw new UsageError(`${flag} ${text}: ${pattern}`);
    return pattern;
  });
}

/** Gathers output lines into large writes (tables of large clusters are streamed). */
function writeLines(io: Io, lines: Iterable<string>): Promise<void> {
  return writeChunks(io, withNewlines(lines));
}

interface ModelCommandFlags extends InputFlags {
  probe?: ProbePort[];
  output: 'table' | 'json';
  from?: string[];
  to?: string[];
  only?: 'allowed' | 'denied';
  allPorts?: boolean;
  explainCells?: boolean;
}

export function modelCommand(io: Io): Command {
  const command = new Command('model')
    .summary('evaluate NetworkPolicies over Kubernetes manifests, or a live cluster read-only')
    .description(
      'Evaluates the NetworkPolicies of plain Kubernetes manifests (-f) or of a live cluster\n' +
        '(--kubeconfig: its namespaces, running pods and NetworkPolicies, read with list and get\n' +
        'only) and prints the verdict for every source x destination x probe: one truth table per\n' +
        'probe, or one JSON document (-o json, format in docs/OUTPUT.md). Workloads in manifests\n' +
        'stand for the pods they run (docs/MODEL.md); a cluster gives one row per running pod.\n' +
        'ClusterNetworkPolicies, AdminNetworkPolicies and BaselineAdminNetworkPolicies in manifests\n' +
        'are evaluated in their tiers (docs/MODEL.md).',
    )
    .option(
      '--probe <port[/protocol]>',
      'probe this port number or port name (repeatable; protocol defaults to TCP); default: every port the pods declare',
      collect(probeArg),
    )
    .option(
      '--from <pattern>',
      'sources: NS/POD, NS/*, NS/[selector], [selector]/*, ext:NAME, * (repeatable; a bare POD is in -n)',
      collect(String),
    )
    .option('--to <pattern>', 'destinations, as --from (repeatable)', collect(String))
    .addOption(
      new Option(
        '--only <verdict>',
        'keep only sources and destinations with a cell of this verdict',
      ).choices(['allowed', 'denied']),
    )
    .option(
      '--all-ports',
      'probe every destination on every probe, also ports it does not declare (default: those are "not served")',
    )
    .option(
      '--explain-cells',
      'with -o json: the provenance (reason, deciding policies and rules) of every cell shown',
    )
    .addOption(
      new Option('-o, --output <format>', 'output format')
        .choices(['table', 'json'])
        .default('table'),
    );
  addInputOptions(command);
  command.action(async (flags: ModelCommandFlags) => {
    const fromPatterns = parsePatterns(flags.from, '--from', flags.namespace);
    const toPatterns = parsePatterns(flags.to, '--to', flags.namespace);
    const { manifests, model } = await buildModel(flags, io, command);
    const probes = flags.probe ?? declaredProbes(model);
    for (const probe of probes) {
      const problem = unservedProbeName(probe, model.endpoints);
      if (problem !== undefined) throw new UsageError(`--probe ${formatProbe(probe)}: ${problem}`);
    }
    const empty = model.endpoints.length === 0;
    const selection: Selection = {
      from: empty ? [] : select(model, fromPatterns, '--from'),
      to: empty ? [] : select(model, toPatterns, '--to'),
      servedOnly: flags.allPorts !== true,
      ...(flags.only
        ? { only: flags.only === 'allowed' ? ('allow' as const) : ('deny' as const) }
        : {}),
    };
    for (const warning of model.warnings) io.err(`warning: ${warning}`);
    // An empty result is still a result: say why on stderr, print the (empty) tables or document.
    if (empty)
      io.err(
        `note: no pods or external peers in ${flags.filename === undefined ? 'the cluster' : flags.filename.join(', ')}: nothing to evaluate`,
      );
    else if (probes.length === 0)
      io.err(
        'note: no pod declares a container port, so there is nothing to probe; name ports with --probe PORT[/PROTOCOL]',
      );
    if (flags.output === 'json') {
      await writeModelDocument((chunk) => io.write(chunk), {
        model,
        probes,
        origins: manifests.origins,
        selection,
        explainCells: flags.explainCells === true,
      });
      return;
    }
    const colors = palette(io.color(flags.color));
    if (probes.length > 0 && !empty) {
      for (const [i, probe] of probes.entries()) {
        const view = new ProbeView(model.table(probe), selection);
        await writeLines(io, [
          ...(i > 0 ? [''] : []),
          ...truthTableLines(view, colors, io.width()),
        ]);
      }
      io.out(`\n${colors.dim(MODEL_LEGEND)}`);
    }
    if (manifests.ignored.length > 0)
      io.err(
        colors.dim(
          `note: ignored ${manifests.ignored.length} object(s) of kinds the model does not use (${[...new Set(manifests.ignored.map((i) => i.kind))].join(', ')})`,
        ),
      );
  });
  return command;
}

export function explainCommand(io: Io): Command {
  const command = new Command('explain')
    .summary('walk through the policies deciding one flow')
    .description(
      'Explains the verdict of one flow: the egress side on the source, then the ingress side on\n' +
        'the destination; every policy of the namespace, whether it selects the pod, and each rule\n' +
        'with every peer and port checked.',
    )
    .requiredOption(
      '--from <key>',
      'source: namespace/pod (a bare pod name is in -n), ext:NAME for an --external peer, or a pattern as for model (every flow it selects is explained)',
    )
    .requiredOption('--to <key>', 'destination: namespace/pod, ext:NAME, or a pattern')
    .requiredOption(
      '--port <port[/protocol]>',
      'port number or name, protocol defaults to TCP',
      probeArg,
    )
    .addOption(
      new Option(
        '-o, --output <format>',
        'output format (json: the model document, docs/OUTPUT.md)',
      )
        .choices(['text', 'json'])
        .default('text'),
    )
    .addOption(
      new Option(
        '--family <4|6>',
        "the flow of one IP family of dual-stack pods: ipBlocks match the peer's address of it (default: the destination's primary family)",
      ).choices(['4', '6']),
    );
  addInputOptions(command, 'or-scenario');
  command.action(
    async (
      flags: InputFlags & {
        from: string;
        to: string;
        port: ProbePort;
        output: 'text' | 'json';
        family?: '4' | '6';
      },
    ) => {
      const family = flags.family === undefined ? undefined : flags.family === '4' ? 4 : 6;
      if (family !== undefined && flags.output === 'json')
        throw new UsageError('--family explains one flow as text: leave out -o json');
      const { manifests, model } = await buildModel(flags, io, command);
      const resolve = (key: string): Endpoint => {
        const bare = !key.includes('/') && !key.startsWith('ext:');
        const found = model.endpoint(bare ? `${flags.namespace}/${key}` : key);
        if (found) return found;
        const known = model.endpoints.map((e) => e.key);
        const sameName = known.filter((k) => k.endsWith(`/${key.split('/').pop() ?? key}`));
        throw new UsageError(
          `unknown endpoint "${key}": expected namespace/pod or ext:NAME${sameName.length > 0 ? `; did you mean ${sameName.join(' or ')}?` : ''} (known: ${known.slice(0, 12).join(', ')}${known.length > 12 ? ', …' : ''})`,
        );
      };
      // A key names one flow; a pattern (`*`, `[selector]`) explains every flow it selects.
      const isPattern = (text: string): boolean => /[*[]/.test(text);
      const pick = (text: string, flag: string): Endpoint[] =>
        isPattern(text)
          ? select(model, parsePatterns([text], flag, flags.namespace), flag)
          : [resolve(text)];
      const sources = pick(flags.from, '--from');
      const destinations = pick(flags.to, '--to');
      const problem = unservedProbeName(
        flags.port,
        destinations,
        destinations.length === 1 ? destinations[0]?.key : 'no destination selected',
      );
      if (problem !== undefined)
        throw new UsageError(`--port ${formatProbe(flags.port)}: ${problem}`);
      for (const warning of model.warnings) io.err(`warning: ${warning}`);
      if (flags.output === 'json') {
        // The same document as `model -o json`: one probe, its cells with their walkthroughs.
        await writeModelDocument((chunk) => io.write(chunk), {
          model,
          probes: [flags.port],
          origins: manifests.origins,
          selection: { from: sources, to: destinations, servedOnly: false },
          explainCells: true,
          walkthrough: (from, to, probe) => {
            const explanation = explainFlow(model, from.key, to.key, probe);
            return {
              ...(explanation.self ? { self: explanation.self } : {}),
              sides: explanation.sides,
            };
          },
        });
        return;
      }
      const colors = palette(io.color(flags.color));
      const texts: string[] = [];
      for (const from of sources)
        for (const to of destinations) {
          if (from.kind === 'external' && to.kind === 'external') continue;
          if (resolveProbePort(flags.port, to) === undefined) continue;
          texts.push(
            renderExplanation(explainFlow(model, from.key, to.key, flags.port, family), colors),
          );
        }
      io.out(texts.join('\n\n'));
    },
  );
  return command;
}
