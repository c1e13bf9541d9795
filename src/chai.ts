/**
 * A chai plugin for polygraph results (`netpol-polygraph/chai`, docs/LIBRARY.md):
 *
 *     import * as chai from 'chai';
 *     import { polygraphChai } from 'netpol-polygraph/chai';
 *     chai.use(polygraphChai);
 *     expect(await run('scenario.yaml')).to.haveNoMismatches();
 *
 * It takes chai's instance from `chai.use`, so chai stays the caller's (an optional peer
 * dependency): nothing here imports it.
 */
import { FAILING_CLASSES } from './compare/classify.js';
import { formatProbe } from './domain/probe.js';
import { addCounts, failing, type CellResult, type ScenarioResult } from './engine/results.js';

/** The part of a chai assertion the plugin uses (structurally chai's own). */
export interface ChaiAssertionLike {
  readonly _obj: unknown;
  assert(expression: boolean, message: string, negatedMessage: string): void;
}

/** The part of chai's static object the plugin uses: `chai.Assertion.addMethod`. */
export interface ChaiLike {
  readonly Assertion: {
    addMethod(name: string, method: (this: ChaiAssertionLike) => void): void;
  };
}

declare global {
  // chai's own declaration merging: adds the assertion to chai's types when @types/chai is there.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Chai {
    interface Assertion {
      /**
       * Asserts that a ScenarioResult (or a list of them) has no cell of a failing class
       * (FAILING_CLASSES: expectation-contradicts-spec, cluster-deviates, model-disagrees,
       * flaky). The failure message lists every such cell.
       */
      haveNoMismatches(): Assertion;
    }
  }
}

function isResult(value: unknown): value is ScenarioResult {
  return (
    typeof value === 'object' &&
    value !== null &&
    Array.isArray((value as { steps?: unknown }).steps) &&
    typeof (value as { counts?: unknown }).counts === 'object'
  );
}

/** One line per cell: `[class] file step N "name": 80/TCP from → to: expected …, modelled …, observed …: why`. */
export function describeCell(result: ScenarioResult, stepIndex: number, cell: CellResult): string {
  const step = result.steps[stepIndex];
  const verdicts = [
    `expected ${cell.expected ?? '(none)'}`,
    `modelled ${cell.modelled}`,
    ...(cell.observed === undefined ? [] : [`observed ${cell.observed}`]),
    ...(cell.tries === undefined ? [] : [`tries ${cell.tries.join(',')}`]),
  ].join(', ');
  const where = `${result.file} step ${String(step?.index ?? stepIndex)} "${step?.name ?? ''}"`;
  return `[${cell.class}] ${where}: ${formatProbe(cell.probe)} ${cell.from} → ${cell.to}: ${verdicts}: ${cell.explanation}`;
}

/** Every cell of a failing class, described one per line. */
export function mismatches(results: readonly ScenarioResult[]): string[] {
  const lines: string[] = [];
  for (const result of results)
    result.steps.forEach((step, i) => {
      for (const cell of step.cells)
        if (FAILING_CLASSES.includes(cell.class)) lines.push(describeCell(result, i, cell));
    });
  return lines;
}

/** The plugin: `chai.use(polygraphChai)`. */
export function polygraphChai(chai: ChaiLike): void {
  chai.Assertion.addMethod('haveNoMismatches', function (this: ChaiAssertionLike) {
    const value = this._obj;
    const results: unknown[] = Array.isArray(value) ? value : [value];
    if (!results.every(isResult))
      throw new TypeError(
        'haveNoMismatches: expected a polygraph ScenarioResult or a list of them',
      );
    const total = addCounts(results.map((r) => r.counts));
    const lines = mismatches(results);
    const n = failing(total);
    this.assert(
      n === 0,
      `expected no mismatches, but ${String(n)} of ${String(total.cells)} cells fail:\n  ${lines.join('\n  ')}`,
      `expected mismatches, but all ${String(total.cells)} cells pass`,
    );
  });
}

export default polygraphChai;
