import { expect } from 'chai';
import { loadManifestText } from '../../src/manifest/load.js';
import { NetworkModel } from '../../src/model/engine.js';
import { renderTruthTable } from '../../src/report/model-table.js';
import { palette } from '../../src/report/style.js';
import { ProbeView } from '../../src/report/view.js';

/* Tables wider than the terminal are split into column groups, each with every row. */
describe('truth tables in column groups', () => {
  const pod = (name: string) =>
    `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}, namespace: ns}\nspec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}`;
  const { world } = loadManifestText(
    [
      pod('alpha'),
      pod('bravo'),
      pod('charlie'),
      'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: ns}\nspec: {podSelector: {matchLabels: {}}, ingress: []}',
    ].join('\n---\n'),
    't.yaml',
  );
  const model = new NetworkModel(world);
  const view = new ProbeView(model.table({ port: 80, protocol: 'TCP' }), {
    from: model.endpoints,
    to: model.endpoints,
    servedOnly: true,
  });

  it('prints one table when every column fits', () => {
    expect(renderTruthTable(view, palette(false), 80).split('\n')).to.deep.equal([
      '80/TCP',
      'from\\to     ns/alpha  ns/bravo  ns/charlie',
      'ns/alpha       .         X          X',
      'ns/bravo       X         .          X',
      'ns/charlie     X         X          .',
      '80/TCP: 3 allowed, 6 denied',
    ]);
  });

  it('splits the columns into groups that fit the width', () => {
    // Row labels take 10 + 2; each column its key + 2: 30 columns hold two of them.
    expect(renderTruthTable(view, palette(false), 32).split('\n')).to.deep.equal([
      '80/TCP',
      'columns 1-2 of 3',
      'from\\to     ns/alpha  ns/bravo',
      'ns/alpha       .         X',
      'ns/bravo       X         .',
      'ns/charlie     X         X',
      '',
      'columns 3-3 of 3',
      'from\\to     ns/charlie',
      'ns/alpha        X',
      'ns/bravo        X',
      'ns/charlie      .',
      '80/TCP: 3 allowed, 6 denied',
    ]);
  });
});
