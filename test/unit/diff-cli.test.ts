import { Ajv2020 } from 'ajv/dist/2020.js';
import { expect } from 'chai';
import { execa } from 'execa';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/* `polygraph diff` as users run it (the built CLI): output, JSON document and exit codes. */
const CLI = new URL('../../dist/cli/main.js', import.meta.url).pathname;

async function polygraph(args: string[], input?: string) {
  const r = await execa('node', [CLI, ...args], {
    reject: false,
    env: { NO_COLOR: '1' },
    ...(input === undefined ? {} : { input }),
  });
  return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

const TOPOLOGY = `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {tier: web}}
spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: shop, labels: {tier: api}}
spec: {containers: [{name: c, image: i, ports: [{containerPort: 5000}]}]}
---
`;
const API_FROM_WEB = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api, namespace: shop}
spec:
  podSelector: {matchLabels: {tier: api}}
  ingress:
  - from: [{podSelector: {matchLabels: {tier: web}}}]
    ports: [{port: 5000}]
`;
const DENY_ALL = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: shop}
spec: {podSelector: {}, policyTypes: [Ingress]}
---
`;

describe('polygraph diff (built CLI)', function () {
  this.timeout(30_000);
  let dir = '';
  const file = (name: string) => join(dir, name);

  before(async function () {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
    dir = await mkdtemp(join(tmpdir(), 'polygraph-diff-'));
    await writeFile(file('topology.yaml'), TOPOLOGY);
    await writeFile(file('before.yaml'), API_FROM_WEB);
    await writeFile(file('after.yaml'), DENY_ALL);
    await writeFile(
      file('bad.yaml'),
      `${DENY_ALL}apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x, namespace: shop}\nspec: {podSelector: {}, policyTypes: [Sideways]}\n`,
    );
  });

  it('prints the cells closed and opened with both verdicts and a summary; exit 1', async () => {
    const r = await polygraph([
      'diff',
      '--before',
      file('topology.yaml'),
      '--before',
      file('before.yaml'),
      '--after',
      file('topology.yaml'),
      '--after',
      file('after.yaml'),
    ]);
    expect(r.code, r.stderr).to.equal(1);
    // Before: the api policy admits web on 5000; web is not isolated. After: deny-all isolates
    // both with no rule, so api -> web on 80 and web -> api on 5000 close; self traffic stays.
    expect(r.stdout.split('\n')).to.deep.equal([
      `before: -f ${file('topology.yaml')} -f ${file('before.yaml')} (1 namespace, 2 pods, 1 NetworkPolicy)`,
      `after:  -f ${file('topology.yaml')} -f ${file('after.yaml')} (1 namespace, 2 pods, 1 NetworkPolicy)`,
      'objects:',
      '  NetworkPolicies added: shop/deny-all',
      '  NetworkPolicies removed: shop/api',
      'closed (2):',
      '  - 80/TCP shop/api -> shop/web',
      '      before: allowed: no policy selects shop/api for Egress; no policy selects shop/web for Ingress',
      '      after:  denied: shop/deny-all selects shop/web for Ingress and no rule admits shop/api on 80/TCP',
      '  - 5000/TCP shop/web -> shop/api',
      '      before: allowed: no policy selects shop/web for Egress; ingress admitted by shop/api spec.ingress[0]',
      '      after:  denied: shop/deny-all selects shop/api for Ingress and no rule admits shop/web on 5000/TCP',
      'probes: 80/TCP, 5000/TCP',
      'this change closes 2 flows, opens 0 (4 cells compared on 2 probes, 2 unchanged)',
    ]);
  });

  it('exit 0 when nothing changes; BEFORE AFTER as two arguments', async () => {
    await writeFile(file('same.yaml'), TOPOLOGY + API_FROM_WEB);
    const r = await polygraph(['diff', file('same.yaml'), file('same.yaml')]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.contain('objects: no difference');
    expect(r.stdout).to.contain(
      'this change opens and closes no flow (4 cells compared on 2 probes, 4 unchanged)',
    );
  });

  it('-o json: one DiffResult document; a side may be standard input', async () => {
    await writeFile(file('after-all.yaml'), TOPOLOGY + DENY_ALL);
    const r = await polygraph(
      ['diff', '-', file('after-all.yaml'), '-o', 'json', '--to', 'shop/api'],
      TOPOLOGY + API_FROM_WEB,
    );
    expect(r.code, r.stderr).to.equal(1);
    const doc = JSON.parse(r.stdout) as Record<string, unknown> & {
      closed: {
        from: string;
        to: string;
        port: number;
        before: { verdict: string; ingress: unknown };
        after: { verdict: string };
      }[];
    };
    expect(doc.apiVersion).to.equal('polygraph.dev/v1alpha1');
    expect(doc.kind).to.equal('DiffResult');
    expect(doc.changed).to.equal(true);
    expect(doc.opened).to.deep.equal([]);
    expect(
      doc.closed.map((c) => [c.port, c.from, c.to, c.before.verdict, c.after.verdict]),
    ).to.deep.equal([[5000, 'shop/web', 'shop/api', 'allow', 'deny']]);
    expect(doc.closed[0]?.before.ingress).to.deep.equal({
      decision: 'allowed',
      policies: ['shop/api'],
      admittedBy: [{ policy: 'shop/api', rule: 'spec.ingress[0]' }],
    });
    expect((doc.before as { source: string }).source).to.equal('-f -');
  });

  it('an invalid side: exit 2 with file:line:col, nothing compared', async () => {
    const r = await polygraph(['diff', file('before.yaml'), file('bad.yaml')]);
    expect(r.code).to.equal(2);
    expect(r.stdout).to.equal('');
    expect(r.stderr).to.match(/bad\.yaml:9:\d+: NetworkPolicy shop\/x: spec\.policyTypes\[0\]/);
  });

  it('usage errors: one side only, --apply without --cluster, stdin twice', async () => {
    for (const [args, message] of [
      [['diff', file('before.yaml')], 'give both sides'],
      [
        ['diff', file('before.yaml'), file('after.yaml'), '--apply', file('after.yaml')],
        '--apply and --delete need --cluster',
      ],
      [['diff', '-', '-'], 'standard input (-) can be read only once'],
      [['diff', '--cluster'], '--cluster needs the change: --apply FILE and/or --delete FILE'],
    ] as const) {
      const r = await polygraph([...args]);
      expect(r.code, args.join(' ')).to.equal(2);
      expect(r.stderr).to.contain(message);
    }
  });

  it('an unreachable cluster: exit 3, after the change file was validated', async () => {
    await writeFile(
      file('kubeconfig'),
      'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n',
    );
    const r = await polygraph([
      'diff',
      '--cluster',
      '--kubeconfig',
      file('kubeconfig'),
      '--apply',
      file('after.yaml'),
    ]);
    expect(r.code).to.equal(3);
    expect(r.stderr).to.contain('list namespaces');
    expect(r.stderr).to.contain('ECONNREFUSED');
    const invalid = await polygraph([
      'diff',
      '--cluster',
      '--kubeconfig',
      file('kubeconfig'),
      '--apply',
      file('bad.yaml'),
    ]);
    expect(invalid.code).to.equal(2);
  });
});

describe('schemas/diff-output.schema.json', function () {
  this.timeout(30_000);
  const validate = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true }).compile(
    JSON.parse(
      readFileSync(new URL('../../schemas/diff-output.schema.json', import.meta.url), 'utf8'),
    ) as object,
  );
  const EXAMPLE = new URL('../../examples/three-tier', import.meta.url).pathname;

  it('validates diff -o json, with and without changes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'polygraph-diff-schema-'));
    await writeFile(join(dir, 'after.yaml'), `${TOPOLOGY}${DENY_ALL}`);
    for (const args of [
      ['diff', EXAMPLE, EXAMPLE, '-o', 'json'],
      ['diff', join(dir, 'after.yaml'), EXAMPLE, '-o', 'json'],
    ]) {
      const r = await polygraph(args);
      const doc = JSON.parse(r.stdout) as unknown;
      expect(validate(doc), JSON.stringify(validate.errors, null, 2)).to.equal(true);
    }
  });

  it('rejects a document of another shape', () => {
    expect(validate({ apiVersion: 'polygraph.dev/v1alpha1', kind: 'DiffResult' })).to.equal(false);
  });
});
