import { expect } from 'chai';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { matchesGolden } from '../support/golden.js';

/* The built CLI, spawned as users run it: stdout, stderr and exit codes. */
const CLI = new URL('../../dist/cli/main.js', import.meta.url).pathname;
const EXAMPLE = new URL('../../examples/three-tier', import.meta.url).pathname;
const THREE_TIER = new URL('../../scenarios/three-tier.yaml', import.meta.url).pathname;

async function polygraph(...args: string[]) {
  const r = await execa('node', [CLI, ...args], { reject: false, env: { NO_COLOR: '1' } });
  return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

describe('polygraph CLI (built)', function () {
  this.timeout(30_000);
  before(function () {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  });

  it('model -o json prints exactly one compact JSON document: keys and one row of marks per source', async () => {
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
      apiVersion: string;
      endpoints: { key: string }[];
      probes: {
        port: number | string;
        from: string[];
        to: string[];
        rows: string[];
        cells?: unknown[];
        summary: Record<string, number>;
      }[];
      summary: Record<string, number>;
    };
    expect(doc.apiVersion).to.equal('polygraph.dev/v1alpha2');
    const keys = ['shop/web', 'shop/api', 'shop/db', 'visitors/browser', 'ext:backup@10.9.0.1'];
    expect(doc.endpoints.map((e) => e.key)).to.deep.equal(keys);
    // Hand-derived from examples/three-tier/policies.yaml. Columns in key order; shop/api
    // (5000) and shop/db (3306) do not serve 80: "-"; only shop/db serves mysql: "?" elsewhere.
    expect(doc.probes.map((p) => [p.port, p.from, p.to, p.rows])).to.deep.equal([
      [80, keys, keys, ['.--XX', 'X--XX', 'X--XX', '.--..', '.--. ']],
      ['mysql', keys, keys, ['??X??', '??.??', '??.??', '??X??', '??X? ']],
    ]);
    expect(doc.probes[0]?.cells).to.equal(undefined); // provenance only when asked for
    expect(doc.probes.map((p) => p.summary)).to.deep.equal([
      { cells: 14, allowed: 6, denied: 8, unresolved: 0, notServed: 10 },
      { cells: 5, allowed: 2, denied: 3, unresolved: 19, notServed: 0 },
    ]);
    expect(doc.summary).to.deep.equal({
      cells: 19,
      allowed: 8,
      denied: 11,
      unresolved: 19,
      notServed: 10,
    });
  });

  it('--explain-cells gives the provenance of the cells shown, filtered by --from/--to/--only', async () => {
    const r = await polygraph(
      'model',
      '-f',
      EXAMPLE,
      '-o',
      'json',
      '--probe',
      'mysql',
      '--from',
      'shop/[tier in (web,api)]',
      '--to',
      'db',
      '-n',
      'shop',
      '--explain-cells',
    );
    expect(r.code).to.equal(0);
    const doc = JSON.parse(r.stdout) as {
      probes: { from: string[]; to: string[]; rows: string[]; cells: Record<string, unknown>[] }[];
    };
    expect(doc.probes[0]).to.deep.include({
      from: ['shop/web', 'shop/api'],
      to: ['shop/db'],
      rows: ['X', '.'],
    });
    expect(doc.probes[0]?.cells).to.deep.equal([
      {
        from: 'shop/web',
        to: 'shop/db',
        verdict: 'deny',
        resolvedPort: 3306,
        reason:
          'denied: shop/default-deny-all, shop/web select shop/web for Egress and no rule admits shop/db on mysql/TCP (port 3306); and shop/default-deny-all, shop/db select shop/db for Ingress and no rule admits shop/web on mysql/TCP (port 3306)',
        egress: { decision: 'denied', policies: ['shop/default-deny-all', 'shop/web'] },
        ingress: { decision: 'denied', policies: ['shop/default-deny-all', 'shop/db'] },
      },
      {
        from: 'shop/api',
        to: 'shop/db',
        verdict: 'allow',
        resolvedPort: 3306,
        reason:
          'allowed: egress admitted by shop/api spec.egress[0]; ingress admitted by shop/db spec.ingress[0]',
        egress: {
          decision: 'allowed',
          policies: ['shop/default-deny-all', 'shop/api'],
          admittedBy: [{ policy: 'shop/api', rule: 'spec.egress[0]' }],
        },
        ingress: {
          decision: 'allowed',
          policies: ['shop/default-deny-all', 'shop/db'],
          admittedBy: [{ policy: 'shop/db', rule: 'spec.ingress[0]' }],
        },
      },
    ]);
    const denied = await polygraph('model', '-f', EXAMPLE, '--probe', '80', '--only', 'denied');
    // Rows and columns with at least one denial (hand-derived): browser has none as source.
    expect(denied.stdout.split('\n').slice(1, 5)).to.deep.equal([
      'from\\to   shop/web  visitors/browser',
      'shop/web     .             X',
      'shop/api     X             X',
      'shop/db      X             X',
    ]);
  });

  it('explain -o json is the model document with one cell and its walkthrough', async () => {
    const r = await polygraph(
      'explain',
      '-f',
      EXAMPLE,
      '--from',
      'shop/api',
      '--to',
      'shop/db',
      '--port',
      'mysql',
      '-o',
      'json',
    );
    expect(r.code).to.equal(0);
    const doc = JSON.parse(r.stdout) as {
      kind: string;
      probes: {
        port: string;
        rows: string[];
        cells: { verdict: string; walkthrough: { sides: { direction: string }[] } }[];
      }[];
    };
    expect(doc.kind).to.equal('ModelResult');
    expect(doc.probes).to.have.length(1);
    expect(doc.probes[0]).to.deep.include({ port: 'mysql', rows: ['.'] });
    expect(doc.probes[0]?.cells[0]?.verdict).to.equal('allow');
    expect(doc.probes[0]?.cells[0]?.walkthrough.sides.map((s) => s.direction)).to.deep.equal([
      'egress',
      'ingress',
    ]);
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
    expect(row?.replace(/\s+/g, '')).to.equal('visitors/browser.--.');
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

  it('output into a pipe its reader closed (| head, | true): the command ends with its own exit code, no error', async () => {
    // `true` reads nothing and exits at once: every write of the CLI meets a closed pipe (EPIPE).
    const piped = async (command: string) => {
      const r = await execa(
        'bash',
        ['-c', `node ${CLI} ${command} | true; exit \${PIPESTATUS[0]}`],
        {
          reject: false,
          env: { NO_COLOR: '1' },
        },
      );
      return { code: r.exitCode, stderr: r.stderr };
    };
    for (const command of [`model -f ${EXAMPLE}`, `model -f ${EXAMPLE} -o json`])
      expect(await piped(command), command).to.deep.equal({ code: 0, stderr: '' });
    // A failing check still exits 1 (what pipefail sees), its report unread.
    const swapped = await mkdtemp(join(tmpdir(), 'polygraph-pipe-'));
    const text = (await readFile(THREE_TIER, 'utf8')).replace(/^(\s*default:\s*)deny/m, '$1allow');
    await writeFile(join(swapped, 'three-tier.yaml'), text);
    await cp(
      new URL('../../scenarios/policies', import.meta.url).pathname,
      join(swapped, 'policies'),
      {
        recursive: true,
      },
    );
    expect(await piped(`check ${join(swapped, 'three-tier.yaml')}`)).to.deep.equal({
      code: 1,
      stderr: '',
    });
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

  it('run --parallel and --settle-timeout: positive numbers, --parallel above 1 only with run-suffixed namespaces (exit 2, before any cluster is asked)', async () => {
    const args = ['run', 'scenarios/three-tier.yaml', '--kubeconfig', '/nonexistent/kubeconfig'];
    const exact = await polygraph(...args, '--parallel', '2', '--namespace-names', 'exact');
    expect(exact.code).to.equal(2);
    expect(exact.stderr).to.contain(
      '--parallel above 1 needs --namespace-names suffix: scenarios running at once would share namespaces named as written',
    );
    const zero = await polygraph(...args, '--parallel', '0');
    expect(zero.code).to.equal(2);
    expect(zero.stderr).to.contain('--parallel');
    const settle = await polygraph(...args, '--settle-timeout', '2s');
    expect(settle.code).to.equal(2);
    expect(settle.stderr).to.contain('expected a whole number ≥ 1 for --settle-timeout, got "2s"');
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
    expect(JSON.parse(r.stdout)).to.deep.include({ probes: [] });
    expect(r.stderr).to.contain('no pod declares a container port');
    const withProbe = await polygraph('model', '-f', file, '-o', 'json', '--probe', '8080');
    expect(
      (JSON.parse(withProbe.stdout) as { probes: { rows: string[] }[] }).probes[0]?.rows,
    ).to.deep.equal(['.']);
  });

  it('--help documents the commands and exit codes', async () => {
    const r = await polygraph('--help');
    expect(r.code).to.equal(0);
    expect(r.stdout).to.contain('model').and.contain('explain').and.contain('Exit codes');
  });
});

describe('polygraph CLI (built): what the offline commands load', function () {
  this.timeout(30_000);
  /** A module hook that fails any import of the Kubernetes client or execa. */
  const resolveHook = `export async function resolve(specifier, context, next) {
    if (specifier === '@kubernetes/client-node' || specifier === 'execa')
      throw new Error('offline command imported ' + specifier);
    return next(specifier, context);
  }`;
  const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(resolveHook)}`)});`;
  const guarded = (...args: string[]) =>
    execa('node', ['--import', `data:text/javascript,${encodeURIComponent(register)}`, ...args], {
      reject: false,
      env: { NO_COLOR: '1' },
    });

  it('the hook itself refuses an import of the client (so the checks below can fail)', async () => {
    const r = await guarded('--input-type=module', '-e', "await import('@kubernetes/client-node')");
    expect(r.exitCode).to.not.equal(0);
    expect(r.stderr).to.include('offline command imported @kubernetes/client-node');
  });

  // Loading the client costs 0.7 s of a 1.2 s start; an offline command never talks to a cluster.
  for (const args of [
    ['check', new URL('../../scenarios/three-tier.yaml', import.meta.url).pathname],
    ['model', '-f', EXAMPLE],
    ['--help'],
  ])
    it(`polygraph ${args[0] ?? ''} loads neither @kubernetes/client-node nor execa`, async () => {
      const r = await guarded(CLI, ...args);
      expect(r.stderr).to.equal('');
      expect(r.exitCode).to.equal(0);
    });
});
