import { expect } from 'chai';
import { writeFile, mkdtemp } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { readLive } from '../../src/cli/live.js';
import { Cluster, ClusterError, readClusterState } from '../../src/cluster/index.js';

/*
 * readClusterState's paging and its errors, against a local HTTP server that answers list
 * requests the way the API server does (limit/continue, a 403 Status). A seam for the loop and
 * the messages; the lab proves the reading on Kubernetes (test/e2e/live-model.e2e.ts).
 */

type Handler = (url: URL) => { status: number; body: unknown };

describe('reading a cluster: pages and refusals', function () {
  let server: Server | undefined;
  let kubeconfig = '';
  const requests: string[] = [];
  let handler: Handler = () => ({ status: 404, body: {} });

  before(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      requests.push(`${req.method ?? ''} ${req.url ?? ''}`);
      const { status, body } = handler(new URL(req.url ?? '/', 'http://x'));
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const dir = await mkdtemp(join(tmpdir(), 'polygraph-read-'));
    kubeconfig = join(dir, 'kubeconfig');
    await writeFile(
      kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "http://127.0.0.1:${String(port)}", insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`,
    );
  });
  after(() => {
    server?.close();
  });
  beforeEach(() => {
    requests.length = 0;
  });

  const list = (kind: string, items: object[], next?: string) => ({
    status: 200,
    body: { kind, apiVersion: 'v1', metadata: next ? { continue: next } : {}, items },
  });
  const ns = (name: string) => ({ metadata: { name, labels: { team: name } } });

  it('follows continue tokens until the list is complete; lists only running pods', async () => {
    handler = (url) => {
      const token = url.searchParams.get('continue');
      if (url.pathname === '/api/v1/namespaces')
        return token === null
          ? list('NamespaceList', [ns('a'), ns('b')], 'page-2')
          : token === 'page-2'
            ? list('NamespaceList', [ns('c')])
            : { status: 410, body: {} };
      if (url.pathname === '/api/v1/pods') return list('PodList', []);
      if (url.pathname === '/apis/networking.k8s.io/v1/networkpolicies')
        return list('NetworkPolicyList', []);
      return { status: 404, body: {} };
    };
    const state = await readClusterState(Cluster.connect({ kubeconfig }), { pageSize: 2 });
    expect(state.namespaces.map((n) => n.name)).to.deep.equal(['a', 'b', 'c']);
    expect(requests).to.deep.equal([
      'GET /api/v1/namespaces?limit=2',
      'GET /api/v1/namespaces?continue=page-2&limit=2',
      'GET /api/v1/pods?fieldSelector=status.phase%3DRunning&limit=2',
      'GET /apis/networking.k8s.io/v1/networkpolicies?limit=2',
    ]);
  });

  it('a refused list names the missing permission (exit 3 in the CLI)', async () => {
    handler = (url) =>
      url.pathname === '/api/v1/namespaces'
        ? list('NamespaceList', [ns('a')])
        : {
            status: 403,
            body: {
              kind: 'Status',
              apiVersion: 'v1',
              status: 'Failure',
              reason: 'Forbidden',
              code: 403,
              message: 'pods is forbidden: User "x" cannot list resource "pods"',
            },
          };
    try {
      await readClusterState(Cluster.connect({ kubeconfig }));
      expect.fail('expected a ClusterError');
    } catch (error) {
      expect(error).to.be.instanceOf(ClusterError);
      expect((error as ClusterError).message).to.equal(
        "list pods: the kubeconfig's user may not list pods cluster-wide (HTTP 403) — missing permission: list pods cluster-wide. polygraph reads with get and list on namespaces, list on pods, list on networkpolicies.networking.k8s.io, and writes nothing (docs/GUIDE-DIFF.md has a read-only ClusterRole)",
      );
    }
  });

  it('-n reads one namespace: get it, list its pods and policies; a missing one is named', async () => {
    handler = (url) => {
      if (url.pathname === '/api/v1/namespaces/shop') return { status: 200, body: ns('shop') };
      if (url.pathname === '/api/v1/namespaces/shop/pods')
        return list('PodList', [
          {
            metadata: { name: 'web-1', namespace: 'shop', labels: { tier: 'web' } },
            spec: { nodeName: 'n1', containers: [{ name: 'c', ports: [{ containerPort: 80 }] }] },
            status: { phase: 'Running', podIP: '10.0.0.1' },
          },
        ]);
      if (url.pathname === '/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies')
        return list('NetworkPolicyList', []);
      return { status: 404, body: { kind: 'Status', code: 404, reason: 'NotFound' } };
    };
    const state = await readClusterState(Cluster.connect({ kubeconfig }), {
      namespaces: ['shop'],
    });
    expect(state.scope).to.deep.equal(['shop']);
    expect(state.pods).to.deep.equal([
      {
        namespace: 'shop',
        name: 'web-1',
        labels: { tier: 'web' },
        ips: ['10.0.0.1'],
        nodeName: 'n1',
        hostNetwork: false,
        ports: [{ containerPort: 80, protocol: 'TCP' }],
      },
    ]);
    expect(requests.every((r) => r.startsWith('GET '))).to.equal(true);
    try {
      await readClusterState(Cluster.connect({ kubeconfig }), { namespaces: ['nope'] });
      expect.fail('expected a ClusterError');
    } catch (error) {
      expect((error as Error).message).to.equal(
        'get Namespace nope: no such namespace (HTTP 404) — check -n',
      );
    }
  });

  it('on a terminal, progress is one line rewritten while lists are read, then cleared', async () => {
    handler = (url) =>
      url.pathname === '/api/v1/namespaces'
        ? list('NamespaceList', [ns('a'), ns('b')])
        : url.pathname === '/api/v1/pods'
          ? list('PodList', [])
          : list('NetworkPolicyList', []);
    const raw: string[] = [];
    const lines: string[] = [];
    const io = {
      out: () => undefined,
      err: (text: string) => lines.push(text),
      write: () => Promise.resolve(),
      color: () => false,
      width: () => 80,
      errIsTTY: () => true,
      errRaw: (text: string) => raw.push(text),
    };
    const command = new Command('x').option('-n, --namespace <ns>', '', 'default');
    command.parse([], { from: 'user' });
    const live = await readLive(io, { kubeconfig, namespace: 'default' }, command);
    expect(live.state.scope).to.equal('all');
    expect(raw).to.deep.equal([
      '\r\x1b[2Kreading namespaces: 2',
      '\r\x1b[2Kreading pods: 0',
      '\r\x1b[2Kreading networkpolicies.networking.k8s.io: 0',
      '\r\x1b[2K',
    ]);
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(
      /^read all namespaces of http:\/\/127\.0\.0\.1:\d+: 2 namespace\(s\), 0 running pod\(s\), 0 NetworkPolicy\(ies\) in \d+\.\d s$/,
    );
  });

  it('deletes a namespace with its pods first at once (grace 0), also when the pods are refused', async () => {
    const cluster = Cluster.connect({ kubeconfig });
    let podsRefused = false;
    handler = (url) => {
      if (url.pathname.endsWith('/pods'))
        return podsRefused
          ? { status: 403, body: { kind: 'Status', code: 403, reason: 'Forbidden' } }
          : { status: 200, body: { kind: 'PodList', apiVersion: 'v1', items: [] } };
      if (url.pathname === '/api/v1/namespaces/gone')
        return { status: 404, body: { kind: 'Status', code: 404, reason: 'NotFound' } };
      return { status: 200, body: { kind: 'Namespace', apiVersion: 'v1', metadata: {} } };
    };
    await cluster.deleteNamespace('shop-x1');
    podsRefused = true;
    await cluster.deleteNamespace('shop-x2');
    await cluster.deleteNamespace('gone');
    expect(requests).to.deep.equal([
      'DELETE /api/v1/namespaces/shop-x1/pods?gracePeriodSeconds=0',
      'DELETE /api/v1/namespaces/shop-x1',
      'DELETE /api/v1/namespaces/shop-x2/pods?gracePeriodSeconds=0',
      'DELETE /api/v1/namespaces/shop-x2',
      'DELETE /api/v1/namespaces/gone/pods?gracePeriodSeconds=0',
      'DELETE /api/v1/namespaces/gone',
    ]);
  });

  it('a kubeconfig that names no usable cluster is refused at once, saying what it lacks', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'polygraph-kc-'));
    const write = async (name: string, text: string) => {
      await writeFile(join(dir, name), text);
      return join(dir, name);
    };
    const base =
      'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "http://127.0.0.1:9"}}]\nusers: [{name: u, user: {token: t}}]\n';
    const refusal = (options: { kubeconfig: string; context?: string }) => {
      try {
        Cluster.connect(options);
      } catch (error) {
        expect(error).to.be.instanceOf(ClusterError);
        return (error as Error).message;
      }
      return 'accepted';
    };
    const empty = await write('empty', '');
    const noCurrent = await write(
      'no-current',
      `${base}contexts: [{name: x, context: {cluster: c, user: u}}]\n`,
    );
    const dangling = await write(
      'dangling',
      `${base}contexts: [{name: x, context: {cluster: other, user: u}}]\ncurrent-context: x\n`,
    );
    expect(refusal({ kubeconfig: empty })).to.include(
      'not a kubeconfig: it has no clusters, users and contexts to read',
    );
    expect(refusal({ kubeconfig: noCurrent })).to.include(
      'no current context: current-context is not set and no --context was given (it defines x)',
    );
    expect(refusal({ kubeconfig: noCurrent, context: 'nope' })).to.include(
      'no context "nope" (it defines x)',
    );
    expect(refusal({ kubeconfig: dangling })).to.include(
      'its context "x" names a cluster it does not define',
    );
    expect(refusal({ kubeconfig: noCurrent, context: 'x' })).to.equal('accepted');
    expect(requests).to.deep.equal([]);
  });
});
