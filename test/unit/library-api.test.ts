import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as chai from 'chai';
import { expect } from 'chai';
import { polygraphChai } from '../../src/chai.js';
import {
  check,
  diffWorlds,
  failing,
  hasChanges,
  loadManifests,
  FAILING_CLASSES,
  loadScenario,
  parseScenario,
  resultDocument,
  runAll,
  type ScenarioResult,
} from '../../src/index.js';
import { InputError } from '../../src/domain/errors.js';

chai.use(polygraphChai);

const ROOT = join(import.meta.dirname, '../..');
const THREE_TIER = 'scenarios/three-tier.yaml';

/** The three-tier scenario with every `allow` and `deny` of its expectation swapped. */
async function swappedThreeTier(): Promise<ScenarioResult> {
  const text = await readFile(join(ROOT, THREE_TIER), 'utf8');
  const swapped = text.replace(/^(\s*default:) deny/m, '$1 allow').replace(/: allow$/gm, ': deny');
  // Named next to the original, so that its relative policies path still resolves.
  return check(await parseScenario(swapped, join(ROOT, 'scenarios/three-tier-swapped.yaml')));
}

describe('library API: check, failing, resultDocument', () => {
  it('three-tier agrees with the spec: no failing cell, 20 agree', async () => {
    const result = await check(THREE_TIER);
    // Hand-counted (test/unit/check-cli.test.ts): 72 cells, 20 decided (all agree), 52 unresolvable.
    expect(failing(result.counts)).to.equal(0);
    expect(result.counts.cells).to.equal(72);
    expect(result.counts.byClass.agree).to.equal(20);
    expect(result.counts.byClass.unresolvable).to.equal(52);
    expect(resultDocument([result])).to.deep.include({ kind: 'CheckResult', passed: true });
  });

  it('accepts a loaded scenario as well as a path', async () => {
    const result = await check(await loadScenario(THREE_TIER));
    expect(result.name).to.equal((await check(THREE_TIER)).name);
    expect(failing(result.counts)).to.equal(0);
  });

  it('the swapped expectation fails: all 20 decided cells contradict the spec', async () => {
    const result = await swappedThreeTier();
    expect(failing(result.counts)).to.equal(20);
    expect(result.counts.byClass['expectation-contradicts-spec']).to.equal(20);
    expect(FAILING_CLASSES).to.include('expectation-contradicts-spec');
    expect(resultDocument([result]).passed).to.equal(false);
  });
});

describe('library API: runAll before the cluster', () => {
  it('no scenario: no result, and no cluster contacted (the kubeconfig named does not exist)', async () => {
    expect(await runAll([], { kubeconfig: '/nonexistent/kubeconfig' })).to.deep.equal([]);
  });

  it('reads every file first: one invalid file rejects with its InputError, naming it, before any cluster is contacted', async () => {
    const error = await runAll([THREE_TIER, 'scenarios/no-such-scenario.yaml'], {
      kubeconfig: '/nonexistent/kubeconfig',
    }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(InputError);
    expect((error as InputError).issues[0]?.location?.file).to.equal(
      'scenarios/no-such-scenario.yaml',
    );
  });
});

describe('chai plugin (netpol-polygraph/chai)', () => {
  it('haveNoMismatches passes on an agreeing result, and its negation fails', async () => {
    const result = await check(THREE_TIER);
    expect(result).to.haveNoMismatches();
    expect([result, result]).to.haveNoMismatches();
    expect(() => {
      expect(result).not.to.haveNoMismatches();
    }).to.throw('expected mismatches, but all 72 cells pass');
  });

  it('fails listing every failing cell with probe, from → to, verdicts and the reason', async () => {
    const result = await swappedThreeTier();
    let message = '';
    try {
      expect(result).to.haveNoMismatches();
    } catch (error) {
      message = (error as Error).message;
    }
    const lines = message.split('\n');
    expect(lines[0]).to.equal('expected no mismatches, but 20 of 72 cells fail:');
    expect(lines.slice(1)).to.have.length(20);
    for (const line of lines.slice(1))
      expect(line).to.match(
        /^ {2}\[expectation-contradicts-spec\] .*three-tier-swapped\.yaml step /,
      );
    // One cell written out by hand: web must not reach the browser (scenarios/three-tier.yaml).
    const cell = lines.find((l) => l.includes('80/TCP shop/web → visitors/browser'));
    expect(cell).to.match(/: expected allow, modelled deny: denied: /);
  });

  it('rejects what is not a result', () => {
    expect(() => {
      expect({ nope: 1 }).to.haveNoMismatches();
    }).to.throw(TypeError, 'ScenarioResult');
  });
});

describe('library API: diffWorlds', () => {
  it('the cells a change opens, from the package entry point', async () => {
    const example = join(ROOT, 'examples/three-tier');
    const before = await loadManifests([example]);
    // The same manifests without their policies: every cell shop's policies denied opens.
    const after = { ...before.world, policies: [] };
    const result = diffWorlds(before.world, after);
    expect(hasChanges(result)).to.equal(true);
    expect(result.closed).to.deep.equal([]);
    // Hand-derived from examples/three-tier/policies.yaml: on 80 only web serves (browser too);
    // web admits everyone on 80, but egress of api and db to web is denied (default-deny-all).
    expect(
      result.opened.map((c) => `${String(c.probe.port)} ${c.from} -> ${c.to}`),
    ).to.include.members([
      '80 shop/api -> shop/web',
      '80 shop/db -> shop/web',
      '3306 shop/web -> shop/db',
      '3306 visitors/browser -> shop/db',
    ]);
  });
});
