/**
 * `polygraph run` and `polygraph clean` as users run them (the built CLI), against the lab or the
 * cluster of POLYGRAPH_KUBECONFIG / KUBECONFIG: exit codes, stdout carrying only the result,
 * the three-way classes, cleanup on success, on SIGINT and after a killed run, and namespaces
 * polygraph did not create left alone. The first run also writes every report at once: the JSON
 * is a RunResult valid against schemas/result.schema.json whose cells carry observed outcomes, the
 * JUnit is valid against test/fixtures/junit.xsd.
 */
import { expect } from 'chai';
import Ajv2020 from 'ajv/dist/2020.js';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { validateXML } from 'xmllint-wasm';
import type { Cluster } from '../../src/cluster/index.js';
import type { ResultDocument } from '../../src/report/document.js';
import * as lab from '../lab/lab.js';
import {
  KUBECONFIG,
  liveTarget,
  namespacesLeft,
  ownedNamespaces,
  polygraph,
} from '../support/e2e.js';
import { ROOT } from '../support/scenarios.js';

function log(message: string): void {
  console.log(`      · ${message}`);
}

interface RunDoc {
  kind: string;
  passed: boolean;
  summary: { cells: number; classes: Record<string, number> };
  scenarios: {
    live?: {
      placement?: string;
      nodes?: Record<string, string>;
      runId?: string;
      namespaces?: Record<string, string>;
    };
    steps: {
      name: string;
      cells: {
        from: string;
        to: string;
        class: string;
        observed?: string;
        modelled: string;
        expected?: string;
      }[];
      live?: { probes: number; durationMs: number; settle: { exposureMs?: number } };
    }[];
  }[];
}

const SCHEMA = join(ROOT, 'schemas/result.schema.json');
const XSD = join(ROOT, 'test/fixtures/junit.xsd');

/** The reports of a passing three-tier run: JSON (schema-valid, observed cells), JUnit (XSD-valid), HTML, Markdown. */
async function expectReports(file: (name: string) => string): Promise<void> {
  const ajv = new Ajv2020.default({ allErrors: true, strict: true });
  ajv.addFormat('date-time', true);
  const validate = ajv.compile(JSON.parse(await readFile(SCHEMA, 'utf8')) as object);
  const doc = JSON.parse(await readFile(file('r.json'), 'utf8')) as ResultDocument;
  expect(validate(doc), JSON.stringify(validate.errors, null, 2)).to.equal(true);
  expect(doc.kind).to.equal('RunResult');
  expect(doc.passed).to.equal(true);
  expect(doc.cluster?.server).to.be.a('string');
  const cells = doc.scenarios.flatMap((s) => s.steps.flatMap((st) => st.cells));
  expect(cells).to.have.length(doc.summary.cells);
  // Every probed cell has what the cluster did; the internet is a source with no live host.
  const probed = cells.filter((c) => c.observed !== undefined && c.observed !== 'skipped');
  expect(probed.length).to.be.greaterThan(0);
  for (const c of probed)
    expect(c.observed).to.be.oneOf(['allowed', 'refused', 'dropped', 'denied', 'unresolved-port']);
  for (const c of cells.filter((c) => c.class === 'agree' && c.modelled !== 'unresolvable'))
    expect(c.observed, `${c.probe} ${c.from} -> ${c.to}`).to.not.equal(undefined);
  expect(doc.scenarios[0]?.live?.plugin).to.equal('kube-router');

  const junit = await validateXML({
    xml: [{ fileName: 'r.xml', contents: await readFile(file('r.xml'), 'utf8') }],
    schema: [{ fileName: 'junit.xsd', contents: await readFile(XSD, 'utf8') }],
  });
  expect(junit.errors.map((e) => e.rawMessage)).to.deep.equal([]);

  expect(await readFile(file('r.html'), 'utf8')).to.match(/^<!doctype html>/i);
  expect(await readFile(file('r.md'), 'utf8')).to.include('three-tier');
}

describe('polygraph run and clean on the live cluster (built CLI)', function () {
  this.timeout(180_000);
  const kubeconfig = KUBECONFIG;
  let image = '';
  let cluster: Cluster | undefined;
  let tmp = '';

  const base = () => ['--kubeconfig', kubeconfig, '--image', image, '--plugin', 'kube-router'];

  const owned = () => ownedNamespaces(cluster!);
  const noneLeft = (boundMs?: number) => namespacesLeft(cluster!, boundMs);

  before(async function () {
    ({ image, cluster, tmp } = await liveTarget('run'));
    expect(await owned(), 'namespaces of polygraph before the suite').to.deep.equal([]);
  });

  after(async function () {
    if (cluster === undefined) return;
    const left = await noneLeft();
    expect(left, 'namespaces of polygraph left after the suite').to.deep.equal([]);
  });

  it('three-tier: exit 0, observed = model = expected, only the JSON result on stdout, externals skipped, cleaned up; every report written', async () => {
    const file = (name: string) => join(tmp, name);
    const r = await polygraph(
      'run',
      'scenarios/three-tier.yaml',
      ...base(),
      '-o',
      'json',
      '--report',
      `junit=${file('r.xml')}`,
      '--report',
      `json=${file('r.json')}`,
      '--report',
      `html=${file('r.html')}`,
      '--report',
      `markdown=${file('r.md')}`,
    );
    log(r.stderr.split('\n').slice(-6).join(' | '));
    expect(r.exitCode, r.stderr).to.equal(0);
    const doc = JSON.parse(r.stdout) as RunDoc;
    expect(doc.kind).to.equal('RunResult');
    expect(doc.passed).to.equal(true);
    log(`classes ${JSON.stringify(doc.summary.classes)}`);
    expect(doc.summary.classes.agree).to.be.greaterThan(0);
    // ext:internet is a source only, and no live host stands for it.
    expect(doc.summary.classes.skipped).to.be.greaterThan(0);
    for (const bad of ['cluster-deviates', 'model-disagrees', 'flaky', 'probe-error'])
      expect(doc.summary.classes[bad] ?? 0, bad).to.equal(0);
    expect(r.stderr).to.match(/enforcement canary: a deny-all policy was enforced within \d+ ms/);
    // Spread over the schedulable nodes (one or two on the lab): every pod on a node of the cluster.
    const nodes = (await cluster!.listNodes()).filter((n) => n.schedulable).map((n) => n.name);
    const live = doc.scenarios[0]!.live;
    expect(live?.placement).to.equal('spread');
    expect(Object.keys(live?.nodes ?? {}).sort()).to.deep.equal([
      'shop/api',
      'shop/db',
      'shop/web',
      'visitors/browser',
    ]);
    for (const node of Object.values(live?.nodes ?? {})) expect(nodes).to.include(node);
    expect(await noneLeft(), 'left after the run').to.deep.equal([]);
    await expectReports(file);
  });

  it('two scenarios of one topology: the second runs on the pods of the first, reset; both agree; nothing left', async () => {
    const r = await polygraph(
      'run',
      'scenarios/allow-all.yaml',
      'scenarios/default-deny-ingress.yaml',
      ...base(),
      '-o',
      'json',
    );
    log(r.stderr.split('\n').slice(-4).join(' | '));
    expect(r.exitCode, r.stderr).to.equal(0);
    const doc = JSON.parse(r.stdout) as RunDoc;
    expect(doc.scenarios).to.have.length(2);
    const [first, second] = doc.scenarios.map((sc) => sc.live);
    // The same run id and live namespaces: one deployment, reset between the two.
    expect(second?.runId).to.be.a('string').and.equal(first?.runId);
    expect(second?.namespaces).to.deep.equal(first?.namespaces);
    expect(r.stderr).to.include('reusing namespaces');
    for (const bad of [
      'cluster-deviates',
      'model-disagrees',
      'flaky',
      'probe-error',
      'expectation-contradicts-spec',
    ])
      expect(doc.summary.classes[bad] ?? 0, bad).to.equal(0);
    expect(await noneLeft(), 'left after the run').to.deep.equal([]);
  });

  it('three-tier with the internet host played by the lab’s external host: its cells are probed from there and agree', async function () {
    if (kubeconfig !== lab.kubeconfigPath()) this.skip(); // needs the lab's external host
    const [ext] = lab.externalHosts();
    if (ext === undefined) throw new Error('the lab has no external host');
    const r = await polygraph(
      'run',
      'scenarios/three-tier.yaml',
      ...base(),
      '--skip-canary',
      '--external',
      `internet=${ext.ip}`,
      '--external-exec',
      `internet=ip netns exec ${ext.name}`,
      '--report',
      `json=${join(tmp, 'internet.json')}`,
    );
    expect(r.exitCode, r.stderr).to.equal(0);
    // The JSON report lists every cell (stdout's document only the notable ones).
    const doc = JSON.parse(await readFile(join(tmp, 'internet.json'), 'utf8')) as RunDoc;
    const fromInternet = doc.scenarios[0]!.steps[0]!.cells.filter(
      (c) => c.from === 'ext:internet' && c.class !== 'unresolvable',
    );
    log(fromInternet.map((c) => `${c.to}: ${c.observed ?? '?'} (${c.class})`).join(' | '));
    // web and browser admit the internet on 80; api and db admit only their callers.
    const seen = Object.fromEntries(fromInternet.map((c) => [c.to, c.observed]));
    expect(seen).to.deep.equal({
      'shop/web': 'allowed',
      'visitors/browser': 'allowed',
      'shop/api': 'refused',
      'shop/db': 'refused',
    });
    for (const c of fromInternet) expect(c.class, `${c.from} -> ${c.to}`).to.equal('agree');
    expect(doc.summary.classes.skipped ?? 0).to.equal(0);

    // ipBlock decides by the host's own address: admitted by a /32, refused by an `except`.
    const byAddress = await polygraph(
      'run',
      'test/e2e/fixtures/external-source-ipblock.yaml',
      ...base(),
      '--skip-canary',
      '--external',
      `lab-host=${ext.ip}`,
      '--external-exec',
      `lab-host=ip netns exec ${ext.name}`,
      '--report',
      `json=${join(tmp, 'lab-host.json')}`,
    );
    expect(byAddress.exitCode, byAddress.stderr + byAddress.stdout).to.equal(0);
    const cells = (
      JSON.parse(await readFile(join(tmp, 'lab-host.json'), 'utf8')) as RunDoc
    ).scenarios[0]!.steps[0]!.cells.filter((c) => c.from === 'ext:lab-host');
    expect(cells.map((c) => [c.to, c.observed, c.class])).to.deep.equal([
      ['x/a', 'allowed', 'agree'],
      ['x/b', 'refused', 'agree'],
    ]);
  });

  it('three-tier with allow and deny swapped: exit 1, its cells classified as the expectation contradicting the spec', async () => {
    const text = await readFile(join(ROOT, 'scenarios/three-tier.yaml'), 'utf8');
    const swapped = text
      .replace(/^(\s*)default: deny/m, '$1default: allow')
      .replace(/: allow$/gm, ': deny')
      .replace('policies/three-tier.yaml', join(ROOT, 'scenarios/policies/three-tier.yaml'));
    const file = join(tmp, 'three-tier-swapped.yaml');
    await writeFile(file, swapped);
    const r = await polygraph('run', file, ...base(), '--skip-canary', '-o', 'json');
    expect(r.exitCode, r.stderr).to.equal(1);
    const doc = JSON.parse(r.stdout) as RunDoc;
    log(`classes ${JSON.stringify(doc.summary.classes)}`);
    expect(doc.passed).to.equal(false);
    // Every probed cell: observed = model, expected the opposite. Cells from the internet host
    // are skipped (no live host), so only pod sources count: 4 pods x the served destinations.
    expect(doc.summary.classes['expectation-contradicts-spec']).to.equal(16);
    expect(doc.summary.classes['cluster-deviates'] ?? 0).to.equal(0);
    expect(doc.summary.classes['model-disagrees'] ?? 0).to.equal(0);
    const cells = doc.scenarios[0]!.steps[0]!.cells.filter(
      (c) => c.class === 'expectation-contradicts-spec',
    );
    for (const c of cells) expect(c.observed === 'allowed' ? 'allow' : 'deny').to.equal(c.modelled);
  });

  it('the text report shows each step with its exposure window, and the progress stays on stderr', async () => {
    const r = await polygraph(
      'run',
      'scenarios/deny-allow-delete.yaml',
      ...base(),
      '--skip-canary',
    );
    expect(r.exitCode, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^PASS /);
    expect(r.stdout).to.match(/live: \d+ changed cells? enforced within \d+ ms of the last action/);
    expect(r.stdout).to.not.include('probes (');
    expect(r.stderr).to.include('step 3/3');
    log(
      r.stdout
        .split('\n')
        .filter((l) => l.includes('live:'))
        .join(' | '),
    );
  });

  it('SIGINT: the run removes what it created and exits 3', async () => {
    const child = polygraph('run', 'scenarios/deny-allow-delete.yaml', ...base(), '--skip-canary');
    let stderr = '';
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes('step 1/3')) resolve();
      });
    });
    child.kill('SIGINT');
    const r = await child;
    log(r.stderr.split('\n').slice(-3).join(' | '));
    expect(r.exitCode).to.equal(3);
    expect(r.stderr).to.include('interrupted by SIGINT');
    expect(await owned(), 'left after SIGINT').to.deep.equal([]);
  });

  // Before its namespaces exist, and while its probe pods are being created.
  for (const afterMs of [700, 5000]) {
    it(`a run killed (SIGKILL) after ${String(afterMs)} ms, then polygraph clean: nothing of polygraph's is left`, async () => {
      const child = polygraph(
        'run',
        'scenarios/default-deny-then-allow.yaml',
        ...base(),
        '--skip-canary',
      );
      await new Promise((r) => setTimeout(r, afterMs));
      child.kill('SIGKILL');
      await child;
      const before = await owned();
      log(`left by the killed run: ${before.join(' ') || 'nothing'}`);
      const clean = await polygraph('clean', '--kubeconfig', kubeconfig);
      expect(clean.exitCode, clean.stderr).to.equal(0);
      for (const ns of before) expect(clean.stdout).to.include(ns);
      expect(await owned(), 'left after clean').to.deep.equal([]);
    });
  }

  it('--namespace-names exact refuses a namespace polygraph did not create, and leaves it alone', async () => {
    const name = `pg-e2e-theirs-${Date.now().toString(36)}`;
    await cluster!.createNamespace(name, { owner: 'someone-else' });
    try {
      const file = join(tmp, 'exact.yaml');
      await writeFile(
        file,
        [
          'apiVersion: polygraph.dev/v1alpha1',
          'kind: Scenario',
          'metadata: { name: exact }',
          'topology:',
          '  namespaces:',
          `    ${name}:`,
          '      pods:',
          '        a: { ports: [80] }',
          'expect: { default: allow }',
        ].join('\n'),
      );
      const r = await polygraph(
        'run',
        file,
        ...base(),
        '--skip-canary',
        '--namespace-names',
        'exact',
      );
      expect(r.exitCode).to.equal(3);
      expect(r.stderr).to.include('polygraph did not create it');
      const ns = await cluster!.getNamespace(name);
      expect(ns.labels.owner).to.equal('someone-else');
      // clean never touches it either.
      await polygraph('clean', '--kubeconfig', kubeconfig);
      expect((await cluster!.getNamespace(name)).labels.owner).to.equal('someone-else');
    } finally {
      await cluster!.deleteNamespace(name, { wait: true });
    }
  });

  // (With enforcement on, the canary passes: the first test.)
  it('the enforcement canary refuses the lab with enforcement off (exit 3)', async function () {
    if (kubeconfig !== lab.kubeconfigPath()) this.skip();
    this.timeout(300_000);
    await lab.setEnforcement(false);
    try {
      const r = await polygraph('run', 'scenarios/default-deny-ingress.yaml', ...base());
      log(r.stderr.split('\n').slice(-2).join(' | '));
      expect(r.exitCode).to.equal(3);
      expect(r.stderr).to.include('this cluster does not enforce NetworkPolicies');
      expect(r.stdout).to.equal('');
    } finally {
      await lab.setEnforcement(true);
    }
    expect(await noneLeft(), 'left after the refused run').to.deep.equal([]);
  });
});
