/**
 * The semantic phase: what the schema cannot say. References resolve (pods, namespaces,
 * externals, policies, probes, steps), names are unique and valid as the API server wants them,
 * files exist, tables fit their header. Every issue is located; the world of every step is
 * computed on the way, since "does shop/web exist?" depends on the step.
 */
import { dirname, isAbsolute, join } from 'node:path';

/** A path of the scenario file: relative to the file's directory unless absolute. */
function joinPath(dir: string, path: string): string {
  return isAbsolute(path) ? path : join(dir, path);
}
import type { Issue, SourceLocation } from '../domain/issue.js';
import { familyName, type Family } from '../domain/job.js';
import { parsePattern, type Pattern, type PatternPart } from '../domain/pattern.js';
import { formatProbe, parseProbe, portNameProblems, type ProbePort } from '../domain/probe.js';
import type { Protocol } from '../domain/protocol.js';
import { closest } from '../domain/suggest.js';
import type { SourceDocument } from '../manifest/document.js';
import { collectObjects } from '../manifest/objects.js';
import { familiesOf, parseIp } from '../model/cidr.js';
import { NetworkModel } from '../model/engine.js';
import {
  DEFAULT_MODEL_OPTIONS,
  NAMESPACE_NAME_LABEL,
  type ClusterPolicyInfo,
  type ContainerPort,
  type ExternalInfo,
  type NamespaceInfo,
  type NetworkPolicyInfo,
  type PodInfo,
  type World,
} from '../model/types.js';
import {
  dns1123LabelProblem,
  dns1123SubdomainProblem,
  labelKeyProblem,
  labelValueProblem,
} from '../model/validate-meta.js';
import { formatPath, type Path } from './path.js';
import type { ScenarioShape } from './shape.js';
import { readPolicies, readSource, type ReadFile } from './sources.js';
import type {
  Action,
  CellSelector,
  HeldConnection,
  Expectation,
  ExpectationRule,
  ExpectationTable,
  ExpectedVerdict,
  KnownDeviation,
  Scenario,
  ScenarioClusterPolicy,
  ScenarioPolicy,
  ScenarioStep,
} from './types.js';

type Shape = ScenarioShape;
type Topology = Shape['topology'];
type PodShape = NonNullable<
  NonNullable<NonNullable<Topology['namespaces']>[string]['pods']>[string]
>;
type PortShape = NonNullable<NonNullable<PodShape['ports']>[number]>;
type PolicySourceShape = NonNullable<NonNullable<Shape['policies']>[number]>;
type StepShape = NonNullable<NonNullable<Shape['steps']>[number]>;
type ActionShape = NonNullable<NonNullable<StepShape['actions']>[number]>;
type HoldShape = NonNullable<NonNullable<StepShape['hold']>[number]>;
type ExpectShape = NonNullable<Shape['expect']>;
type DeviationShape = NonNullable<NonNullable<Shape['knownDeviations']>[number]>;

const EXTERNAL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const CELL_VERDICTS: Readonly<Record<string, ExpectedVerdict | null>> = {
  '.': 'allow',
  X: 'deny',
  '?': 'unresolvable',
  '-': null,
};

function entries<T>(record: Readonly<Record<string, T>> | undefined): [string, T][] {
  return record ? Object.entries(record) : [];
}

function where(location: SourceLocation): string {
  return `${location.file}:${location.line}:${location.col}`;
}

function podRefKey(pod: { readonly namespace: string; readonly name: string }): string {
  return `${pod.namespace}/${pod.name}`;
}

/** The endpoint keys of a world, as rules and tables name them. */
function endpointKeys(world: World): string[] {
  return [...world.pods.map(podRefKey), ...world.externals.map((e) => `ext:${e.name}`)];
}

function namespaceNames(world: World): string[] {
  return [
    ...new Set([...world.namespaces.map((n) => n.name), ...world.pods.map((p) => p.namespace)]),
  ];
}

function servedPorts(world: World): ContainerPort[] {
  return [...world.pods.flatMap((p) => p.ports), ...world.externals.flatMap((e) => e.ports ?? [])];
}

/** Whether some endpoint of the world serves the probe. */
function serves(world: World, probe: ProbePort): boolean {
  return servedPorts(world).some(
    (p) =>
      p.protocol === probe.protocol &&
      (typeof probe.port === 'number' ? p.containerPort === probe.port : p.name === probe.port),
  );
}

/** What a world serves, as probes would be written (`80/TCP`, `http/TCP`). */
function servedProbeTexts(world: World): string[] {
  const texts = new Set<string>();
  for (const p of servedPorts(world)) {
    texts.add(`${p.containerPort}/${p.protocol}`);
    if (p.name !== undefined) texts.add(`${p.name}/${p.protocol}`);
  }
  return [...texts];
}

function suggestion(word: string, candidates: readonly string[]): string {
  const guess = closest(word, candidates);
  return guess === undefined ? '' : `; did you mean ${guess}?`;
}

/** `NAMESPACE/NAME` of a pod or a policy. */
function parseRef(
  text: string,
  what: 'POD' | 'NAME',
): { namespace: string; name: string } | string {
  const parts = text.split('/');
  const [namespace = '', name = ''] = parts;
  if (parts.length !== 2 || namespace === '' || name === '')
    return `expected NAMESPACE/${what}, got ${JSON.stringify(text)}`;
  const nsProblem = dns1123LabelProblem(namespace);
  if (nsProblem) return `invalid namespace "${namespace}": ${nsProblem}`;
  const nameProblem = dns1123SubdomainProblem(name);
  if (nameProblem) return `invalid name "${name}": ${nameProblem}`;
  return { namespace, name };
}

/** `IPv4` / `IPv6` (any case) as a family, or an error message. */
export function parseFamily(text: string): Family | string {
  const match = /^ipv([46])$/i.exec(text.trim());
  if (match) return match[1] === '4' ? 4 : 6;
  return `expected IPv4 or IPv6, got ${JSON.stringify(text)}`;
}

/**
 * Splits `from P to Q on R over F` on its keywords (outside brackets and parentheses).
 */
export function parseCellSelector(text: string): Omit<CellSelector, 'text'> | string {
  const words: { word: string; start: number; end: number }[] = [];
  const open: string[] = [];
  let start = -1;
  for (let i = 0; i <= text.length; i++) {
    const ch = text[i];
    if (ch === '[' || ch === '(') open.push(ch);
    if (ch === ']' || ch === ')') {
      const expected = ch === ']' ? '[' : '(';
      if (open.pop() !== expected) return `"${ch}" without its "${expected}"`;
    }
    const space = ch === undefined || (/\s/.test(ch) && open.length === 0);
    if (space && start >= 0) {
      words.push({ word: text.slice(start, i), start, end: i });
      start = -1;
    } else if (!space && start < 0) start = i;
  }
  const unclosed = open.pop();
  if (unclosed !== undefined)
    return `unclosed "${unclosed}": a label selector is written [k=v] or [k in (a,b)]`;
  const order = ['from', 'to', 'on', 'over'] as const;
  const parts: Partial<Record<(typeof order)[number], string>> = {};
  let last = -1;
  let current: (typeof order)[number] | undefined;
  let argument: string[] = [];
  const close = (): string | undefined => {
    if (current === undefined) return undefined;
    if (argument.length === 0)
      return `missing ${current === 'on' ? 'a probe' : current === 'over' ? 'a family (IPv4 or IPv6)' : 'a pattern'} after "${current}"`;
    parts[current] = argument.join(' ');
    return undefined;
  };
  for (const { word } of words) {
    const keyword = order.find((k) => k === word);
    if (keyword === undefined) {
      if (current === undefined)
        return `expected "from", "to", "on" or "over", got ${JSON.stringify(word)}`;
      if (argument.length > 0) {
        // A pattern or a probe is one word (a selector's spaces are inside its brackets).
        const next = order.slice(order.indexOf(current) + 1).map((k) => `"${k}"`);
        const choices =
          next.length > 1
            ? `${next.slice(0, -1).join(', ')} or ${next.at(-1) ?? ''}`
            : next.join('');
        return `unexpected ${JSON.stringify(word)} after "${current} ${argument.join(' ')}": expected ${next.length > 0 ? `${choices}, or the end` : 'the end'}`;
      }
      argument.push(word);
      continue;
    }
    const problem = close();
    if (problem) return problem;
    const index = order.indexOf(keyword);
    if (parts[keyword] !== undefined || keyword === current) return `"${keyword}" appears twice`;
    if (index < last)
      return `"${keyword}" must come before "${order[last] ?? ''}" (the order is from, to, on, over)`;
    last = index;
    current = keyword;
    argument = [];
  }
  const problem = close();
  if (problem) return problem;
  if (current === undefined)
    return 'expected "from PATTERN to PATTERN on PROBE over FAMILY" (each part optional, at least one)';
  const result: { from?: Pattern; to?: Pattern; probe?: ProbePort; family?: Family } = {};
  for (const side of ['from', 'to'] as const) {
    const patternText = parts[side];
    if (patternText === undefined) continue;
    const pattern = parsePattern(patternText);
    if (typeof pattern === 'string') return `${side}: ${pattern}`;
    result[side] = pattern;
  }
  if (parts.on !== undefined) {
    const probe = parseProbe(parts.on);
    if (typeof probe === 'string') return `on: ${probe}`;
    result.probe = probe;
  }
  if (parts.over !== undefined) {
    const family = parseFamily(parts.over);
    if (typeof family === 'string') return `over: ${family}`;
    result.family = family;
  }
  return result;
}

interface StepContext {
  readonly world: World;
  /** ` in step "NAME"`, or '' for a scenario without steps. */
  readonly where: string;
  /** The probes of the step: explicit ones, or what the world serves. */
  readonly probed: (probe: ProbePort) => string | undefined;
}

export class Resolver {
  readonly issues: Issue[] = [];
  private readonly dir: string;
  private readonly lines: readonly string[];

  constructor(
    private readonly file: string,
    text: string,
    private readonly doc: SourceDocument,
    private readonly readFile: ReadFile,
    /** Paths where the shape phase found a problem (already reported). */
    private readonly shapeIssues: readonly Path[] = [],
  ) {
    this.dir = dirname(file);
    this.lines = text.split(/\r?\n/);
  }

  /** Whether the shape phase already reported something at or below `path`. */
  private reported(path: Path): boolean {
    return this.shapeIssues.some(
      (issue) => issue.length >= path.length && path.every((part, i) => issue[i] === part),
    );
  }

  private locate(path: Path): SourceLocation {
    return this.doc.locate('', path);
  }

  private at(path: Path, message: string, location = this.locate(path)): void {
    this.issues.push({ path: formatPath(path), message, location });
  }

  async resolve(shape: Shape): Promise<Scenario> {
    const topology = await this.topology(shape.topology);
    const read = this.duplicatePolicies(
      await this.policySources(shape.policies ?? [], ['policies']),
    );
    const policies = read.filter(isNetworkPolicy);
    const clusterPolicies = read.filter(isClusterPolicy);
    const initial: World = withPolicies({ ...topology, policies: [] }, read);
    const probes = this.probes(shape.probes);
    const stepShapes: { step: StepShape; path: Path }[] = [];
    if (shape.steps === undefined) {
      stepShapes.push({
        step: { name: 'main', ...(shape.expect ? { expect: shape.expect } : {}) },
        path: [],
      });
    } else {
      if (shape.expect !== undefined)
        this.at(
          ['expect'],
          'a scenario with steps has no top-level expect: give each step its own expect',
        );
      shape.steps.forEach((step, i) => {
        if (step) stepShapes.push({ step, path: ['steps', i] });
      });
    }
    const steps: ScenarioStep[] = [];
    const names = new Map<string, Path>();
    let world = initial;
    for (const [index, { step, path }] of stepShapes.entries()) {
      const earlier = names.get(step.name);
      if (earlier !== undefined)
        this.at(
          [...path, 'name'],
          `duplicate step name "${step.name}" (also ${formatPath(earlier)})`,
        );
      else names.set(step.name, path);
      const actions: Action[] = [];
      const before = world;
      world = await this.actions(step.actions ?? [], [...path, 'actions'], world, actions);
      const holds = this.holds(step.hold ?? [], [...path, 'hold'], before, world);
      const context = this.stepContext(
        world,
        shape.steps === undefined ? '' : ` in step "${step.name}"`,
        probes,
      );
      const expectPath = path.length === 0 ? ['expect'] : [...path, 'expect'];
      const expectation = step.expect
        ? this.expectation(step.expect, expectPath, context)
        : undefined;
      steps.push({
        index,
        name: step.name,
        ...(step.description !== undefined ? { description: step.description } : {}),
        actions,
        world,
        ...(expectation ? { expect: expectation } : {}),
        ...(holds.length > 0 ? { holds } : {}),
        location: this.locate(path),
      });
    }
    if (probes)
      this.probesServed(probes, shape.probes ?? [], [initial, ...steps.map((s) => s.world)]);
    const knownDeviations = this.deviations(shape.knownDeviations ?? [], steps, probes);
    const options = shape.options ?? {};
    const modelOptions = {
      selfTraffic: options.selfTraffic ?? DEFAULT_MODEL_OPTIONS.selfTraffic,
      ipBlockMatchesPods: options.ipBlockMatchesPods ?? DEFAULT_MODEL_OPTIONS.ipBlockMatchesPods,
      hostNetwork: options.hostNetwork ?? DEFAULT_MODEL_OPTIONS.hostNetwork,
    };
    const warnings = [
      ...new Set(
        steps.flatMap((step) =>
          (step.world.clusterPolicies ?? []).length > 0
            ? new NetworkModel(step.world, modelOptions).warnings.map((w) =>
                steps.length > 1 ? `step "${step.name}": ${w}` : w,
              )
            : [],
        ),
      ),
    ];
    return {
      file: this.file,
      name: shape.metadata.name,
      ...(shape.metadata.description !== undefined
        ? { description: shape.metadata.description }
        : {}),
      ...(shape.metadata.source !== undefined ? { source: shape.metadata.source } : {}),
      options: modelOptions,
      ...(probes ? { probes: probes.map((p) => p.probe) } : {}),
      initial,
      policies,
      ...(clusterPolicies.length > 0 ? { clusterPolicies } : {}),
      ...(warnings.length > 0 ? { warnings } : {}),
      steps,
      knownDeviations,
    };
  }

  // ---- topology -------------------------------------------------------------------------

  private labels(
    value: Readonly<Record<string, string | null>> | undefined,
    path: Path,
  ): Record<string, string | null> {
    const labels: Record<string, string | null> = {};
    for (const [key, text] of entries(value)) {
      const keyProblem = labelKeyProblem(key);
      if (keyProblem) this.at([...path, key], `invalid label key "${key}": ${keyProblem}`);
      const valueProblem = text === null ? undefined : labelValueProblem(text);
      if (valueProblem)
        this.at([...path, key], `invalid label value "${text ?? ''}": ${valueProblem}`);
      if (!keyProblem && !valueProblem) labels[key] = text;
    }
    return labels;
  }

  private setLabels(
    value: Readonly<Record<string, string>> | undefined,
    path: Path,
  ): Record<string, string> {
    const labels: Record<string, string> = {};
    for (const [key, text] of Object.entries(this.labels(value, path)))
      if (text !== null) labels[key] = text;
    return labels;
  }

  private ports(list: readonly (PortShape | undefined)[] | undefined, path: Path): ContainerPort[] {
    const ports: ContainerPort[] = [];
    const seen = new Map<string, number>();
    (list ?? []).forEach((entry, i) => {
      if (entry === undefined) return;
      const here = [...path, i];
      let port: ContainerPort;
      if (typeof entry === 'number') port = { containerPort: entry, protocol: 'TCP' };
      else if (typeof entry === 'string') {
        const [number = '', protocol = 'TCP'] = entry.split('/');
        port = { containerPort: Number(number), protocol: protocol.toUpperCase() as Protocol };
        if (port.containerPort < 1 || port.containerPort > 65535) {
          this.at(here, `port ${number} out of range: expected 1-65535`);
          return;
        }
      } else {
        port = {
          containerPort: entry.port,
          protocol: entry.protocol ?? 'TCP',
          ...(entry.name !== undefined ? { name: entry.name } : {}),
        };
        if (entry.name !== undefined) {
          const problems = portNameProblems(entry.name);
          if (problems.length > 0) {
            this.at([...here, 'name'], `invalid port name "${entry.name}": ${problems.join('; ')}`);
            return;
          }
          const earlier = seen.get(`name:${entry.name}`);
          if (earlier !== undefined) {
            this.at(
              [...here, 'name'],
              `duplicate port name "${entry.name}" (also ${formatPath([...path, earlier])})`,
            );
            return;
          }
          seen.set(`name:${entry.name}`, i);
        }
      }
      const id = `${port.containerPort}/${port.protocol}`;
      const earlier = seen.get(id);
      if (earlier !== undefined) {
        this.at(here, `duplicate port ${id} (also ${formatPath([...path, earlier])})`);
        return;
      }
      seen.set(id, i);
      ports.push(port);
    });
    return ports;
  }

  private pod(namespace: string, name: string, shape: PodShape, path: Path): PodInfo {
    const ips: string[] = [];
    (shape.ips ?? []).forEach((ip, i) => {
      if (ip === undefined) return;
      if (parseIp(ip)) ips.push(ip);
      else this.at([...path, 'ips', i], `"${ip}" is not a valid IP address`);
    });
    if (shape.node !== undefined) {
      const problem = dns1123SubdomainProblem(shape.node);
      if (problem) this.at([...path, 'node'], `invalid node name "${shape.node}": ${problem}`);
    }
    return {
      namespace,
      name,
      labels: this.setLabels(shape.labels, [...path, 'labels']),
      ips,
      ports: this.ports(shape.ports, [...path, 'ports']),
      hostNetwork: shape.hostNetwork ?? false,
      ...(shape.node !== undefined ? { nodeName: shape.node } : {}),
    };
  }

  private async topology(topology: Topology): Promise<Omit<World, 'policies'>> {
    const namespaces: NamespaceInfo[] = [];
    const pods: PodInfo[] = [];
    const externals: ExternalInfo[] = [];
    const podPaths = new Map<string, Path>();
    const namespacePaths = new Map<string, Path>();
    for (const [ns, def] of entries(topology.namespaces)) {
      const path = ['topology', 'namespaces', ns];
      const problem = dns1123LabelProblem(ns);
      if (problem) this.at(path, `invalid namespace name "${ns}": ${problem}`);
      namespacePaths.set(ns, path);
      namespaces.push({
        name: ns,
        labels: { ...this.setLabels(def.labels, [...path, 'labels']), [NAMESPACE_NAME_LABEL]: ns },
      });
      for (const [name, pod] of entries(def.pods)) {
        const podPath = [...path, 'pods', name];
        const podProblem = dns1123SubdomainProblem(name);
        if (podProblem) this.at(podPath, `invalid pod name "${name}": ${podProblem}`);
        podPaths.set(`${ns}/${name}`, podPath);
        pods.push(this.pod(ns, name, pod, podPath));
      }
    }
    const externalPaths = new Map<string, Path>();
    for (const [group, node] of [
      ['externals', false],
      ['nodes', true],
    ] as const) {
      for (const [name, def] of entries(topology[group])) {
        const path = ['topology', group, name];
        const problem = node
          ? dns1123SubdomainProblem(name)
          : EXTERNAL_NAME.test(name)
            ? undefined
            : 'use letters, digits, "-", "_" and ".", starting and ending with a letter or digit';
        if (problem)
          this.at(path, `invalid ${node ? 'node' : 'external'} name "${name}": ${problem}`);
        const earlier = externalPaths.get(name);
        if (earlier !== undefined)
          this.at(
            path,
            `duplicate name "${name}": ${formatPath(earlier)} has it too (externals and nodes share the ext:NAME names)`,
          );
        externalPaths.set(name, path);
        if (!parseIp(def.ip)) this.at([...path, 'ip'], `"${def.ip}" is not a valid IP address`);
        const rawLabels =
          'labels' in def ? (def.labels as Record<string, string> | undefined) : undefined;
        const labels = rawLabels ? this.setLabels(rawLabels, [...path, 'labels']) : undefined;
        externals.push({
          name,
          ip: def.ip,
          ...(node ? { node: true } : {}),
          ports: this.ports(def.ports, [...path, 'ports']),
          ...(labels ? { labels } : {}),
        });
      }
    }
    const manifests = await this.manifests(topology.manifests ?? []);
    for (const ns of manifests.namespaces) {
      const earlier = namespacePaths.get(ns.namespace.name);
      if (earlier)
        this.at(
          earlier,
          `duplicate namespace ${ns.namespace.name}: also defined at ${where(ns.location)}`,
        );
      else
        namespaces.push({
          name: ns.namespace.name,
          labels: { ...ns.namespace.labels, [NAMESPACE_NAME_LABEL]: ns.namespace.name },
        });
    }
    for (const pod of manifests.pods) {
      const earlier = podPaths.get(podRefKey(pod.pod));
      if (earlier)
        this.at(
          earlier,
          `duplicate pod ${podRefKey(pod.pod)}: also defined at ${where(pod.location)}`,
        );
      else pods.push(pod.pod);
    }
    for (const node of manifests.nodes) {
      const earlier = externalPaths.get(node.node.name);
      if (earlier)
        this.at(
          earlier,
          `duplicate name "${node.node.name}": also a Node at ${where(node.location)}`,
        );
      else externals.push(node.node);
    }
    return { namespaces, pods, externals };
  }

  private async manifests(paths: readonly (string | undefined)[]): Promise<{
    namespaces: { namespace: NamespaceInfo; location: SourceLocation }[];
    pods: { pod: PodInfo; location: SourceLocation }[];
    nodes: { node: ExternalInfo; location: SourceLocation }[];
  }> {
    const documents: SourceDocument[] = [];
    for (const [i, path] of paths.entries()) {
      if (path === undefined) continue;
      const source = await readSource(joinPath(this.dir, path), this.readFile);
      if (source.problem) this.at(['topology', 'manifests', i], `${path}: ${source.problem}`);
      this.issues.push(...source.issues);
      documents.push(...source.documents);
    }
    const { manifests, issues } = collectObjects(documents);
    this.issues.push(...issues);
    const origin = (kind: string, id: string): SourceLocation =>
      manifests.origins.get(`${kind} ${id}`) ?? { file: this.file, line: 1, col: 1 };
    // NetworkPolicies in these files are not part of the topology: they apply only when the
    // same files (or others) are listed under `policies` (docs/SCENARIOS.md).
    return {
      namespaces: manifests.world.namespaces.map((namespace) => ({
        namespace,
        location: origin('Namespace', namespace.name),
      })),
      pods: manifests.world.pods.map((pod) => ({ pod, location: origin('Pod', podRefKey(pod)) })),
      nodes: manifests.world.externals.map((node) => ({
        node,
        location: origin('Node', node.name),
      })),
    };
  }

  // ---- policies --------------------------------------------------------------------------

  private async policySource(source: PolicySourceShape, path: Path): Promise<AnyPolicy[]> {
    if (typeof source !== 'string')
      return readPolicies(this.doc, source, path, this.issues, formatPath(path));
    const read = await readSource(joinPath(this.dir, source), this.readFile);
    if (read.problem) this.at(path, `${source}: ${read.problem}`);
    this.issues.push(...read.issues);
    return read.documents.flatMap((doc) => readPolicies(doc, doc.value, [], this.issues));
  }

  private async policySources(
    sources: readonly (PolicySourceShape | undefined)[],
    path: Path,
  ): Promise<AnyPolicy[]> {
    const policies: AnyPolicy[] = [];
    for (const [i, source] of sources.entries())
      if (source !== undefined) policies.push(...(await this.policySource(source, [...path, i])));
    return policies;
  }

  private duplicatePolicies(policies: readonly AnyPolicy[]): AnyPolicy[] {
    const seen = new Map<string, AnyPolicy>();
    const kept: AnyPolicy[] = [];
    for (const policy of policies) {
      const id = policyId(policy.info);
      const earlier = seen.get(id);
      if (earlier) {
        this.issues.push({
          path: '',
          object: 'kind' in policy.info ? id.replace('/', ' ') : `NetworkPolicy ${id}`,
          location: policy.location,
          message: `duplicate policy: already defined at ${where(earlier.location)}`,
        });
        continue;
      }
      seen.set(id, policy);
      kept.push(policy);
    }
    return kept;
  }

  // ---- probes ----------------------------------------------------------------------------

  private probes(
    list: readonly (string | number | undefined)[] | undefined,
  ): { probe: ProbePort; path: Path }[] | undefined {
    if (list === undefined) return undefined;
    const probes: { probe: ProbePort; path: Path }[] = [];
    const seen = new Map<string, Path>();
    list.forEach((entry, i) => {
      if (entry === undefined) return;
      const path = ['probes', i];
      const probe =
        typeof entry === 'number' ? { port: entry, protocol: 'TCP' as const } : parseProbe(entry);
      if (typeof probe === 'string') {
        this.at(path, probe);
        return;
      }
      const text = formatProbe(probe);
      const earlier = seen.get(text);
      if (earlier) {
        this.at(path, `duplicate probe ${text} (also ${formatPath(earlier)})`);
        return;
      }
      seen.set(text, path);
      probes.push({ probe, path });
    });
    return probes;
  }

  private probesServed(
    probes: readonly { probe: ProbePort; path: Path }[],
    _list: unknown,
    worlds: readonly World[],
  ): void {
    const served = [...new Set(worlds.flatMap(servedProbeTexts))];
    for (const { probe, path } of probes) {
      if (worlds.some((w) => serves(w, probe))) continue;
      const text = formatProbe(probe);
      this.at(path, `probe ${text}: no pod, external or node serves it${suggestion(text, served)}`);
    }
  }

  private stepContext(
    world: World,
    whereText: string,
    probes: readonly { probe: ProbePort }[] | undefined,
  ): StepContext {
    return {
      world,
      where: whereText,
      probed: (probe) => {
        const text = formatProbe(probe);
        if (probes) {
          const listed = probes.map((p) => formatProbe(p.probe));
          return listed.includes(text)
            ? undefined
            : `probe ${text} is not one of the probes (${listed.join(', ')})${suggestion(text, listed)}`;
        }
        if (serves(world, probe)) return undefined;
        const served = servedProbeTexts(world);
        return `probe ${text}: nothing${whereText} serves it, so it is not probed${suggestion(text, served)}`;
      },
    };
  }

  // ---- actions ---------------------------------------------------------------------------

  private async actions(
    list: readonly (ActionShape | undefined)[],
    path: Path,
    start: World,
    out: Action[],
  ): Promise<World> {
    let world = start;
    for (const [i, action] of list.entries()) {
      if (action === undefined) continue;
      world = await this.action(action, [...path, i], world, out);
    }
    return world;
  }

  private podNotFound(world: World, key: string): string {
    return `no pod ${key} at this point${suggestion(key, world.pods.map(podRefKey))}`;
  }

  private async action(
    action: ActionShape,
    path: Path,
    world: World,
    out: Action[],
  ): Promise<World> {
    if ('apply' in action) {
      const sources = Array.isArray(action.apply)
        ? action.apply.map((s, j) => ({ s, p: [...path, 'apply', j] }))
        : [{ s: action.apply, p: [...path, 'apply'] }];
      const policies: AnyPolicy[] = [];
      for (const { s, p } of sources)
        if (s !== undefined) policies.push(...(await this.policySource(s, p)));
      const applied = this.duplicatePolicies(policies);
      const cluster = applied.filter(isClusterPolicy);
      out.push({
        kind: 'apply',
        policies: applied.filter(isNetworkPolicy),
        ...(cluster.length > 0 ? { clusterPolicies: cluster } : {}),
      });
      return withPolicies(world, applied);
    }
    if ('deletePolicy' in action) {
      const refs = Array.isArray(action.deletePolicy)
        ? action.deletePolicy.map((r, j) => ({ r, p: [...path, 'deletePolicy', j] }))
        : [{ r: action.deletePolicy, p: [...path, 'deletePolicy'] }];
      let policies: readonly NetworkPolicyInfo[] = world.policies;
      for (const { r, p } of refs) {
        if (r === undefined) continue;
        const ref = parseRef(r, 'NAME');
        if (typeof ref === 'string') {
          this.at(p, ref);
          continue;
        }
        const key = `${ref.namespace}/${ref.name}`;
        if (!policies.some((x) => x.namespace === ref.namespace && x.name === ref.name)) {
          const names = policies.map((x) => `${x.namespace}/${x.name}`);
          this.at(p, `no policy ${key} at this point${suggestion(key, names)}`);
          continue;
        }
        policies = policies.filter((x) => !(x.namespace === ref.namespace && x.name === ref.name));
        out.push({ kind: 'delete-policy', ...ref });
      }
      return { ...world, policies };
    }
    if ('deleteClusterPolicy' in action) {
      const refs = Array.isArray(action.deleteClusterPolicy)
        ? action.deleteClusterPolicy.map((r, j) => ({ r, p: [...path, 'deleteClusterPolicy', j] }))
        : [{ r: action.deleteClusterPolicy, p: [...path, 'deleteClusterPolicy'] }];
      let cluster: readonly ClusterPolicyInfo[] = world.clusterPolicies ?? [];
      for (const { r, p } of refs) {
        if (r === undefined) continue;
        const slash = r.indexOf('/');
        const kind = slash < 0 ? undefined : r.slice(0, slash);
        const name = slash < 0 ? r : r.slice(slash + 1);
        const known = cluster.map((x) => `${x.kind}/${x.name}`);
        const found = cluster.filter(
          (x) => x.name === name && (kind === undefined || x.kind === kind),
        );
        if (found.length === 0) {
          const otherKinds = cluster.filter((x) => x.name === name).map((x) => x.kind);
          this.at(
            p,
            cluster.length === 0
              ? `no cluster policy ${r} at this point: none has been applied`
              : otherKinds.length > 0
                ? `no cluster policy ${r} at this point: ${name} is a ${otherKinds.join(' and a ')} (write ${otherKinds.map((k) => `${k}/${name}`).join(' or ')})`
                : `no cluster policy ${r} at this point${suggestion(r, slash < 0 ? cluster.map((x) => x.name) : known)} (applied: ${known.join(', ')})`,
          );
          continue;
        }
        if (found.length > 1) {
          this.at(
            p,
            `${r} names ${String(found.length)} cluster policies (${found.map((x) => `${x.kind}/${x.name}`).join(', ')}): write KIND/NAME`,
          );
          continue;
        }
        const [info] = found;
        if (info === undefined) continue;
        cluster = cluster.filter((x) => x !== info);
        out.push({
          kind: 'delete-cluster-policy',
          policyKind: info.kind,
          apiVersion: info.apiVersion,
          name: info.name,
        });
      }
      // A world without cluster policies has none of the key, as one that never had any.
      const next: { -readonly [K in keyof World]: World[K] } = {
        ...world,
        clusterPolicies: cluster,
      };
      if (cluster.length === 0) delete next.clusterPolicies;
      return next;
    }
    if ('label' in action) {
      const { pod, namespace } = action.label;
      const labelPath = [...path, 'label'];
      const labels = this.labels(action.label.labels, [...labelPath, 'labels']);
      if (pod !== undefined && namespace !== undefined) {
        this.at(labelPath, 'give either pod or namespace, not both (one label action each)');
        return world;
      }
      if (pod !== undefined) {
        const ref = parseRef(pod, 'POD');
        if (typeof ref === 'string') {
          this.at([...labelPath, 'pod'], ref);
          return world;
        }
        const key = podRefKey(ref);
        const target = world.pods.find((p) => podRefKey(p) === key);
        if (!target) {
          this.at([...labelPath, 'pod'], this.podNotFound(world, key));
          return world;
        }
        out.push({ kind: 'label-pod', namespace: ref.namespace, name: ref.name, labels });
        return {
          ...world,
          pods: world.pods.map((p) =>
            p === target ? { ...p, labels: merge(p.labels, labels) } : p,
          ),
        };
      }
      if (namespace !== undefined) {
        const names = namespaceNames(world);
        if (!names.includes(namespace)) {
          this.at(
            [...labelPath, 'namespace'],
            `no namespace ${namespace} at this point${suggestion(namespace, names)}`,
          );
          return world;
        }
        out.push({ kind: 'label-namespace', namespace, labels });
        const existing = world.namespaces.find((n) => n.name === namespace);
        const updated: NamespaceInfo = {
          name: namespace,
          labels: { ...merge(existing?.labels ?? {}, labels), [NAMESPACE_NAME_LABEL]: namespace },
        };
        return {
          ...world,
          namespaces: existing
            ? world.namespaces.map((n) => (n === existing ? updated : n))
            : [...world.namespaces, updated],
        };
      }
      if (!this.reported(labelPath))
        this.at(labelPath, 'required: pod (NAMESPACE/POD) or namespace, the object to relabel');
      return world;
    }
    if ('createPod' in action) {
      const { pod: refText, ...shape } = action.createPod;
      const podPath = [...path, 'createPod'];
      const ref = parseRef(refText, 'POD');
      if (typeof ref === 'string') {
        this.at([...podPath, 'pod'], ref);
        return world;
      }
      const pod = this.pod(ref.namespace, ref.name, shape, podPath);
      if (world.pods.some((p) => podRefKey(p) === podRefKey(ref))) {
        this.at([...podPath, 'pod'], `pod ${podRefKey(ref)} already exists at this point`);
        return world;
      }
      out.push({ kind: 'create-pod', pod });
      return { ...world, pods: [...world.pods, pod] };
    }
    const refs = Array.isArray(action.deletePod)
      ? action.deletePod.map((r, j) => ({ r, p: [...path, 'deletePod', j] }))
      : [{ r: action.deletePod, p: [...path, 'deletePod'] }];
    let pods = world.pods;
    for (const { r, p } of refs) {
      if (r === undefined) continue;
      const ref = parseRef(r, 'POD');
      if (typeof ref === 'string') {
        this.at(p, ref);
        continue;
      }
      const key = podRefKey(ref);
      if (!pods.some((x) => podRefKey(x) === key)) {
        this.at(p, this.podNotFound({ ...world, pods }, key));
        continue;
      }
      pods = pods.filter((x) => podRefKey(x) !== key);
      out.push({ kind: 'delete-pod', ...ref });
    }
    return { ...world, pods };
  }

  // ---- held connections ------------------------------------------------------------------

  /**
   * A step's held connections: both ends pods of the world before the step's actions (when the
   * connection is opened) and after them (when it is used again), a TCP or UDP port the
   * destination serves before the step, no connection declared twice.
   */
  private holds(
    shapes: readonly (HoldShape | undefined)[],
    path: Path,
    before: World,
    after: World,
  ): HeldConnection[] {
    const holds: HeldConnection[] = [];
    const seen = new Map<string, Path>();
    shapes.forEach((shape, i) => {
      if (shape === undefined) return;
      const here = [...path, i];
      let fields: { from: string; to: string; port: string; expect?: HeldConnection['expect'] };
      if (typeof shape === 'string') {
        const match = /^\s*from\s+(\S+)\s+to\s+(\S+)\s+on\s+(\S+)\s*$/.exec(shape);
        if (match === null) return; // the shape phase reported it
        fields = { from: match[1] ?? '', to: match[2] ?? '', port: match[3] ?? '' };
      } else {
        fields = {
          from: shape.from,
          to: shape.to,
          port: String(shape.port),
          ...(shape.expect === undefined ? {} : { expect: shape.expect }),
        };
      }
      const fieldPath = (name: string): Path =>
        typeof shape === 'string' ? here : [...here, name];
      let ok = true;
      const ends: string[] = [];
      for (const side of ['from', 'to'] as const) {
        const text = fields[side];
        const ref = parseRef(text, 'POD');
        if (typeof ref === 'string') {
          this.at(fieldPath(side), `${side}: ${ref} (a held connection is between two pods)`);
          ok = false;
          continue;
        }
        const key = podRefKey(ref);
        ends.push(key);
        if (!before.pods.some((p) => podRefKey(p) === key)) {
          this.at(
            fieldPath(side),
            `${side}: no pod ${key} before this step's actions, when the connection is opened${suggestion(key, before.pods.map(podRefKey))}`,
          );
          ok = false;
        } else if (!after.pods.some((p) => podRefKey(p) === key)) {
          this.at(
            fieldPath(side),
            `${side}: this step's actions delete ${key}; a held connection is used again after them, so both pods must still exist`,
          );
          ok = false;
        } else if (before.pods.find((p) => podRefKey(p) === key)?.hostNetwork === true) {
          this.at(
            fieldPath(side),
            `${side}: ${key} is a hostNetwork pod: polygraph does not create those, so it cannot hold a connection`,
          );
          ok = false;
        }
      }
      const probe = parseProbe(fields.port);
      if (typeof probe === 'string') {
        this.at(fieldPath('port'), `port: ${probe}`);
        return;
      }
      if (probe.protocol === 'SCTP') {
        this.at(
          fieldPath('port'),
          `port: ${formatProbe(probe)}: a held connection is TCP or UDP (the probe client has no SCTP, and the lab's kernel cannot carry it)`,
        );
        return;
      }
      const [fromKey, toKey] = ends;
      if (!ok || fromKey === undefined || toKey === undefined) return;
      const destination = before.pods.find((p) => podRefKey(p) === toKey);
      const served = destination?.ports.find(
        (p) =>
          p.protocol === probe.protocol &&
          (typeof probe.port === 'number' ? p.containerPort === probe.port : p.name === probe.port),
      );
      if (served === undefined) {
        const offered = (destination?.ports ?? [])
          .filter((p) => p.protocol === 'TCP' || p.protocol === 'UDP')
          .map(
            (p) =>
              `${String(p.containerPort)}/${p.protocol}${p.name === undefined ? '' : ` (${p.name})`}`,
          );
        this.at(
          fieldPath('port'),
          `port: ${toKey} does not serve ${formatProbe(probe)} before this step; it serves ${offered.length === 0 ? 'no TCP or UDP port' : offered.join(', ')}`,
        );
        return;
      }
      const text = `from ${fromKey} to ${toKey} on ${formatProbe(probe)}`;
      const earlier = seen.get(text);
      if (earlier !== undefined) {
        this.at(here, `${text} is held twice (also ${formatPath(earlier)})`);
        return;
      }
      seen.set(text, here);
      holds.push({
        from: fromKey,
        to: toKey,
        probe,
        port: served.containerPort,
        protocol: probe.protocol,
        ...(fields.expect === undefined ? {} : { expect: fields.expect }),
        text,
        location: this.locate(here),
      });
    });
    return holds;
  }

  // ---- expectations ----------------------------------------------------------------------

  /** Why a pattern names something that does not exist, if it does (globs and selectors never). */
  private patternProblem(pattern: Pattern, context: StepContext): string | undefined {
    const { world } = context;
    const exact = (part: PatternPart): string | undefined =>
      part.kind === 'name' && !part.name.includes('*') ? part.name : undefined;
    if (pattern.kind === 'all') return undefined;
    if (pattern.kind === 'external') {
      const name = exact(pattern.name);
      const names = world.externals.map((e) => e.name);
      if (name === undefined || names.includes(name)) return undefined;
      return `no external or node ${pattern.text}${context.where}${suggestion(
        pattern.text,
        names.map((n) => `ext:${n}`),
      )}`;
    }
    const namespace = exact(pattern.namespace);
    const pod = exact(pattern.pod);
    if (namespace !== undefined && pod !== undefined) {
      const key = `${namespace}/${pod}`;
      if (world.pods.some((p) => podRefKey(p) === key)) return undefined;
      return `no pod ${key}${context.where}${suggestion(key, world.pods.map(podRefKey))}`;
    }
    if (namespace !== undefined) {
      const names = namespaceNames(world);
      if (names.includes(namespace)) return undefined;
      return `no namespace ${namespace}${context.where}${suggestion(namespace, names)}`;
    }
    if (pod !== undefined) {
      const names = [...new Set(world.pods.map((p) => p.name))];
      if (names.includes(pod)) return undefined;
      return `no pod named ${pod} in any namespace${context.where}${suggestion(pod, names)}`;
    }
    return undefined;
  }

  /** A rule's or a deviation's cells, checked against the step; problems reported at `path`. */
  private cells(
    text: string,
    path: Path,
    contexts: readonly StepContext[],
  ): CellSelector | undefined {
    const parsed = parseCellSelector(text);
    if (typeof parsed === 'string') {
      this.at(path, `${JSON.stringify(text)}: ${parsed}`);
      return undefined;
    }
    let ok = true;
    // Cells checked against several steps are wrong only when they fit none of them: say so.
    const first = contexts[0];
    const anyStep = (problem: string): string =>
      contexts.length > 1 && first !== undefined && first.where !== ''
        ? problem.replace(first.where, ' in any step')
        : problem;
    for (const pattern of [parsed.from, parsed.to]) {
      if (!pattern) continue;
      const problems = contexts.map((c) => this.patternProblem(pattern, c));
      const problem = problems.every((p) => p !== undefined) ? problems[0] : undefined;
      if (problem) {
        this.at(path, anyStep(problem));
        ok = false;
      }
    }
    if (parsed.family !== undefined) {
      const { family } = parsed;
      const pods = contexts.flatMap((c) => c.world.pods);
      const declared = familiesOf(pods.flatMap((p) => p.ips));
      // A pod that declares no address may have one of either family on a live run (a scenario
      // written for a dual-stack cluster names families without inventing addresses): only a
      // family that no pod can have is an error.
      if (!declared.includes(family) && pods.every((p) => p.ips.length > 0)) {
        this.at(
          path,
          `${JSON.stringify(text)}: over ${familyName(family)}: every pod declares its addresses (ips:) and none is ${familyName(family)}${contexts.length > 1 ? ' in any step' : (first?.where ?? '')}; pods have ${declared.map(familyName).join(' and ')}`,
        );
        ok = false;
      }
    }
    if (parsed.probe) {
      const { probe } = parsed;
      const problems = contexts.map((c) => c.probed(probe));
      const problem = problems.every((p) => p !== undefined) ? problems[0] : undefined;
      if (problem) {
        this.at(path, anyStep(problem));
        ok = false;
      }
    }
    return ok ? { ...parsed, text: text.trim() } : undefined;
  }

  private expectation(shape: ExpectShape, path: Path, context: StepContext): Expectation {
    const rules: ExpectationRule[] = [];
    (shape.rules ?? []).forEach((rule, i) => {
      if (rule === undefined) return;
      const rulePath = [...path, 'rules', i];
      const pairs = Object.entries(rule);
      if (pairs.length === 0 && !this.reported(rulePath))
        this.at(rulePath, 'empty rule: expected "from PATTERN to PATTERN on PROBE": VERDICT');
      for (const [text, verdict] of pairs) {
        const cells = this.cells(text, rulePath, [context]);
        if (cells) rules.push({ cells, verdict, location: this.locate(rulePath) });
      }
    });
    const tables: ExpectationTable[] = [];
    for (const [probeText, text] of entries(shape.tables)) {
      const table = this.table(probeText, text, [...path, 'tables', probeText], context);
      if (table) tables.push(table);
    }
    return { ...(shape.default ? { default: shape.default } : {}), rules, tables };
  }

  /** The location of line `index` of a block scalar at `path`, at `token`. */
  private tableLine(path: Path, index: number, token: string): SourceLocation {
    const key = this.locate(path);
    const keyLine = this.lines[key.line - 1] ?? '';
    if (!/:\s*[|>][-+0-9]*\s*(#.*)?$/.test(keyLine)) return key;
    const line = key.line + 1 + index;
    const col = (this.lines[line - 1] ?? '').indexOf(token);
    return col < 0 ? key : { file: key.file, line, col: col + 1 };
  }

  private table(
    probeText: string,
    text: string,
    path: Path,
    context: StepContext,
  ): ExpectationTable | undefined {
    const probe = parseProbe(probeText);
    if (typeof probe === 'string') {
      this.at(path, `table key: ${probe}`);
      return undefined;
    }
    const problem = context.probed(probe);
    if (problem) this.at(path, problem);
    const lines = text
      .split('\n')
      .map((line, index) => ({ tokens: line.trim().split(/\s+/).filter(Boolean), index }));
    const rows = lines.filter((l) => l.tokens.length > 0);
    const header = rows.shift();
    if (!header || header.tokens.length < 2) {
      this.at(
        path,
        'expected a header line (a corner word such as from\\to, then the destination columns) and one line per source',
      );
      return undefined;
    }
    if (rows.length === 0) this.at(path, 'the table has a header but no rows');
    const known = endpointKeys(context.world);
    const endpointProblem = (key: string): string | undefined => {
      if (known.includes(key)) return undefined;
      if (key === '*' || key.includes('*') || key.includes('['))
        return `"${key}" is a pattern: a table names each endpoint exactly (NAMESPACE/POD or ext:NAME); use a rule for patterns`;
      if (!key.startsWith('ext:') && key.split('/').length !== 2)
        return `"${key}" is not an endpoint: expected NAMESPACE/POD or ext:NAME`;
      return `no ${key.startsWith('ext:') ? 'external or node' : 'pod'} ${key}${context.where}${suggestion(key, known)}`;
    };
    const columns = header.tokens.slice(1);
    const seenColumns = new Set<string>();
    for (const column of columns) {
      const where = this.tableLine(path, header.index, column);
      const p = endpointProblem(column);
      if (p) this.at(path, `column ${column}: ${p}`, where);
      if (seenColumns.has(column))
        this.at(path, `column ${column} appears twice in the header`, where);
      seenColumns.add(column);
    }
    const cells = new Map<string, Map<string, ExpectedVerdict>>();
    const seenRows = new Set<string>();
    for (const row of rows) {
      const [source = '', ...rest] = row.tokens;
      const where = this.tableLine(path, row.index, source);
      const p = endpointProblem(source);
      if (p) this.at(path, `row ${source}: ${p}`, where);
      if (seenRows.has(source)) this.at(path, `row ${source} appears twice`, where);
      seenRows.add(source);
      const chars = Array.from(rest.join(''));
      if (chars.length !== columns.length) {
        this.at(
          path,
          `row ${source} has ${chars.length} cell${chars.length === 1 ? '' : 's'}, the header has ${columns.length} column${columns.length === 1 ? '' : 's'}`,
          where,
        );
        continue;
      }
      const verdicts = cells.get(source) ?? new Map<string, ExpectedVerdict>();
      chars.forEach((ch, j) => {
        const column = columns[j] ?? '';
        const verdict = CELL_VERDICTS[ch];
        if (verdict === undefined) {
          this.at(
            path,
            `row ${source}, column ${column}: "${ch}" is not a cell: expected . (allow), X (deny), ? (unresolvable) or - (unchecked)`,
            where,
          );
          return;
        }
        if (verdict !== null) verdicts.set(column, verdict);
      });
      cells.set(source, verdicts);
    }
    return { probe, cells, location: this.locate(path) };
  }

  // ---- known deviations ------------------------------------------------------------------

  private deviations(
    list: readonly (DeviationShape | undefined)[],
    steps: readonly ScenarioStep[],
    probes: readonly { probe: ProbePort }[] | undefined,
  ): KnownDeviation[] {
    const deviations: KnownDeviation[] = [];
    const stepNames = steps.map((s) => s.name);
    list.forEach((deviation, i) => {
      if (deviation === undefined) return;
      const path = ['knownDeviations', i];
      let targets = steps;
      if (deviation.step !== undefined) {
        targets = steps.filter((s) => s.name === deviation.step);
        if (targets.length === 0) {
          this.at(
            [...path, 'step'],
            `no step named "${deviation.step}"${suggestion(deviation.step, stepNames).replace(/mean (.*)\?$/, 'mean "$1"?')} (steps: ${stepNames.map((n) => `"${n}"`).join(', ')})`,
          );
          return;
        }
      }
      const contexts = targets.map((s) =>
        this.stepContext(
          s.world,
          steps.length === 1 && s.name === 'main' ? '' : ` in step "${s.name}"`,
          probes,
        ),
      );
      const cells: CellSelector[] = [];
      deviation.cells.forEach((text, j) => {
        if (text === undefined) return;
        const selector = this.cells(text, [...path, 'cells', j], contexts);
        if (selector) cells.push(selector);
      });
      deviations.push({
        plugin: deviation.plugin,
        ...(deviation.versions !== undefined ? { versions: deviation.versions } : {}),
        ...(deviation.step !== undefined ? { step: deviation.step } : {}),
        cells,
        observed: deviation.observed,
        ...(deviation.intermittent === true ? { intermittent: true } : {}),
        reason: deviation.reason,
        location: this.locate(path),
      });
    });
    return deviations;
  }
}

function merge(
  labels: Readonly<Record<string, string>>,
  changes: Readonly<Record<string, string | null>>,
): Record<string, string> {
  const merged = new Map(Object.entries(labels));
  for (const [key, value] of Object.entries(changes)) {
    if (value === null) merged.delete(key);
    else merged.set(key, value);
  }
  return Object.fromEntries(merged);
}

type AnyPolicy = ScenarioPolicy | ScenarioClusterPolicy;

function isClusterPolicy(p: AnyPolicy): p is ScenarioClusterPolicy {
  return 'kind' in p.info;
}

function isNetworkPolicy(p: AnyPolicy): p is ScenarioPolicy {
  return !('kind' in p.info);
}

/** `ns/name` of a NetworkPolicy, `Kind/name` of a cluster policy. */
function policyId(info: AnyPolicy['info']): string {
  return 'kind' in info ? `${info.kind}/${info.name}` : `${info.namespace}/${info.name}`;
}

/** The world with `applied` created or replaced (by namespace and name, or kind and name). */
function withPolicies(world: World, applied: readonly AnyPolicy[]): World {
  const policies = new Map(world.policies.map((p) => [policyId(p), p]));
  const cluster = new Map((world.clusterPolicies ?? []).map((p) => [policyId(p), p]));
  for (const { info } of applied) {
    if ('kind' in info) cluster.set(policyId(info), info);
    else policies.set(policyId(info), info);
  }
  return {
    ...world,
    policies: [...policies.values()],
    ...(cluster.size > 0 ? { clusterPolicies: [...cluster.values()] } : {}),
  };
}
