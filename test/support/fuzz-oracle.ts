/**
 * An offline stand-in for a cluster in fuzz tests: the model's own verdicts, except where an
 * injected deviation says otherwise — shaped after kube-router v2.1.0's deviations (docs/LAB.md),
 * so that shrinking and grouping can be checked against minimal cases written by hand.
 */
import { classify, type Decided } from '../../src/compare/classify.js';
import type { Scenario } from '../../src/dsl/types.js';
import type { CellResult, StepResult } from '../../src/engine/results.js';
import { countCells } from '../../src/engine/results.js';
import { modelStep } from '../../src/fuzz/fuzz.js';
import { cellKeyOf, type Oracle } from '../../src/fuzz/oracle.js';
import { matchesSelector } from '../../src/model/selector.js';
import type { NetworkPolicyInfo, PodInfo } from '../../src/model/types.js';

/** What an injected deviation makes the cluster show for a cell, or undefined: the model's. */
export type Deviation = (scenario: Scenario, cell: CellResult) => Decided | undefined;

function pod(scenario: Scenario, key: string): PodInfo | undefined {
  return scenario.initial.pods.find((p) => `${p.namespace}/${p.name}` === key);
}

const selects = (policy: NetworkPolicyInfo, p: PodInfo | undefined): boolean =>
  p !== undefined &&
  policy.namespace === p.namespace &&
  matchesSelector(policy.podSelector, p.labels);

/**
 * Shared chain (kube-router deviation 1): a policy of both types with any egress rule admits
 * traffic between two pods it selects.
 */
export const sharedChain: Deviation = (scenario, cell) => {
  if (cell.from === cell.to) return undefined;
  const from = pod(scenario, cell.from);
  const to = pod(scenario, cell.to);
  const hit = scenario.policies.some(
    ({ info }) =>
      info.policyTypes.includes('Ingress') &&
      info.policyTypes.includes('Egress') &&
      info.egress.length > 0 &&
      selects(info, from) &&
      selects(info, to),
  );
  return hit ? 'allow' : undefined;
};

/**
 * A named port that resolves on no pod opens every port (kube-router, lab notes deviation 2):
 * into a pod an Ingress policy selects, from a pod of the policy's namespace.
 */
export const unresolvedNamedPort: Deviation = (scenario, cell) => {
  const from = pod(scenario, cell.from);
  const to = pod(scenario, cell.to);
  if (from === undefined || to === undefined) return undefined;
  const served = (name: string, protocol: string) =>
    scenario.initial.pods.some((p) =>
      p.ports.some((c) => c.name === name && c.protocol === protocol),
    );
  const hit = scenario.policies.some(
    ({ info }) =>
      info.policyTypes.includes('Ingress') &&
      selects(info, to) &&
      from.namespace === info.namespace &&
      info.ingress.some((r) =>
        (r.ports ?? []).some((p) => typeof p.port === 'string' && !served(p.port, p.protocol)),
      ),
  );
  return hit ? 'allow' : undefined;
};

/** The model's step with the deviations applied; `calls` counts the oracle's uses. */
export function deviatingOracle(
  deviations: readonly Deviation[],
  options: { readonly onlyOnCall?: (n: number) => boolean } = {},
): Oracle & { calls: number } {
  const oracle = async (scenario: Scenario): Promise<StepResult> => {
    oracle.calls++;
    const step = await modelStep(scenario);
    const active = options.onlyOnCall?.(oracle.calls) ?? true;
    const cells = step.cells.map((cell): CellResult => {
      if (cell.modelled === 'unresolvable') return cell;
      let observed: Decided = cell.modelled;
      if (active)
        for (const d of deviations) {
          const v = d(scenario, cell);
          if (v !== undefined) observed = v;
        }
      return {
        ...cell,
        observed: observed === 'allow' ? 'allowed' : 'refused',
        class: classify({ modelled: cell.modelled, observed }),
      };
    });
    return { ...step, cells, counts: countCells(cells) };
  };
  oracle.calls = 0;
  return oracle;
}

/**
 * A cluster that stores cluster policies and enforces none, as the lab's kube-router: every cell
 * shows the model's verdict for the scenario without its cluster policies.
 */
export function clusterPoliciesIgnored(): Oracle & { calls: number } {
  const oracle = async (scenario: Scenario): Promise<StepResult> => {
    oracle.calls++;
    const step = await modelStep(scenario);
    const bare = await modelStep({
      ...scenario,
      initial: { ...scenario.initial, clusterPolicies: [] },
      clusterPolicies: [],
      steps: scenario.steps.map((s) => ({ ...s, world: { ...s.world, clusterPolicies: [] } })),
    });
    const observedOf = new Map(bare.cells.map((c) => [cellKeyOf(c), c.modelled]));
    const cells = step.cells.map((cell): CellResult => {
      const observed = observedOf.get(cellKeyOf(cell));
      if (cell.modelled === 'unresolvable' || observed === undefined || observed === 'unresolvable')
        return cell;
      return {
        ...cell,
        observed: observed === 'allow' ? 'allowed' : 'refused',
        class: classify({ modelled: cell.modelled, observed }),
      };
    });
    return { ...step, cells, counts: countCells(cells) };
  };
  oracle.calls = 0;
  return oracle;
}
