import { expect } from 'chai';

/* The package's entry point, as users import it (the built dist/index.js). */
describe('library API (netpol-polygraph)', () => {
  it('loads manifests and answers a verdict with its reason', async () => {
    const lib = await import('netpol-polygraph');
    const { world } = lib.loadManifestText(
      [
        'apiVersion: v1',
        'kind: Pod',
        'metadata: {name: a, namespace: app, labels: {app: a}}',
        '---',
        'apiVersion: networking.k8s.io/v1',
        'kind: NetworkPolicy',
        'metadata: {name: deny, namespace: app}',
        'spec: {podSelector: {}}',
        '---',
        'apiVersion: v1',
        'kind: Pod',
        'metadata: {name: b, namespace: app}',
      ].join('\n'),
      'inline.yaml',
    );
    const model = new lib.NetworkModel(world);
    const v = model.verdict('app/b', 'app/a', { port: 80, protocol: 'TCP' });
    expect(v).to.deep.include({ verdict: 'deny' });
    expect(v.reason).to.equal(
      'denied: app/deny selects app/a for Ingress and no rule admits app/b on 80/TCP',
    );
  });
});

describe('library API (netpol-polygraph, netpol-polygraph/chai)', () => {
  it('exports check, run and the chai plugin from the built package', async () => {
    const lib = await import('netpol-polygraph');
    expect(lib.check).to.be.a('function');
    expect(lib.run).to.be.a('function');
    expect(lib.FAILING_CLASSES).to.include('cluster-deviates');
    const result = await lib.check('scenarios/three-tier.yaml');
    expect(lib.failing(result.counts)).to.equal(0);
    const plugin = await import('netpol-polygraph/chai');
    expect(plugin.polygraphChai).to.be.a('function');
    expect(plugin.default).to.equal(plugin.polygraphChai);
  });
});
