/**
 * `model --kubeconfig`, `diff --cluster` and `init --kubeconfig` on the lab (the built CLI), under
 * a read-only identity: a ServiceAccount whose ClusterRole grants get and list only, reached
 * through a recording proxy that sees every request, so that the suite proves no write request
 * reaches the API server (not only that none would be allowed). What the live commands say is
 * compared with what the same commands say of the same objects given as manifests.
 */
import * as k8s from '@kubernetes/client-node';
import { expect } from 'chai';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { Cluster, waitPodsReady, type PodSpecInput } from '../../src/cluster/index.js';
import { probePod } from '../../src/probe/probe-pod.js';
import * as lab from '../lab/lab.js';
import { ROOT } from '../support/scenarios.js';

const CLI = join(ROOT, 'dist/cli/main.js');

function log(message: string): void {
  console.log(`      · ${message}`);
}

const policy = (namespace: string, name: string, spec: object) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name, namespace },
  spec,
});

const yaml = (objects: readonly object[]) => objects.map((o) => stringify(o)).join('---\n');

interface DiffDoc {
  changed: boolean;
  opened: {
    port: number;
    protocol: string;
    from: string;
    to: string;
    before: unknown;
    after: unknown;
  }[];
  closed: DiffDoc['opened'];
  summary: Record<string, number>;
}

describe('model, diff and init on a live cluster, read-only (built CLI)', function () {
  this.timeout(180_000);
  const admin = process.env.POLYGRAPH_KUBECONFIG ?? process.env.KUBECONFIG ?? lab.kubeconfigPath();
  const id = Math.random().toString(36).slice(2, 7);
  const shop = `pgdiff-shop-${id}`;
  const visitors = `pgdiff-visitors-${id}`;
  const reader = `polygraph-reader-${id}`;
  const partial = `polygraph-partial-${id}`;
  const scope = `pgdiff-*-${id}/*`;
  let cluster: Cluster | undefined;
  let tmp = '';
  let proxy: Server | undefined;
  const requests: string[] = [];
  let readOnly = '';
  let noPolicies = '';
  let pods: PodSpecInput[] = [];

  const polygraph = (...args: string[]) =>
    execa('node', [CLI, ...args], { reject: false, env: { NO_COLOR: '1' } });
  const kubectl = (args: string[], input?: string) =>
    execa(lab.kubectlPath(), ['--kubeconfig', admin, ...args], {
      ...(input === undefined ? {} : { input }),
      reject: false,
    }).then((r) => {
      // `auth can-i` answers "no" with exit 1; anything else failing is a failure of the setup.
      if (r.exitCode !== 0 && args[0] !== 'auth')
        throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
      return r;
    });

  /** In the order the API server lists them (by name): a verdict names policies in that order. */
  const BEFORE = [
    policy(shop, 'api-from-web', {
      podSelector: { matchLabels: { tier: 'api' } },
      ingress: [
        {
          from: [{ podSelector: { matchLabels: { tier: 'web' } } }],
          ports: [{ port: 'tcp-5000' }],
        },
      ],
    }),
    policy(shop, 'deny-ingress', { podSelector: {}, policyTypes: ['Ingress'] }),
    policy(shop, 'web-from-visitors', {
      podSelector: { matchLabels: { tier: 'web' } },
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'visitors' } } }] }],
    }),
  ];
  /** The change: db admits api on 3306; web admits every namespace. */
  const CHANGE = [
    policy(shop, 'db-from-api', {
      podSelector: { matchLabels: { tier: 'db' } },
      ingress: [
        { from: [{ podSelector: { matchLabels: { tier: 'api' } } }], ports: [{ port: 3306 }] },
      ],
    }),
    policy(shop, 'web-from-visitors', {
      podSelector: { matchLabels: { tier: 'web' } },
      ingress: [{ from: [{ namespaceSelector: {} }] }],
    }),
  ];

  /** The namespaces and pods as manifests: the objects created on the cluster. */
  const topology = () => [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: shop, labels: { team: 'shop' } } },
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: visitors, labels: { team: 'visitors' } },
    },
    // In the order the API server lists them (namespace, then name): rows and reasons follow it.
    ...[...pods]
      .sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`))
      .map((p) => ({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: p.name, namespace: p.namespace, labels: p.labels },
        spec: {
          containers: p.containers.map((c) => ({ name: c.name, image: c.image, ports: c.ports })),
        },
      })),
  ];

  /** A kubeconfig for `sa` (a token from the TokenRequest API) whose server is the proxy. */
  async function kubeconfigFor(sa: string, server: string): Promise<string> {
    const token = (await kubectl(['-n', shop, 'create', 'token', sa, '--duration', '1h'])).stdout;
    const file = join(tmp, `${sa}.kubeconfig`);
    await writeFile(
      file,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        // Plain HTTP to the recording proxy on loopback (the client refuses http:// unless told
        // that TLS is not verified; the proxy talks TLS to the API server, with its CA).
        clusters: [{ name: 'lab', cluster: { server, 'insecure-skip-tls-verify': true } }],
        users: [{ name: sa, user: { token: token.trim() } }],
        contexts: [{ name: sa, context: { cluster: 'lab', user: sa } }],
        'current-context': sa,
      }),
    );
    return file;
  }

  before(async function () {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: npm run build first`);
    if (admin === lab.kubeconfigPath() && !(await lab.status()).up)
      throw new Error('the lab is not up (npm run lab:up)');
    const image = process.env.POLYGRAPH_IMAGE ?? (await lab.probeImageRef());
    cluster = Cluster.connect({ kubeconfig: admin });
    tmp = await mkdtemp(join(tmpdir(), 'polygraph-live-e2e-'));
    await cluster.createNamespace(shop, { team: 'shop' });
    await cluster.createNamespace(visitors, { team: 'visitors' });
    pods = [
      probePod({ namespace: shop, name: 'web', labels: { tier: 'web' }, image, ports: [80] }),
      probePod({ namespace: shop, name: 'api', labels: { tier: 'api' }, image, ports: [5000] }),
      probePod({ namespace: shop, name: 'db', labels: { tier: 'db' }, image, ports: [3306] }),
      probePod({
        namespace: visitors,
        name: 'browser',
        labels: { app: 'browser' },
        image,
        ports: [80],
      }),
    ];
    for (const p of pods) await cluster.createPod(p);
    await waitPodsReady(cluster, shop, ['web', 'api', 'db'], { timeoutMs: 90_000 });
    await waitPodsReady(cluster, visitors, ['browser'], { timeoutMs: 90_000 });
    await kubectl(['apply', '-f', '-'], yaml(BEFORE));
    // Two identities: one that may read everything polygraph reads, one without NetworkPolicies.
    const rbac = [
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: reader, namespace: shop } },
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: partial, namespace: shop } },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: reader },
        rules: [
          { apiGroups: [''], resources: ['namespaces', 'pods'], verbs: ['get', 'list'] },
          {
            apiGroups: ['networking.k8s.io'],
            resources: ['networkpolicies'],
            verbs: ['get', 'list'],
          },
        ],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: partial },
        rules: [{ apiGroups: [''], resources: ['namespaces', 'pods'], verbs: ['get', 'list'] }],
      },
      ...[reader, partial].map((name) => ({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
        subjects: [{ kind: 'ServiceAccount', name, namespace: shop }],
      })),
    ];
    await kubectl(['apply', '-f', '-'], yaml(rbac));
    // The recording proxy: plain HTTP on loopback in front of the API server.
    const config = new k8s.KubeConfig();
    config.loadFromFile(admin);
    const upstream = new URL(config.getCurrentCluster()?.server ?? '');
    const caData = config.getCurrentCluster()?.caData;
    const caFile = config.getCurrentCluster()?.caFile;
    const ca = caData ? Buffer.from(caData, 'base64') : caFile ? await readFile(caFile) : undefined;
    proxy = createServer((req, res) => {
      requests.push(`${req.method ?? '?'} ${req.url ?? ''}`);
      const forward = httpsRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          path: req.url,
          method: req.method,
          headers: { ...req.headers, host: upstream.host },
          ...(ca ? { ca } : {}),
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on('error', (error) => {
        res.writeHead(502);
        res.end(String(error));
      });
      req.pipe(forward);
    });
    await new Promise<void>((resolve) => proxy?.listen(0, '127.0.0.1', resolve));
    const port = (proxy.address() as AddressInfo).port;
    readOnly = await kubeconfigFor(reader, `http://127.0.0.1:${String(port)}`);
    noPolicies = await kubeconfigFor(partial, `http://127.0.0.1:${String(port)}`);
    // A control: the identity really is read-only.
    const canCreate = await kubectl([
      'auth',
      'can-i',
      'create',
      'networkpolicies',
      '-n',
      shop,
      '--as',
      `system:serviceaccount:${shop}:${reader}`,
    ]);
    expect(canCreate.stdout.trim()).to.equal('no');
    await writeFile(join(tmp, 'before.yaml'), yaml([...topology(), ...BEFORE]));
    // --apply replaces web-from-visitors where it is and adds db-from-api after the others.
    const after = [
      ...BEFORE.map((p) => (p.metadata.name === 'web-from-visitors' ? (CHANGE[1] as object) : p)),
      CHANGE[0] as object,
    ];
    await writeFile(join(tmp, 'after.yaml'), yaml([...topology(), ...after]));
    await writeFile(join(tmp, 'change.yaml'), yaml(CHANGE));
    await writeFile(join(tmp, 'delete.yaml'), yaml([BEFORE[1] as object]));
    await writeFile(
      join(tmp, 'deleted.yaml'),
      yaml([...topology(), ...BEFORE.filter((p) => p.metadata.name !== 'deny-ingress')]),
    );
  });

  after(async function () {
    proxy?.close();
    if (cluster === undefined) return;
    await kubectl([
      'delete',
      'clusterrolebinding,clusterrole',
      reader,
      partial,
      '--ignore-not-found',
    ]);
    await cluster.deleteNamespace(shop, { wait: false });
    await cluster.deleteNamespace(visitors, { wait: false });
  });

  afterEach(function () {
    const writes = requests.filter((r) => !r.startsWith('GET '));
    expect(writes, 'requests other than GET through the proxy').to.deep.equal([]);
  });

  it('model --kubeconfig gives the tables of the same objects as manifests, with GET requests only', async () => {
    const live = await polygraph(
      'model',
      '--kubeconfig',
      readOnly,
      '-A',
      '--from',
      scope,
      '--to',
      scope,
      '-o',
      'json',
    );
    expect(live.exitCode, live.stderr).to.equal(0);
    log(live.stderr);
    const offline = await polygraph(
      'model',
      '-f',
      join(tmp, 'before.yaml'),
      '--from',
      scope,
      '--to',
      scope,
      '-o',
      'json',
    );
    expect(offline.exitCode, offline.stderr).to.equal(0);
    const tables = (text: string) =>
      (JSON.parse(text) as { probes: unknown[]; summary: unknown }).probes;
    expect(tables(live.stdout)).to.deep.equal(tables(offline.stdout));
    // And by hand, the row of the visitors' browser on 80/TCP: web admits it, browser itself.
    const doc = JSON.parse(live.stdout) as {
      probes: { port: number; protocol: string; from: string[]; to: string[]; rows: string[] }[];
    };
    const p80 = doc.probes.find((p) => p.port === 80 && p.protocol === 'TCP');
    const row = p80?.rows[p80.from.indexOf(`${visitors}/browser`)] ?? '';
    expect(row[p80?.to.indexOf(`${shop}/web`) ?? -1]).to.equal('.');
    expect(row[p80?.to.indexOf(`${shop}/api`) ?? -1]).to.equal('-'); // api does not serve 80
    expect(requests.length).to.be.greaterThan(0);
    expect(requests.some((r) => r.includes('limit='))).to.equal(true); // paginated lists
  });

  it('model -n reads one namespace; explain --kubeconfig walks a live flow', async () => {
    const live = await polygraph(
      'model',
      '--kubeconfig',
      readOnly,
      '-n',
      shop,
      '--probe',
      '5000',
      '-o',
      'json',
    );
    expect(live.exitCode, live.stderr).to.equal(0);
    const doc = JSON.parse(live.stdout) as { endpoints: { key: string }[] };
    expect(doc.endpoints.map((e) => e.key).sort()).to.deep.equal([
      `${shop}/api`,
      `${shop}/db`,
      `${shop}/web`,
    ]);
    const explain = await polygraph(
      'explain',
      '--kubeconfig',
      readOnly,
      '-n',
      shop,
      '--from',
      'web',
      '--to',
      'api',
      '--port',
      '5000',
    );
    expect(explain.exitCode, explain.stderr).to.equal(0);
    expect(explain.stdout).to.contain(`${shop}/api-from-web`);
    expect(explain.stdout).to.contain('ALLOW');
  });

  it('diff --cluster --apply says what diff of the same manifests says; exit 1', async () => {
    const live = await polygraph(
      'diff',
      '--cluster',
      '--kubeconfig',
      readOnly,
      '-A',
      '--apply',
      join(tmp, 'change.yaml'),
      '--from',
      scope,
      '--to',
      scope,
      '-o',
      'json',
    );
    expect(live.exitCode, live.stderr).to.equal(1);
    const offline = await polygraph(
      'diff',
      join(tmp, 'before.yaml'),
      join(tmp, 'after.yaml'),
      '--from',
      scope,
      '--to',
      scope,
      '-o',
      'json',
    );
    expect(offline.exitCode, offline.stderr).to.equal(1);
    const cells = (text: string) => {
      const d = JSON.parse(text) as DiffDoc;
      return { opened: d.opened, closed: d.closed, summary: d.summary };
    };
    expect(cells(live.stdout)).to.deep.equal(cells(offline.stdout));
    const opened = (JSON.parse(live.stdout) as DiffDoc).opened.map(
      (c) => `${String(c.port)}/${c.protocol} ${c.from} -> ${c.to}`,
    );
    // By hand: db now admits api on 3306 (TCP only); web admits every namespace, so api and
    // db reach it on 80 over TCP and UDP. Nothing closes.
    expect(opened.sort()).to.deep.equal(
      [
        `3306/TCP ${shop}/api -> ${shop}/db`,
        `80/TCP ${shop}/api -> ${shop}/web`,
        `80/TCP ${shop}/db -> ${shop}/web`,
        `80/UDP ${shop}/api -> ${shop}/web`,
        `80/UDP ${shop}/db -> ${shop}/web`,
      ].sort(),
    );
    const text = await polygraph(
      'diff',
      '--cluster',
      '--kubeconfig',
      readOnly,
      '-A',
      '--apply',
      join(tmp, 'change.yaml'),
      '--from',
      scope,
      '--to',
      scope,
    );
    expect(text.stdout).to.contain('this change closes 0 flows, opens 5');
  });

  it('diff --cluster --delete says what diff of the same manifests says', async () => {
    const live = await polygraph(
      'diff',
      '--cluster',
      '--kubeconfig',
      readOnly,
      '-A',
      '--delete',
      join(tmp, 'delete.yaml'),
      '--from',
      scope,
      '--to',
      scope,
      '-o',
      'json',
    );
    expect(live.exitCode, live.stderr).to.equal(1);
    const offline = await polygraph(
      'diff',
      join(tmp, 'before.yaml'),
      join(tmp, 'deleted.yaml'),
      '--from',
      scope,
      '--to',
      scope,
      '-o',
      'json',
    );
    const cells = (text: string) => {
      const d = JSON.parse(text) as DiffDoc;
      return { opened: d.opened, closed: d.closed, summary: d.summary };
    };
    expect(cells(live.stdout)).to.deep.equal(cells(offline.stdout));
    expect((JSON.parse(live.stdout) as DiffDoc).closed).to.deep.equal([]);
  });

  it('a refused list names the missing permission; exit 3', async () => {
    const r = await polygraph('model', '--kubeconfig', noPolicies, '-A');
    expect(r.exitCode).to.equal(3);
    expect(r.stderr).to.contain('may not list networkpolicies.networking.k8s.io cluster-wide');
    expect(r.stderr).to.contain('missing permission: list networkpolicies.networking.k8s.io');
  });

  it('init --kubeconfig writes a scenario of the namespace as it is, which checks clean', async () => {
    const file = join(tmp, 'from-cluster.yaml');
    const init = await polygraph('init', '--kubeconfig', readOnly, '-n', shop, '-o', file);
    expect(init.exitCode, init.stderr).to.equal(0);
    const check = await polygraph('check', file);
    expect(check.exitCode, check.stdout).to.equal(0);
    const text = await readFile(file, 'utf8');
    expect(text).to.contain('name: api-from-web');
    expect(text).to.contain(
      `generated by polygraph init from namespace ${shop} of http://127.0.0.1:`,
    );
  });
});
