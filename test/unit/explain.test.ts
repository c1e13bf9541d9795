import { loadManifests } from '../../src/manifest/load.js';
import { NetworkModel } from '../../src/model/engine.js';
import { explainFlow } from '../../src/model/explain.js';
import { renderExplanation } from '../../src/report/explain-text.js';
import { palette } from '../../src/report/style.js';
import { matchesGolden } from '../support/golden.js';

/*
 * The explanation of a flow, built in-process from the same example and compared with the same
 * golden files (each checked by hand) as the built CLI's test: this is what lets a mutation
 * test, which only sees in-process code, hold the walkthrough and the verdict's reason to them.
 */
const EXAMPLE = new URL('../../examples/three-tier', import.meta.url).pathname;

describe('explain (in-process, against the golden files)', () => {
  for (const [name, from, to, port] of [
    ['three-tier.explain-api-db-mysql.txt', 'shop/api', 'shop/db', 'mysql'],
    ['three-tier.explain-web-db-3306.txt', 'shop/web', 'shop/db', 3306],
  ] as const) {
    it(`${from} -> ${to} on ${String(port)}`, async () => {
      const { world } = await loadManifests([EXAMPLE]);
      const model = new NetworkModel(world);
      const x = explainFlow(model, from, to, { port, protocol: 'TCP' });
      await matchesGolden(name, renderExplanation(x, palette(false)));
    });
  }
});
