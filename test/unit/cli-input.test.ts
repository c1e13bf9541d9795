import { expect } from 'chai';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/* The built CLI on real-world input: streams, empty paths, misspelt probes (exit codes). */
const CLI = new URL('../../dist/cli/main.js', import.meta.url).pathname;
const EXAMPLE = new URL('../../examples/three-tier', import.meta.url).pathname;

async function polygraph(args: string[], input?: string) {
  const r = await execa('node', [CLI, ...args], {
    reject: false,
    env: { NO_COLOR: '1' },
    ...(input === undefined ? {} : { input }),
  });
  return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

const HELM_STREAM = [
  '---',
  '# Source: shop/templates/web.yaml',
  'apiVersion: apps/v1',
  'kind: Deployment',
  'metadata: {name: web, namespace: shop}',
  'spec:',
  '  selector: {matchLabels: {app: web}}',
  '  template:',
  '    metadata: {labels: {app: web}}',
  '    spec: {containers: [{name: web, image: nginx, ports: [{name: http, containerPort: 80}]}]}',
  '---',
  '# Source: shop/templates/optional.yaml',
  '---',
  'apiVersion: v1',
  'kind: Pod',
  'metadata: {name: client, namespace: shop}',
  'spec: {containers: [{name: c, image: curl}]}',
  '---',
  '',
].join('\n');

describe('polygraph CLI on real-world input (built)', function () {
  this.timeout(30_000);
  before(function () {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  });

  it('reads a helm template stream from standard input with -f -', async () => {
    const r = await polygraph(['model', '-f', '-', '--probe', '80'], HELM_STREAM);
    expect(r.stderr).to.equal('');
    expect(r.code).to.equal(0);
    expect(r.stdout).to.contain('from\\to      shop/web  shop/client');
    const rows = r.stdout.split('\n').filter((l) => l.startsWith('shop/'));
    // No policy: every cell allowed (shop/client declares no port, so it is probed on every one).
    expect(rows.map((l) => l.replace(/\s+/g, ''))).to.deep.equal(['shop/web..', 'shop/client..']);
  });

  it('exits 2 on a URL, a binary file and a path without manifests, naming each', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'polygraph-'));
    const empty = join(dir, 'charts');
    await mkdir(empty);
    const png = join(dir, 'diagram.yaml');
    await writeFile(png, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]));
    const r = await polygraph([
      'model',
      '-f',
      'https://example.com/x.yaml',
      '-f',
      png,
      '-f',
      empty,
    ]);
    expect(r.code).to.equal(2);
    expect(r.stdout).to.equal('');
    expect(r.stderr).to.contain('invalid input, 3 problems');
    expect(r.stderr).to.contain('https://example.com/x.yaml:1:1: is a URL');
    expect(r.stderr).to.contain(`${png}:1:1: not a text file: it looks like a PNG image`);
    expect(r.stderr).to.contain(`${empty}:1:1: no manifests found in ${empty}`);
    expect(r.stderr).to.not.contain('\u0089');
    const nothing = await polygraph(['model', '-f', '-'], '# Source: x\n---\n');
    expect(nothing.code).to.equal(2);
    expect(nothing.stderr).to.contain('no manifests found in standard input');
    expect((await polygraph(['model', '-f', EXAMPLE])).code).to.equal(0);
  });
});

describe('polygraph CLI: probe port names nobody serves (built)', function () {
  this.timeout(30_000);
  it('model --probe with a misspelt or absent port name exits 2 with "did you mean"', async () => {
    const typo = await polygraph(['model', '-f', EXAMPLE, '--probe', 'htp']);
    expect(typo.code).to.equal(2);
    expect(typo.stdout).to.equal('');
    expect(typo.stderr).to.equal(
      'polygraph: --probe htp/TCP: no pod serves a TCP port named "htp"; did you mean "http"? (port names served: api/TCP, http/TCP, mysql/TCP)',
    );
    const protocol = await polygraph(['model', '-f', EXAMPLE, '--probe', 'mysql/UDP']);
    expect(protocol.code).to.equal(2);
    expect(protocol.stderr).to.contain(
      'no pod serves a UDP port named "mysql"; it is served as mysql/TCP: --probe mysql/TCP',
    );
    // A name some destination serves is fine: the others are unresolved cells.
    expect((await polygraph(['model', '-f', EXAMPLE, '--probe', 'mysql'])).code).to.equal(0);
  });

  it('explain --port with a name the destination does not serve exits 2', async () => {
    const args = ['explain', '-f', EXAMPLE, '--from', 'shop/web', '--to', 'shop/db', '--port'];
    const nope = await polygraph([...args, 'nope']);
    expect(nope.code).to.equal(2);
    expect(nope.stderr).to.equal(
      'polygraph: --port nope/TCP: shop/db serves no TCP port named "nope" (port names served: mysql/TCP)',
    );
    const typo = await polygraph([...args, 'mysq']);
    expect(typo.code).to.equal(2);
    expect(typo.stderr).to.contain('did you mean "mysql"?');
  });
});

describe('polygraph CLI: --from/--to patterns (built)', function () {
  this.timeout(30_000);
  it('resolves bare pod names in -n, selectors in brackets, and rejects patterns matching nothing', async () => {
    const r = await polygraph([
      'model',
      '-f',
      EXAMPLE,
      '-n',
      'shop',
      '--from',
      'web',
      '--to',
      '*/[app=browser]',
      '--probe',
      '80',
    ]);
    expect(r.code).to.equal(0);
    // shop/web may only call shop/api on 5000 (examples/three-tier/policies.yaml): denied.
    expect(r.stdout.split('\n').slice(0, 4)).to.deep.equal([
      '80/TCP',
      'from\\to   visitors/browser',
      'shop/web         X',
      '80/TCP: 0 allowed, 1 denied',
    ]);
    const none = await polygraph(['model', '-f', EXAMPLE, '--from', 'web']);
    expect(none.code).to.equal(2);
    expect(none.stderr).to.contain(
      'polygraph: --from default/web matches no endpoint; did you mean shop/web?',
    );
    const bad = await polygraph(['model', '-f', EXAMPLE, '--to', 'shop/[tier=']);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.equal(
      'polygraph: --to shop/[tier=: pod "[tier=": a selector must end with "]"',
    );
  });
});

describe('polygraph CLI: explain with patterns (built)', function () {
  this.timeout(30_000);
  it('explains every flow a pattern selects, in text and in the model document', async () => {
    const args = ['explain', '-f', EXAMPLE, '--from', 'shop/*', '--to', 'shop/[tier=db]'];
    const text = await polygraph([...args, '--port', 'mysql']);
    expect(text.code).to.equal(0);
    // Hand-derived: only api may reach db on mysql; db reaching itself is self traffic.
    expect(text.stdout.split('\n').filter((l) => l.startsWith('Verdict: '))).to.deep.equal([
      'Verdict: DENY: denied: shop/default-deny-all, shop/web select shop/web for Egress and no rule admits shop/db on mysql/TCP (port 3306); and shop/default-deny-all, shop/db select shop/db for Ingress and no rule admits shop/web on mysql/TCP (port 3306)',
      'Verdict: ALLOW: allowed: egress admitted by shop/api spec.egress[0]; ingress admitted by shop/db spec.ingress[0]',
      'Verdict: ALLOW: allowed: shop/db connecting to itself is not subject to NetworkPolicy (selfTraffic: allow)',
    ]);
    const json = await polygraph([...args, '--port', 'mysql', '-o', 'json']);
    const doc = JSON.parse(json.stdout) as {
      probes: { from: string[]; to: string[]; rows: string[]; cells: { verdict: string }[] }[];
    };
    expect(doc.probes[0]).to.deep.include({
      from: ['shop/web', 'shop/api', 'shop/db'],
      to: ['shop/db'],
      rows: ['X', '.', '.'],
    });
    expect(doc.probes[0]?.cells.map((c) => c.verdict)).to.deep.equal(['deny', 'allow', 'allow']);
  });
});
