import { expect } from 'chai';
import { execa } from 'execa';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { matchesGolden } from '../support/golden.js';
import { ROOT } from '../support/scenarios.js';

/* `polygraph check` and `polygraph init`, the built CLI as users run it. */
const CLI = join(ROOT, 'dist/cli/main.js');
const THREE_TIER = join(ROOT, 'scenarios/three-tier.yaml');

async function polygraph(...args: string[]) {
  const r = await execa('node', [CLI, ...args], {
    reject: false,
    cwd: ROOT,
    env: { NO_COLOR: '1' },
  });
  return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

/** The three-tier scenario with every `allow` and `deny` of its expectation swapped. */
async function swappedThreeTier(dir: string): Promise<string> {
  const text = await readFile(THREE_TIER, 'utf8');
  const swapped = text.replace(/^(\s*default:) deny/m, '$1 allow').replace(/: allow$/gm, ': deny');
  const file = join(dir, 'three-tier-swapped.yaml');
  // Keep the policies' relative path valid from the temporary directory.
  await writeFile(
    file,
    swapped.replace('policies/three-tier.yaml', join(ROOT, 'scenarios/policies/three-tier.yaml')),
  );
  return file;
}

describe('polygraph check (built CLI)', function () {
  this.timeout(60_000);
  let tmp = '';
  before(async function () {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
    tmp = await mkdtemp(join(tmpdir(), 'polygraph-check-'));
  });

  it('every example scenario agrees with the spec: exit 0', async () => {
    const files = readdirSync(join(ROOT, 'scenarios'))
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => join('scenarios', f));
    expect(files.length).to.be.at.least(12);
    const r = await polygraph('check', ...files);
    expect(r.stderr).to.equal('');
    expect(r.code, r.stdout).to.equal(0);
    expect(r.stdout).to.match(new RegExp(`^agree: ${String(files.length)} scenarios, `, 'm'));
  });

  it('the three-tier scenario: golden text and JSON', async () => {
    const text = await polygraph('check', 'scenarios/three-tier.yaml');
    expect(text.code).to.equal(0);
    await matchesGolden('three-tier.check.txt', text.stdout);
    const json = await polygraph('check', 'scenarios/three-tier.yaml', '-o', 'json');
    expect(json.code).to.equal(0);
    await matchesGolden('three-tier.check.json', json.stdout);
  });

  it('the three-tier scenario with allow and deny swapped: exit 1, every decided cell contradicts the spec', async () => {
    const file = await swappedThreeTier(tmp);
    const r = await polygraph('check', file, '-o', 'json');
    expect(r.code).to.equal(1);
    const doc = JSON.parse(r.stdout) as {
      passed: boolean;
      summary: { cells: number; classes: Record<string, number> };
    };
    expect(doc.passed).to.equal(false);
    // Hand-counted from the scenario: 4 pods + 1 external; 5 x 5 - 1 (the internet to itself)
    // = 24 cells per probe, 3 probes. Served destinations: 80 by web and browser (10 cells),
    // 5000 by api (5), 3306 by db (5): 20 decided cells, 52 unresolvable.
    expect(doc.summary.cells).to.equal(72);
    // Every cell the model decides now disagrees; unresolvable cells stay unresolvable.
    expect(doc.summary.classes).to.deep.equal({
      'expectation-contradicts-spec': 20,
      unresolvable: 52,
    });
    const text = await polygraph('check', file);
    expect(text.code).to.equal(1);
    expect(text.stdout).to.match(/^FAIL /m);
    expect(text.stdout).to.include('the expectation contradicts the spec (20):');
    expect(text.stdout).to.include(
      '80/TCP shop/web -> visitors/browser: expected allow, the spec says deny',
    );
  });

  it('an invalid scenario: exit 2, the file and line of each problem, no stack trace', async () => {
    const file = join(tmp, 'broken.yaml');
    await writeFile(
      file,
      'apiVersion: polygraph.dev/v1alpha1\nkind: Scenario\nmetadata: {name: broken}\ntopology:\n  namespces: {}\n',
    );
    const r = await polygraph('check', file);
    expect(r.code).to.equal(2);
    expect(r.stdout).to.equal('');
    expect(r.stderr).to.include(`${file}:5:3`);
    expect(r.stderr).to.include('did you mean "namespaces"?');
    expect(r.stderr).not.to.match(/\n\s+at /);
  });

  it('a missing file: exit 2', async () => {
    const r = await polygraph('check', join(tmp, 'nope.yaml'));
    expect(r.code).to.equal(2);
    expect(r.stderr).to.include('nope.yaml');
  });
});

describe('polygraph init (built CLI)', function () {
  this.timeout(60_000);

  it('writes a scenario for examples/three-tier that check accepts, with review comments and tables', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'polygraph-init-'));
    const out = join(dir, 'three-tier.scenario.yaml');
    const r = await polygraph('init', '-f', 'examples/three-tier', '-o', out);
    expect(r.code, r.stderr).to.equal(0);
    const text = await readFile(out, 'utf8');
    expect(text).to.match(/^# REVIEW BEFORE USE/);
    const doc = parse(text) as {
      topology: { manifests: string[] };
      policies: string[];
      expect: { tables: Record<string, string> };
    };
    expect(doc.topology.manifests).to.have.length(1);
    expect(doc.policies).to.deep.equal(doc.topology.manifests);
    // Ports the example's containers declare, by protocol then number (hand-read from
    // examples/three-tier/workloads.yaml).
    expect(Object.keys(doc.expect.tables)).to.deep.equal(['80/TCP', '3306/TCP', '5000/TCP']);
    // Spot checks written by hand from examples/three-tier/policies.yaml: browser reaches web on
    // 80, web does not reach db on 3306, db serves no 80.
    const row = (probe: string, from: string): string =>
      doc.expect.tables[probe]?.split('\n').find((l) => l.startsWith(from)) ?? '';
    expect(row('80/TCP', 'visitors/browser')).to.match(/^visitors\/browser\s+\.\s/);
    const check = await polygraph('check', out);
    expect(check.code, check.stdout + check.stderr).to.equal(0);
  });
});

describe('polygraph explain --scenario (built CLI)', function () {
  this.timeout(60_000);

  it("walks one cell of a scenario step's world", async () => {
    const r = await polygraph(
      'explain',
      '--scenario',
      'scenarios/three-tier.yaml',
      '--from',
      'shop/web',
      '--to',
      'shop/db',
      '--port',
      '3306',
    );
    expect(r.code, r.stderr).to.equal(0);
    // Hand-read from scenarios/policies/three-tier.yaml: web's egress opens only api:5000.
    expect(r.stdout).to.include('Flow shop/web -> shop/db on 3306/TCP');
    expect(r.stdout).to.include(
      '=> isolated by shop/default-deny-all, shop/web-egress and no rule admits shop/db: denied',
    );
  });

  it('asks for the step of a scenario with several, and finds it by name or number', async () => {
    const args = ['--from', 'app/web', '--to', 'app/db', '--port', '5432'];
    const none = await polygraph(
      'explain',
      '--scenario',
      'scenarios/deny-allow-delete.yaml',
      ...args,
    );
    expect(none.code).to.equal(2);
    expect(none.stderr).to.include(
      'choose one with --step (1 "deny", 2 "allow web to db", 3 "delete the policies")',
    );
    const byName = await polygraph(
      'explain',
      '--scenario',
      'scenarios/deny-allow-delete.yaml',
      '--step',
      'delete the policies',
      ...args,
    );
    expect(byName.code, byName.stderr).to.equal(0);
    const byNumber = await polygraph(
      'explain',
      '--scenario',
      'scenarios/deny-allow-delete.yaml',
      '--step',
      '3',
      ...args,
    );
    expect(byNumber.stdout).to.equal(byName.stdout);
    const both = await polygraph(
      'explain',
      '--scenario',
      'scenarios/three-tier.yaml',
      '-f',
      'examples/three-tier',
      ...args,
    );
    expect(both.code).to.equal(2);
  });
});
