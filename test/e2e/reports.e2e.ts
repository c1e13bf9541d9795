/**
 * The reports of a live run, written by the built CLI on the lab (or the cluster of
 * POLYGRAPH_KUBECONFIG): JUnit, JSON, HTML and Markdown at once; the JSON is a RunResult valid
 * against schemas/result.schema.json whose cells carry observed outcomes, the JUnit is valid
 * against test/fixtures/junit.xsd.
 */
import { expect } from 'chai';
import Ajv2020 from 'ajv/dist/2020.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { validateXML } from 'xmllint-wasm';
import type { ResultDocument } from '../../src/report/document.js';
import { liveArgs, liveTarget, polygraph, type LiveTarget } from '../support/e2e.js';
import { ROOT } from '../support/scenarios.js';

const SCHEMA = join(ROOT, 'schemas/result.schema.json');
const XSD = join(ROOT, 'test/fixtures/junit.xsd');

describe('reports of a live run (built CLI)', function () {
  this.timeout(300_000);
  let target: LiveTarget | undefined;
  let dir = '';

  before(async function () {
    target = await liveTarget('reports');
    dir = target.tmp;
  });

  it('three-tier: exit 0; JSON (schema-valid RunResult, observed cells), JUnit (XSD-valid), HTML, Markdown', async () => {
    const file = (name: string) => join(dir, name);
    const r = await polygraph(
      'run',
      'scenarios/three-tier.yaml',
      ...liveArgs(target!),
      '--report',
      `junit=${file('r.xml')}`,
      '--report',
      `json=${file('r.json')}`,
      '--report',
      `html=${file('r.html')}`,
      '--report',
      `markdown=${file('r.md')}`,
    );
    expect(r.exitCode, r.stderr).to.equal(0);

    const ajv = new Ajv2020.default({ allErrors: true, strict: true });
    ajv.addFormat('date-time', true);
    const validate = ajv.compile(JSON.parse(await readFile(SCHEMA, 'utf8')) as object);
    const doc = JSON.parse(await readFile(file('r.json'), 'utf8')) as ResultDocument;
    expect(validate(doc), JSON.stringify(validate.errors, null, 2)).to.equal(true);
    expect(doc.kind).to.equal('RunResult');
    expect(doc.passed).to.equal(true);
    expect(doc.cluster?.server).to.be.a('string');
    const cells = doc.scenarios.flatMap((s) => s.steps.flatMap((st) => st.cells));
    expect(cells).to.have.length(doc.summary.cells);
    // Every probed cell has what the cluster did; the internet is a source with no live host.
    const probed = cells.filter((c) => c.observed !== undefined && c.observed !== 'skipped');
    expect(probed.length).to.be.greaterThan(0);
    for (const c of probed)
      expect(c.observed).to.be.oneOf([
        'allowed',
        'refused',
        'dropped',
        'denied',
        'unresolved-port',
      ]);
    for (const c of cells.filter((c) => c.class === 'agree' && c.modelled !== 'unresolvable'))
      expect(c.observed, `${c.probe} ${c.from} -> ${c.to}`).to.not.equal(undefined);
    expect(doc.scenarios[0]?.live?.plugin).to.equal('kube-router');

    const junit = await validateXML({
      xml: [{ fileName: 'r.xml', contents: await readFile(file('r.xml'), 'utf8') }],
      schema: [{ fileName: 'junit.xsd', contents: await readFile(XSD, 'utf8') }],
    });
    expect(junit.errors.map((e) => e.rawMessage)).to.deep.equal([]);

    expect(await readFile(file('r.html'), 'utf8')).to.match(/^<!doctype html>/i);
    expect(await readFile(file('r.md'), 'utf8')).to.include('three-tier');
  });
});
