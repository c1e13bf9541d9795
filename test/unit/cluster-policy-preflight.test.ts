import { expect } from 'chai';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Io } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { Cluster, ClusterError } from '../../src/cluster/index.js';
import { loadScenario } from '../../src/dsl/load.js';
import { checkClusterPolicySupport } from '../../src/engine/preflight.js';
import { CASES_DIR } from '../support/scenarios.js';

/*
 * The preflight of a run with cluster policies (src/engine/preflight.ts) against a local HTTP
 * server that answers API discovery, SelfSubjectAccessReviews and lists as the API server does:
 * what is served decides, before anything is created. A seam for the logic and the messages; the
 * lab proves a run of cluster policies on Kubernetes (test/e2e/cluster-policy.e2e.ts).
 */

const GROUP = 'policy.networking.k8s.io';
const CNP_CASE = join(CASES_DIR, 'cluster-policy/admin-pass-delegates-to-networkpolicy.yaml');
const NP_CASE = join(CASES_DIR, 'semantics/policytypes-omitted-egress-allow-all-rule.yaml');
const BANP_CASE = join(CASES_DIR, 'cluster-policy/banp-overridden-by-networkpolicy.yaml');

interface Served {
  version: string;
  kind: string;
  plural: string;
  items?: object[];
}

describe('run preflight: cluster policies need their API served', function () {
  let server: Server | undefined;
  let kubeconfig = '';
  const requests: string[] = [];
  let served: Served[] = [];
  /** Resources (plural) the user may not touch. */
  let forbidden: string[] = [];

  function answer(method: string, url: URL, body: string): { status: number; body: unknown } {
    if (url.pathname === '/version')
      return {
        status: 200,
        body: {
          major: '1',
          minor: '32',
          gitVersion: 'v1.32.4',
          gitCommit: 'x',
          gitTreeState: 'clean',
          buildDate: '2025-01-01T00:00:00Z',
          goVersion: 'go1.23',
          compiler: 'gc',
          platform: 'linux/amd64',
        },
      };
    if (method === 'POST' && url.pathname.endsWith('/selfsubjectaccessreviews')) {
      const review = JSON.parse(body) as { spec: { resourceAttributes: { resource: string } } };
      return {
        status: 201,
        body: {
          ...review,
          status: { allowed: !forbidden.includes(review.spec.resourceAttributes.resource) },
        },
      };
    }
    const versions = [...new Set(served.map((s) => s.version))];
    if (url.pathname === '/apis')
      return {
        status: 200,
        body: {
          kind: 'APIGroupList',
          apiVersion: 'v1',
          groups:
            versions.length === 0
              ? []
              : [
                  {
                    name: GROUP,
                    versions: versions.map((v) => ({ groupVersion: `${GROUP}/${v}`, version: v })),
                    preferredVersion: {
                      groupVersion: `${GROUP}/${versions[0] ?? ''}`,
                      version: versions[0],
                    },
                  },
                ],
        },
      };
    for (const version of versions)
      if (url.pathname === `/apis/${GROUP}/${version}`)
        return {
          status: 200,
          body: {
            kind: 'APIResourceList',
            apiVersion: 'v1',
            groupVersion: `${GROUP}/${version}`,
            resources: served
              .filter((s) => s.version === version)
              .flatMap((s) => [
                { name: s.plural, singularName: '', namespaced: false, kind: s.kind, verbs: [] },
                {
                  name: `${s.plural}/status`,
                  singularName: '',
                  namespaced: false,
                  kind: s.kind,
                  verbs: [],
                },
              ]),
          },
        };
    const listed = served.find((s) => url.pathname === `/apis/${GROUP}/${s.version}/${s.plural}`);
    if (listed !== undefined)
      return { status: 200, body: { kind: `${listed.kind}List`, items: listed.items ?? [] } };
    return { status: 404, body: { kind: 'Status', code: 404, reason: 'NotFound', message: 'no' } };
  }

  before(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        requests.push(`${req.method ?? ''} ${req.url ?? ''}`);
        const out = answer(req.method ?? '', new URL(req.url ?? '/', 'http://x'), body);
        res.writeHead(out.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(out.body));
      });
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const dir = await mkdtemp(join(tmpdir(), 'polygraph-cnp-'));
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
    served = [];
    forbidden = [];
  });

  async function refusal(file: string): Promise<ClusterError> {
    try {
      await checkClusterPolicySupport(Cluster.connect({ kubeconfig }), [await loadScenario(file)]);
    } catch (error) {
      if (error instanceof ClusterError) return error;
      throw error;
    }
    throw new Error('expected a ClusterError');
  }

  it('names what is missing and what the group does serve, with how to install the CRDs', async () => {
    served = [{ version: 'v1alpha1', kind: 'AdminNetworkPolicy', plural: 'adminnetworkpolicies' }];
    const error = await refusal(CNP_CASE);
    expect(error.message).to.include(
      `this cluster does not serve ClusterNetworkPolicy policy.networking.k8s.io/v1beta1 (${CNP_CASE} uses it); of policy.networking.k8s.io it serves v1alpha1 AdminNetworkPolicy only`,
    );
    expect(error.hint).to.include(
      'kubectl apply --server-side -f https://raw.githubusercontent.com/kubernetes-sigs/network-policy-api/v0.3.0/config/crd/experimental/policy.networking.k8s.io_clusternetworkpolicies.yaml',
    );
    // Discovery only: nothing was reviewed, listed or created.
    expect(requests).to.deep.equal(['GET /apis', `GET /apis/${GROUP}/v1alpha1`]);

    served = [];
    expect((await refusal(CNP_CASE)).message).to.include(
      'it serves nothing of policy.networking.k8s.io (none of its CRDs is installed)',
    );
  });

  it('asks nothing of a cluster for a scenario without cluster policies', async () => {
    const support = await checkClusterPolicySupport(Cluster.connect({ kubeconfig }), [
      await loadScenario(NP_CASE),
    ]);
    expect(support.warnings).to.deep.equal([]);
    expect(requests).to.deep.equal([]);
  });

  it('served: checks the permissions, and warns of cluster policies already there (not of polygraph’s)', async () => {
    const cnp = (name: string, labels: object, priority: number) => ({
      metadata: { name, labels },
      spec: { tier: 'Admin', priority },
    });
    served = [
      {
        version: 'v1beta1',
        kind: 'ClusterNetworkPolicy',
        plural: 'clusternetworkpolicies',
        items: [
          cnp('guard', {}, 5),
          cnp('other-run-x1', { 'app.kubernetes.io/managed-by': 'polygraph' }, 10),
        ],
      },
      { version: 'v1alpha2', kind: 'ClusterNetworkPolicy', plural: 'clusternetworkpolicies' },
    ];
    const support = await checkClusterPolicySupport(Cluster.connect({ kubeconfig }), [
      await loadScenario(CNP_CASE),
    ]);
    expect(support.warnings).to.deep.equal([
      "the cluster already holds 1 ClusterNetworkPolicy (guard: Admin tier, priority 5): those whose subjects select the run's pods act on them too — an Admin one with a lower priority number before the scenario's — and the model does not know them",
    ]);
    expect(requests.filter((r) => r.startsWith('POST'))).to.have.length(3);
    expect(requests.filter((r) => r.includes('/clusternetworkpolicies'))).to.deep.equal([
      `GET /apis/${GROUP}/v1beta1/clusternetworkpolicies`,
    ]);

    forbidden = ['clusternetworkpolicies'];
    const error = await refusal(CNP_CASE);
    expect(error.message).to.include(
      "the kubeconfig's user lacks 3 permissions a run of cluster policies needs: patch clusternetworkpolicies.policy.networking.k8s.io; delete clusternetworkpolicies.policy.networking.k8s.io; list clusternetworkpolicies.policy.networking.k8s.io",
    );
  });

  it('refuses to replace a BaselineAdminNetworkPolicy polygraph did not create (one per cluster)', async () => {
    served = [
      { version: 'v1alpha1', kind: 'AdminNetworkPolicy', plural: 'adminnetworkpolicies' },
      {
        version: 'v1alpha1',
        kind: 'BaselineAdminNetworkPolicy',
        plural: 'baselineadminnetworkpolicies',
        items: [{ metadata: { name: 'default' }, spec: {} }],
      },
    ];
    const error = await refusal(BANP_CASE);
    expect(error.message).to.include(
      'the cluster already has its BaselineAdminNetworkPolicy "default" (one per cluster, by its CRD), which polygraph did not create and will not replace',
    );
  });

  it('polygraph run: exit 3 with the message, before anything is created', async () => {
    served = [{ version: 'v1alpha1', kind: 'AdminNetworkPolicy', plural: 'adminnetworkpolicies' }];
    const out: string[] = [];
    const err: string[] = [];
    const io: Io = {
      out: (t) => out.push(t),
      err: (t) => err.push(t),
      write: (t) => {
        out.push(t);
        return Promise.resolve();
      },
      color: () => false,
      width: () => 120,
    };
    const code = await main(['run', CNP_CASE, '--kubeconfig', kubeconfig], io);
    expect(code).to.equal(3);
    expect(err.join('\n')).to.include(
      'this cluster does not serve ClusterNetworkPolicy policy.networking.k8s.io/v1beta1',
    );
    expect(out).to.deep.equal([]);
    expect(
      requests.filter((r) => r.startsWith('POST') && !r.includes('selfsubjectaccessreviews')),
    ).to.deep.equal([]);
    expect(requests.some((r) => r.includes('/namespaces') || r.includes('/pods'))).to.equal(false);
  });
});
