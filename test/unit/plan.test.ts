import { expect } from 'chai';
import { classify } from '../../src/compare/classify.js';
import { expectedVerdict } from '../../src/compare/expectation.js';
import { parsePattern, type Pattern } from '../../src/domain/pattern.js';
import type { Expectation } from '../../src/dsl/types.js';
import type { World } from '../../src/model/types.js';
import { planEndpoints, planJobs, resolvePort, servedProbes } from '../../src/plan/plan.js';

/* plan/: every job resolved once; compare/: expectations per cell and the comparison classes. */

const world: World = {
  namespaces: [{ name: 'shop', labels: { team: 'a' } }],
  pods: [
    {
      namespace: 'shop',
      name: 'web',
      labels: { tier: 'web' },
      ips: [],
      hostNetwork: false,
      ports: [
        { containerPort: 80, protocol: 'TCP', name: 'http' },
        { containerPort: 53, protocol: 'UDP' },
      ],
    },
    {
      namespace: 'shop',
      name: 'db',
      labels: { tier: 'db' },
      ips: [],
      hostNetwork: false,
      ports: [{ containerPort: 8080, protocol: 'TCP', name: 'http' }],
    },
    { namespace: 'other', name: 'idle', labels: {}, ips: [], hostNetwork: false, ports: [] },
  ],
  externals: [
    { name: 'backup', ip: '10.0.9.9', ports: [{ containerPort: 5432, protocol: 'TCP' }] },
    { name: 'node-1', ip: '10.240.0.1', node: true },
  ],
  policies: [],
};

const pattern = (text: string): Pattern => {
  const p = parsePattern(text);
  if (typeof p === 'string') throw new Error(p);
  return p;
};

describe('plan', () => {
  const endpoints = planEndpoints(world);

  it('lists pods in world order, then externals and nodes as ext:NAME, with labels', () => {
    expect(endpoints.map((e) => `${e.kind} ${e.key}`)).to.deep.equal([
      'pod shop/web',
      'pod shop/db',
      'pod other/idle',
      'external ext:backup',
      'node ext:node-1',
    ]);
    expect(endpoints[0]?.namespaceLabels).to.deep.equal({
      team: 'a',
      'kubernetes.io/metadata.name': 'shop',
    });
    expect(endpoints[2]?.namespaceLabels).to.deep.equal({ 'kubernetes.io/metadata.name': 'other' });
  });

  it('probes every served (port, protocol) by protocol then port', () => {
    expect(servedProbes(endpoints)).to.deep.equal([
      { port: 80, protocol: 'TCP' },
      { port: 5432, protocol: 'TCP' },
      { port: 8080, protocol: 'TCP' },
      { port: 53, protocol: 'UDP' },
    ]);
  });

  it('resolves names per destination and numbers only where declared, with the reason otherwise', () => {
    const [web, db, idle, backup, node] = endpoints;
    expect(resolvePort({ port: 'http', protocol: 'TCP' }, web!)).to.equal(80);
    expect(resolvePort({ port: 'http', protocol: 'TCP' }, db!)).to.equal(8080);
    expect(resolvePort({ port: 'http', protocol: 'UDP' }, web!)).to.equal(
      'shop/web serves no UDP port named "http" (it serves http=80/TCP, 53/UDP)',
    );
    expect(resolvePort({ port: 80, protocol: 'TCP' }, db!)).to.equal(
      'shop/db serves no 80/TCP port (it serves http=8080/TCP)',
    );
    expect(resolvePort({ port: 53, protocol: 'TCP' }, web!)).to.be.a('string');
    expect(resolvePort({ port: 53, protocol: 'UDP' }, web!)).to.equal(53);
    expect(resolvePort({ port: 80, protocol: 'TCP' }, idle!)).to.equal(
      'other/idle serves no 80/TCP port (it declares no ports)',
    );
    expect(resolvePort({ port: 5432, protocol: 'TCP' }, backup!)).to.equal(5432);
    expect(resolvePort({ port: 'pg', protocol: 'TCP' }, backup!)).to.equal(
      'ext:backup declares no TCP port named "pg" (it serves 5432/TCP)',
    );
    expect(resolvePort({ port: 22, protocol: 'TCP' }, node!)).to.equal(
      'ext:node-1 declares no 22/TCP port (it declares no ports)',
    );
  });

  it('plans every pair but external to external, probe-major, each job runnable or not', () => {
    const plan = planJobs(world, [{ port: 'http', protocol: 'TCP' }]);
    // 5 endpoints: 25 pairs minus the 4 between the two non-pod endpoints.
    expect(plan.jobs).to.have.length(21);
    expect(
      plan.jobs.some((j) => j.job.from.startsWith('ext:') && j.job.to.startsWith('ext:')),
    ).to.equal(false);
    const runnable = plan.jobs.filter((j) => j.kind === 'runnable');
    // Only web (80) and db (8080) serve "http": 5 sources each.
    expect(runnable.map((j) => `${j.job.from}>${j.job.to}:${String(j.port)}`)).to.deep.equal([
      'shop/web>shop/web:80',
      'shop/web>shop/db:8080',
      'shop/db>shop/web:80',
      'shop/db>shop/db:8080',
      'other/idle>shop/web:80',
      'other/idle>shop/db:8080',
      'ext:backup>shop/web:80',
      'ext:backup>shop/db:8080',
      'ext:node-1>shop/web:80',
      'ext:node-1>shop/db:8080',
    ]);
  });

  it('defaults the probes to what the world serves', () => {
    expect(planJobs(world).probes).to.have.length(4);
  });
});

describe('compare: expectations per cell', () => {
  const endpoints = planEndpoints(world);
  const [web, db, idle, backup] = endpoints;
  const http = { port: 80, protocol: 'TCP' as const };
  const at = { file: 'x.yaml', line: 1, col: 1 };
  const rule = (
    verdict: 'allow' | 'deny' | 'unresolvable',
    parts: { from?: string; to?: string; probe?: typeof http },
  ) => ({
    verdict,
    location: at,
    cells: {
      text: 'rule',
      ...(parts.from ? { from: pattern(parts.from) } : {}),
      ...(parts.to ? { to: pattern(parts.to) } : {}),
      ...(parts.probe ? { probe: parts.probe } : {}),
    },
  });

  it('applies the default, then the rules in order (later wins), then the tables', () => {
    const expectation: Expectation = {
      default: 'deny',
      rules: [
        rule('allow', { to: 'shop/*' }),
        rule('deny', { from: 'ext:backup', to: 'shop/[tier=web]' }),
        rule('unresolvable', { to: 'other/idle', probe: http }),
      ],
      tables: [
        {
          probe: http,
          location: at,
          cells: new Map([['other/idle', new Map([['shop/db', 'deny' as const]])]]),
        },
      ],
    };
    const v = (from: typeof web, to: typeof web, probe = http) =>
      expectedVerdict(expectation, from!, to!, probe);
    expect(v(idle, web)).to.equal('allow');
    expect(v(backup, web)).to.equal('deny');
    expect(v(backup, db)).to.equal('allow');
    expect(v(web, idle)).to.equal('unresolvable');
    expect(v(web, idle, { port: 81, protocol: 'TCP' })).to.equal('deny');
    expect(v(idle, db)).to.equal('deny');
    expect(v(idle, db, { port: 81, protocol: 'TCP' })).to.equal('allow');
  });

  it('leaves a cell unchecked when nothing covers it, and without an expectation', () => {
    const expectation: Expectation = { rules: [rule('allow', { from: 'shop/web' })], tables: [] };
    expect(expectedVerdict(expectation, web!, db!, http)).to.equal('allow');
    expect(expectedVerdict(expectation, db!, web!, http)).to.equal(undefined);
    expect(expectedVerdict(undefined, web!, db!, http)).to.equal(undefined);
  });

  it('matches namespace-label patterns against the namespace labels', () => {
    const expectation: Expectation = { rules: [rule('allow', { from: '[team=a]/*' })], tables: [] };
    expect(expectedVerdict(expectation, web!, db!, http)).to.equal('allow');
    expect(expectedVerdict(expectation, idle!, db!, http)).to.equal(undefined);
  });
});

describe('compare: the class of a cell', () => {
  it('offline: agree, contradiction, unchecked, unresolvable', () => {
    expect(classify({ expected: 'allow', modelled: 'allow' })).to.equal('agree');
    expect(classify({ expected: 'deny', modelled: 'allow' })).to.equal(
      'expectation-contradicts-spec',
    );
    expect(classify({ modelled: 'deny' })).to.equal('unchecked');
    expect(classify({ expected: 'allow', modelled: 'unresolvable' })).to.equal('unresolvable');
    expect(classify({ modelled: 'unresolvable' })).to.equal('unresolvable');
    expect(classify({ expected: 'unresolvable', modelled: 'unresolvable' })).to.equal('agree');
    expect(classify({ expected: 'unresolvable', modelled: 'deny' })).to.equal(
      'expectation-contradicts-spec',
    );
  });

  it('live: who disagrees with whom', () => {
    expect(classify({ expected: 'allow', modelled: 'allow', observed: 'allow' })).to.equal('agree');
    expect(classify({ expected: 'allow', modelled: 'allow', observed: 'deny' })).to.equal(
      'cluster-deviates',
    );
    expect(classify({ modelled: 'allow', observed: 'deny' })).to.equal('cluster-deviates');
    expect(classify({ modelled: 'allow', observed: 'allow' })).to.equal('unchecked');
    expect(classify({ expected: 'deny', modelled: 'allow', observed: 'allow' })).to.equal(
      'expectation-contradicts-spec',
    );
    expect(classify({ expected: 'deny', modelled: 'allow', observed: 'deny' })).to.equal(
      'model-disagrees',
    );
    expect(
      classify({ expected: 'deny', modelled: 'deny', observed: 'allow', knownDeviation: 'allow' }),
    ).to.equal('known-deviation');
    expect(
      classify({ expected: 'deny', modelled: 'deny', observed: 'allow', knownDeviation: 'deny' }),
    ).to.equal('cluster-deviates');
    expect(classify({ expected: 'allow', modelled: 'allow', observed: 'probe-error' })).to.equal(
      'probe-error',
    );
    expect(classify({ expected: 'allow', modelled: 'allow', observed: 'flaky' })).to.equal('flaky');
    expect(classify({ expected: 'allow', modelled: 'unresolvable', observed: 'allow' })).to.equal(
      'unresolvable',
    );
  });
});
