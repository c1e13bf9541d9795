import { expect } from 'chai';
import { explainFlow } from '../../src/model/explain.js';
import { NetworkModel } from '../../src/model/engine.js';
import type { NetworkPolicyInfo, PodInfo, PolicyPeer, World } from '../../src/model/types.js';

/*
 * The model per IP family: a flow is in one family; it exists only when both ends have an
 * address of that family, and an ipBlock matches the peer's address of that family (ingress:
 * the source's, egress: the destination's). Every expected matrix is written by hand from the
 * addresses and the policies below.
 *
 * Addresses: web 10.0.1.1 + fd00:1::1, api 10.0.2.2 + fd00:2::2, old 10.0.1.3 (IPv4 only),
 * ext:net 203.0.113.9, ext:net6 2001:db8::9.
 */

const pod = (name: string, ips: string[]): PodInfo => ({
  namespace: 'shop',
  name,
  labels: { app: name },
  ips,
  hostNetwork: false,
  ports: [{ containerPort: 80, protocol: 'TCP' }],
});
const http = [{ containerPort: 80, protocol: 'TCP' as const }];

const world = (policies: NetworkPolicyInfo[]): World => ({
  namespaces: [{ name: 'shop', labels: {} }],
  pods: [
    pod('web', ['10.0.1.1', 'fd00:1::1']),
    pod('api', ['10.0.2.2', 'fd00:2::2']),
    pod('old', ['10.0.1.3']),
  ],
  externals: [
    { name: 'net', ip: '203.0.113.9', ports: http },
    { name: 'net6', ip: '2001:db8::9', ports: http },
  ],
  policies,
});

const policy = (
  name: string,
  app: string | undefined,
  types: ('Ingress' | 'Egress')[],
  rules: { ingress?: PolicyPeer[][]; egress?: PolicyPeer[][] } = {},
): NetworkPolicyInfo => ({
  namespace: 'shop',
  name,
  podSelector: { matchLabels: app === undefined ? {} : { app }, matchExpressions: [] },
  policyTypes: types,
  policyTypesDefaulted: false,
  ingress: (rules.ingress ?? []).map((peers) => ({ peers, ports: null })),
  egress: (rules.egress ?? []).map((peers) => ({ peers, ports: null })),
});
const block = (cidr: string, except: string[] = []): PolicyPeer => ({ ipBlock: { cidr, except } });

const KEYS: Record<string, string> = {
  web: 'shop/web',
  api: 'shop/api',
  old: 'shop/old',
  net: 'ext:net',
  net6: 'ext:net6',
};
const TCP80 = { port: 80, protocol: 'TCP' } as const;

/**
 * A hand-written matrix: a header of destinations, then one row per source; A allowed, D denied,
 * `.` no cell (an end without an address of the family, or two hosts outside the cluster).
 */
function parse(text: string): Map<string, string> {
  const [header, ...rows] = text
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/));
  const cells = new Map<string, string>();
  for (const [from, ...values] of rows)
    values.forEach((v, i) => cells.set(`${from ?? ''} ${header?.[i] ?? ''}`, v));
  return cells;
}

/** The model's matrix of one family over the same rows and columns, from verdict and table. */
function modelled(model: NetworkModel, family: 4 | 6, expected: Map<string, string>) {
  const table = model.table(TCP80, family);
  const byVerdict = new Map<string, string>();
  const byTable = new Map<string, string>();
  for (const cell of expected.keys()) {
    const [from = '', to = ''] = cell.split(' ').map((k) => KEYS[k] ?? k);
    const v = model.verdict(from, to, TCP80, family);
    byVerdict.set(
      cell,
      !('verdict' in v) || (from.startsWith('ext:') && to.startsWith('ext:'))
        ? '.'
        : v.verdict === 'allow'
          ? 'A'
          : 'D',
    );
    const a = model.endpoint(from)?.index ?? -1;
    const b = model.endpoint(to)?.index ?? -1;
    byTable.set(cell, !table.isCell(a, b) ? '.' : table.allowed(a, b) ? 'A' : 'D');
  }
  return { byVerdict, byTable, count: table.count() };
}

function expectFamily(model: NetworkModel, family: 4 | 6, text: string): void {
  const expected = parse(text);
  const got = modelled(model, family, expected);
  expect(Object.fromEntries(got.byVerdict), 'verdict').to.deep.equal(Object.fromEntries(expected));
  expect(Object.fromEntries(got.byTable), 'table').to.deep.equal(Object.fromEntries(expected));
  const values = [...expected.values()];
  expect(got.count, 'count').to.deep.equal({
    cells: values.filter((v) => v !== '.').length,
    allowed: values.filter((v) => v === 'A').length,
  });
}

describe('model per IP family', () => {
  it('ipBlock per family: an IPv4 block admits the IPv4 flow and not the IPv6 one', () => {
    const model = new NetworkModel(
      world([policy('api-in', 'api', ['Ingress'], { ingress: [[block('10.0.1.0/24')]] })]),
    );
    expectFamily(
      model,
      4,
      `
           web api old net
      web  A   A   A   A
      api  A   A   A   A
      old  A   A   A   A
      net  A   D   A   .`,
    );
    expectFamily(
      model,
      6,
      `
           web api net6
      web  A   D   A
      api  A   A   A
      net6 A   D   .`,
    );
  });

  it('ipBlock with except per family: each family excepts its own range', () => {
    const model = new NetworkModel(
      world([
        policy('api-in', 'api', ['Ingress'], {
          ingress: [[block('0.0.0.0/0', ['10.0.1.3/32']), block('::/0', ['fd00:1::/64'])]],
        }),
      ]),
    );
    expectFamily(
      model,
      4,
      `
           web api old net
      web  A   A   A   A
      api  A   A   A   A
      old  A   D   A   A
      net  A   A   A   .`,
    );
    expectFamily(
      model,
      6,
      `
           web api net6
      web  A   D   A
      api  A   A   A
      net6 A   A   .`,
    );
  });

  it('default deny on both families: every flow between pods denied, self traffic allowed', () => {
    const model = new NetworkModel(world([policy('deny-all', undefined, ['Ingress', 'Egress'])]));
    expectFamily(
      model,
      4,
      `
           web api old net
      web  A   D   D   D
      api  D   A   D   D
      old  D   D   A   D
      net  D   D   D   .`,
    );
    expectFamily(
      model,
      6,
      `
           web api net6
      web  A   D   D
      api  D   A   D
      net6 D   D   .`,
    );
  });

  it('egress ipBlock per family: the destination address of the flow family is matched', () => {
    const model = new NetworkModel(
      world([policy('web-out', 'web', ['Egress'], { egress: [[block('10.0.2.0/24')]] })]),
    );
    expectFamily(
      model,
      4,
      `
           web api old net
      web  A   A   D   D
      api  A   A   A   A
      old  A   A   A   A
      net  A   A   A   .`,
    );
    expectFamily(
      model,
      6,
      `
           web api net6
      web  A   D   D
      api  A   A   A
      net6 A   A   .`,
    );
  });

  it('a cluster policy Deny on IPv4 networks leaves the IPv6 flow open', () => {
    const base = world([]);
    const model = new NetworkModel({
      ...base,
      clusterPolicies: [
        {
          kind: 'AdminNetworkPolicy',
          apiVersion: 'policy.networking.k8s.io/v1alpha1',
          name: 'no-api-range',
          tier: 'Admin',
          priority: 10,
          subject: { namespaces: { matchLabels: {}, matchExpressions: [] } },
          ingress: [],
          egress: [
            { action: 'Deny', peers: [{ kind: 'networks', cidrs: ['10.0.2.0/24'] }], ports: null },
          ],
        },
      ],
    });
    expectFamily(
      model,
      4,
      `
           web api old net
      web  A   D   A   A
      api  A   A   A   A
      old  A   D   A   A
      net  A   A   A   .`,
    );
    expectFamily(
      model,
      6,
      `
           web api net6
      web  A   A   A
      api  A   A   A
      net6 A   A   .`,
    );
  });

  it('a single-family pod in a dual-stack world has no cell of the other family', () => {
    const model = new NetworkModel(world([]));
    for (const [from, to] of [
      ['shop/old', 'shop/api'],
      ['shop/web', 'shop/old'],
    ] as const) {
      const v = model.verdict(from, to, TCP80, 6);
      expect(v).to.not.have.property('verdict');
      expect(v.reason).to.equal('shop/old has no IPv6 address: no IPv6 flow');
    }
    expect(model.verdict('shop/old', 'ext:net6', TCP80, 4).reason).to.equal(
      'ext:net6@2001:db8::9 has no IPv4 address: no IPv4 flow',
    );
    const v4 = model.verdict('shop/old', 'shop/api', TCP80, 4);
    expect(v4).to.have.property('verdict', 'allow');
  });

  it('a pod that declares no address takes part in both families (no ipBlock matches it)', () => {
    const base = world([policy('api-in', 'api', ['Ingress'], { ingress: [[block('::/0')]] })]);
    const model = new NetworkModel({ ...base, pods: [...base.pods, pod('new', [])] });
    expect(model.verdict('shop/new', 'shop/api', TCP80, 6)).to.have.property('verdict', 'deny');
    expect(model.verdict('shop/web', 'shop/api', TCP80, 6)).to.have.property('verdict', 'allow');
    expect(model.verdict('shop/api', 'shop/new', TCP80, 4)).to.have.property('verdict', 'allow');
  });

  it('without a family, the flow family stays the destination primary family', () => {
    const model = new NetworkModel(
      world([policy('api-in', 'api', ['Ingress'], { ingress: [[block('fd00:1::/64')]] })]),
    );
    // api's primary address is IPv4: web's IPv4 address is matched, and it is outside.
    expect(model.verdict('shop/web', 'shop/api', TCP80)).to.have.property('verdict', 'deny');
    expect(model.verdict('shop/web', 'shop/api', TCP80, 6)).to.have.property('verdict', 'allow');
  });

  it('the walkthrough names the family whose address an ipBlock decided on', () => {
    const model = new NetworkModel(
      world([policy('api-in', 'api', ['Ingress'], { ingress: [[block('10.0.1.0/24')]] })]),
    );
    const peers = (family: 4 | 6 | undefined) =>
      explainFlow(model, 'shop/web', 'shop/api', TCP80, family).sides[1]?.policies[0]?.rules[0]
        ?.peers[0]?.text;
    expect(peers(6)).to.equal(
      "from[0] ipBlock 10.0.1.0/24: shop/web's IPv6 address fd00:1::1 is not in 10.0.1.0/24",
    );
    expect(peers(4)).to.equal(
      "from[0] ipBlock 10.0.1.0/24: shop/web's IPv4 address 10.0.1.1 is inside",
    );
    expect(peers(undefined)).to.equal('from[0] ipBlock 10.0.1.0/24: 10.0.1.1 is inside');
    const six = explainFlow(model, 'shop/web', 'shop/api', TCP80, 6);
    expect(six.family).to.equal(6);
    expect(six.result.reason).to.equal(
      'denied: shop/api-in selects shop/api for Ingress and no rule admits shop/web on 80/TCP over IPv6',
    );
    expect(explainFlow(model, 'shop/web', 'shop/api', TCP80)).to.not.have.property('family');
  });
});
