/**
 * What fuzzing needs of a cluster: run one scenario step (a policy set over the fuzz topology)
 * and hand back every cell with the model's verdict and what was observed. The live oracle is
 * the product's engine (`runScenario` on a TopologyPool); unit tests use the model with an
 * injected deviation.
 */
import type { Decided } from '../compare/classify.js';
import type { Scenario } from '../dsl/types.js';
import type { CellResult, StepResult } from '../engine/results.js';
import { outcomeVerdict } from '../domain/job.js';
import { formatProbe } from '../domain/probe.js';

export type Oracle = (scenario: Scenario) => Promise<StepResult>;

/** `80/TCP x/a x/b`. */
export type CellKey = string;

export const cellKeyOf = (c: Pick<CellResult, 'from' | 'to' | 'probe'>): CellKey =>
  `${formatProbe(c.probe)} ${c.from} ${c.to}`;

/** A cell where the cluster showed the other verdict than the model's, on every try. */
export interface DifferingCell {
  readonly key: CellKey;
  readonly from: string;
  readonly to: string;
  readonly probe: string;
  readonly modelled: Decided;
  readonly observed: Decided;
  readonly explanation: string;
}

/** The cells of a step that differ from the model, and those whose tries disagreed. */
export function differences(step: StepResult): {
  differing: DifferingCell[];
  flaky: CellKey[];
  probeErrors: number;
} {
  const differing: DifferingCell[] = [];
  const flaky: CellKey[] = [];
  let probeErrors = 0;
  for (const cell of step.cells) {
    if (cell.class === 'flaky') flaky.push(cellKeyOf(cell));
    if (cell.class === 'probe-error') probeErrors++;
    if (cell.class !== 'cluster-deviates' && cell.class !== 'model-disagrees') continue;
    if (cell.modelled === 'unresolvable' || cell.observed === undefined) continue;
    const observed = outcomeVerdict(cell.observed);
    if (observed === undefined || observed === cell.modelled) continue;
    differing.push({
      key: cellKeyOf(cell),
      from: cell.from,
      to: cell.to,
      probe: formatProbe(cell.probe),
      modelled: cell.modelled,
      observed,
      explanation: cell.explanation,
    });
  }
  return { differing, flaky, probeErrors };
}
