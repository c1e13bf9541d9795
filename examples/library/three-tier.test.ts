/**
 * A test a user of the library writes: run a scenario on a live cluster and assert that the
 * cluster, the model and the expectation agree; then a list of scenarios at once, those of one
 * topology on one deployment. Outside this repository the imports read
 *
 *     import { run, runAll } from 'netpol-polygraph';
 *     import { polygraphChai } from 'netpol-polygraph/chai';
 *
 * Cluster: POLYGRAPH_KUBECONFIG, else the repository's lab (.lab/kubeconfig, `npm run lab:up`),
 * whose probe image is a local mirror of agnhost and whose network plugin is kube-router.
 * Run with mocha (tsx), e.g. as part of `npm run test:e2e`.
 */
import * as chai from 'chai';
import { expect } from 'chai';
import { join } from 'node:path';
import { polygraphChai } from '../../src/chai.js';
import { run, runAll, type RunScenarioOptions } from '../../src/index.js';

chai.use(polygraphChai);

const ROOT = join(import.meta.dirname, '../..');

/** The cluster to run on, and for the lab its probe image and network plugin. */
async function target(): Promise<RunScenarioOptions> {
  const kubeconfig = process.env.POLYGRAPH_KUBECONFIG;
  if (kubeconfig !== undefined)
    return {
      kubeconfig,
      ...(process.env.POLYGRAPH_IMAGE === undefined ? {} : { image: process.env.POLYGRAPH_IMAGE }),
      ...(process.env.POLYGRAPH_PLUGIN === undefined
        ? {}
        : { plugin: process.env.POLYGRAPH_PLUGIN }),
    };
  // The lab's helpers are this repository's test support, not part of the package.
  const lab = await import('../../test/lab/lab.js');
  return {
    kubeconfig: join(ROOT, '.lab/kubeconfig'),
    image: process.env.POLYGRAPH_IMAGE ?? (await lab.probeImageRef()),
    plugin: 'kube-router',
  };
}

describe('three-tier NetworkPolicies on the cluster', function () {
  this.timeout(300_000);

  it('the cluster, the model and the expectation agree on every cell', async () => {
    const result = await run(join(ROOT, 'scenarios/three-tier.yaml'), await target());
    expect(result.live, 'a live run').to.not.equal(undefined);
    expect(result).to.haveNoMismatches();
  });

  it('two scenarios of one topology: one deployment (the same run id), both agree', async () => {
    const [open, denied] = await runAll(
      [join(ROOT, 'scenarios/allow-all.yaml'), join(ROOT, 'scenarios/default-deny-ingress.yaml')],
      { ...(await target()), skipCanary: true },
    );
    expect(open?.name).to.equal('allow-all');
    expect(denied?.name).to.equal('default-deny-ingress');
    expect(denied?.live?.runId).to.be.a('string').and.equal(open?.live?.runId);
    expect(open).to.haveNoMismatches();
    expect(denied).to.haveNoMismatches();
  });
});
