/**
 * Held connections in every report, apart from the cells: the result document (and its schema),
 * text, JUnit, Markdown and HTML. The results are written by hand.
 */
import { expect } from 'chai';
import { countStep, type HeldResult, type ScenarioResult } from '../../src/engine/results.js';
import { resultDocument } from '../../src/report/check-json.js';
import { parseResultDocument } from '../../src/report/document.js';
import { renderHtml } from '../../src/report/html.js';
import { renderJunit } from '../../src/report/junit.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { palette } from '../../src/report/style.js';
import { renderText } from '../../src/report/text.js';

const HELD: HeldResult[] = [
  {
    from: 'x/a',
    to: 'y/b',
    probe: { port: 80, protocol: 'TCP' },
    port: 80,
    expected: 'open',
    freshModelled: 'deny',
    observed: 'open',
    observedDetail: 'opened; a response arrived (3 ms); after the step: a response arrived (2 ms)',
    heldMs: 2400,
    class: 'agree',
  },
  {
    from: 'x/a',
    to: 'y/b',
    probe: { port: 80, protocol: 'UDP' },
    port: 80,
    expected: 'dropped',
    freshModelled: 'deny',
    observed: 'open',
    observedDetail: 'opened; a reply arrived (1 ms); after the step: a reply arrived (1 ms)',
    heldMs: 2500,
    class: 'disagree',
  },
];

function run(held: readonly HeldResult[]): ScenarioResult {
  const counts = countStep([], held);
  return {
    file: 'held.yaml',
    name: 'held',
    steps: [{ index: 0, name: 'deny', probes: [], endpoints: [], cells: [], held, counts }],
    counts,
    live: { runId: 'r', server: 'https://lab:6443', namespaces: { x: 'x-r', y: 'y-r' } },
  };
}

describe('reports: held connections', () => {
  it('the result document lists every held connection, counts them, and fails on a disagreement; the saved document validates', () => {
    const doc = resultDocument([run(HELD)]);
    expect(doc.passed).to.equal(false);
    expect(doc.summary.held).to.deep.equal({
      connections: 2,
      classes: { agree: 1, disagree: 1 },
    });
    expect(doc.scenarios[0]?.steps[0]?.held?.[1]).to.deep.equal({
      from: 'x/a',
      to: 'y/b',
      probe: '80/UDP',
      port: 80,
      expected: 'dropped',
      freshModelled: 'deny',
      observed: 'open',
      class: 'disagree',
      detail: 'opened; a reply arrived (1 ms); after the step: a reply arrived (1 ms)',
      heldMs: 2500,
    });
    const back = parseResultDocument(JSON.parse(JSON.stringify(doc)));
    expect(back).to.have.property('document');
    expect(resultDocument([run(HELD.slice(0, 1))]).passed).to.equal(true);
  });

  it('text shows them under the step, apart from the cells, and the run disagrees', () => {
    const text = renderText(resultDocument([run(HELD)]), palette(false));
    expect(text).to.include(
      'held connections (2; opened before the actions, used again after them):',
    );
    expect(text).to.include(
      '✗ 80/UDP x/a -> y/b: expected dropped, observed open after 2.5 s (disagree); a fresh connection after the step: the spec says deny',
    );
    expect(text).to.include(
      '✓ 80/TCP x/a -> y/b: expected open, observed open after 2.4 s (agree)',
    );
    expect(text).to.match(/^FAIL held\.yaml/);
    expect(text).to.include(
      'disagree: 1 scenario, 1 step, 0 cells; 2 held connections: 1 agree, 1 disagree',
    );
  });

  it('JUnit has a test case per held connection; the disagreeing one fails', () => {
    const xml = renderJunit(resultDocument([run(HELD)]));
    expect(xml).to.include('name="step 1/1 deny: held 80/TCP x/a -&gt; y/b"');
    expect(xml).to.match(/<testsuites[^>]* tests="2" failures="1"/);
    expect(xml).to.include('type="held-disagree"');
  });

  it('Markdown and HTML list them in a table of their own', () => {
    const doc = resultDocument([run(HELD)]);
    const md = renderMarkdown(doc);
    expect(md).to.include('**2 held connections**');
    expect(md).to.include('| 1. deny | `80/UDP` | `x/a` | `y/b` | dropped | open | disagree |');
    const html = renderHtml(doc);
    expect(html).to.include('<table class="cells held">');
    expect(html).to.include('<tr class="held disagree">');
  });
});
