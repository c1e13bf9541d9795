import { expect } from 'chai';
import { relative } from 'node:path';
import { formatProbe } from '../../src/domain/probe.js';
import { NetworkModel } from '../../src/model/engine.js';
import { listCaseFiles, loadCase, worldOf } from '../support/cases.js';

/*
 * Every hand-written case under test/cases: the model must reproduce each expected cell.
 * A failure lists every differing cell with the model's own explanation of it.
 */
describe('model cases (test/cases)', () => {
  const files = listCaseFiles();
  const names = new Set<string>();

  it('has at least 80 cases with unique names', () => {
    for (const file of files) {
      const { name } = loadCase(file);
      expect(names.has(name), `duplicate case name "${name}"`).to.equal(false);
      names.add(name);
    }
    expect(files.length).to.be.at.least(80);
  });

  for (const file of files) {
    const c = loadCase(file);
    it(`${c.name} [${relative(process.cwd(), file)}]`, () => {
      const model = new NetworkModel(worldOf(c), c.options);
      const keys = (c.pods ?? model.endpoints.map((e) => e.key).sort()).map((key) => {
        const endpoint = model.endpoint(key);
        expect(endpoint, `case lists unknown endpoint ${key}`).to.not.equal(undefined);
        return endpoint?.key ?? key;
      });
      const mismatches: string[] = [];
      let checked = 0;
      for (const expectation of c.expect) {
        for (const from of keys) {
          for (const to of keys) {
            if (from.startsWith('ext:') && to.startsWith('ext:')) continue;
            const want = expectation.expected(from, to);
            if (want === undefined) continue;
            const verdict = model.verdict(from, to, expectation.probe);
            checked++;
            const got = 'verdict' in verdict ? verdict.verdict : 'unresolved';
            if (got !== want)
              mismatches.push(
                `  ${formatProbe(expectation.probe)} ${from} -> ${to}: expected ${want}, model says ${got}: ${verdict.reason}`,
              );
          }
        }
      }
      expect(checked, 'the case checks no cell').to.be.greaterThan(0);
      expect(
        mismatches,
        `${mismatches.length} cell(s) differ:\n${mismatches.join('\n')}`,
      ).to.deep.equal([]);
    });
  }
});
