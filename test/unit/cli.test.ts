import { expect } from 'chai';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { matchesGolden } from '../support/golden.js';

/* The built CLI, spawned as users run it: stdout, stderr and exit codes. */
const CLI = new URL('../../dist/cli/main.js', import.meta.url).pathname;
const EXAMPLE = new URL('../../examples/three-tier', import.meta.url).pathname;

async function polygraph(...args: string[]) {
  const r = await execa('node', [CLI, ...args], { reject: false, env: { NO_COLOR: '1' } });
  return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

describe('polygraph CLI (built)', function () {
  this.timeout(30_000);
  before(function () {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  });

  it('model -o json prints exactly one JSON document with the documented cells', async () => {
    const r = await polygraph(
      'model',
      '-f',
      EXAMPLE,
      '-o',
      'json',
      '--probe',
      '80',
      '--probe',
      'mysql/TCP',
      '--external',
      'backup=10.9.0.1',
    );
    expect(r.code).to.equal(0);
    const doc = JSON.parse(r.stdout) as {
      cells: {
        from: string;
        to: string;
        port: number | string;
        protocol: string;
        verdict: string;
        resolvedPort?: number;
        reason: string;
      }[];
      unresolved: { from: string; to: string }[];
      summary: Record<string, number>;
      endpoints: { key: string }[];
    };
    expect(doc.endpoints.map((e) => e.key)).to.deep.equal([
      'shop/web',
      'shop/api',
      'shop/db',
      'visitors/browser',
      'ext:backup@10.9.0.1',
    ]);
    const cell = (from: string, to: string, port: number | string) =>
      doc.cells.find((c) => c.from === from && c.to === to && c.port === port);
    // Hand-derived from examples/three-tier/policies.yaml.
    expect(cell('visitors/browser', 'shop/web', 80)).to.deep.include({
      protocol: 'TCP',
      verdict: 'allow',
    });
    expect(cell('ext:backup@10.9.0.1', 'shop/web', 80)).to.deep.include({ verdict: 'allow' });
    expect(cell('visitors/browser', 'shop/api', 80)).to.deep.include({ verdict: 'deny' });
    expect(cell('shop/api', 'shop/db', 'mysql')).to.deep.include({
      verdict: 'allow',
      resolvedPort: 3306,
    });
    expect(cell('shop/web', 'shop/db', 'mysql')).to.deep.include({ verdict: 'deny' });
    expect(cell('shop/web', 'shop/db', 'mysql')?.reason).to.match(
      /^denied: shop\/default-deny-all, shop\/web select shop\/web for Egress/,
    );
    // mysql is served by shop/db only: 5 sources x 1 destination evaluated, the rest unresolved.
    expect(doc.cells.filter((c) => c.port === 'mysql')).to.have.length(5);
    expect(doc.unresolved).to.have.length(4 * 5 - 1);
    expect(doc.summary).to.deep.equal({
      cells: 24 + 5,
      allowed: 8 + 2,
      denied: 16 + 3,
      unresolved: 19,
    });
  });

  it('model prints one table per declared port by default, with a legend', async () => {
    const r = await polygraph('model', '-f', EXAMPLE);
    expect(r.code).to.equal(0);
    expect(r.stdout.split('\n').filter((l) => /^\d+\/TCP$/.test(l))).to.deep.equal([
      '80/TCP',
      '3306/TCP',
      '5000/TCP',
    ]);
    expect(r.stdout).to.contain('Legend: . allowed   X denied');
    const row = r.stdout.split('\n').find((l) => l.startsWith('visitors/browser'));
    expect(row?.replace(/\s+/g, '')).to.equal('visitors/browser.XX.');
  });

  it('explain walks through both sides of one flow', async () => {
    const r = await polygraph(
      'explain',
      '-f',
      EXAMPLE,
      '--from',
      'shop/api',
      '--to',
      'shop/db',
      '--port',
      '3306/TCP',
    );
    expect(r.code).to.equal(0);
    expect(r.stdout).to.contain('Egress from shop/api');
    expect(r.stdout).to.contain('Ingress to shop/db');
    expect(r.stdout).to.contain('spec.egress[0]: admits shop/db');
    expect(r.stdout).to.contain('ports[0] TCP mysql: shop/db serves mysql/TCP on 3306');
    expect(r.stdout).to.match(
      /Verdict: ALLOW: allowed: egress admitted by shop\/api spec\.egress\[0\]; ingress admitted by shop\/db spec\.ingress\[0\]/,
    );
  });

  it('exits 2 on invalid manifests, listing every problem with file and line, no stack trace', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'polygraph-'));
    const file = join(dir, 'bad.yaml');
    await writeFile(
      file,
      'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p}\nspec:\n  podSelector: {}\n  ingress:\n    - from: [{ipBlock: {cidr: 10.0.0.0/8, except: [11.0.0.0/16]}}]\n      ports: [{port: 80, endPort: 70}]\n',
    );
    const r = await polygraph('model', '-f', file, '--probe', '80');
    expect(r.code).to.equal(2);
    expect(r.stdout).to.equal('');
    expect(r.stderr).to.contain('invalid input, 2 problems');
    expect(r.stderr).to.contain(`${file}:7:`);
    expect(r.stderr).to.contain(
      'except[0]: "11.0.0.0/16" must be a strict subset of cidr 10.0.0.0/8',
    );
    expect(r.stderr).to.contain(`${file}:8:`);
    expect(r.stderr).to.not.match(/\n\s+at /);
  });

  it('exits 2 for usage errors: missing file, bad probe, unknown endpoint, unknown flag', async () => {
    const missing = await polygraph('model', '-f', '/nonexistent/dir');
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.contain('/nonexistent/dir:1:1: no such file or directory');
    const probe = await polygraph('model', '-f', EXAMPLE, '--probe', '80/ICMP');
    expect(probe.code).to.equal(2);
    expect(probe.stderr).to.contain('unknown protocol "ICMP"');
    const endpoint = await polygraph(
      'explain',
      '-f',
      EXAMPLE,
      '--from',
      'web',
      '--to',
      'shop/db',
      '--port',
      '80',
    );
    expect(endpoint.code).to.equal(2);
    expect(endpoint.stderr)
      .to.contain('unknown endpoint "web"')
      .and.contain('did you mean shop/web');
    const twice = await polygraph(
      'model',
      '-f',
      EXAMPLE,
      '--external',
      'db=10.0.0.1',
      '--external',
      'db=10.0.0.2',
    );
    expect(twice.code).to.equal(2);
    expect(twice.stderr).to.contain('two external peers are named "db"');
    const flag = await polygraph('model', '-f', EXAMPLE, '--prob', '80');
    expect(flag.code).to.equal(2);
    expect(flag.stderr).to.contain("unknown option '--prob'");
  });

  it('renders tables and explanations exactly as the golden files', async () => {
    await matchesGolden('three-tier.model.txt', (await polygraph('model', '-f', EXAMPLE)).stdout);
    for (const [name, from, to, port] of [
      ['three-tier.explain-api-db-mysql.txt', 'shop/api', 'shop/db', 'mysql'],
      ['three-tier.explain-web-db-3306.txt', 'shop/web', 'shop/db', '3306'],
    ] as const) {
      const r = await polygraph(
        'explain',
        '-f',
        EXAMPLE,
        '--from',
        from,
        '--to',
        to,
        '--port',
        port,
      );
      await matchesGolden(name, r.stdout);
    }
  });

  it('an empty result is still a result: exit 0, the empty document, a note on stderr', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'polygraph-'));
    const file = join(dir, 'pod.yaml');
    await writeFile(
      file,
      'apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: [{name: c, image: i}]}\n',
    );
    const r = await polygraph('model', '-f', file, '-o', 'json');
    expect(r.code).to.equal(0);
    expect(JSON.parse(r.stdout)).to.deep.include({ probes: [], cells: [], unresolved: [] });
    expect(r.stderr).to.contain('no pod declares a container port');
    const withProbe = await polygraph('model', '-f', file, '-o', 'json', '--probe', '8080');
    expect((JSON.parse(withProbe.stdout) as { cells: unknown[] }).cells).to.have.length(1);
  });

  it('--help documents the commands and exit codes', async () => {
    const r = await polygraph('--help');
    expect(r.code).to.equal(0);
    expect(r.stdout).to.contain('model').and.contain('explain').and.contain('Exit codes');
  });
});
