import { expect } from 'chai';
import { familyNotes } from '../../src/compare/family.js';
import { UsageError } from '../../src/domain/errors.js';
import { loadScenario, parseScenario } from '../../src/dsl/load.js';
import { checkScenario } from '../../src/engine/check.js';
import { initTables } from '../../src/engine/init.js';
import type { CellResult, StepResult } from '../../src/engine/results.js';
import { DEFAULT_MODEL_OPTIONS, type World } from '../../src/model/types.js';
import { planJobs, selectFamilies } from '../../src/plan/plan.js';
import { resultDocument } from '../../src/report/check-json.js';
import { parseResultDocument } from '../../src/report/document.js';
import { renderHtml } from '../../src/report/html.js';
import { renderJunit } from '../../src/report/junit.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { palette } from '../../src/report/style.js';
import { renderText } from '../../src/report/text.js';

/*
 * Both IP families in plan/ and `check`: a job per family both ends have, cells named by their
 * family, per-family expectations (`over IPv6`), and the flows whose families disagree. Expected
 * cells are written by hand from scenarios/dual-stack-ipblock.yaml's addresses and policies.
 */

const world: World = {
  namespaces: [{ name: 'shop', labels: {} }],
  pods: [
    {
      namespace: 'shop',
      name: 'web',
      labels: {},
      ips: ['10.0.0.1', 'fd00::1'],
      hostNetwork: false,
      ports: [{ containerPort: 80, protocol: 'TCP' }],
    },
    {
      namespace: 'shop',
      name: 'old',
      labels: {},
      ips: ['10.0.0.2'],
      hostNetwork: false,
      ports: [{ containerPort: 80, protocol: 'TCP' }],
    },
  ],
  externals: [],
  policies: [],
};

describe('plan per IP family', () => {
  it('plans a job per family both ends have, family after probe, and none for a missing family', () => {
    const plan = planJobs(world, undefined, [4, 6]);
    expect(plan.families).to.deep.equal([4, 6]);
    expect(plan.jobs.map((j) => `${j.job.from}>${j.job.to} ${String(j.job.family)}`)).to.deep.equal(
      [
        'shop/web>shop/web 4',
        'shop/web>shop/old 4',
        'shop/old>shop/web 4',
        'shop/old>shop/old 4',
        'shop/web>shop/web 6',
      ],
    );
  });

  it('plans as before without families: jobs carry no family', () => {
    const plan = planJobs(world);
    expect(plan).to.not.have.property('families');
    expect(plan.jobs).to.have.length(4);
    expect(plan.jobs.every((j) => !('family' in j.job))).to.equal(true);
  });

  it('selects every family the pods have by default, one family as a single-family run', () => {
    expect(selectFamilies([4, 6])).to.deep.equal({ families: [4, 6] });
    expect(selectFamilies([4, 6], [6])).to.deep.equal({ families: [6] });
    expect(selectFamilies([4])).to.deep.equal({});
    expect(selectFamilies([4], [4])).to.deep.equal({});
    expect(selectFamilies([])).to.deep.equal({});
    expect(selectFamilies([4], [6])).to.deep.equal({
      problem: 'no pod declares an IPv6 address in ips: (they declare IPv4); use --family 4',
    });
    expect(selectFamilies([], [4, 6])).to.deep.equal({
      problem: 'no pod declares an IPv4 or IPv6 address in ips: (they declare none)',
    });
  });
});

describe('check per IP family', () => {
  const cell = (step: StepResult, probe: number, family: 4 | 6, from: string, to: string) =>
    step.cells.find(
      (c) =>
        c.probe.port === probe &&
        c.family === family &&
        c.from === `shop/${from}` &&
        c.to === `shop/${to}`,
    );
  const brief = (c: CellResult | undefined) =>
    c && { expected: c.expected, modelled: c.modelled, class: c.class };

  it('decides scenarios/dual-stack-ipblock.yaml on both families, as written by hand', async () => {
    const result = await checkScenario(await loadScenario('scenarios/dual-stack-ipblock.yaml'));
    const [step] = result.steps;
    if (!step) throw new Error('no step');
    expect(step.families).to.deep.equal([4, 6]);
    // 4 pods on IPv4, 3 on IPv6 (batch has no IPv6 address), 2 probes: 2 × (16 + 9).
    expect(step.counts.cells).to.equal(50);
    expect(step.counts.byClass.agree).to.equal(25);
    expect(step.counts.byClass.unresolvable).to.equal(25);
    expect(brief(cell(step, 5000, 4, 'web', 'api'))).to.deep.equal({
      expected: 'allow',
      modelled: 'allow',
      class: 'agree',
    });
    expect(brief(cell(step, 5000, 6, 'web', 'api'))).to.deep.equal({
      expected: 'deny',
      modelled: 'deny',
      class: 'agree',
    });
    expect(brief(cell(step, 5000, 4, 'batch', 'api'))).to.deep.equal({
      expected: 'deny',
      modelled: 'deny',
      class: 'agree',
    });
    expect(cell(step, 5000, 6, 'batch', 'api')).to.equal(undefined);
    expect(brief(cell(step, 80, 4, 'web', 'admin'))).to.deep.equal({
      expected: 'deny',
      modelled: 'deny',
      class: 'agree',
    });
    expect(brief(cell(step, 80, 6, 'web', 'admin'))).to.deep.equal({
      expected: 'allow',
      modelled: 'allow',
      class: 'agree',
    });
    expect(cell(step, 5000, 6, 'web', 'api')?.explanation).to.equal(
      'denied: shop/api-from-web-range selects shop/api for Ingress and no rule admits shop/web on 5000/TCP over IPv6',
    );
    expect(
      step.familyNotes?.map((n) => `${n.from} ${n.to} ${String(n.probe.port)}: ${n.note}`),
    ).to.deep.equal([
      'shop/web shop/admin 80: families disagree: IPv4 deny, IPv6 allow',
      'shop/web shop/api 5000: families disagree: IPv4 allow, IPv6 deny',
    ]);
  });

  it('a scenario for a live dual-stack cluster may name a family without declaring addresses', async () => {
    // No pod declares ips: offline the family of a flow is unknown (one cell per flow, which
    // the default covers); a live run learns both families and the IPv6 rule applies there.
    const scenario = await parseScenario(
      `apiVersion: polygraph.dev/v1alpha1
kind: Scenario
metadata: { name: t }
topology:
  namespaces:
    shop:
      pods:
        web: { ports: [80] }
        api: { ports: [80] }
expect:
  default: allow
  rules: [from shop/web to shop/api over IPv6: deny]
`,
      'dir/t.yaml',
    );
    const [step] = (await checkScenario(scenario)).steps;
    expect(step?.cells.map((c) => `${c.from}>${c.to} ${c.expected ?? '-'}`)).to.deep.equal([
      'shop/web>shop/web allow',
      'shop/web>shop/api allow',
      'shop/api>shop/web allow',
      'shop/api>shop/api allow',
    ]);
  });

  it('an expectation without a family applies to both; a wrong one fails each family', async () => {
    const scenario = await parseScenario(
      `apiVersion: polygraph.dev/v1alpha1
kind: Scenario
metadata: { name: t }
topology:
  namespaces:
    shop:
      pods:
        web: { labels: { app: web }, ports: [80], ips: [10.0.0.1, 'fd00::1'] }
        api: { labels: { app: api }, ports: [80], ips: [10.0.0.2, 'fd00::2'] }
policies:
  - apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: { name: api-in, namespace: shop }
    spec:
      podSelector: { matchLabels: { app: api } }
      ingress: [{ from: [{ ipBlock: { cidr: 10.0.0.0/24 } }] }]
expect:
  default: allow
`,
      'dir/t.yaml',
    );
    const [step] = (await checkScenario(scenario)).steps;
    if (!step) throw new Error('no step');
    expect(brief(cell(step, 80, 4, 'web', 'api'))).to.deep.equal({
      expected: 'allow',
      modelled: 'allow',
      class: 'agree',
    });
    expect(brief(cell(step, 80, 6, 'web', 'api'))).to.deep.equal({
      expected: 'allow',
      modelled: 'deny',
      class: 'expectation-contradicts-spec',
    });
    const only6 = (await checkScenario(scenario, { families: [6] })).steps[0];
    expect(only6?.families).to.deep.equal([6]);
    expect(only6?.cells.map((c) => c.family)).to.deep.equal([6, 6, 6, 6]);
  });

  it('--family 6 on pods without IPv6 addresses is a usage error naming the file', async () => {
    const scenario = await loadScenario('scenarios/ipblock-backup-subnet.yaml');
    let error: unknown;
    try {
      await checkScenario(scenario, { families: [6] });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(UsageError);
    expect((error as Error).message).to.equal(
      '--family 6: scenarios/ipblock-backup-subnet.yaml: no pod declares an IPv6 address in ips: (they declare IPv4); use --family 4',
    );
    // The family the pods have: a single-family run, cells without a family, as without --family.
    const four = await checkScenario(scenario, { families: [4] });
    const plain = await checkScenario(scenario);
    expect(four).to.deep.equal(plain);
    expect(plain.steps[0]?.families).to.equal(undefined);
    expect(plain.steps[0]?.cells.some((c) => 'family' in c)).to.equal(false);
  });

  it('every report names the family of a cell and the flows whose families disagree', async () => {
    const result = await checkScenario(await loadScenario('scenarios/dual-stack-ipblock.yaml'));
    const doc = resultDocument([result], { listedCells: 'all' });
    expect(parseResultDocument(JSON.parse(JSON.stringify(doc)))).to.have.property('document');
    const step = doc.scenarios[0]?.steps[0];
    expect(step?.probes).to.deep.equal([
      '80/TCP IPv4',
      '80/TCP IPv6',
      '5000/TCP IPv4',
      '5000/TCP IPv6',
    ]);
    expect(step?.families).to.deep.equal([4, 6]);
    const webApi6 = step?.cells.find(
      (c) => c.from === 'shop/web' && c.to === 'shop/api' && c.probe === '5000/TCP IPv6',
    );
    expect(webApi6).to.deep.include({ family: 6, modelled: 'deny', expected: 'deny' });
    // Rows and columns web, api, admin, batch; batch has no IPv6 cell (a blank).
    expect(step?.tables['5000/TCP IPv6']?.modelled).to.deep.equal(['?X? ', '?.? ', '?X? ', '    ']);
    expect(step?.familyNotes?.[1]).to.deep.equal({
      from: 'shop/web',
      to: 'shop/api',
      probe: '5000/TCP',
      families: [
        { family: 4, modelled: 'allow' },
        { family: 6, modelled: 'deny' },
      ],
      note: 'families disagree: IPv4 allow, IPv6 deny',
    });
    const line = 'families disagree: IPv4 allow, IPv6 deny';
    const text = renderText(doc, palette(false), { tables: 'always' });
    expect(text).to.include(`      5000/TCP shop/web -> shop/api: ${line}`);
    expect(text).to.include('    5000/TCP IPv6\n');
    expect(renderMarkdown(doc)).to.include(
      `| 1. main | \`5000/TCP\` | \`shop/web\` | \`shop/api\` | ${line} |`,
    );
    expect(renderHtml(doc)).to.include(`<td>${line}</td>`);
    const junit = renderJunit(doc);
    expect(junit).to.include('name="step 1/1 main: IP families"');
    expect(junit).to.include(`5000/TCP shop/web -&gt; shop/api: ${line}`);
    expect(junit).to.include('name="step 1/1 main: 5000/TCP IPv6"');
  });
});

describe('families disagree', () => {
  const base = { from: 'a/x', to: 'a/y', probe: { port: 80, protocol: 'TCP' as const } };
  it('notes observed outcomes that decide differently, not outcomes that decide nothing', () => {
    expect(
      familyNotes([
        { ...base, family: 4, modelled: 'allow', observed: 'allowed' },
        { ...base, family: 6, modelled: 'allow', observed: 'dropped' },
      ]).map((n) => n.note),
    ).to.deep.equal(['families disagree: observed IPv4 allowed, IPv6 dropped']);
    expect(
      familyNotes([
        { ...base, family: 4, modelled: 'allow', observed: 'refused' },
        { ...base, family: 6, modelled: 'deny', observed: 'dropped' },
      ]).map((n) => n.note),
    ).to.deep.equal(['families disagree: IPv4 allow, IPv6 deny']);
    expect(
      familyNotes([
        { ...base, family: 4, modelled: 'allow', observed: 'allowed' },
        { ...base, family: 6, modelled: 'deny', observed: 'refused' },
      ]).map((n) => n.note),
    ).to.deep.equal([
      'families disagree: IPv4 allow, IPv6 deny; observed IPv4 allowed, IPv6 refused',
    ]);
    expect(
      familyNotes([
        { ...base, family: 4, modelled: 'allow', observed: 'allowed' },
        { ...base, family: 6, modelled: 'allow', observed: 'probe-error' },
      ]),
    ).to.deep.equal([]);
    expect(
      familyNotes([
        { ...base, modelled: 'allow' },
        { ...base, modelled: 'deny' },
      ]),
    ).to.deep.equal([]);
  });
});

describe('init per IP family', () => {
  it('leaves a cell whose families differ out of the table and writes a rule per family', async () => {
    const dual: World = {
      ...world,
      policies: [
        {
          namespace: 'shop',
          name: 'old-in',
          podSelector: { matchLabels: {}, matchExpressions: [] },
          policyTypes: ['Ingress'],
          policyTypesDefaulted: false,
          ingress: [{ peers: [{ ipBlock: { cidr: '10.0.0.0/24', except: [] } }], ports: null }],
          egress: [],
        },
      ],
    };
    const init = await initTables(dual, DEFAULT_MODEL_OPTIONS);
    // web → web: self, both families allowed. web → old, old → web, old → old: IPv4 only (old
    // has no IPv6 address), admitted by the IPv4 block.
    expect(init.tables.map((t) => t.text)).to.deep.equal([
      [
        'from\\to   shop/web  shop/old',
        'shop/web     .         .',
        'shop/old     .         .',
        '',
      ].join('\n'),
    ]);
    expect(init.rules).to.deep.equal([]);
    // Drop the self traffic exemption: web → web is then allowed over IPv4 (10.0.0.1 in the
    // block) and denied over IPv6 (fd00::1 in no block).
    const strict = await initTables(dual, { ...DEFAULT_MODEL_OPTIONS, selfTraffic: 'policy' });
    expect(strict.tables[0]?.text.split('\n')[1]).to.equal('shop/web     -         .');
    expect(strict.rules).to.deep.equal([
      { cells: 'from shop/web to shop/web on 80/TCP over IPv4', verdict: 'allow' },
      { cells: 'from shop/web to shop/web on 80/TCP over IPv6', verdict: 'deny' },
    ]);
  });
});
