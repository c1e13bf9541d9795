/**
 * `polygraph fuzz` as users run it (the built CLI), against the lab or the cluster of
 * POLYGRAPH_KUBECONFIG / KUBECONFIG:
 *  - a short seeded run, whose every group must be a deviation docs/LAB.md lists (section
 *    "Deviations found by fuzz", one `signature:` line each): a new group fails the suite until it
 *    is listed there with its minimal case;
 *  - the four kube-router v2.1.0 patterns of differential testing, each reproduced by
 *    `fuzz --replay` of its minimal case (test/e2e/fixtures/fuzz/), cell for cell as written here
 *    by hand, and in the same replay (one topology deployed for the five) a minimal case with a
 *    ClusterNetworkPolicy Deny: the lab serves the API and its kube-router enforces none, so the
 *    cells it decides differ, as written here by hand.
 * Every command names the plugin (`--plugin`, POLYGRAPH_PLUGIN, else kube-router): the lab's
 * kube-router runs outside the cluster, so it is not detected, and on a plugin it does not know
 * fuzz would generate cluster policies there (the lab serves their API), every deciding one a
 * deviation of a plugin known to ignore them.
 * Both clean up after themselves: no namespace of polygraph is left.
 */
import { expect } from 'chai';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { FuzzDocument } from '../../src/report/fuzz.js';
import {
  liveArgs,
  liveTarget,
  ownedClusterPolicies,
  ownedNamespaces,
  polygraph as cli,
  type LiveTarget,
} from '../support/e2e.js';
import { ROOT } from '../support/scenarios.js';

const FIXTURES = join(ROOT, 'test/e2e/fixtures/fuzz');
/** The CI run: fixed seed and size (docs/LAB.md, "Deviations found by fuzz", has the numbers). */
const SEED = Number(process.env.POLYGRAPH_FUZZ_SEED ?? 7);
const CASES = Number(process.env.POLYGRAPH_FUZZ_CASES ?? 4);
const PLUGIN = process.env.POLYGRAPH_PLUGIN ?? 'kube-router';

function log(message: string): void {
  console.log(`      · ${message}`);
}

/** The signatures docs/LAB.md lists under "Deviations found by fuzz". */
async function listedSignatures(): Promise<string[]> {
  const text = await readFile(join(ROOT, 'docs/LAB.md'), 'utf8');
  const start = text.indexOf('## Deviations found by fuzz');
  expect(start, 'docs/LAB.md has a section "Deviations found by fuzz"').to.be.greaterThan(-1);
  const section = text.slice(start, text.indexOf('\n## ', start + 1));
  return [...section.matchAll(/^- signature: `(.+)`$/gm)].map((m) => m[1] ?? '');
}

const NS = ['x', 'y', 'z'];
const PODS = ['a', 'b', 'c'];
const ALL = NS.flatMap((n) => PODS.map((p) => `${n}/${p}`));
const PROBES = ['80/TCP', '80/UDP', '81/TCP', '81/UDP'];
/** Cells `PROBE FROM TO` between distinct pods. */
const cells = (from: string[], to: string[], probes: string[]) =>
  probes.flatMap((p) =>
    from.flatMap((f) => to.filter((t) => t !== f).map((t) => `${p} ${f} ${t}`)),
  );
const inX = ALL.filter((k) => k.startsWith('x/'));
const inY = ALL.filter((k) => k.startsWith('y/'));
const inZ = ALL.filter((k) => k.startsWith('z/'));

/** Written by hand from the lab notes' four patterns (fixtures: the policy and the spec). */
const REPLAYS: Record<string, string[]> = {
  // x → x, every port: allowed (the spec denies).
  'shared-chain.yaml': cells(inX, inX, PROBES),
  'named-port-resolving-nowhere.yaml': cells(inX, inX, PROBES),
  // every pod → x, every port: refused (the spec allows).
  'ipblock-peers-merged.yaml': cells(ALL, inX, PROBES),
  // x → the a and c pods on 80/TCP: refused (the spec allows).
  'egress-ipblock-named-port.yaml': cells(
    inX,
    ALL.filter((k) => k.endsWith('/a') || k.endsWith('/c')),
    ['80/TCP'],
  ),
};

/** A ClusterNetworkPolicy Deny's minimal case, replayed with the four patterns. */
const CNP_REPLAY = 'cluster-policy-deny.yaml';
const CNP_SIGNATURE =
  'the spec denies, the cluster allows: a pod no policy selects to a cluster policy subject; 1 cluster policy: [Admin tier; subject namespaces; ingress: Deny namespaces on number/TCP]';

describe('polygraph fuzz on the live cluster (built CLI)', function () {
  this.timeout(600_000);
  let target: LiveTarget | undefined;
  let tmp = '';
  const polygraph = (...args: string[]) => cli('fuzz', ...liveArgs(target!, PLUGIN), ...args);
  const owned = () => ownedNamespaces(target!.cluster);

  before(async function () {
    target = await liveTarget('fuzz');
    tmp = target.tmp;
  });

  afterEach(async function () {
    if (target === undefined) return;
    expect(await owned(), 'namespaces of polygraph left').to.deep.equal([]);
  });

  it(`a seeded run (seed ${String(SEED)}, ${String(CASES)} sets): every group is a deviation docs/LAB.md lists`, async () => {
    const dir = join(tmp, 'cases');
    const r = await polygraph(
      '--seed',
      String(SEED),
      '--cases',
      String(CASES),
      '--shrinks-per-set',
      '1',
      '-o',
      'json',
      '--write-cases',
      dir,
    );
    expect([0, 1], r.stderr).to.include(r.exitCode);
    const doc = JSON.parse(r.stdout) as FuzzDocument;
    log(
      `${String(doc.totals.sets)} sets in ${(doc.durationMs / 1000).toFixed(0)} s (${String(doc.setsPerMinute)}/min), ${String(doc.totals.cells)} cells, ${String(doc.totals.differing)} differ in ${String(doc.totals.setsWithDifferences)} sets, ${String(doc.totals.intermittent)} intermittent, ${String(doc.totals.clusterRuns)} cluster runs`,
    );
    for (const g of doc.groups)
      log(
        `group (sets ${g.sets.join(',')}; ${String(g.cells)} cells; shrunk from set ${String(g.from.set)} in ${String(g.minimal.shrink.steps)} runs, ${(g.minimal.shrink.ms / 1000).toFixed(1)} s): ${g.signature}`,
      );
    expect(doc.seed).to.equal(SEED);
    expect(doc.comparison).to.equal('observed-vs-model');
    expect(doc.cluster.kubernetesVersion).to.match(/^v1\./);
    expect(doc.totals.sets).to.equal(CASES);
    expect(doc.totals.probeErrors, 'probe errors').to.equal(0);
    expect(r.exitCode).to.equal(doc.totals.differing + doc.totals.flaky > 0 ? 1 : 0);
    const listed = await listedSignatures();
    const unlisted = doc.groups.filter((g) => !listed.includes(g.signature));
    expect(
      unlisted.map((g) => `${g.signature}\n${g.minimal.scenario}`),
      'groups docs/LAB.md does not list (add each with its minimal case)',
    ).to.deep.equal([]);
    // Every minimal case is a scenario file that check accepts.
    for (const file of await readdir(dir)) {
      const c = await cli('check', join(dir, file));
      expect(c.exitCode, `${file}: ${c.stdout}${c.stderr}`).to.equal(0);
    }
  });

  it('the four kube-router v2.1.0 patterns and a ClusterNetworkPolicy Deny, each reproduced by fuzz --replay of its minimal case (one topology for the five)', async () => {
    const files = [...Object.keys(REPLAYS), CNP_REPLAY];
    const r = await polygraph(
      '--replay',
      ...files.map((f) => join(FIXTURES, f)),
      '--no-shrink',
      '-o',
      'json',
    );
    expect(r.exitCode, r.stderr).to.equal(1);
    const doc = JSON.parse(r.stdout) as FuzzDocument;
    log(`${String(doc.totals.sets)} sets replayed in ${(doc.durationMs / 1000).toFixed(0)} s`);
    expect(doc.replay).to.equal(true);
    expect(doc.sets.length).to.equal(files.length);
    Object.keys(REPLAYS).forEach((file, i) => {
      const set = doc.sets[i];
      expect([...(set?.differingCells ?? [])].sort(), file).to.deep.equal(
        [...(REPLAYS[file] ?? [])].sort(),
      );
    });
    // By hand: the Admin Deny (z, from team blue on 80/TCP) decides x, y -> z on 80/TCP; the
    // lab serves the API and its kube-router enforces none, so the cluster allows them. Nothing
    // else differs.
    expect(
      [...(doc.sets[files.length - 1]?.differingCells ?? [])].sort(),
      CNP_REPLAY,
    ).to.deep.equal(cells([...inX, ...inY], inZ, ['80/TCP']).sort());
    const listed = await listedSignatures();
    const cnpGroups = doc.groups.filter((g) => g.sets.includes(files.length - 1));
    expect(cnpGroups.map((g) => g.signature)).to.deep.equal([CNP_SIGNATURE]);
    for (const g of doc.groups.filter((x) => !cnpGroups.includes(x)))
      expect(listed, 'the signature of a replayed case').to.include(g.signature);
    expect(
      await ownedClusterPolicies(target!.cluster),
      'cluster policies of polygraph left',
    ).to.deep.equal([]);
  });
});
