/**
 * Shrinking a policy set that shows a differing cell to a minimal one: remove one piece at a time
 * — a policy or cluster policy, a rule, a peer, a port, a selector term (a label of matchLabels,
 * an expression), an except block, a CIDR, an optional field — largest first, keep a removal when the cell still differs the
 * same way on the cluster (re-probed live at each step), and stop when no single removal keeps it
 * (a 1-minimal case) or the bounds of steps and time are reached.
 *
 * Two checks cost nothing and run first: a candidate must be valid (the product's validation, as
 * the API server's, and without what the model warns of: a cluster policy peer left with no
 * field, equal priorities that overlap), and the model must still give the target cell the verdict it gave before —
 * otherwise the cell cannot differ the same way, and the cluster is not asked.
 */
import type { Decided } from '../compare/classify.js';
import type { Scenario } from '../dsl/types.js';
import type { StepResult } from '../engine/results.js';
import type { PolicyObject } from './generate.js';
import { cellKeyOf, differences, type CellKey, type Oracle } from './oracle.js';

export interface ShrinkTarget {
  readonly key: CellKey;
  readonly modelled: Decided;
  readonly observed: Decided;
}

export interface ShrinkBounds {
  /** Oracle calls at most. */
  readonly maxSteps: number;
  readonly maxMs: number;
}

export interface ShrinkOutcome {
  readonly policies: PolicyObject[];
  /** The observation of the minimal set. */
  readonly step: StepResult;
  /** Oracle calls made. */
  readonly steps: number;
  /** Candidates dismissed offline (invalid, or the model's verdict moved). */
  readonly dismissed: number;
  readonly ms: number;
  /** No single removal keeps the cell differing (false: a bound stopped the search). */
  readonly minimal: boolean;
}

type Json = unknown;

/** Fields of a spec no valid policy lacks. */
const REQUIRED = new Set(['podSelector', 'tier', 'priority', 'subject']);

/** Every set with one piece removed, shallowest pieces first (a policy before its fields). */
export function candidates(policies: readonly PolicyObject[]): PolicyObject[][] {
  const found: { depth: number; set: PolicyObject[] }[] = [];
  const visit = (value: Json, path: (string | number)[]) => {
    if (Array.isArray(value)) {
      value.forEach((item, i) => {
        found.push({ depth: path.length, set: without(policies, [...path, i]) });
        visit(item, [...path, i]);
      });
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value)) {
        // The object's identity is not a piece of the case.
        if (path.length === 1 && ['apiVersion', 'kind', 'metadata'].includes(key)) continue;
        // Required: their parts are pieces, they are not (a NetworkPolicy's podSelector, a
        // ClusterNetworkPolicy's tier, priority and subject).
        if ((path.length === 1 && key === 'spec') || (path.length === 2 && REQUIRED.has(key))) {
          visit(item, [...path, key]);
          continue;
        }
        found.push({ depth: path.length, set: without(policies, [...path, key]) });
        visit(item, [...path, key]);
      }
    }
  };
  visit(policies, []);
  return found.sort((a, b) => a.depth - b.depth).map((f) => f.set);
}

/** Whether `small` is `big` with pieces removed: every key and list item found in order. */
export function embeds(small: Json, big: Json): boolean {
  if (Array.isArray(small)) {
    if (!Array.isArray(big)) return false;
    let j = 0;
    for (const item of small) {
      while (j < big.length && !embeds(item, big[j])) j++;
      if (j >= big.length) return false;
      j++;
    }
    return true;
  }
  if (typeof small === 'object' && small !== null) {
    if (typeof big !== 'object' || big === null || Array.isArray(big)) return false;
    const b = big as Record<string, Json>;
    return Object.entries(small).every(([k, v]) => Object.hasOwn(b, k) && embeds(v, b[k]));
  }
  return small === big;
}

function without(
  policies: readonly PolicyObject[],
  path: readonly (string | number)[],
): PolicyObject[] {
  const copy = structuredClone(policies) as Json;
  let parent: Json = copy;
  for (const step of path.slice(0, -1)) parent = (parent as Record<string | number, Json>)[step];
  const last = path[path.length - 1];
  if (Array.isArray(parent) && typeof last === 'number') parent.splice(last, 1);
  else if (typeof last === 'string') Reflect.deleteProperty(parent as object, last);
  return copy as PolicyObject[];
}

/** The target's verdicts in a step, if the cell is there. */
function verdicts(step: StepResult, key: CellKey): { modelled?: string; differs?: Decided } {
  const cell = step.cells.find((c) => cellKeyOf(c) === key);
  if (cell === undefined) return {};
  const d = differences({ ...step, cells: [cell] }).differing[0];
  return { modelled: cell.modelled, ...(d === undefined ? {} : { differs: d.observed }) };
}

export async function shrink(
  start: readonly PolicyObject[],
  startStep: StepResult,
  target: ShrinkTarget,
  io: {
    /** The set as a validated scenario; undefined when the product's validation refuses it. */
    readonly scenario: (policies: readonly PolicyObject[]) => Promise<Scenario | undefined>;
    /** The model's step for a scenario (offline, no cluster). */
    readonly model: Oracle;
    readonly oracle: Oracle;
    readonly now: () => number;
    /** True stops shrinking where it is (the case is then not minimal). */
    readonly stop?: () => boolean;
  },
  bounds: ShrinkBounds,
): Promise<ShrinkOutcome> {
  const began = io.now();
  let current = [...start];
  let step = startStep;
  let steps = 0;
  let dismissed = 0;
  const tried = new Set<string>();
  const bounded = () =>
    steps >= bounds.maxSteps || io.now() - began >= bounds.maxMs || io.stop?.() === true;
  for (;;) {
    let progressed = false;
    for (const candidate of candidates(current)) {
      if (bounded())
        return { policies: current, step, steps, dismissed, ms: io.now() - began, minimal: false };
      const id = JSON.stringify(candidate);
      if (tried.has(id)) continue;
      tried.add(id);
      const scenario = await io.scenario(candidate);
      if (scenario === undefined) {
        dismissed++;
        continue;
      }
      if (verdicts(await io.model(scenario), target.key).modelled !== target.modelled) {
        dismissed++;
        continue;
      }
      steps++;
      const observed = await io.oracle(scenario);
      if (verdicts(observed, target.key).differs === target.observed) {
        current = candidate;
        step = observed;
        progressed = true;
        break;
      }
    }
    if (!progressed)
      return { policies: current, step, steps, dismissed, ms: io.now() - began, minimal: true };
  }
}
