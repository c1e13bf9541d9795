import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import type { ResultDocument } from '../../src/report/document.js';
import { flippedThreeTier, polygraph, tempDir } from '../support/reports.js';

/*
 * The HTML report in a real browser: Debian's chromium (apt-get install chromium), driven by
 * playwright-core. Skipped, saying so, only when that browser is not installed.
 */
const CHROMIUM = process.env.POLYGRAPH_CHROMIUM ?? '/usr/bin/chromium';
/** Where the screenshot is left for a person to look at. */
export const SCREENSHOT = join(tmpdir(), 'polygraph-html-report', 'report.png');

describe('HTML report in Chromium', function () {
  this.timeout(90_000);
  let browser: Browser | undefined;
  let html = '';
  let doc: ResultDocument;

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      console.log(
        `      skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set POLYGRAPH_CHROMIUM)`,
      );
      this.skip();
    }
    const dir = await tempDir();
    html = join(dir, 'report.html');
    const json = join(dir, 'report.json');
    const r = await polygraph([
      'check',
      await flippedThreeTier(dir),
      'scenarios/three-tier.yaml',
      'scenarios/default-deny-then-allow.yaml',
      '--report',
      `html=${html}`,
      '--report',
      `json=${json}`,
    ]);
    expect(r.code, r.stderr).to.equal(1);
    doc = JSON.parse(await readFile(json, 'utf8')) as ResultDocument;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
    });
  });

  after(async () => {
    await browser?.close();
  });

  it('draws every cell, explains a disagreeing one on hover, is keyboard accessible, requests nothing', async () => {
    if (browser === undefined) throw new Error('no browser');
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    const url = pathToFileURL(html).href;
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning')
        problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (r) => {
      if (r.url() !== url) problems.push(`request: ${r.url()}`);
    });
    await page.goto(url);

    await mkdir(join(tmpdir(), 'polygraph-html-report'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    // One drawn cell per cell of the result.
    expect(await page.locator('svg.matrix g.cell').count()).to.equal(doc.summary.cells);

    // Hovering a disagreeing cell shows its outcome and the model's reason.
    const wrong = doc.scenarios[0]!.steps[0]!.cells.find(
      (c) => c.class === 'expectation-contradicts-spec',
    )!;
    const cell = page.locator(
      `#scenario-0 g.cell[aria-label^="${wrong.probe} ${wrong.from} to ${wrong.to}:"]`,
    );
    expect(await cell.count()).to.equal(1);
    expect(await cell.getAttribute('data-class')).to.equal('expectation-contradicts-spec');
    await cell.hover();
    const tip = page.locator('#tip');
    expect(await tip.isVisible()).to.equal(true);
    const text = await tip.innerText();
    expect(text).to.contain(wrong.explanation);
    expect(text).to.contain(`expected ${wrong.expected ?? ''}`);
    expect(text).to.contain('the expectation contradicts the spec');
    await page.screenshot({ path: SCREENSHOT.replace('.png', '-hover.png') });

    // Keyboard: the first cell of a matrix takes focus, arrows move, Escape closes the tip.
    await page.mouse.move(0, 0);
    const first = page.locator('svg.matrix').first().locator('g.cell[tabindex="0"]');
    await first.focus();
    expect(await tip.isVisible()).to.equal(true);
    await page.keyboard.press('ArrowRight');
    const focused = page.locator('g.cell:focus');
    expect(await focused.count()).to.equal(1);
    expect({
      r: await focused.getAttribute('data-r'),
      c: await focused.getAttribute('data-c'),
    }).to.deep.equal({ r: '0', c: '1' });
    expect(await tip.innerText()).to.contain('shop/web → shop/api');
    await page.keyboard.press('Escape');
    expect(await tip.isVisible()).to.equal(false);

    expect(problems).to.deep.equal([]);
    await page.close();
  });
});
