import { expect } from 'chai';
import { execa } from 'execa';
import fc from 'fast-check';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Document, parse, visit } from 'yaml';
import { InputError } from '../../src/domain/errors.js';
import { parseScenario } from '../../src/dsl/load.js';
import type { ReadFile } from '../../src/dsl/sources.js';
import type { Scenario } from '../../src/dsl/types.js';
import { checkScenario } from '../../src/engine/check.js';
import { ROOT } from '../support/scenarios.js';

/*
 * Properties of the scenario loader, on random scenario files:
 *  - a valid file printed as YAML (1.1-safe), read, printed again and read again resolves to the
 *    same Scenario, which is also the Scenario of the same file written as JSON; checking it never
 *    throws;
 *  - a valid file, mutated (a key deleted or misspelt, a value of another type, a list item
 *    doubled, the text cut short or a character inserted), either resolves or fails with an
 *    InputError whose every issue has a file location and a message: never another error.
 * The seed is fixed (fast-check prints it with any counterexample).
 */
const SEED = 20240611;
const RUNS = 200;
const FILE = '/scenarios/random.yaml';

/** Every referenced file is missing (a mutation can turn an inline policy into a path). */
const noFiles: ReadFile = () =>
  Promise.reject(Object.assign(new Error('no such file'), { code: 'ENOENT' }));

// ---- printing -----------------------------------------------------------------------------

/**
 * YAML as kubectl reads it (YAML 1.1): strings that would read as something else (`no`, `on`,
 * `y`, `1`, `0o17`, `~`) are quoted.
 */
function printYaml(value: unknown): string {
  const doc = new Document(value, { version: '1.1' });
  visit(doc, {
    Scalar(_key, node) {
      // go-yaml reads 0o17 as an integer; the yaml package's 1.1 schema does not.
      if (typeof node.value === 'string' && /^[-+]?0o/i.test(node.value))
        node.type = 'QUOTE_DOUBLE';
    },
  });
  return doc.toString({ lineWidth: 0 });
}

/** The resolved scenario without source locations, Maps as entries: for comparisons. */
function normal(scenario: Scenario): string {
  return JSON.stringify(scenario, (key, value: unknown) => {
    if (key === 'location' || key === 'file') return undefined;
    if (value instanceof Map) return [...(value as Map<unknown, unknown>).entries()];
    return value;
  });
}

// ---- generating valid files ----------------------------------------------------------------

const dnsLabel = fc.stringMatching(/^[a-z]([a-z0-9-]{0,6}[a-z0-9])?$/);
const labelKey = fc.constantFrom('app', 'tier', 'team', 'env', 'example.com/role', 'on', 'y');
const labelValue = fc.oneof(
  fc.stringMatching(/^[a-z0-9]([a-z0-9._-]{0,6}[a-z0-9])?$/),
  fc.constantFrom('yes', 'no', 'on', 'off', 'y', 'n', 'true', '1', '0o17', '0x1f', '1e3', ''),
);
const labels = fc.dictionary(labelKey, labelValue, { maxKeys: 3 });
const protocol = fc.constantFrom('TCP', 'UDP', 'SCTP');
const portName = fc.constantFrom('http', 'https', 'dns', 'metrics', 'grpc', 'web-1');

interface PortSeed {
  port: number;
  protocol: string;
  name: string | undefined;
  form: number;
}
const portSeed: fc.Arbitrary<PortSeed> = fc.record({
  port: fc.oneof(fc.constantFrom(53, 80, 443, 5000, 8080), fc.integer({ min: 1, max: 65535 })),
  protocol,
  name: fc.option(portName, { nil: undefined }),
  form: fc.nat(3),
});

/** Ports as a file writes them, each (port, protocol) and each name once. */
function ports(seeds: readonly PortSeed[]): unknown[] {
  const ids = new Set<string>();
  const names = new Set<string>();
  const out: unknown[] = [];
  for (const s of seeds) {
    const id = `${s.port}/${s.protocol}`;
    if (ids.has(id) || (s.name !== undefined && names.has(s.name))) continue;
    ids.add(id);
    if (s.name !== undefined) names.add(s.name);
    if (s.name !== undefined || s.form === 3)
      out.push({ port: s.port, protocol: s.protocol, ...(s.name ? { name: s.name } : {}) });
    else if (s.form === 0 && s.protocol === 'TCP') out.push(s.port);
    else
      out.push(s.form === 1 ? `${s.port}/${s.protocol}` : `${s.port}/${s.protocol.toLowerCase()}`);
  }
  return out;
}

const podSeed = fc.record({
  name: dnsLabel,
  labels,
  ports: fc.array(portSeed, { maxLength: 3 }),
  ip: fc.option(fc.ipV4(), { nil: undefined }),
});
const topologySeed = fc.record({
  namespaces: fc.uniqueArray(
    fc.record({
      name: dnsLabel,
      labels,
      pods: fc.uniqueArray(podSeed, { maxLength: 3, selector: (p) => p.name }),
    }),
    { minLength: 1, maxLength: 3, selector: (n) => n.name },
  ),
  externals: fc.uniqueArray(
    fc.record({
      name: dnsLabel,
      ip: fc.ipV4(),
      ports: fc.array(portSeed, { maxLength: 2 }),
      node: fc.boolean(),
    }),
    { maxLength: 2, selector: (e) => e.name },
  ),
});

const selector = fc.oneof(
  fc.constant({}),
  fc.record({ matchLabels: fc.dictionary(labelKey, labelValue, { minKeys: 1, maxKeys: 2 }) }),
  fc.record({
    matchExpressions: fc.array(
      fc.oneof(
        fc.record({
          key: labelKey,
          operator: fc.constantFrom('In', 'NotIn'),
          values: fc.array(labelValue, { minLength: 1, maxLength: 2 }),
        }),
        fc.record({ key: labelKey, operator: fc.constantFrom('Exists', 'DoesNotExist') }),
      ),
      { minLength: 1, maxLength: 2 },
    ),
  }),
);
const peer = fc.oneof(
  selector.map((s) => ({ podSelector: s })),
  fc.tuple(selector, selector).map(([n, p]) => ({ namespaceSelector: n, podSelector: p })),
  fc
    .tuple(fc.nat(255), fc.nat(255))
    .map(([a, b]) => ({ ipBlock: { cidr: `10.${a}.0.0/16`, except: [`10.${a}.${b}.0/24`] } })),
);
const policyPort = fc.oneof(
  fc.record({ port: fc.integer({ min: 1, max: 65535 }), protocol }),
  fc.record({ port: portName }),
  fc.constant({ protocol: 'UDP' }),
);
const policyRule = fc.record({
  peers: fc.array(peer, { maxLength: 2 }),
  ports: fc.array(policyPort, { maxLength: 2 }),
});
const policySeed = fc.record({
  name: dnsLabel,
  namespace: fc.nat(),
  podSelector: selector,
  ingress: fc.option(fc.array(policyRule, { maxLength: 2 }), { nil: undefined }),
  egress: fc.option(fc.array(policyRule, { maxLength: 2 }), { nil: undefined }),
});

/** Entropy for the parts that depend on what exists: actions, rules, tables. */
const choices = fc.array(fc.nat(1000), { minLength: 40, maxLength: 40 });

const fileSeed = fc.record({
  topology: topologySeed,
  policies: fc.uniqueArray(policySeed, { maxLength: 3, selector: (p) => p.name }),
  options: fc.option(
    fc.record({
      selfTraffic: fc.constantFrom('allow', 'policy'),
      ipBlockMatchesPods: fc.boolean(),
      hostNetwork: fc.constantFrom('node', 'pod'),
    }),
    { nil: undefined },
  ),
  explicitProbes: fc.boolean(),
  steps: fc.nat(3),
  choices,
  stepChoices: fc.array(choices, { minLength: 3, maxLength: 3 }),
  labels,
});
type FileSeed = typeof fileSeed extends fc.Arbitrary<infer T> ? T : never;

/** A deterministic picker over a list of numbers. */
function picker(numbers: readonly number[]) {
  let i = 0;
  const next = (): number => numbers[i++ % numbers.length] ?? 0;
  return {
    int: (n: number): number => (n <= 0 ? 0 : next() % n),
    pick<T>(list: readonly T[]): T | undefined {
      return list.length === 0 ? undefined : list[next() % list.length];
    },
    chance: (percent: number): boolean => next() % 100 < percent,
  };
}

interface Pod {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  served: string[];
}
interface State {
  pods: Pod[];
  namespaces: Map<string, Record<string, string>>;
  externals: { name: string; served: string[] }[];
  policies: string[];
}

function served(list: readonly unknown[]): string[] {
  return list.map((p) => {
    if (typeof p === 'number') return `${p}/TCP`;
    if (typeof p === 'string') return p.includes('/') ? p.toUpperCase() : `${p}/TCP`;
    const o = p as { port: number; protocol?: string };
    return `${o.port}/${o.protocol ?? 'TCP'}`;
  });
}

function policyObject(seed: FileSeed['policies'][number], namespace: string): unknown {
  const rule =
    (direction: 'from' | 'to') => (r: FileSeed['policies'][number]['ingress'] & object) =>
      r.map((x) => ({
        ...(x.peers.length > 0 ? { [direction]: x.peers } : {}),
        ...(x.ports.length > 0 ? { ports: x.ports } : {}),
      }));
  const types = [...(seed.ingress ? ['Ingress'] : []), ...(seed.egress ? ['Egress'] : [])];
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: seed.name, namespace },
    spec: {
      podSelector: seed.podSelector,
      ...(types.length > 0 ? { policyTypes: types } : {}),
      ...(seed.ingress ? { ingress: rule('from')(seed.ingress) } : {}),
      ...(seed.egress ? { egress: rule('to')(seed.egress) } : {}),
    },
  };
}

/** A pattern naming something that exists in `state`. */
function pattern(p: ReturnType<typeof picker>, state: State): string {
  const pod = p.pick(state.pods);
  const ns = p.pick([...state.namespaces.keys()]);
  const ext = p.pick(state.externals);
  switch (p.int(8)) {
    case 0:
      return pod ? `${pod.namespace}/${pod.name}` : '*';
    case 1:
      return ns ? `${ns}/*` : '*/*';
    case 2:
      return pod ? `*/${pod.name}` : '*';
    case 3:
      return ns ? `${ns}/[tier in (web,api),!legacy]` : '*/[app]';
    case 4:
      return '[team=shop]/*';
    case 5:
      return ext ? `ext:${ext.name}` : '*';
    case 6:
      return '*/*';
    default:
      return '*';
  }
}

function expectation(p: ReturnType<typeof picker>, state: State, probes: string[] | undefined) {
  const rules: Record<string, string>[] = [];
  for (let i = p.int(4); i > 0; i--) {
    const parts: string[] = [];
    if (p.chance(70)) parts.push(`from ${pattern(p, state)}`);
    if (p.chance(70)) parts.push(`to ${pattern(p, state)}`);
    if (probes && p.chance(50)) parts.push(`on ${p.pick(probes) ?? ''}`);
    if (parts.length === 0) parts.push('from *');
    rules.push({ [parts.join(' ')]: p.pick(['allow', 'deny', 'unresolvable']) ?? 'allow' });
  }
  const tables: Record<string, string> = {};
  const endpoints = [
    ...state.pods.map((x) => `${x.namespace}/${x.name}`),
    ...state.externals.map((e) => `ext:${e.name}`),
  ];
  if (probes && endpoints.length > 0 && p.chance(60)) {
    const probe = p.pick(probes) ?? '';
    const columns = endpoints.filter(() => p.chance(70));
    const rows = endpoints.filter(() => p.chance(70));
    if (columns.length > 0 && rows.length > 0) {
      const packed = p.chance(50);
      const lines = [`from\\to ${columns.join(' ')}`];
      for (const row of rows) {
        const cells = columns.map(() => p.pick(['.', 'X', '?', '-']) ?? '.');
        lines.push(`${row} ${packed ? cells.join('') : cells.join(' ')}`);
      }
      tables[probe] = `${lines.join('\n')}\n`;
    }
  }
  return {
    ...(p.chance(60) ? { default: p.pick(['allow', 'deny']) } : {}),
    ...(rules.length > 0 ? { rules } : {}),
    ...(Object.keys(tables).length > 0 ? { tables } : {}),
  };
}

/** Actions valid at their point, applied to `state`. */
function actions(
  p: ReturnType<typeof picker>,
  state: State,
  step: number,
  extraLabels: Record<string, string>,
) {
  const out: unknown[] = [];
  for (let i = p.int(4); i > 0; i--) {
    const kind = p.int(5);
    const pod = p.pick(state.pods);
    if (kind === 0) {
      const name = `step${step}-p${i}`;
      const ns = p.pick([...state.namespaces.keys()]) ?? 'default';
      out.push({
        apply: {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'NetworkPolicy',
          metadata: { name, namespace: ns },
          spec: { podSelector: {}, policyTypes: ['Ingress'] },
        },
      });
      if (!state.policies.includes(`${ns}/${name}`)) state.policies.push(`${ns}/${name}`);
    } else if (kind === 1 && state.policies.length > 0) {
      const ref = p.pick(state.policies) ?? '';
      out.push({ deletePolicy: p.chance(50) ? ref : [ref] });
      state.policies = state.policies.filter((x) => x !== ref);
    } else if (kind === 2 && pod) {
      out.push({
        label: { pod: `${pod.namespace}/${pod.name}`, labels: { ...extraLabels, legacy: null } },
      });
      pod.labels = { ...pod.labels, ...extraLabels };
      Reflect.deleteProperty(pod.labels, 'legacy');
    } else if (kind === 3 && state.namespaces.size > 0) {
      const ns = p.pick([...state.namespaces.keys()]) ?? '';
      out.push({ label: { namespace: ns, labels: extraLabels } });
    } else if (kind === 4 && pod) {
      out.push({
        deletePod: p.chance(50) ? `${pod.namespace}/${pod.name}` : [`${pod.namespace}/${pod.name}`],
      });
      state.pods = state.pods.filter((x) => x !== pod);
    } else {
      const ns = p.pick([...state.namespaces.keys()]) ?? 'default';
      const name = `new${step}-${i}`;
      if (state.pods.some((x) => x.namespace === ns && x.name === name)) continue;
      out.push({ createPod: { pod: `${ns}/${name}`, labels: { app: 'new' }, ports: [80] } });
      state.pods.push({ namespace: ns, name, labels: { app: 'new' }, served: ['80/TCP'] });
      if (!state.namespaces.has(ns)) state.namespaces.set(ns, {});
    }
  }
  return out;
}

/** A valid scenario file, as the JS object a YAML file would hold. */
function scenarioFile(seed: FileSeed): Record<string, unknown> {
  const p = picker(seed.choices);
  const namespaces: Record<string, unknown> = {};
  const state: State = { pods: [], namespaces: new Map(), externals: [], policies: [] };
  for (const ns of seed.topology.namespaces) {
    const pods: Record<string, unknown> = {};
    for (const pod of ns.pods) {
      const list = ports(pod.ports);
      pods[pod.name] = {
        labels: pod.labels,
        ports: list,
        ...(pod.ip ? { ips: [pod.ip] } : {}),
      };
      state.pods.push({
        namespace: ns.name,
        name: pod.name,
        labels: pod.labels,
        served: served(list),
      });
    }
    namespaces[ns.name] = { labels: ns.labels, pods };
    state.namespaces.set(ns.name, ns.labels);
  }
  const externals: Record<string, unknown> = {};
  const nodes: Record<string, unknown> = {};
  for (const e of seed.topology.externals) {
    const list = ports(e.ports);
    (e.node ? nodes : externals)[e.name] = { ip: e.ip, ports: list };
    state.externals.push({ name: e.name, served: served(list) });
  }
  const nsNames = [...state.namespaces.keys()];
  const policies = seed.policies.map((s) => {
    const ns = nsNames[s.namespace % nsNames.length] ?? 'default';
    state.policies.push(`${ns}/${s.name}`);
    return policyObject(s, ns);
  });
  const allServed = [...new Set([...state.pods, ...state.externals].flatMap((x) => x.served))];
  const probes =
    seed.explicitProbes && allServed.length > 0 ? allServed.filter(() => p.chance(60)) : undefined;
  const probeList = probes && probes.length > 0 ? probes : undefined;
  const file: Record<string, unknown> = {
    apiVersion: 'polygraph.dev/v1alpha1',
    kind: 'Scenario',
    metadata: { name: 'random', description: 'a random scenario' },
    topology: {
      namespaces,
      ...(Object.keys(externals).length > 0 ? { externals } : {}),
      ...(Object.keys(nodes).length > 0 ? { nodes } : {}),
    },
    ...(policies.length > 0 ? { policies } : {}),
    ...(seed.options ? { options: seed.options } : {}),
    ...(probeList
      ? {
          probes: probeList.map((x) =>
            x.endsWith('/TCP') && p.chance(50) ? Number(x.split('/')[0]) : x,
          ),
        }
      : {}),
  };
  if (seed.steps === 0) file.expect = expectation(p, state, probeList);
  else {
    const steps = [];
    for (let i = 0; i < seed.steps; i++) {
      const sp = picker(seed.stepChoices[i] ?? []);
      const list = actions(sp, state, i, seed.labels);
      steps.push({
        name: i === 1 ? 'yes' : `step ${i}`,
        ...(list.length > 0 ? { actions: list } : {}),
        ...(sp.chance(80) ? { expect: expectation(sp, state, probeList) } : {}),
      });
    }
    file.steps = steps;
    if (p.chance(50))
      file.knownDeviations = [
        {
          plugin: 'some-plugin',
          ...(p.chance(50)
            ? { step: 'yes' === steps[1]?.name && p.chance(50) ? 'yes' : 'step 0' }
            : {}),
          cells: ['from * to *', ...(probeList ? [`on ${probeList[0] ?? ''}`] : [])],
          observed: 'allow',
          reason: 'a reason',
        },
      ];
  }
  return file;
}

const validFile = fileSeed.map(scenarioFile);

async function load(text: string): Promise<Scenario> {
  return parseScenario(text, FILE, noFiles);
}

/** What a mutated file must do: resolve, or fail with located, worded issues only. */
async function loadsOrExplains(text: string): Promise<void> {
  try {
    await load(text);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    expect(error.issues.length).to.be.greaterThan(0);
    for (const issue of error.issues) {
      expect(issue.location?.file, JSON.stringify(issue)).to.be.a('string').and.not.equal('');
      expect(issue.location?.line, JSON.stringify(issue)).to.be.greaterThan(0);
      expect(issue.message.trim(), JSON.stringify(issue)).not.to.equal('');
    }
  }
}

// ---- mutations ---------------------------------------------------------------------------

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every path to a node of `value`. */
function paths(value: Json, base: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [base];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...paths(v, [...base, i])));
  else if (value !== null && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...base, k]));
  return out;
}

function parentOf(root: Json, path: readonly (string | number)[]): Json | undefined {
  let node: Json | undefined = root;
  for (const part of path.slice(0, -1)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, Json>)[part];
  }
  return node;
}

const OTHER_VALUES: Json[] = [null, true, 0, -1, 70000, '', 'x', 'no', [], {}, [1, 'a'], { a: 1 }];

function mutate(file: Record<string, unknown>, p: ReturnType<typeof picker>): string {
  const root = structuredClone(file) as Json;
  const kind = p.int(6);
  if (kind >= 4) {
    const text = printYaml(root);
    if (kind === 4) return text.slice(0, p.int(text.length));
    const at = p.int(text.length + 1);
    const ch =
      p.pick([
        ':',
        '-',
        ' ',
        '\t',
        '[',
        '{',
        '"',
        "'",
        '#',
        '&',
        '*',
        '!',
        '|',
        '>',
        '\n',
        '%',
        '@',
        '`',
        'é',
        '\u0000',
      ]) ?? ':';
    return text.slice(0, at) + ch + text.slice(at);
  }
  const all = paths(root).filter((x) => x.length > 0);
  const path = p.pick(all) ?? ['apiVersion'];
  const parent = parentOf(root, path);
  const last = path[path.length - 1] ?? '';
  if (parent === null || typeof parent !== 'object') return printYaml(root);
  const record = parent as Record<string | number, Json>;
  if (kind === 0) {
    if (Array.isArray(parent) && typeof last === 'number') parent.splice(last, 1);
    else Reflect.deleteProperty(record, last);
  } else if (kind === 1 && !Array.isArray(parent)) {
    const key = String(last);
    const i = p.int(key.length + 1);
    const renamed = `${key.slice(0, i)}${p.pick(['x', '', 's', 'A']) ?? ''}${key.slice(i + 1)}`;
    const entries = Object.entries(record).map(([k, v]) => [k === key ? renamed : k, v] as const);
    for (const k of Object.keys(record)) Reflect.deleteProperty(record, k);
    Object.assign(record, Object.fromEntries(entries));
  } else if (kind === 2 || !Array.isArray(parent)) {
    record[last] = structuredClone(p.pick(OTHER_VALUES) ?? null);
  } else if (typeof last === 'number') {
    parent.splice(last, 0, structuredClone(parent[last] ?? null));
  }
  return printYaml(root);
}

const mutatedFile = fc
  .tuple(validFile, fc.array(fc.nat(100_000), { minLength: 8, maxLength: 8 }))
  .map(([file, numbers]) => mutate(file, picker(numbers)));

// ---- the properties ----------------------------------------------------------------------

describe('scenario loader properties (fast-check, seeded)', function () {
  this.timeout(60_000);

  it('a valid file: print, read, print, read gives the same Scenario (and the same as JSON); check never throws', async () => {
    await fc.assert(
      fc.asyncProperty(validFile, async (file) => {
        const text = printYaml(file);
        const first = await load(text);
        const again = await load(printYaml(parse(text, { version: '1.1' })));
        const json = await load(JSON.stringify(file));
        expect(normal(again)).to.equal(normal(first));
        expect(normal(json)).to.equal(normal(first));
        await checkScenario(first);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('a mutated file resolves or fails with located issues, never with another error', async () => {
    await fc.assert(fc.asyncProperty(mutatedFile, loadsOrExplains), {
      seed: SEED,
      numRuns: RUNS,
    });
  });

  it('the built CLI on mutated files: exit 0, 1 or 2, the file named on 2, no stack trace', async function () {
    const cli = join(ROOT, 'dist/cli/main.js');
    if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first`);
    const dir = await mkdtemp(join(tmpdir(), 'polygraph-mutated-'));
    const texts = fc.sample(mutatedFile, { seed: SEED, numRuns: 6 });
    const files = await Promise.all(
      texts.map(async (text, i) => {
        const file = join(dir, `mutated-${i}.yaml`);
        await writeFile(file, text);
        return file;
      }),
    );
    const runs = await Promise.all(
      files.map((file) =>
        execa('node', [cli, 'check', file], { reject: false, env: { NO_COLOR: '1' } }),
      ),
    );
    runs.forEach((r, i) => {
      const context = `${files[i] ?? ''}\n${r.stderr}`;
      expect([0, 1, 2], context).to.include(r.exitCode);
      if (r.exitCode === 2) expect(r.stderr, context).to.include(files[i]);
      expect(r.stderr, context).not.to.match(/\n\s+at /);
      expect(r.stdout, context).not.to.match(/\n\s+at /);
    });
  });
});
