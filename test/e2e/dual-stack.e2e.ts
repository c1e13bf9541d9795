/**
 * Both IP families on a dual-stack cluster (the lab: `npm run lab:up -- --family dual --nodes 2`,
 * run by `npm run test:e2e:dual`; docs/LAB.md, "Both IP families"), through the built CLI, on
 * test/e2e/fixtures/dual-stack.yaml: a default deny, an IPv4 ipBlock and an IPv6 ipBlock with an
 * `except` of node2's pods, each cell probed on IPv4 and on IPv6, on one node and across nodes.
 * The model agrees with the expectations written by hand in the scenario; the cluster agrees too,
 * but for kube-router v2.1.0's dual-stack defects, which the scenario declares as its known
 * deviations (and which are checked here cell by cell). The flows whose two families are decided
 * differently are the ones listed here by hand. `--family 6` probes IPv6 only.
 */
import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { liveArgs, liveTarget, polygraph, type LiveTarget } from '../support/e2e.js';
import { ROOT } from '../support/scenarios.js';

const SCENARIO = join(ROOT, 'test/e2e/fixtures/dual-stack.yaml');

function log(message: string): void {
  console.log(`      · ${message}`);
}

interface Cell {
  from: string;
  to: string;
  probe: string;
  family?: 4 | 6;
  class: string;
  expected?: string;
  modelled: string;
  observed?: string;
  crossNode?: boolean;
}

interface RunDoc {
  passed: boolean;
  summary: { cells: number; classes: Record<string, number> };
  scenarios: {
    live?: { nodes?: Record<string, string> };
    steps: {
      name: string;
      families?: number[];
      familyNotes?: { from: string; to: string; probe: string; note: string }[];
      cells: Cell[];
    }[];
  }[];
}

/** `PROBE FROM -> TO` for each flow of `pairs`, on 80/TCP and 80/UDP. */
const flows = (...pairs: [string, string][]): string[] =>
  ['80/TCP', '80/UDP'].flatMap((p) => pairs.map(([f, t]) => `${p} ${f} -> ${t}`)).sort();

/**
 * The flows whose two families are decided differently, step by step, written from the spec: the
 * IPv4 ipBlock admits b and c into a over IPv4 only; the IPv6 one, but node2's, admits b (node1)
 * into a over IPv6 only.
 */
const SPLIT: Record<string, string[]> = {
  'no policy': [],
  'default deny ingress': [],
  'a admits the IPv4 pod range': flows(['x/b', 'x/a'], ['x/c', 'x/a']),
  'back to the default deny': [],
  "a admits the IPv6 pod range but node2's": flows(['x/b', 'x/a']),
};

/**
 * kube-router v2.1.0's known deviations that must show (strict): the IPv6 allow of the last step
 * (its ip6tables restore fails, IPv6 keeps the default deny). The IPv4 allows of the IPv4 ipBlock
 * step may show as intermittent ones (agree or known-deviation, nothing else).
 */
const DEVIATING: Record<string, string[]> = {
  "a admits the IPv6 pod range but node2's": flows(['x/b', 'x/a']).map((f) =>
    f.replace(/^(\S+)/, '$1 IPv6'),
  ),
};
const MAY_DEVIATE: Record<string, string[]> = {
  'a admits the IPv4 pod range': flows(['x/b', 'x/a'], ['x/c', 'x/a']).map((f) =>
    f.replace(/^(\S+)/, '$1 IPv4'),
  ),
};

describe('both IP families on the live cluster (built CLI)', function () {
  this.timeout(300_000);
  let target: LiveTarget | undefined;

  before(async function () {
    target = await liveTarget('dual-stack');
    const nodes = (await target.cluster.listNodes()).filter((n) => n.schedulable);
    const names = nodes.map((n) => n.name).sort();
    if (names[0] !== 'node1' || names[1] !== 'node2')
      throw new Error(
        `the scenario pins pods to node1 and node2; the cluster has ${names.join(', ')} (npm run lab:up -- --family dual --nodes 2)`,
      );
  });

  async function run(file: string, ...flags: string[]): Promise<{ doc: RunDoc; code: number }> {
    const report = join(target!.tmp, `${String(Date.now())}.json`);
    const r = await polygraph(
      'run',
      file,
      ...liveArgs(target!),
      ...flags,
      '--report',
      `json=${report}`,
    );
    log(r.stderr.split('\n').slice(-3).join(' | '));
    return {
      doc: JSON.parse(await readFile(report, 'utf8')) as RunDoc,
      code: r.exitCode ?? -1,
    };
  }

  it("default deny, an IPv4 ipBlock and an IPv6 ipBlock with except, on IPv4 and IPv6, one node and across: each cell agrees or is kube-router's declared deviation; the families that differ are the spec's", async () => {
    const { doc, code } = await run(SCENARIO);
    const steps = doc.scenarios[0]?.steps ?? [];
    log(
      `classes ${JSON.stringify(doc.summary.classes)}; nodes ${JSON.stringify(doc.scenarios[0]?.live?.nodes)}`,
    );
    expect(
      steps.map((s) => s.families),
      'the pods have both families (is the lab dual-stack? npm run lab:up -- --family dual)',
    ).to.deep.equal(steps.map(() => [4, 6]));
    expect(steps.map((s) => s.name)).to.deep.equal(Object.keys(SPLIT));
    const name = (c: Cell) => `${c.probe} ${c.from} -> ${c.to}`;
    for (const step of steps) {
      const deviating = step.cells
        .filter((c) => c.class === 'known-deviation')
        .map(name)
        .sort();
      const may = MAY_DEVIATE[step.name] ?? [];
      expect(
        deviating.filter((c) => !may.includes(c)),
        `${step.name}: known deviations`,
      ).to.deep.equal(DEVIATING[step.name] ?? []);
      for (const c of step.cells.filter((x) => x.class === 'known-deviation'))
        log(`${step.name}: ${name(c)} observed ${String(c.observed)} (known deviation)`);
      expect(
        step.cells
          .filter((c) => c.class !== 'agree' && c.class !== 'known-deviation')
          .map((c) => `${name(c)}: ${c.class}, observed ${String(c.observed)}`),
        step.name,
      ).to.deep.equal([]);
      // 3 pods × 3 pods × 2 protocols, once per family, each probed.
      for (const family of [4, 6]) {
        const cells = step.cells.filter((c) => c.family === family);
        expect(cells, `${step.name}: IPv${String(family)} cells`).to.have.length(18);
        expect(cells.filter((c) => c.observed === undefined).map(name), 'unprobed').to.deep.equal(
          [],
        );
        expect(new Set(cells.map((c) => c.crossNode)), 'same node and across').to.deep.equal(
          new Set([false, true]),
        );
      }
      const split = (step.familyNotes ?? []).map((n) => `${n.probe} ${n.from} -> ${n.to}`).sort();
      for (const n of step.familyNotes ?? [])
        log(`${step.name}: ${n.probe} ${n.from} -> ${n.to}: ${n.note}`);
      expect(split, `${step.name}: flows whose families differ`).to.deep.equal(SPLIT[step.name]);
    }
    expect(code).to.equal(0);
    expect(doc.passed).to.equal(true);
  });

  it('--family 6: every cell is probed on IPv6 only, and agrees or is the declared deviation', async () => {
    const { doc, code } = await run(SCENARIO, '--family', '6');
    const steps = doc.scenarios[0]?.steps ?? [];
    log(`classes ${JSON.stringify(doc.summary.classes)}`);
    for (const step of steps) {
      expect(
        step.cells.filter((c) => c.family !== 6).map((c) => `${c.probe} ${c.from} -> ${c.to}`),
        `${step.name}: cells of another family`,
      ).to.deep.equal([]);
      expect(step.cells, step.name).to.have.length(18);
      expect(
        step.cells
          .filter((c) => c.class === 'known-deviation')
          .map((c) => `${c.probe} ${c.from} -> ${c.to}`)
          .sort(),
        step.name,
      ).to.deep.equal(DEVIATING[step.name] ?? []);
      expect(
        step.cells.filter((c) => c.class !== 'agree' && c.class !== 'known-deviation'),
        step.name,
      ).to.deep.equal([]);
    }
    // The IPv4 ipBlock admits b into a over IPv4 only: over IPv6 the cluster refuses it.
    const ipv4Only = steps.find((s) => s.name === 'a admits the IPv4 pod range');
    const cell = ipv4Only?.cells.find(
      (c) => c.from === 'x/b' && c.to === 'x/a' && c.probe === '80/TCP IPv6',
    );
    expect(cell?.observed).to.be.oneOf(['refused', 'dropped', 'denied']);
    expect(cell?.modelled).to.equal('deny');
    expect(code).to.equal(0);
  });
});
