import { expect } from 'chai';
import { NetworkModel } from '../../src/model/engine.js';
import { explainFlow } from '../../src/model/explain.js';
import { ModelRunner } from '../../src/probe/model-runner.js';
import type { Job } from '../../src/domain/job.js';
import { listCaseFiles, loadCase, worldOf } from '../support/cases.js';

/*
 * Three ways to the same verdict must agree on every cell of every case and option set: the
 * bit-set truth table (fast path), the per-cell verdict with provenance, and the explanation's
 * rule-by-rule walkthrough. The hand-written expectations are checked in cases.test.ts; this
 * guards the paths against each other, including under every model option.
 */
describe('model paths agree (table, verdict, explanation)', () => {
  const optionSets = [
    {},
    { selfTraffic: 'policy' as const },
    { ipBlockMatchesPods: false },
    { hostNetwork: 'pod' as const },
    { hostNetwork: 'pod' as const, ipBlockMatchesPods: false, selfTraffic: 'policy' as const },
  ];
  for (const file of listCaseFiles()) {
    const c = loadCase(file);
    it(c.name, () => {
      const world = worldOf(c);
      for (const options of optionSets) {
        const model = new NetworkModel(world, { ...c.options, ...options });
        for (const { probe } of c.expect) {
          const table = model.table(probe);
          for (const from of model.endpoints) {
            for (const to of model.endpoints) {
              if (!table.isCell(from.index, to.index)) continue;
              const fast = table.allowed(from.index, to.index) ? 'allow' : 'deny';
              const v = model.verdict(from.key, to.key, probe);
              const where = `${JSON.stringify(options)} ${from.key} -> ${to.key} ${probe.port}/${probe.protocol}`;
              expect('verdict' in v ? v.verdict : 'unresolved', where).to.equal(fast);
              const x = explainFlow(model, from.key, to.key, probe);
              if (x.sides.length === 2 && 'verdict' in v) {
                for (const side of x.sides) {
                  const admitted = side.policies.flatMap((p) =>
                    p.rules.filter((r) => r.admits).map((r) => `${p.policy} ${r.path}`),
                  );
                  const decision = side.decision;
                  const expected =
                    decision.kind === 'allowed'
                      ? decision.admittedBy.map((r) => `${r.policy} ${r.path}`)
                      : [];
                  expect(admitted, `${where} ${side.direction}`).to.deep.equal(expected);
                }
              }
            }
          }
        }
      }
    });
  }

  it('the model runner returns the verdicts as outcomes, in job order', async () => {
    const c = loadCase(listCaseFiles().find((f) => f.includes('three-tier'))!);
    const model = new NetworkModel(worldOf(c), c.options);
    const keys = model.endpoints.map((e) => e.key);
    const jobs: Job[] = keys.flatMap((from) =>
      keys.map((to) => ({ from, to, probe: { port: 80, protocol: 'TCP' as const } })),
    );
    jobs.push({ from: keys[0]!, to: 'nowhere/pod', probe: { port: 80, protocol: 'TCP' } });
    const results = await new ModelRunner(model).run(jobs.map((job) => ({ job, port: 80 })));
    expect(results.map((r) => r.job)).to.deep.equal(jobs);
    results.slice(0, -1).forEach((r) => {
      const v = model.verdict(r.job.from, r.job.to, r.job.probe);
      expect(r.outcome).to.equal('verdict' in v && v.verdict === 'allow' ? 'allowed' : 'denied');
      expect(r.detail).to.equal(v.reason);
    });
    expect(results.at(-1)).to.deep.include({
      outcome: 'skipped',
      detail: 'unknown endpoint nowhere/pod',
    });
  });
});
