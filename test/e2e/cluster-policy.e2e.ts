/**
 * `polygraph run` of cluster policies on the lab (or the cluster of POLYGRAPH_KUBECONFIG /
 * KUBECONFIG), as users run it (the built CLI). The lab serves the ClusterNetworkPolicy API (the
 * CRDs of sigs.k8s.io/network-policy-api v0.3.0, installed by lab:up) but its kube-router does not
 * enforce it: the run must report the cluster as deviating on exactly the cells where the model
 * denies and the cluster allows — never as passing — and leave nothing behind, neither namespaces
 * nor cluster policies. A kind the cluster does not serve stops the run with exit 3 before
 * anything is created.
 */
import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { listClusterObjects, type Cluster } from '../../src/cluster/index.js';
import { OWNED_SELECTOR } from '../../src/engine/names.js';
import * as lab from '../lab/lab.js';
import {
  CLUSTER_NETWORK_POLICY as CNP,
  KUBECONFIG,
  ON_LAB,
  liveArgs,
  liveTarget,
  ownedClusterPolicies,
  ownedNamespaces,
  polygraph,
  type LiveTarget,
} from '../support/e2e.js';
import { CASES_DIR, ROOT } from '../support/scenarios.js';

const SCENARIO = join(ROOT, 'test/e2e/fixtures/cluster-policy-deny-and-pass.yaml');

function log(message: string): void {
  console.log(`      · ${message}`);
}

interface Cell {
  from: string;
  to: string;
  /** PORT/PROTOCOL, e.g. 80/TCP. */
  probe: string;
  class: string;
  expected?: string;
  modelled: string;
  observed?: string;
}

interface RunDoc {
  passed: boolean;
  summary: { classes: Record<string, number> };
  scenarios: { steps: { name: string; cells: Cell[] }[] }[];
}

describe('polygraph run of cluster policies on a cluster that does not enforce them (built CLI)', function () {
  this.timeout(240_000);
  const kubeconfig = KUBECONFIG;
  let target: LiveTarget | undefined;
  let cluster: Cluster | undefined;
  let tmp = '';

  // The cluster deviates on a cell of the second step, which waits out the settling bound: 5 s
  // rather than 15 (the exposure window of the other cells is about 1 s on the lab).
  const base = () => [...liveArgs(target!), '--settle-timeout', '5000'];
  const ours = async () => ({
    namespaces: await ownedNamespaces(cluster!),
    clusterPolicies: await ownedClusterPolicies(cluster!),
  });

  before(async function () {
    target = await liveTarget('cnp');
    ({ cluster, tmp } = target);
    if (ON_LAB) log(`lab CRDs: ${(await lab.status()).clusterPolicyCrds.join(', ')}`);
    expect(await ours(), 'polygraph objects before the suite').to.deep.equal({
      namespaces: [],
      clusterPolicies: [],
    });
  });

  it('reports the cluster as deviating on the Admin Deny cell (exit 1), honours the Pass, and removes its cluster policies', async () => {
    const report = join(tmp, 'cnp.json');
    const r = await polygraph('run', SCENARIO, ...base(), '--report', `json=${report}`);
    log(r.stderr.split('\n').slice(-5).join(' | '));
    expect(r.exitCode, r.stderr).to.equal(1);
    expect(r.stdout).to.not.match(/^PASS/m);
    const doc = JSON.parse(await readFile(report, 'utf8')) as RunDoc;
    expect(doc.passed).to.equal(false);
    const cells = doc.scenarios[0]!.steps.flatMap((s) =>
      s.cells.map((c) => ({ step: s.name, ...c })),
    );
    const row = (c: (typeof cells)[number]) =>
      `${c.step}: ${c.from} -> ${c.to} ${c.probe} expected ${c.expected ?? '-'} model ${c.modelled} observed ${c.observed ?? '-'} ${c.class}`;
    // Hand-written: kube-router enforces the NetworkPolicy (y/c admits only x) and ignores both
    // ClusterNetworkPolicies, so x/a -> y/b, denied by the Admin Deny, is allowed on the cluster.
    expect(cells.filter((c) => c.class !== 'agree').map(row)).to.deep.equal([
      'cluster policies: x/a -> y/b 80/TCP expected deny model deny observed allowed cluster-deviates',
    ]);
    // The Pass hands x/a -> y/c to c-from-x, which admits it (the Deny would have denied it).
    expect(
      cells
        .filter((c) => c.step === 'cluster policies' && c.to === 'y/c')
        .map(row)
        .sort(),
    ).to.deep.equal([
      'cluster policies: x/a -> y/c 80/TCP expected allow model allow observed allowed agree',
      'cluster policies: y/b -> y/c 80/TCP expected deny model deny observed refused agree',
      'cluster policies: y/c -> y/c 80/TCP expected allow model allow observed allowed agree',
    ]);
    expect(cells).to.have.length(18);
    expect(await ours(), 'left after the run').to.deep.equal({
      namespaces: [],
      clusterPolicies: [],
    });
  });

  it('with --keep the cluster policies stay, bound to the run; polygraph clean removes them', async () => {
    const r = await polygraph('run', SCENARIO, ...base(), '--skip-canary', '--keep');
    expect(r.exitCode, r.stderr).to.equal(1);
    const kept = await listClusterObjects(cluster!, CNP, OWNED_SELECTOR);
    expect(kept.map((p) => p.name.replace(/-[a-z0-9]{6}$/, '')).sort()).to.deep.equal([
      'nothing-from-x-to-y',
      'x-to-c-is-the-namespace-owners-call',
    ]);
    const run = kept[0]!.labels['polygraph.dev/run'] ?? '';
    // The subject as the API server stored it: the scenario's selector AND the run's namespaces.
    const deny = kept.find((p) => p.name.startsWith('nothing-from-x-to-y'));
    expect(deny?.spec.subject).to.deep.equal({
      namespaces: {
        matchLabels: { 'kubernetes.io/metadata.name': `y-${run}` },
        matchExpressions: [
          {
            key: 'kubernetes.io/metadata.name',
            operator: 'In',
            values: [`x-${run}`, `y-${run}`],
          },
        ],
      },
    });
    const clean = await polygraph('clean', '--kubeconfig', kubeconfig);
    expect(clean.exitCode, clean.stderr).to.equal(0);
    expect(clean.stdout).to.include(
      `ClusterNetworkPolicy nothing-from-x-to-y-${run} (run ${run}) removed`,
    );
    expect(await ours()).to.deep.equal({ namespaces: [], clusterPolicies: [] });
  });

  it('a kind the cluster does not serve (AdminNetworkPolicy v1alpha1): exit 3 naming it, nothing created', async () => {
    const r = await polygraph(
      'run',
      join(CASES_DIR, 'cluster-policy/anp-pass-to-networkpolicy.yaml'),
      ...base(),
    );
    log(r.stderr.trim().split('\n').at(-1) ?? '');
    expect(r.exitCode, r.stderr).to.equal(3);
    expect(r.stderr).to.include(
      'this cluster does not serve AdminNetworkPolicy policy.networking.k8s.io/v1alpha1',
    );
    expect(r.stderr).to.include(
      'of policy.networking.k8s.io it serves v1beta1 ClusterNetworkPolicy, v1alpha2 ClusterNetworkPolicy only',
    );
    expect(r.stderr).to.not.include('enforcement canary');
    expect(await ours()).to.deep.equal({ namespaces: [], clusterPolicies: [] });
  });
});
