import { expect } from 'chai';
import { cellName, diffWorlds, hasChanges, type DiffResult } from '../../src/compare/diff.js';
import { InputError } from '../../src/domain/errors.js';
import { formatIssue } from '../../src/domain/issue.js';
import { loadManifestText } from '../../src/manifest/load.js';
import { applyManifests, deleteManifests } from '../../src/manifest/overlay.js';
import type { ModelOptions, World } from '../../src/model/types.js';
import { diffDocument, diffJsonChunks } from '../../src/report/diff.js';

/*
 * `diff` on manifests: every case gives a before and an after, and the cells opened and closed
 * written by hand from the NetworkPolicy spec (never computed by the model under test).
 *
 * The topology of every case, and the ports each pod serves (the cells compared are those of a
 * destination on the ports it declares; a pod connecting to itself is allowed, selfTraffic allow):
 *   shop/web        tier=web      80
 *   shop/api        tier=api      5000 (named api), 8443
 *   shop/db         tier=db       3306 (named mysql)
 *   visitors/browser app=browser  80
 *   ops/monitor     app=monitor   9090
 * Namespaces shop (team=shop), visitors (team=visitors), ops (team=ops). IPs 10.0.1.1-3 (shop),
 * 10.0.2.1 (visitors), 10.0.3.1 (ops).
 */

const ns = (name: string, labels = `{team: ${name}}`) =>
  `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${name}, labels: ${labels}}\n---\n`;
const pod = (namespace: string, name: string, labels: string, ip: string, ports: string) =>
  `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}, namespace: ${namespace}, labels: ${labels}}\n` +
  `spec: {containers: [{name: c, image: i, ports: ${ports}}]}\nstatus: {podIP: ${ip}}\n---\n`;

const NAMESPACES = ns('shop') + ns('visitors') + ns('ops');
const PODS = {
  web: pod('shop', 'web', '{tier: web}', '10.0.1.1', '[{containerPort: 80}]'),
  api: pod(
    'shop',
    'api',
    '{tier: api}',
    '10.0.1.2',
    '[{name: api, containerPort: 5000}, {containerPort: 8443}]',
  ),
  db: pod('shop', 'db', '{tier: db}', '10.0.1.3', '[{name: mysql, containerPort: 3306}]'),
  browser: pod('visitors', 'browser', '{app: browser}', '10.0.2.1', '[{containerPort: 80}]'),
  monitor: pod('ops', 'monitor', '{app: monitor}', '10.0.3.1', '[{containerPort: 9090}]'),
};
const TOPOLOGY = NAMESPACES + Object.values(PODS).join('');

const policy = (namespace: string, name: string, spec: string) =>
  `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: ${name}, namespace: ${namespace}}\nspec:\n${spec}\n---\n`;

const DENY_INGRESS_SHOP = policy(
  'shop',
  'deny-ingress',
  '  podSelector: {}\n  policyTypes: [Ingress]',
);
const API_FROM_WEB = policy(
  'shop',
  'api-from-web',
  '  podSelector: {matchLabels: {tier: api}}\n  ingress:\n  - from: [{podSelector: {matchLabels: {tier: web}}}]\n    ports: [{port: 5000}]',
);
const DB_FROM_API = (port: string) =>
  policy(
    'shop',
    'db-from-api',
    `  podSelector: {matchLabels: {tier: db}}\n  ingress:\n  - from: [{podSelector: {matchLabels: {tier: api}}}]\n    ports: [${port}]`,
  );

function world(text: string): World {
  try {
    return loadManifestText(text, 'case.yaml').world;
  } catch (error) {
    if (error instanceof InputError) throw new Error(error.issues.map(formatIssue).join('\n'));
    throw error;
  }
}

/** Every `PROBE FROM -> TO` for the sources and destinations given (a hand-written cross product). */
function cells(probe: string, from: readonly string[], to: readonly string[]): string[] {
  return from.flatMap((f) => to.map((t) => `${probe} ${f} -> ${t}`));
}

const names = (result: DiffResult, kind: 'opened' | 'closed') =>
  result[kind].map((c) => cellName(c)).sort();

interface Case {
  name: string;
  before: string;
  after: string;
  opened: string[];
  closed: string[];
  options?: Partial<ModelOptions>;
}

const OTHERS_OF_SHOP = ['visitors/browser', 'ops/monitor'];

const CASES: Case[] = [
  {
    name: 'a new default-deny ingress policy closes every flow into the namespace but self traffic',
    before: TOPOLOGY,
    after: TOPOLOGY + DENY_INGRESS_SHOP,
    opened: [],
    closed: [
      ...cells('80/TCP', ['shop/api', 'shop/db', ...OTHERS_OF_SHOP], ['shop/web']),
      ...cells('5000/TCP', ['shop/web', 'shop/db', ...OTHERS_OF_SHOP], ['shop/api']),
      ...cells('8443/TCP', ['shop/web', 'shop/db', ...OTHERS_OF_SHOP], ['shop/api']),
      ...cells('3306/TCP', ['shop/web', 'shop/api', ...OTHERS_OF_SHOP], ['shop/db']),
    ],
  },
  {
    name: 'a new default-deny egress policy closes every flow out of the namespace',
    before: TOPOLOGY,
    after:
      TOPOLOGY + policy('visitors', 'deny-egress', '  podSelector: {}\n  policyTypes: [Egress]'),
    opened: [],
    closed: [
      '80/TCP visitors/browser -> shop/web',
      '5000/TCP visitors/browser -> shop/api',
      '8443/TCP visitors/browser -> shop/api',
      '3306/TCP visitors/browser -> shop/db',
      '9090/TCP visitors/browser -> ops/monitor',
    ],
  },
  {
    name: 'the default-deny policy deleted opens what it closed',
    before: TOPOLOGY + DENY_INGRESS_SHOP + API_FROM_WEB,
    after: TOPOLOGY + API_FROM_WEB,
    // api-from-web still isolates shop/api for ingress: only web on 5000 gets in.
    opened: [
      ...cells('80/TCP', ['shop/api', 'shop/db', ...OTHERS_OF_SHOP], ['shop/web']),
      ...cells('3306/TCP', ['shop/web', 'shop/api', ...OTHERS_OF_SHOP], ['shop/db']),
    ],
    closed: [],
  },
  {
    name: 'an allow policy deleted closes the flow it admitted',
    before: TOPOLOGY + DENY_INGRESS_SHOP + API_FROM_WEB,
    after: TOPOLOGY + DENY_INGRESS_SHOP,
    opened: [],
    closed: ['5000/TCP shop/web -> shop/api'],
  },
  {
    name: 'a podSelector peer widened to the whole namespace',
    before: TOPOLOGY + DENY_INGRESS_SHOP + API_FROM_WEB,
    after: TOPOLOGY + DENY_INGRESS_SHOP + API_FROM_WEB.replace('{matchLabels: {tier: web}}', '{}'),
    opened: ['5000/TCP shop/db -> shop/api'],
    closed: [],
  },
  {
    name: 'a namespaceSelector widened to every namespace',
    before:
      TOPOLOGY +
      DENY_INGRESS_SHOP +
      policy(
        'shop',
        'web-from-visitors',
        '  podSelector: {matchLabels: {tier: web}}\n  ingress:\n  - from: [{namespaceSelector: {matchLabels: {team: visitors}}}]\n    ports: [{port: 80}]',
      ),
    after:
      TOPOLOGY +
      DENY_INGRESS_SHOP +
      policy(
        'shop',
        'web-from-visitors',
        '  podSelector: {matchLabels: {tier: web}}\n  ingress:\n  - from: [{namespaceSelector: {}}]\n    ports: [{port: 80}]',
      ),
    opened: cells('80/TCP', ['shop/api', 'shop/db', 'ops/monitor'], ['shop/web']),
    closed: [],
  },
  {
    name: 'a label removed from a namespace takes its pods out of a namespaceSelector',
    before:
      TOPOLOGY +
      DENY_INGRESS_SHOP +
      policy(
        'shop',
        'web-from-visitors',
        '  podSelector: {matchLabels: {tier: web}}\n  ingress:\n  - from: [{namespaceSelector: {matchLabels: {team: visitors}}}]',
      ),
    after:
      ns('shop') +
      ns('visitors', '{}') +
      ns('ops') +
      Object.values(PODS).join('') +
      DENY_INGRESS_SHOP +
      policy(
        'shop',
        'web-from-visitors',
        '  podSelector: {matchLabels: {tier: web}}\n  ingress:\n  - from: [{namespaceSelector: {matchLabels: {team: visitors}}}]',
      ),
    opened: [],
    closed: ['80/TCP visitors/browser -> shop/web'],
  },
  {
    name: 'an endPort narrowed closes the ports it no longer covers',
    before:
      TOPOLOGY +
      DENY_INGRESS_SHOP +
      policy(
        'shop',
        'api-from-ops',
        '  podSelector: {matchLabels: {tier: api}}\n  ingress:\n  - from: [{namespaceSelector: {matchLabels: {team: ops}}}]\n    ports: [{port: 5000, endPort: 9000}]',
      ),
    after:
      TOPOLOGY +
      DENY_INGRESS_SHOP +
      policy(
        'shop',
        'api-from-ops',
        '  podSelector: {matchLabels: {tier: api}}\n  ingress:\n  - from: [{namespaceSelector: {matchLabels: {team: ops}}}]\n    ports: [{port: 5000, endPort: 6000}]',
      ),
    opened: [],
    closed: ['8443/TCP ops/monitor -> shop/api'],
  },
  {
    name: 'policyTypes edited to add Egress isolates the pods for egress with no egress rule',
    before:
      TOPOLOGY +
      policy(
        'shop',
        'db',
        '  podSelector: {matchLabels: {tier: db}}\n  policyTypes: [Ingress]\n  ingress:\n  - {}',
      ),
    after:
      TOPOLOGY +
      policy(
        'shop',
        'db',
        '  podSelector: {matchLabels: {tier: db}}\n  policyTypes: [Ingress, Egress]\n  ingress:\n  - {}',
      ),
    opened: [],
    closed: [
      '80/TCP shop/db -> shop/web',
      '5000/TCP shop/db -> shop/api',
      '8443/TCP shop/db -> shop/api',
      '80/TCP shop/db -> visitors/browser',
      '9090/TCP shop/db -> ops/monitor',
    ],
  },
  {
    name: 'policyTypes edited to drop Ingress opens the ingress it denied',
    before:
      TOPOLOGY + policy('ops', 'deny-all', '  podSelector: {}\n  policyTypes: [Ingress, Egress]'),
    after: TOPOLOGY + policy('ops', 'deny-all', '  podSelector: {}\n  policyTypes: [Egress]'),
    opened: cells(
      '9090/TCP',
      ['shop/web', 'shop/api', 'shop/db', 'visitors/browser'],
      ['ops/monitor'],
    ),
    closed: [],
  },
  {
    name: 'a named port replaced by a number the pod does not serve',
    before: TOPOLOGY + DENY_INGRESS_SHOP + DB_FROM_API('{port: mysql}'),
    after: TOPOLOGY + DENY_INGRESS_SHOP + DB_FROM_API('{port: 3307}'),
    opened: [],
    closed: ['3306/TCP shop/api -> shop/db'],
  },
  {
    name: 'a rule’s protocol changed from TCP to UDP',
    before: TOPOLOGY + DENY_INGRESS_SHOP + DB_FROM_API('{port: 3306}'),
    after: TOPOLOGY + DENY_INGRESS_SHOP + DB_FROM_API('{port: 3306, protocol: UDP}'),
    opened: [],
    closed: ['3306/TCP shop/api -> shop/db'],
  },
  {
    name: 'an except added to an egress ipBlock',
    before:
      TOPOLOGY +
      policy(
        'visitors',
        'egress',
        '  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n  - to: [{ipBlock: {cidr: 10.0.1.0/24}}]',
      ),
    after:
      TOPOLOGY +
      policy(
        'visitors',
        'egress',
        '  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n  - to: [{ipBlock: {cidr: 10.0.1.0/24, except: [10.0.1.3/32]}}]',
      ),
    opened: [],
    closed: ['3306/TCP visitors/browser -> shop/db'],
  },
  {
    name: 'a pod relabelled leaves the selector that admitted it',
    before: TOPOLOGY + DENY_INGRESS_SHOP + DB_FROM_API('{port: 3306}'),
    after:
      NAMESPACES +
      [
        PODS.web,
        PODS.api.replace('{tier: api}', '{tier: backend}'),
        PODS.db,
        PODS.browser,
        PODS.monitor,
      ].join('') +
      DENY_INGRESS_SHOP +
      DB_FROM_API('{port: 3306}'),
    opened: [],
    closed: ['3306/TCP shop/api -> shop/db'],
  },
  {
    name: 'the source admitted swapped: one flow opened, one closed',
    before: TOPOLOGY + DENY_INGRESS_SHOP + API_FROM_WEB,
    after: TOPOLOGY + DENY_INGRESS_SHOP + API_FROM_WEB.replace('tier: web', 'tier: db'),
    opened: ['5000/TCP shop/db -> shop/api'],
    closed: ['5000/TCP shop/web -> shop/api'],
  },
  {
    name: 'a policy split in two equivalent ones changes no cell',
    before:
      TOPOLOGY +
      DENY_INGRESS_SHOP +
      policy(
        'shop',
        'api',
        '  podSelector: {matchLabels: {tier: api}}\n  ingress:\n  - from: [{podSelector: {matchLabels: {tier: web}}}, {podSelector: {matchLabels: {tier: db}}}]\n    ports: [{port: 5000}]',
      ),
    after:
      TOPOLOGY +
      DENY_INGRESS_SHOP +
      policy(
        'shop',
        'api',
        '  podSelector: {matchLabels: {tier: api}}\n  ingress:\n  - from: [{podSelector: {matchLabels: {tier: web}}}]\n    ports: [{port: api}]',
      ) +
      policy(
        'shop',
        'api-from-db',
        '  podSelector: {matchLabels: {tier: api}}\n  ingress:\n  - from: [{podSelector: {matchLabels: {tier: db}}}]\n    ports: [{port: 5000}]',
      ),
    opened: [],
    closed: [],
  },
  {
    name: 'with selfTraffic: policy a default deny also closes a pod to itself',
    before: TOPOLOGY,
    after: TOPOLOGY + policy('ops', 'deny-ingress', '  podSelector: {}\n  policyTypes: [Ingress]'),
    options: { selfTraffic: 'policy' },
    opened: [],
    closed: cells(
      '9090/TCP',
      ['shop/web', 'shop/api', 'shop/db', 'visitors/browser', 'ops/monitor'],
      ['ops/monitor'],
    ),
  },
];

describe('diff: cells opened and closed by a change (hand-written cases)', () => {
  for (const c of CASES)
    it(c.name, () => {
      const result = diffWorlds(world(c.before), world(c.after), c.options ?? {});
      expect(names(result, 'closed'), 'closed').to.deep.equal([...c.closed].sort());
      expect(names(result, 'opened'), 'opened').to.deep.equal([...c.opened].sort());
      expect(result.opened.map((x) => x.change)).to.deep.equal(c.opened.map(() => 'opened'));
      expect(result.closed.map((x) => x.change)).to.deep.equal(c.closed.map(() => 'closed'));
      expect(result.summary.opened).to.equal(c.opened.length);
      expect(result.summary.closed).to.equal(c.closed.length);
      expect(hasChanges(result)).to.equal(c.opened.length + c.closed.length > 0);
    });

  it('the same world against itself: nothing changes, every cell compared', () => {
    const w = world(TOPOLOGY + DENY_INGRESS_SHOP + API_FROM_WEB);
    const result = diffWorlds(w, w);
    expect(hasChanges(result)).to.equal(false);
    // Served cells: 80 to web and browser (6 sources each), 5000 and 8443 to api, 3306 to db,
    // 9090 to monitor (5 sources each): 2*5 + 4*5 = 30.
    expect(result.summary).to.deep.equal({
      compared: 30,
      unchanged: 30,
      opened: 0,
      closed: 0,
      oneSided: 0,
    });
  });

  it('each changed cell carries the deciding policy and rule on both sides', () => {
    const result = diffWorlds(
      world(TOPOLOGY + DENY_INGRESS_SHOP + API_FROM_WEB),
      world(TOPOLOGY + DENY_INGRESS_SHOP + API_FROM_WEB.replace('tier: web', 'tier: db')),
    );
    const [opened] = result.opened;
    const [closed] = result.closed;
    expect(opened?.before.ingress).to.deep.equal({
      kind: 'denied',
      policies: ['shop/deny-ingress', 'shop/api-from-web'],
    });
    expect(opened?.after.ingress).to.deep.include({ kind: 'allowed' });
    expect(opened?.after.reason).to.contain(
      'ingress admitted by shop/api-from-web spec.ingress[0]',
    );
    expect(closed?.before.reason).to.contain(
      'ingress admitted by shop/api-from-web spec.ingress[0]',
    );
    expect(closed?.after.reason).to.equal(
      'denied: shop/deny-ingress, shop/api-from-web select shop/api for Ingress and no rule admits shop/web on 5000/TCP',
    );
  });

  it('lists the objects that differ, also when no cell changes', () => {
    const before = world(TOPOLOGY + DENY_INGRESS_SHOP + API_FROM_WEB);
    const after = world(
      ns('shop', '{team: shop, tier: prod}') +
        ns('visitors') +
        ns('ops') +
        ns('new') +
        [
          PODS.web.replace('{tier: web}', '{tier: web, v: "2"}'),
          PODS.api,
          PODS.db,
          PODS.browser,
          PODS.monitor,
        ].join('') +
        API_FROM_WEB.replace('port: 5000', 'port: api') +
        policy('ops', 'nothing', '  podSelector: {matchLabels: {none: x}}'),
    );
    const result = diffWorlds(before, after);
    expect(result.changes.policies).to.deep.equal({
      added: ['ops/nothing'],
      removed: ['shop/deny-ingress'],
      changed: ['shop/api-from-web'],
    });
    expect(result.changes.namespaces).to.deep.equal({
      added: ['new'],
      removed: [],
      relabelled: ['shop'],
    });
    expect(result.changes.endpoints.changed).to.deep.equal(['shop/web']);
  });

  it('endpoints added or removed are listed with their allowed cells, and count as a change', () => {
    const cache = pod('shop', 'cache', '{tier: cache}', '10.0.1.9', '[{containerPort: 6379}]');
    const added = diffWorlds(world(TOPOLOGY), world(TOPOLOGY + cache));
    expect(names(added, 'opened')).to.deep.equal([]);
    expect(names(added, 'closed')).to.deep.equal([]);
    // No policy: shop/cache is reached on 6379 by the 6 pods (itself included) and reaches the
    // 6 served (pod, port) pairs of the others: 80 web, 5000 and 8443 api, 3306 db, 80 browser,
    // 9090 monitor.
    expect(added.changes.endpoints.added).to.deep.equal([
      { key: 'shop/cache', allowed: 12, cells: 12 },
    ]);
    expect(hasChanges(added)).to.equal(true);
    const removed = diffWorlds(
      world(TOPOLOGY + DENY_INGRESS_SHOP),
      world(NAMESPACES + [PODS.web, PODS.api, PODS.db, PODS.monitor].join('') + DENY_INGRESS_SHOP),
    );
    // browser: as source to web 80, api 5000 and 8443, db 3306 (denied by deny-ingress), monitor
    // 9090 and itself 80 (allowed); as destination on 80 from web, api, db, monitor (allowed).
    expect(removed.changes.endpoints.removed).to.deep.equal([
      { key: 'visitors/browser', allowed: 6, cells: 10 },
    ]);
    expect(hasChanges(removed)).to.equal(true);
  });

  it('--from/--to narrow the cells compared', () => {
    const result = diffWorlds(
      world(TOPOLOGY),
      world(TOPOLOGY + DENY_INGRESS_SHOP),
      {},
      {
        from: (e) => e.key.startsWith('visitors/'),
        to: (e) => e.key === 'shop/api',
      },
    );
    expect(names(result, 'closed')).to.deep.equal([
      '5000/TCP visitors/browser -> shop/api',
      '8443/TCP visitors/browser -> shop/api',
    ]);
  });

  it('--probe limits the ports compared; --all-ports also compares ports nobody declares', () => {
    const only = diffWorlds(
      world(TOPOLOGY),
      world(TOPOLOGY + DENY_INGRESS_SHOP),
      {},
      {
        probes: [{ port: 3306, protocol: 'TCP' }],
      },
    );
    expect(names(only, 'closed')).to.deep.equal(
      cells('3306/TCP', ['ops/monitor', 'shop/api', 'shop/web', 'visitors/browser'], ['shop/db']),
    );
    const all = diffWorlds(
      world(TOPOLOGY),
      world(TOPOLOGY + DENY_INGRESS_SHOP),
      {},
      {
        probes: [{ port: 3306, protocol: 'TCP' }],
        servedOnly: false,
      },
    );
    // Every shop pod on 3306 from every other pod: 3 destinations x 4 other sources.
    expect(all.summary.closed).to.equal(12);
  });
});

describe('diff -o json: the document written in pieces', () => {
  const sides = {
    before: { source: '-f before.yaml', namespaces: 3, pods: 5, policies: 1 },
    after: { source: '-f after.yaml', namespaces: 3, pods: 5, policies: 2 },
  };
  for (const [name, before, after] of [
    ['cells opened and closed', TOPOLOGY + DENY_INGRESS_SHOP, TOPOLOGY + API_FROM_WEB],
    ['no change (empty lists)', TOPOLOGY + DENY_INGRESS_SHOP, TOPOLOGY + DENY_INGRESS_SHOP],
  ] as const)
    it(`${name}: the same document as diffDocument, keys in the same order, one cell a line`, () => {
      const result = diffWorlds(world(before), world(after));
      const text = [...diffJsonChunks(result, sides)].join('');
      const whole = diffDocument(result, sides);
      expect(JSON.parse(text)).to.deep.equal(JSON.parse(JSON.stringify(whole)));
      expect(Object.keys(JSON.parse(text) as object)).to.deep.equal(Object.keys(whole));
      const lines = text.split('\n');
      for (const key of ['opened', 'closed'] as const) {
        const at = lines.findIndex((l) => l.startsWith(`  "${key}": [`));
        const cellLines = lines.slice(at + 1).filter((l) => l.startsWith('    {'));
        if (whole[key].length === 0) expect(lines[at]).to.equal(`  "${key}": [],`);
        else expect(cellLines.length).to.be.at.least(whole[key].length);
      }
      expect(text.endsWith('}\n')).to.equal(true);
    });
});

describe('diff: a world with manifests applied or deleted', () => {
  const live = world(TOPOLOGY + DENY_INGRESS_SHOP + API_FROM_WEB);

  it('apply replaces a policy of the same name and adds new ones', () => {
    const change = loadManifestText(
      API_FROM_WEB.replace('tier: web', 'tier: db') +
        policy('ops', 'deny', '  podSelector: {}\n  policyTypes: [Ingress]'),
      'change.yaml',
    );
    const { world: after, notes } = applyManifests(live, change);
    expect(notes).to.deep.equal([]);
    expect(after.policies.map((p) => `${p.namespace}/${p.name}`)).to.deep.equal([
      'shop/deny-ingress',
      'shop/api-from-web',
      'ops/deny',
    ]);
    const result = diffWorlds(live, after);
    expect(names(result, 'opened')).to.deep.equal(['5000/TCP shop/db -> shop/api']);
    expect(names(result, 'closed')).to.deep.equal(
      [
        '5000/TCP shop/web -> shop/api',
        ...cells(
          '9090/TCP',
          ['shop/web', 'shop/api', 'shop/db', 'visitors/browser'],
          ['ops/monitor'],
        ),
      ].sort(),
    );
  });

  it('apply sets a namespace’s labels and keeps a live pod’s IP when the manifest has none', () => {
    const change = loadManifestText(
      ns('visitors', '{zone: dmz}') +
        'apiVersion: v1\nkind: Pod\nmetadata: {name: browser, namespace: visitors, labels: {app: other}}\nspec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}\n',
      'change.yaml',
    );
    const { world: after } = applyManifests(live, change);
    expect(after.namespaces.find((n) => n.name === 'visitors')?.labels).to.deep.equal({
      zone: 'dmz',
    });
    const browser = after.pods.find((p) => p.name === 'browser');
    expect(browser?.labels).to.deep.equal({ app: 'other' });
    expect(browser?.ips).to.deep.equal(['10.0.2.1']);
  });

  it('apply notes a policy for a namespace that is not in the world, and a workload’s pods', () => {
    const change = loadManifestText(
      policy('nowhere', 'p', '  podSelector: {}') +
        'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: cache, namespace: shop}\nspec:\n  replicas: 2\n  selector: {matchLabels: {tier: cache}}\n  template: {metadata: {labels: {tier: cache}}, spec: {containers: [{name: c, image: i}]}}\n',
      'change.yaml',
    );
    const { world: after, notes } = applyManifests(live, change);
    expect(after.pods.map((p) => p.name)).to.include.members(['cache-r1', 'cache-r2']);
    expect(notes).to.deep.equal([
      'Deployment shop/cache: its pods join as representatives; live pods it already runs are kept as they are',
      'NetworkPolicy nowhere/p: namespace nowhere is not in the world read (kubectl apply fails unless it exists)',
    ]);
  });

  it('delete removes policies, pods, and namespaces with their pods and policies', () => {
    const change = loadManifestText(
      API_FROM_WEB +
        ns('ops') +
        'apiVersion: v1\nkind: Pod\nmetadata: {name: browser, namespace: visitors}\nspec: {containers: [{name: c, image: i}]}\n---\n' +
        policy('shop', 'ghost', '  podSelector: {}') +
        'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {matchLabels: {tier: web}}\n  template: {metadata: {labels: {tier: web}}, spec: {containers: [{name: c, image: i}]}}\n',
      'change.yaml',
    );
    const { world: after, notes } = deleteManifests(live, change);
    expect(after.namespaces.map((n) => n.name)).to.deep.equal(['shop', 'visitors']);
    expect(after.pods.map((p) => `${p.namespace}/${p.name}`)).to.deep.equal([
      'shop/web',
      'shop/api',
      'shop/db',
    ]);
    expect(after.policies.map((p) => `${p.namespace}/${p.name}`)).to.deep.equal([
      'shop/deny-ingress',
    ]);
    expect(notes).to.deep.equal([
      'Deployment shop/web: not removed; delete its pods by name, since nothing offline says which live pods a workload runs',
      'NetworkPolicy shop/ghost is not in the world read: nothing to delete',
    ]);
    const result = diffWorlds(live, after);
    expect(names(result, 'closed')).to.deep.equal(['5000/TCP shop/web -> shop/api']);
    expect(result.changes.endpoints.removed.map((e) => e.key)).to.deep.equal([
      'visitors/browser',
      'ops/monitor',
    ]);
  });
});
