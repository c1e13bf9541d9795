import { expect } from 'chai';
import { relative } from 'node:path';
import { formatProbe } from '../../src/domain/probe.js';
import { loadScenario } from '../../src/dsl/load.js';
import { checkScenario } from '../../src/engine/check.js';
import { failing } from '../../src/engine/results.js';
import { CASES_DIR, ROOT, SCENARIOS_DIR, scenarioFiles } from '../support/scenarios.js';

/*
 * Every hand-written case under test/cases and every example under scenarios/ goes through
 * `check`'s own path (load → plan → model runner → compare): each must agree on every cell it
 * checks, and check at least one. A failure lists every differing cell with the model's reason.
 */
for (const [title, dir, minimum] of [
  ['model cases (test/cases)', CASES_DIR, 180],
  ['example scenarios (scenarios/)', SCENARIOS_DIR, 12],
] as const) {
  describe(title, () => {
    const files = scenarioFiles(dir);
    const names = new Map<string, string>();

    it(`has at least ${String(minimum)} scenarios with unique names`, async () => {
      for (const file of files) {
        const { name } = await loadScenario(file);
        expect(names.get(name), `duplicate scenario name "${name}"`).to.equal(undefined);
        names.set(name, file);
      }
      expect(files.length).to.be.at.least(minimum);
    });

    for (const file of files) {
      it(relative(ROOT, file), async () => {
        const result = await checkScenario(await loadScenario(file));
        const bad = result.steps.flatMap((s) =>
          s.cells
            .filter(
              (c) => c.class !== 'agree' && c.class !== 'unchecked' && c.class !== 'unresolvable',
            )
            .map(
              (c) =>
                `  step ${s.name}: ${formatProbe(c.probe)} ${c.from} -> ${c.to}: expected ${c.expected ?? '-'}, model ${c.modelled} (${c.class}): ${c.explanation}`,
            ),
        );
        expect(bad, `${String(bad.length)} cell(s) differ:\n${bad.join('\n')}`).to.deep.equal([]);
        expect(failing(result.counts)).to.equal(0);
        for (const step of result.steps)
          expect(
            step.counts.byClass.agree,
            `step "${step.name}" compares no cell`,
          ).to.be.greaterThan(0);
      });
    }
  });
}
