import { expect } from 'chai';
import { BENCH_PROBES, syntheticWorld } from '../../bench/synthetic.js';
import { NetworkModel } from '../../src/model/engine.js';

/*
 * The bit-set tables work on 32-endpoint words and blocks: on a seeded synthetic cluster larger
 * than one block, every cell of the fast table must equal the per-cell verdict.
 */
describe('truth tables beyond one 32-endpoint block', () => {
  it('agree with the per-cell verdicts on 150 pods, 60 policies, 4 probes', () => {
    const world = syntheticWorld({ seed: 7, pods: 150, namespaces: 6, policies: 60 });
    for (const options of [{}, { selfTraffic: 'policy' as const }]) {
      const model = new NetworkModel(world, options);
      let checked = 0;
      for (const probe of BENCH_PROBES) {
        const table = model.table(probe);
        let cells = 0;
        let allowed = 0;
        for (const from of model.endpoints)
          for (const to of model.endpoints)
            if (table.isCell(from.index, to.index)) {
              cells++;
              if (table.allowed(from.index, to.index)) allowed++;
            }
        expect(table.count()).to.deep.equal({ cells, allowed });
        for (const from of model.endpoints)
          for (const to of model.endpoints) {
            if (!table.isCell(from.index, to.index)) continue;
            const v = model.verdict(from.key, to.key, probe);
            const fast = table.allowed(from.index, to.index) ? 'allow' : 'deny';
            expect('verdict' in v ? v.verdict : 'unresolved', `${from.key} -> ${to.key}`).to.equal(
              fast,
            );
            checked++;
          }
      }
      expect(checked).to.be.greaterThan(50_000);
    }
  });
});
