import { expect } from 'chai';
import { NetworkModel } from '../../src/model/engine.js';
import { explainFlow } from '../../src/model/explain.js';
import { ModelRunner } from '../../src/probe/model-runner.js';
import type { Job } from '../../src/domain/job.js';
import { relative } from 'node:path';
import { loadScenario } from '../../src/dsl/load.js';
import { planJobs } from '../../src/plan/plan.js';
import { CASES_DIR, ROOT, SCENARIOS_DIR, scenarioFiles } from '../support/scenarios.js';

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
  for (const file of [...scenarioFiles(CASES_DIR), ...scenarioFiles(SCENARIOS_DIR)]) {
    it(relative(ROOT, file), async () => {
      const scenario = await loadScenario(file);
      let cells = 0;
      for (const step of scenario.steps) {
        const world = step.world;
        const probes = planJobs(world, scenario.probes).probes;
        for (const options of optionSets) {
          const model = new NetworkModel(world, { ...scenario.options, ...options });
          for (const probe of probes) {
            const table = model.table(probe);
            for (const from of model.endpoints) {
              for (const to of model.endpoints) {
                if (!table.isCell(from.index, to.index)) continue;
                cells++;
                const fast = table.allowed(from.index, to.index) ? 'allow' : 'deny';
                const v = model.verdict(from.key, to.key, probe);
                const where = `${step.name} ${JSON.stringify(options)} ${from.key} -> ${to.key} ${String(probe.port)}/${probe.protocol}`;
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
                        ? decision.admittedBy
                            .filter((r) => r.tier === undefined)
                            .map((r) => `${r.policy} ${r.path}`)
                        : [];
                    expect(admitted, `${where} ${side.direction}`).to.deep.equal(expected);
                    // The cluster rule that decided, as the walk finds it through the tiers.
                    const clusterRef =
                      decision.kind === 'denied'
                        ? decision.deniedBy
                        : decision.kind === 'allowed'
                          ? decision.admittedBy.find((r) => r.tier !== undefined)
                          : undefined;
                    expect(side.decidedBy, `${where} ${side.direction} cluster rule`).to.equal(
                      clusterRef ? `${clusterRef.policy} ${clusterRef.path}` : undefined,
                    );
                  }
                }
              }
            }
          }
        }
      }
      expect(cells, 'cells compared across the three paths').to.be.greaterThan(0);
    });
  }

  it('the model runner returns the verdicts as outcomes, in job order', async () => {
    const scenario = await loadScenario(`${SCENARIOS_DIR}/three-tier.yaml`);
    const model = new NetworkModel(scenario.steps[0]!.world, scenario.options);
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
