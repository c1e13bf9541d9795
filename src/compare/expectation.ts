/**
 * The expected truth table of a step, cell by cell: `default`, then the rules in order (later
 * wins), then the tables. A cell none of them covers is unchecked (undefined).
 */
import { matchPattern } from '../domain/pattern.js';
import type { Family } from '../domain/job.js';
import type { ProbePort } from '../domain/probe.js';
import type { CellSelector, ExpectedVerdict, Expectation } from '../dsl/types.js';
import type { PlanEndpoint } from '../plan/plan.js';

export function sameProbe(a: ProbePort, b: ProbePort): boolean {
  return a.port === b.port && a.protocol === b.protocol;
}

/**
 * Whether a `from P to Q on PROBE over FAMILY` selector covers a cell. A cell of an unknown family
 * (`family` undefined) is covered by selectors without a family only.
 */
export function selects(
  cells: CellSelector,
  from: PlanEndpoint,
  to: PlanEndpoint,
  probe: ProbePort,
  family?: Family,
): boolean {
  return (
    (cells.family === undefined || cells.family === family) &&
    (cells.probe === undefined || sameProbe(cells.probe, probe)) &&
    (cells.from === undefined || matchPattern(cells.from, from)) &&
    (cells.to === undefined || matchPattern(cells.to, to))
  );
}

/**
 * The expected verdict of a cell. An expectation applies to every family, except rules that
 * state one (`over IPv6`): those apply to flows of that family only.
 */
export function expectedVerdict(
  expectation: Expectation | undefined,
  from: PlanEndpoint,
  to: PlanEndpoint,
  probe: ProbePort,
  family?: Family,
): ExpectedVerdict | undefined {
  if (expectation === undefined) return undefined;
  let verdict: ExpectedVerdict | undefined = expectation.default;
  for (const rule of expectation.rules)
    if (selects(rule.cells, from, to, probe, family)) verdict = rule.verdict;
  for (const table of expectation.tables) {
    if (!sameProbe(table.probe, probe)) continue;
    const cell = table.cells.get(from.key)?.get(to.key);
    if (cell !== undefined) verdict = cell;
  }
  return verdict;
}
