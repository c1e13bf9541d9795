import { Command, Option } from 'commander';
import { formatProbe, type ProbePort } from '../domain/probe.js';
import { UsageError } from '../domain/errors.js';
import { closest } from '../domain/suggest.js';
import { loadManifests } from '../manifest/load.js';
import { NetworkModel, resolveProbePort, type Endpoint } from '../model/engine.js';
import { explainFlow } from '../model/explain.js';
import type { ExternalInfo } from '../model/types.js';
import { renderExplanation } from '../report/explain-text.js';
import { modelDocument } from '../report/model-json.js';
import { MODEL_LEGEND, renderTruthTable } from '../report/model-table.js';
import { palette } from '../report/style.js';
import { collect, externalArg, modelOptions, probeArg, type ModelFlags } from './options.js';
import type { Io } from './io.js';

interface InputFlags extends ModelFlags {
  filename: string[];
  namespace: string;
  external?: ExternalInfo[];
  color?: boolean;
}

function addInputOptions(command: Command): Command {
  return command
    .requiredOption(
      '-f, --filename <path>',
      'manifest file or directory (repeatable; YAML, JSON, multi-document, kind: List)',
      collect(String),
    )
    .option('-n, --namespace <ns>', 'namespace of objects that name none', 'default')
    .option(
      '--external <name=ip>',
      'a non-pod peer (e.g. an external database) as a row and column of the table (repeatable)',
      collect(externalArg),
    )
    .addOption(
      new Option(
        '--self-traffic <mode>',
        'a pod connecting to itself: allow (loopback, unfiltered) or policy',
      )
        .choices(['allow', 'policy'])
        .default('allow'),
    )
    .addOption(
      new Option('--ipblock-pods <mode>', 'whether ipBlock peers match pod IPs')
        .choices(['match', 'ignore'])
        .default('match'),
    )
    .addOption(
      new Option(
        '--host-network <mode>',
        "hostNetwork pods: node (their traffic is the node's) or pod",
      )
        .choices(['node', 'pod'])
        .default('node'),
    )
    .option('--no-color', 'plain output (also when NO_COLOR is set or stdout is not a terminal)');
}

async function buildModel(flags: InputFlags) {
  const manifests = await loadManifests(flags.filename, {
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

export function modelCommand(io: Io): Command {
  const command = new Command('model')
    .summary('evaluate NetworkPolicies over Kubernetes manifests, offline')
    .description(
      'Evaluates the NetworkPolicies of plain Kubernetes manifests and prints the verdict for every\n' +
        'source x destination x probe: one truth table per probe, or one JSON document (-o json,\n' +
        'format in docs/OUTPUT.md). Workloads stand for the pods they run (docs/MODEL.md).',
    )
    .option(
      '--probe <port[/protocol]>',
      'probe this port number or port name (repeatable; protocol defaults to TCP); default: every port the pods declare',
      collect(probeArg),
    )
    .addOption(
      new Option('-o, --output <format>', 'output format')
        .choices(['table', 'json'])
        .default('table'),
    );
  addInputOptions(command);
  command.action(async (flags: InputFlags & { probe?: ProbePort[]; output: 'table' | 'json' }) => {
    const { manifests, model } = await buildModel(flags);
    const probes = flags.probe ?? declaredProbes(model);
    for (const probe of probes) {
      const problem = unservedProbeName(probe, model.endpoints);
      if (problem !== undefined) throw new UsageError(`--probe ${formatProbe(probe)}: ${problem}`);
    }
    // An empty result is still a result: say why on stderr, print the (empty) tables or document.
    if (model.endpoints.length === 0)
      io.err(
        `note: no pods or external peers in ${flags.filename.join(', ')}: nothing to evaluate`,
      );
    else if (probes.length === 0)
      io.err(
        'note: no pod declares a container port, so there is nothing to probe; name ports with --probe PORT[/PROTOCOL]',
      );
    const tables = probes.map((p) => model.table(p));
    if (flags.output === 'json') {
      io.out(JSON.stringify(modelDocument(model, tables, manifests.origins), null, 2));
      return;
    }
    const colors = palette(io.color(flags.color));
    const blocks = tables.map((t) => renderTruthTable(t, colors, io.width()));
    if (blocks.length > 0 && model.endpoints.length > 0)
      io.out(`${blocks.join('\n\n')}\n\n${colors.dim(MODEL_LEGEND)}`);
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
    .requiredOption('--from <key>', 'source: namespace/pod, or ext:NAME for an --external peer')
    .requiredOption('--to <key>', 'destination: namespace/pod, or ext:NAME')
    .requiredOption(
      '--port <port[/protocol]>',
      'port number or name, protocol defaults to TCP',
      probeArg,
    )
    .addOption(
      new Option('-o, --output <format>', 'output format')
        .choices(['text', 'json'])
        .default('text'),
    );
  addInputOptions(command);
  command.action(
    async (
      flags: InputFlags & { from: string; to: string; port: ProbePort; output: 'text' | 'json' },
    ) => {
      const { model } = await buildModel(flags);
      for (const key of [flags.from, flags.to]) {
        if (!model.endpoint(key)) {
          const known = model.endpoints.map((e) => e.key);
          const sameName = known.filter((k) => k.endsWith(`/${key}`));
          throw new UsageError(
            `unknown endpoint "${key}": expected namespace/pod or ext:NAME${sameName.length > 0 ? `; did you mean ${sameName.join(' or ')}?` : ''} (known: ${known.slice(0, 12).join(', ')}${known.length > 12 ? ', …' : ''})`,
          );
        }
      }
      const destination = model.endpoint(flags.to);
      const problem = destination
        ? unservedProbeName(flags.port, [destination], destination.key)
        : undefined;
      if (problem !== undefined)
        throw new UsageError(`--port ${formatProbe(flags.port)}: ${problem}`);
      const explanation = explainFlow(model, flags.from, flags.to, flags.port);
      if (flags.output === 'json') io.out(JSON.stringify(explanation, null, 2));
      else io.out(renderExplanation(explanation, palette(io.color(flags.color))));
    },
  );
  return command;
}
