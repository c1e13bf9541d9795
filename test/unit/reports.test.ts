import { expect } from 'chai';
import Ajv2020 from 'ajv/dist/2020.js';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { validateXML } from 'xmllint-wasm';
import type { CellResult, ScenarioResult } from '../../src/engine/results.js';
import { countCells } from '../../src/engine/results.js';
import { classify } from '../../src/compare/classify.js';
import { resultDocument } from '../../src/report/check-json.js';
import { resultJsonSchema, type ResultDocument } from '../../src/report/document.js';
import { renderHtml } from '../../src/report/html.js';
import { renderJunit } from '../../src/report/junit.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { palette } from '../../src/report/style.js';
import { columnGroups, renderGrid, renderText } from '../../src/report/text.js';
import { stepGrids } from '../../src/report/result-view.js';
import { matchesGolden } from '../support/golden.js';
import { CLI, flippedThreeTier, polygraph, tempDir } from '../support/reports.js';
import { ROOT } from '../support/scenarios.js';

/* The reporters, on real check results of scenarios/ (and on a synthetic live run). */
const SCHEMA = join(ROOT, 'schemas/result.schema.json');
const XSD = join(ROOT, 'test/fixtures/junit.xsd');

async function schemaValidator() {
  const ajv = new Ajv2020.default({ allErrors: true, strict: true });
  const published = JSON.parse(await readFile(SCHEMA, 'utf8')) as object;
  // strict mode knows no "format"; the published schema uses date-time.
  ajv.addFormat('date-time', true);
  return ajv.compile(published);
}

async function junitProblems(xml: string): Promise<string[]> {
  const r = await validateXML({
    xml: [{ fileName: 'report.xml', contents: xml }],
    schema: [{ fileName: 'junit.xsd', contents: await readFile(XSD, 'utf8') }],
  });
  return r.errors.map((e) => e.rawMessage);
}

/** Values that change from run to run: time stamps, the version, temporary directories. */
function scrub(text: string, dir: string): string {
  return text
    .split(dir)
    .join('<tmp>')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z?/g, '<timestamp>')
    .replace(/("version": "|polygraph )\d+\.\d+\.\d+[^"\s·<]*/g, '$1<version>');
}

describe('reports of check (built CLI)', function () {
  this.timeout(90_000);
  let dir = '';
  let flipped = '';
  const file = (name: string) => join(dir, name);
  const read = (name: string) => readFile(file(name), 'utf8');

  before(async function () {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
    dir = await tempDir();
    flipped = await flippedThreeTier(dir);
    const r = await polygraph([
      'check',
      flipped,
      'scenarios/default-deny-then-allow.yaml',
      '--report',
      `json=${file('r.json')}`,
      '--report',
      `junit=${file('r.xml')}`,
      '--report',
      `markdown=${file('r.md')}`,
      '--report',
      `html=${file('r.html')}`,
    ]);
    expect(r.stderr).to.equal('');
    expect(r.code).to.equal(1);
  });

  it(`schemas/result.schema.json is what npm run schema writes`, async () => {
    const published = JSON.parse(await readFile(SCHEMA, 'utf8')) as unknown;
    expect(published, 'run npm run schema and commit the result').to.deep.equal(resultJsonSchema());
  });

  it('the JSON report and check -o json validate against the published schema (ajv)', async () => {
    const validate = await schemaValidator();
    const report = JSON.parse(await read('r.json')) as ResultDocument;
    expect(validate(report), JSON.stringify(validate.errors)).to.equal(true);
    expect(report.listedCells).to.equal('all');
    const cells = report.scenarios.flatMap((s) => s.steps.flatMap((st) => st.cells));
    expect(cells).to.have.length(report.summary.cells);
    const stdout = await polygraph(['check', 'scenarios/three-tier.yaml', '-o', 'json']);
    expect(validate(JSON.parse(stdout.stdout)), JSON.stringify(validate.errors)).to.equal(true);
    // The schema rejects what it must.
    expect(validate({ ...report, kind: 'Other' })).to.equal(false);
    const step = report.scenarios[0]!.steps[0]!;
    const badCell = { ...step.cells[0]!, class: 'maybe' };
    const bad = {
      ...report,
      scenarios: [{ ...report.scenarios[0]!, steps: [{ ...step, cells: [badCell] }] }],
    };
    expect(validate(bad)).to.equal(false);
  });

  it('every report matches its golden file (time stamps, version and paths scrubbed)', async () => {
    await matchesGolden('reports/check.json', scrub(await read('r.json'), dir));
    await matchesGolden('reports/check.junit.xml', scrub(await read('r.xml'), dir));
    await matchesGolden('reports/check.md', scrub(await read('r.md'), dir));
    await matchesGolden('reports/check.html', scrub(await read('r.html'), dir));
    const text = await polygraph(['report', file('r.json'), '--tables']);
    expect(text.code).to.equal(1);
    await matchesGolden('reports/check.tables.txt', scrub(text.stdout, dir));
  });

  it('the JUnit report is valid against the JUnit XSD (xmllint) and says what failed', async () => {
    const xml = await read('r.xml');
    expect(await junitProblems(xml)).to.deep.equal([]);
    expect(xml).to.contain('<testsuite name="three-tier-flipped" tests="3" failures="2"');
    expect(xml).to.contain(
      '<testcase name="step 1/1 main: 5000/TCP" classname="three-tier-flipped"',
    );
    expect(xml).to.contain(
      'allowed: egress admitted by shop/web-egress spec.egress[0]; ingress admitted by shop/api-ingress spec.ingress[0]',
    );
    // The XSD is no rubber stamp: a testcase without classname is rejected.
    expect(await junitProblems(xml.replace(/ classname="[^"]*"/, ''))).to.have.length(1);
  });

  it('polygraph report re-renders every report byte for byte from the JSON report', async () => {
    const r = await polygraph([
      'report',
      file('r.json'),
      '--report',
      `junit=${file('again.xml')}`,
      '--report',
      `markdown=${file('again.md')}`,
      '--report',
      `html=${file('again.html')}`,
      '--report',
      `json=${file('again.json')}`,
    ]);
    expect(r.stderr).to.equal('');
    expect(r.stdout).to.equal('');
    expect(r.code).to.equal(1); // the result's own verdict
    for (const [a, b] of [
      ['r.xml', 'again.xml'],
      ['r.md', 'again.md'],
      ['r.html', 'again.html'],
      ['r.json', 'again.json'],
    ] as const)
      expect(await read(b), b).to.equal(await read(a));
  });

  it('polygraph report rejects a file that is not a result: exit 2, every problem with its place', async () => {
    const doc = JSON.parse(await read('r.json')) as ResultDocument;
    const broken = structuredClone(doc) as unknown as {
      kind: string;
      scenarios: { steps: { tables: Record<string, { classes: string[] }> }[] }[];
    };
    broken.kind = 'Verdict';
    broken.scenarios[0]!.steps[0]!.tables['80/TCP']!.classes[1] = '==';
    await writeFile(file('broken.json'), JSON.stringify(broken, null, 2));
    const r = await polygraph([
      'report',
      file('broken.json'),
      '--report',
      `html=${file('x.html')}`,
    ]);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.contain('invalid input, 1 problem');
    expect(r.stderr).to.match(/broken\.json:3:\d+: kind: /);
    expect(existsSync(file('x.html'))).to.equal(false);
    // The shape being right, the tables must fit the endpoints.
    broken.kind = 'CheckResult';
    await writeFile(file('broken.json'), JSON.stringify(broken, null, 2));
    const rows = await polygraph(['report', file('broken.json')]);
    expect(rows.code).to.equal(2);
    expect(rows.stderr).to.contain(
      'scenarios[0].steps[0].tables.80/TCP.classes[1]: expected 5 characters (one per endpoint), got 2',
    );
    await writeFile(file('not.json'), '{"apiVersion": ');
    const notJson = await polygraph(['report', file('not.json')]);
    expect(notJson.code).to.equal(2);
    expect(notJson.stderr).to.contain('not a JSON document');
    const missing = await polygraph(['report', file('missing.json')]);
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.contain('missing.json:1:1: no such file');
  });

  it('a report that cannot be written is named on stderr; the others are written; the exit code keeps its meaning', async () => {
    const failing = await polygraph([
      'check',
      flipped,
      '--report',
      'junit=/proc/polygraph/r.xml',
      '--report',
      `markdown=${file('ok/sub/r.md')}`,
    ]);
    expect(failing.code).to.equal(1);
    expect(failing.stderr).to.match(
      /^polygraph: could not write the junit report to \/proc\/polygraph\/r\.xml: /,
    );
    expect(existsSync(file('ok/sub/r.md'))).to.equal(true);
    const passing = await polygraph([
      'check',
      'scenarios/three-tier.yaml',
      '--report',
      'html=/proc/polygraph/r.html',
    ]);
    expect(passing.code).to.equal(0);
    expect(passing.stderr).to.contain('could not write the html report');
    // polygraph report with nothing written at all: no output carried the result.
    const none = await polygraph(['report', file('r.json'), '--report', 'html=/proc/x/r.html']);
    expect(none.code).to.equal(3);
    const usage = await polygraph(['check', flipped, '--report', 'pdf=x.pdf']);
    expect(usage.code).to.equal(2);
    expect(usage.stderr).to.contain('KIND one of json, junit, html, markdown');
    const twice = await polygraph(['check', flipped, '--report', 'json=a', '--report', 'html=a']);
    expect(twice.code).to.equal(2);
    expect(twice.stderr).to.contain('two --report options write a');
  });

  it('appends the Markdown report to $GITHUB_STEP_SUMMARY', async () => {
    const summary = file('step-summary.md');
    await writeFile(summary, '# earlier step\n');
    const r = await polygraph(['check', flipped], { GITHUB_STEP_SUMMARY: summary });
    expect(r.code).to.equal(1);
    const text = await readFile(summary, 'utf8');
    expect(text).to.match(/^# earlier step\n## polygraph check: ❌ disagree\n/);
    expect(text).to.contain('| 1. main | `5000/TCP` | `shop/web` | `shop/api` | deny | allow |');
  });

  it('prints truth tables for disagreeing steps, plain without a terminal', async () => {
    const r = await polygraph(['check', flipped]);
    expect(r.stdout).to.contain('    5000/TCP\n    from\\to ');
    expect(r.stdout).to.contain(
      'Legend: rows are sources, columns destinations; each cell is expected then modelled',
    );
    expect(r.stdout).not.to.contain('80/TCP\n'); // no disagreement on 80: no table
    expect(r.stdout).not.to.contain('\u001b[');
    const agreeing = await polygraph(['check', 'scenarios/three-tier.yaml']);
    expect(agreeing.stdout).not.to.contain('Legend');
  });
});

describe('text tables', () => {
  it('split wide matrices into column groups that fit the width, never a cut line', async () => {
    const doc = JSON.parse(
      (await polygraph(['check', 'scenarios/region-isolation.yaml', '-o', 'json'])).stdout,
    ) as ResultDocument;
    const step = doc.scenarios[0]!.steps[0]!;
    const grid = stepGrids(step)[0]!;
    for (const width of [200, 80, 50, 30]) {
      const lines = renderGrid(grid, palette(false), width);
      for (const line of lines)
        expect(line.length, `${line} (width ${String(width)})`).to.be.at.most(width);
      // Every destination appears in some header (or in the numbered column list).
      const text = lines.join('\n');
      for (const e of grid.endpoints) expect(text).to.contain(e);
    }
    expect(columnGroups([5, 5, 5, 5], 12)).to.deep.equal([
      [0, 1],
      [2, 3],
    ]);
    expect(columnGroups([20, 3], 10)).to.deep.equal([[0], [1]]);
  });

  it('colour only when asked, and the ANSI-free text is the same', () => {
    const doc = syntheticRun();
    const coloured = renderText(doc, palette(true), { tables: 'always' });
    const plain = renderText(doc, palette(false), { tables: 'always' });
    expect(coloured).to.contain('\u001b[');
    // eslint-disable-next-line no-control-regex
    expect(coloured.replace(/\u001b\[\d+m/g, '')).to.equal(plain);
  });
});

/**
 * A live run's result as `run` will produce it: observed outcomes, live classes, a reproduce
 * command, timings and cluster facts. The reporters must carry all of it.
 */
function syntheticRun(): ResultDocument {
  const probe = { port: 80, protocol: 'TCP' } as const;
  const cell = (
    from: string,
    to: string,
    expected: 'allow' | 'deny',
    modelled: 'allow' | 'deny',
    observed: CellResult['observed'],
    explanation: string,
  ): CellResult => {
    const verdict =
      observed === 'allowed' ? 'allow' : observed === 'probe-error' ? 'probe-error' : 'deny';
    return {
      from,
      to,
      probe,
      port: 80,
      expected,
      modelled,
      ...(observed === undefined ? {} : { observed }),
      class: classify({ expected, modelled, observed: verdict }),
      explanation,
    };
  };
  const cells = [
    cell('a/x', 'a/x', 'allow', 'allow', 'allowed', 'allowed: a pod may always reach itself'),
    cell('a/x', 'b/y', 'deny', 'deny', 'allowed', 'denied: b/deny-all selects b/y for Ingress'),
    cell('b/y', 'a/x', 'deny', 'deny', 'probe-error', 'denied: a/deny selects a/x for Ingress'),
    cell('b/y', 'b/y', 'allow', 'allow', 'refused', 'allowed: a pod may always reach itself'),
  ];
  const results: ScenarioResult[] = [
    {
      file: 'scenarios/live.yaml',
      name: 'live',
      steps: [
        {
          index: 0,
          name: 'main',
          probes: [probe],
          endpoints: ['a/x', 'b/y'],
          cells,
          counts: countCells(cells),
        },
      ],
      counts: countCells(cells),
    },
  ];
  const doc = resultDocument(results, {
    kind: 'RunResult',
    listedCells: 'all',
    startedAt: new Date('2026-01-02T03:04:05Z'),
    durationMs: 12_500,
    cluster: { context: 'kind-polygraph', kubernetesVersion: 'v1.34.0', networkPlugin: 'calico' },
    timing: () => ({ durationMs: 8_000, timeToEnforceMs: 2_400 }),
  });
  const first = doc.scenarios[0]!.steps[0]!.cells;
  const withDetail = first.map((c) =>
    c.observed === 'probe-error'
      ? {
          ...c,
          detail: 'exec failed: container not found',
          reproduce: 'kubectl exec -n b y -- agnhost connect a-x.a:80 --timeout=1s',
        }
      : c,
  );
  return {
    ...doc,
    scenarios: [
      {
        ...doc.scenarios[0]!,
        steps: [{ ...doc.scenarios[0]!.steps[0]!, cells: withDetail }],
      },
    ],
  };
}

describe('reports of a live run (synthetic RunResult)', () => {
  const doc = syntheticRun();

  it('validates against the published schema and carries the live classes', async () => {
    const validate = await schemaValidator();
    expect(validate(doc), JSON.stringify(validate.errors)).to.equal(true);
    expect(doc.summary.classes).to.deep.equal({
      agree: 1,
      'cluster-deviates': 2,
      'probe-error': 1,
    });
    expect(doc.scenarios[0]!.steps[0]!.tables['80/TCP']!.observed).to.deep.equal(['..', 'ER']);
  });

  it('renders observed outcomes, reproduce commands, timings and cluster facts in every format', async () => {
    const xml = renderJunit(doc);
    expect(await junitProblems(xml)).to.deep.equal([]);
    expect(xml).to.contain('timestamp="2026-01-02T03:04:05"');
    expect(xml).to.contain('time="8.000"');
    expect(xml).to.contain('<property name="cluster.networkPlugin" value="calico"/>');
    expect(xml).to.contain('reproduce: kubectl exec -n b y');
    const md = renderMarkdown(doc);
    expect(md).to.contain('## polygraph run: ❌ disagree');
    expect(md).to.contain('| time to enforce |');
    expect(md).to.contain('2.4 s');
    expect(md).to.contain('| observed |');
    const html = renderHtml(doc);
    expect(html).to.contain(
      'data-repro="kubectl exec -n b y -- agnhost connect a-x.a:80 --timeout=1s"',
    );
    expect(html).to.contain('observed allowed');
    const text = renderText(doc, palette(false), { tables: 'always' });
    expect(text).to.contain('reproduce: kubectl exec');
    expect(text).to.contain('each cell is expected, modelled, observed');
    await matchesGolden('reports/run.txt', text);
  });
});

describe('reports of a live run on two nodes (synthetic RunResult)', () => {
  // a/x ran on node1, b/y on node2: a/x -> b/y and b/y -> a/x crossed nodes, the self cells not.
  const base = syntheticRun();
  const scenario = base.scenarios[0]!;
  const nodes = { 'a/x': 'node1', 'b/y': 'node2' };
  const doc: ResultDocument = {
    ...base,
    scenarios: [
      {
        ...scenario,
        live: {
          runId: 'r1',
          server: 'https://10.240.0.1:6443',
          namespaces: { a: 'a-r1', b: 'b-r1' },
          placement: 'spread',
          nodes,
        },
        steps: scenario.steps.map((s) => ({
          ...s,
          cells: s.cells.map((c) => ({ ...c, crossNode: c.from !== c.to })),
        })),
      },
    ],
  };

  it('validates against the published schema', async () => {
    const validate = await schemaValidator();
    expect(validate(doc), JSON.stringify(validate.errors)).to.equal(true);
  });

  it('says for every cell whether it crossed nodes, in every format', () => {
    const text = renderText(doc, palette(false), { tables: 'always' });
    expect(text).to.contain(
      'nodes: node1 a/x; node2 b/y (a cell between pods on different nodes crosses nodes)',
    );
    expect(text).to.contain('pods spread over 2 nodes');
    expect(text).to.contain('80/TCP a/x -> b/y across nodes (node1 → node2): expected deny');
    expect(text).to.contain('80/TCP b/y -> b/y on one node (node2): expected allow');
    const xml = renderJunit(doc);
    expect(xml).to.contain('<property name="placement" value="spread"/>');
    expect(xml).to.contain('<property name="node.a/x" value="node1"/>');
    expect(xml).to.contain('across nodes: 2 of 4 cells between pods; on one node: 2');
    expect(xml).to.contain('80/TCP b/y -&gt; a/x across nodes (node2 → node1): expected deny');
    const html = renderHtml(doc);
    // Every matrix cell, quiet or not: the agreeing a/x -> a/x too.
    expect(html).to.contain(
      'aria-label="80/TCP a/x to a/x: agree; expected allow · model allow (port 80) · observed allowed · on one node (node1)"',
    );
    expect(html).to.contain('observed allowed · across nodes (node1 → node2)');
    const md = renderMarkdown(doc);
    expect(md).to.contain('across nodes (node1 → node2); denied: b/deny-all');
  });

  it('says nothing of nodes when the run did not record them', () => {
    for (const out of [
      renderText(base, palette(false), { tables: 'always' }),
      renderJunit(base),
      renderHtml(base),
      renderMarkdown(base),
    ]) {
      expect(out).to.not.match(/across nodes|on one node/);
    }
  });
});
