import { expect } from 'chai';
import { InputError } from '../../src/domain/errors.js';
import { formatIssue } from '../../src/domain/issue.js';
import { parseScenario } from '../../src/dsl/load.js';
import { parseCellSelector } from '../../src/dsl/resolve.js';
import type { ReadFile } from '../../src/dsl/sources.js';
import { checkScenario } from '../../src/engine/check.js';
import { failing } from '../../src/engine/results.js';

const files: Record<string, string> = {
  'dir/policies/deny.yaml': `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: deny, namespace: shop }
spec: { podSelector: {} }
`,
};
const readFile: ReadFile = (path) => {
  const text = files[path];
  if (text === undefined)
    return Promise.reject(Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' }));
  return Promise.resolve(text);
};

const SCENARIO = `apiVersion: polygraph.dev/v1alpha1
kind: Scenario
metadata: { name: steps, description: d }
topology:
  namespaces:
    shop:
      labels: { team: shop }
      pods:
        web: { labels: { tier: web, legacy: 'yes' }, ports: [80, '53/udp', { port: 8080, name: http-alt }] }
  externals:
    backup: { ip: 10.0.9.9, ports: [5432] }
  nodes:
    node-1: { ip: 10.240.0.1 }
policies: [policies/deny.yaml]
options: { selfTraffic: policy }
steps:
  - name: start
    expect: { default: deny }
  - name: change
    actions:
      - apply:
          apiVersion: networking.k8s.io/v1
          kind: NetworkPolicy
          metadata: { name: allow-web, namespace: shop }
          spec: { podSelector: { matchLabels: { tier: web } }, ingress: [{}] }
      - deletePolicy: shop/deny
      - label: { pod: shop/web, labels: { tier: front, legacy: null } }
      - label: { namespace: shop, labels: { team: payments, kubernetes.io/metadata.name: null } }
      - createPod: { pod: shop/cache, labels: { tier: cache }, ports: [6379] }
    expect:
      rules:
        - from shop/[tier=front] to shop/cache on 6379: allow
      tables:
        80/TCP: |
          from\\to     shop/web ext:backup
          shop/cache   .        -
  - name: end
    actions:
      - deletePod: [shop/cache]
`;

const web = {
  namespace: 'shop',
  name: 'web',
  labels: { tier: 'web', legacy: 'yes' },
  ips: [],
  ports: [
    { containerPort: 80, protocol: 'TCP' },
    { containerPort: 53, protocol: 'UDP' },
    { containerPort: 8080, protocol: 'TCP', name: 'http-alt' },
  ],
  hostNetwork: false,
};
const deny = {
  namespace: 'shop',
  name: 'deny',
  podSelector: { matchLabels: {}, matchExpressions: [] },
  policyTypes: ['Ingress'],
  policyTypesDefaulted: true,
  ingress: [],
  egress: [],
};
const allowWeb = {
  namespace: 'shop',
  name: 'allow-web',
  podSelector: { matchLabels: { tier: 'web' }, matchExpressions: [] },
  policyTypes: ['Ingress'],
  policyTypesDefaulted: true,
  ingress: [{ peers: null, ports: null }],
  egress: [],
};
const externals = [
  { name: 'backup', ip: '10.0.9.9', ports: [{ containerPort: 5432, protocol: 'TCP' }] },
  { name: 'node-1', ip: '10.240.0.1', node: true, ports: [] },
];
const shop = { name: 'shop', labels: { team: 'shop', 'kubernetes.io/metadata.name': 'shop' } };
const cache = {
  namespace: 'shop',
  name: 'cache',
  labels: { tier: 'cache' },
  ips: [],
  ports: [{ containerPort: 6379, protocol: 'TCP' }],
  hostNetwork: false,
};

async function issues(text: string): Promise<string[]> {
  try {
    await parseScenario(text, 'dir/s.yaml', readFile);
  } catch (error) {
    if (error instanceof InputError) return error.issues.map(formatIssue);
    throw error;
  }
  return [];
}

describe('scenarios: resolving', () => {
  it('computes the world of every step from the topology, the policies and the actions', async () => {
    const scenario = await parseScenario(SCENARIO, 'dir/s.yaml', readFile);
    expect(scenario.options).to.deep.equal({
      selfTraffic: 'policy',
      ipBlockMatchesPods: true,
      hostNetwork: 'node',
    });
    expect(scenario.probes).to.equal(undefined);
    const initial = { namespaces: [shop], pods: [web], externals, policies: [deny] };
    expect(scenario.initial).to.deep.equal(initial);
    expect(scenario.policies.map((p) => p.location)).to.deep.equal([
      { file: 'dir/policies/deny.yaml', line: 1, col: 1 },
    ]);
    expect(scenario.steps.map((s) => s.name)).to.deep.equal(['start', 'change', 'end']);
    const [start, change, end] = scenario.steps;
    expect(start?.world).to.deep.equal(initial);
    expect(start?.expect).to.deep.equal({ default: 'deny', rules: [], tables: [] });
    const changed = {
      namespaces: [
        { name: 'shop', labels: { team: 'payments', 'kubernetes.io/metadata.name': 'shop' } },
      ],
      pods: [{ ...web, labels: { tier: 'front' } }, cache],
      externals,
      policies: [allowWeb],
    };
    expect(change?.world).to.deep.equal(changed);
    expect(change?.actions.map((a) => a.kind)).to.deep.equal([
      'apply',
      'delete-policy',
      'label-pod',
      'label-namespace',
      'create-pod',
    ]);
    expect(change?.actions[1]).to.deep.equal({
      kind: 'delete-policy',
      namespace: 'shop',
      name: 'deny',
    });
    const rule = change?.expect?.rules[0];
    expect(rule?.verdict).to.equal('allow');
    expect(rule?.cells.text).to.equal('from shop/[tier=front] to shop/cache on 6379');
    expect(rule?.cells.probe).to.deep.equal({ port: 6379, protocol: 'TCP' });
    expect(rule?.location).to.deep.equal({ file: 'dir/s.yaml', line: 32, col: 11 });
    const table = change?.expect?.tables[0];
    expect(table?.probe).to.deep.equal({ port: 80, protocol: 'TCP' });
    const cells = [...(table?.cells ?? new Map<string, Map<string, string>>())];
    expect(cells.map(([k, v]) => [k, [...v]])).to.deep.equal([
      ['shop/cache', [['shop/web', 'allow']]],
    ]);
    expect(end?.world).to.deep.equal({ ...changed, pods: [{ ...web, labels: { tier: 'front' } }] });
    expect(end?.expect).to.equal(undefined);
  });

  it('gives a scenario without steps one step named main with the top-level expect', async () => {
    const scenario = await parseScenario(
      `apiVersion: polygraph.dev/v1alpha1
kind: Scenario
metadata: { name: one }
topology: { namespaces: { x: { pods: { a: { ports: [80] } } } } }
probes: [80]
expect: { default: allow }
`,
      's.yaml',
      readFile,
    );
    expect(scenario.steps).to.have.length(1);
    expect(scenario.steps[0]?.name).to.equal('main');
    expect(scenario.steps[0]?.actions).to.deep.equal([]);
    expect(scenario.steps[0]?.world).to.deep.equal(scenario.initial);
    expect(scenario.steps[0]?.expect?.default).to.equal('allow');
    expect(scenario.probes).to.deep.equal([{ port: 80, protocol: 'TCP' }]);
  });

  it('reports a relabel of a pod a step deleted before, at the pod reference', async () => {
    const text = SCENARIO.replace(
      '      - deletePod: [shop/cache]\n',
      '      - deletePod: [shop/cache]\n      - label: { pod: shop/cache, labels: { a: b } }\n',
    );
    expect(await issues(text)).to.deep.equal([
      'dir/s.yaml:40:18: steps[2].actions[1].label.pod: no pod shop/cache at this point',
    ]);
  });

  it('deletes cluster policies by KIND/NAME or a NAME only one has, and reports what it cannot find or tell apart', async () => {
    const cnp = (name: string, tier: string) => `
          - apiVersion: policy.networking.k8s.io/v1beta1
            kind: ClusterNetworkPolicy
            metadata: { name: ${name} }
            spec: { tier: ${tier}, priority: 5, subject: { namespaces: {} }, ingress: [{ action: Deny, from: [{ namespaces: {} }] }] }`;
    const anp = `
          - apiVersion: policy.networking.k8s.io/v1alpha1
            kind: AdminNetworkPolicy
            metadata: { name: gate }
            spec: { priority: 6, subject: { namespaces: {} }, ingress: [{ action: Deny, from: [{ namespaces: {} }] }] }`;
    const text = (deletes: string) => `apiVersion: polygraph.dev/v1alpha1
kind: Scenario
metadata: { name: cluster deletes }
topology: { namespaces: { x: { pods: { a: { ports: [80] } } } } }
probes: [80]
steps:
  - name: apply
    actions:
      - apply:${cnp('gate', 'Admin')}${cnp('floor', 'Baseline')}${anp}
  - name: delete
    actions:
${deletes}
`;
    const scenario = await parseScenario(
      text('      - deleteClusterPolicy: [ClusterNetworkPolicy/gate, floor]'),
      'dir/s.yaml',
      readFile,
    );
    expect(scenario.steps[1]?.actions).to.deep.equal([
      {
        kind: 'delete-cluster-policy',
        policyKind: 'ClusterNetworkPolicy',
        apiVersion: 'policy.networking.k8s.io/v1beta1',
        name: 'gate',
      },
      {
        kind: 'delete-cluster-policy',
        policyKind: 'ClusterNetworkPolicy',
        apiVersion: 'policy.networking.k8s.io/v1beta1',
        name: 'floor',
      },
    ]);
    expect(
      scenario.steps[1]?.world.clusterPolicies?.map((p) => `${p.kind}/${p.name}`),
    ).to.deep.equal(['AdminNetworkPolicy/gate']);
    expect(
      await issues(
        text(
          '      - deleteClusterPolicy: [gate, ClusterNetworkPolicy/flor, AdminNetworkPolicy/floor]',
        ),
      ),
    ).to.deep.equal([
      'dir/s.yaml:24:31: steps[1].actions[0].deleteClusterPolicy[0]: gate names 2 cluster policies (ClusterNetworkPolicy/gate, AdminNetworkPolicy/gate): write KIND/NAME',
      'dir/s.yaml:24:37: steps[1].actions[0].deleteClusterPolicy[1]: no cluster policy ClusterNetworkPolicy/flor at this point; did you mean ClusterNetworkPolicy/floor? (applied: ClusterNetworkPolicy/gate, ClusterNetworkPolicy/floor, AdminNetworkPolicy/gate)',
      'dir/s.yaml:24:64: steps[1].actions[0].deleteClusterPolicy[2]: no cluster policy AdminNetworkPolicy/floor at this point: floor is a ClusterNetworkPolicy (write ClusterNetworkPolicy/floor)',
    ]);
  });

  it('reads text that is not YAML text as one clear issue', async () => {
    expect(await issues('\0\u0001binary')).to.deep.equal([
      'dir/s.yaml:1:1: not a text file (expected YAML)',
    ]);
  });
});

describe('scenarios: rule keys', () => {
  it('splits from/to/on outside selectors', () => {
    const cells = parseCellSelector('from shop/[env in (a, b)] to */* on http/UDP');
    expect(cells).to.deep.include({ probe: { port: 'http', protocol: 'UDP' } });
    expect(typeof cells === 'object' && cells.from?.text).to.equal('shop/[env in (a, b)]');
  });
  it('requires at least one part, in order', () => {
    expect(parseCellSelector('')).to.equal(
      'expected "from PATTERN to PATTERN on PROBE over FAMILY" (each part optional, at least one)',
    );
    expect(parseCellSelector('on 80 to x/y')).to.equal(
      '"to" must come before "on" (the order is from, to, on, over)',
    );
    expect(parseCellSelector('over IPv6 on 80')).to.equal(
      '"on" must come before "over" (the order is from, to, on, over)',
    );
  });
  it('reads a family after "over": IPv4 or IPv6, in any case', () => {
    expect(parseCellSelector('from x/a to x/b on 80 over IPv6')).to.deep.include({ family: 6 });
    expect(parseCellSelector('over ipv4')).to.deep.include({ family: 4 });
    expect(parseCellSelector('from x/a over v6')).to.equal('over: expected IPv4 or IPv6, got "v6"');
    expect(parseCellSelector('from x/a over')).to.equal(
      'missing a family (IPv4 or IPv6) after "over"',
    );
    expect(parseCellSelector('from x/a over IPv6 IPv4')).to.equal(
      'unexpected "IPv4" after "over IPv6": expected the end',
    );
  });
});

describe('scenarios: held connections', () => {
  const HOLDING = `apiVersion: polygraph.dev/v1alpha1
kind: Scenario
metadata: { name: held }
topology:
  namespaces:
    x:
      pods:
        a: { ports: [80, '80/UDP', { port: 81, name: web }, '82/SCTP'] }
        b: { ports: [80] }
steps:
  - name: deny
    hold:
      - from x/b to x/a on 80/UDP
      - { from: x/b, to: x/a, port: web, expect: open }
      - { from: x/a, to: x/b, port: 80, expect: dropped }
    actions:
      - deletePod: x/c
`;
  const ok = HOLDING.replace('    actions:\n      - deletePod: x/c\n', '');

  it('resolves each held connection: pods, the port on the destination (names too), the expectation', async () => {
    const scenario = await parseScenario(ok, 'dir/s.yaml', readFile);
    expect(
      scenario.steps[0]?.holds?.map((h) => [h.text, h.port, h.protocol, h.expect, h.location.line]),
    ).to.deep.equal([
      ['from x/b to x/a on 80/UDP', 80, 'UDP', undefined, 13],
      ['from x/b to x/a on web/TCP', 81, 'TCP', 'open', 14],
      ['from x/a to x/b on 80/TCP', 80, 'TCP', 'dropped', 15],
    ]);
  });

  it('reports every bad declaration with its place: unknown pod, unserved port, SCTP, a deleted pod, a duplicate, a bad expectation', async () => {
    const text = HOLDING.replace(
      '      - { from: x/a, to: x/b, port: 80, expect: dropped }\n',
      [
        '      - { from: x/a, to: x/bb, port: 80 }',
        '      - { from: x/a, to: x/b, port: 81/UDP }',
        '      - { from: x/b, to: x/a, port: 82/SCTP }',
        '      - { from: x/a, to: x/c, port: 80 }',
        '      - from x/b to x/a on 80/UDP',
        '      - { from: x/a, to: x/b, port: 80, expect: closed }',
        '      - to x/a on 80',
        '',
      ].join('\n'),
    ).replace('b: { ports: [80] }', 'b: { ports: [80] }\n        c: { ports: [80] }');
    const found = await issues(text);
    expect(found).to.deep.equal([
      "dir/s.yaml:16:22: steps[0].hold[2].to: to: no pod x/bb before this step's actions, when the connection is opened; did you mean x/b?",
      'dir/s.yaml:17:31: steps[0].hold[3].port: port: x/b does not serve 81/UDP before this step; it serves 80/TCP',
      "dir/s.yaml:18:31: steps[0].hold[4].port: port: 82/SCTP: a held connection is TCP or UDP (the probe client has no SCTP, and the lab's kernel cannot carry it)",
      "dir/s.yaml:19:22: steps[0].hold[5].to: to: this step's actions delete x/c; a held connection is used again after them, so both pods must still exist",
      'dir/s.yaml:20:9: steps[0].hold[6]: from x/b to x/a on 80/UDP is held twice (also steps[0].hold[0])',
      'dir/s.yaml:21:41: steps[0].hold[7].expect: expected one of open, reset, dropped, got the string "closed"',
      'dir/s.yaml:22:9: steps[0].hold[8]: expected a held connection "from NS/POD to NS/POD on PORT/PROTOCOL", got the string "to x/a on 80"',
    ]);
  });

  it("check reports held connections as not checkable offline, with the model's fresh verdict as context", async () => {
    const scenario = await parseScenario(ok, 'dir/s.yaml', readFile);
    const result = await checkScenario(scenario);
    expect(result.steps[0]?.held?.map((h) => [h.class, h.expected, h.freshModelled])).to.deep.equal(
      [
        ['not-checkable-offline', undefined, 'allow'],
        ['not-checkable-offline', 'open', 'allow'],
        ['not-checkable-offline', 'dropped', 'allow'],
      ],
    );
    expect(result.counts.held?.byClass['not-checkable-offline']).to.equal(3);
    expect(failing(result.counts)).to.equal(0);
  });
});
