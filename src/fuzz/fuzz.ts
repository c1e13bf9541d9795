/**
 * `polygraph fuzz`: differential testing of a cluster's network plugin against the spec. Random
 * policy sets from a seed, each run as one scenario through an oracle (on a cluster: the run
 * engine on a topology deployed once), every cell compared with the model; a set with a differing
 * cell is re-run to rule out a one-off, then shrunk to a minimal case per deviation, and minimal
 * cases are grouped by signature.
 */
import { InputError, InternalError } from '../domain/errors.js';
import type { Scenario } from '../dsl/types.js';
import { checkScenario } from '../engine/check.js';
import type { StepResult } from '../engine/results.js';
import {
  NETWORK_POLICY_SHAPES,
  PolicyGenerator,
  type PolicyObject,
  type Shape,
} from './generate.js';
import { cellKeyOf, differences, type CellKey, type DifferingCell, type Oracle } from './oracle.js';
import { Random, setSeed } from './random.js';
import { fuzzScenario, scenarioText } from './scenario.js';
import { embeds, shrink, type ShrinkBounds } from './shrink.js';
import { caseSignature } from './signature.js';

export interface FuzzOptions {
  readonly seed: number;
  /** Stop after this many sets (default 100 unless a duration is given). */
  readonly cases?: number;
  /** Stop starting sets after this long. */
  readonly durationMs?: number;
  /** Shape families (default: those of NetworkPolicies, NETWORK_POLICY_SHAPES). */
  readonly shapes?: readonly Shape[];
  /** Sets to run instead of generated ones (`--replay`). */
  readonly replay?: readonly ReplaySet[];
  /** Shrink differing sets (default true); false: each set is its own case, grouped as it is. */
  readonly shrink?: boolean;
  readonly bounds?: ShrinkBounds;
  /** Deviations shrunk per set at most (default 2); other cells are counted, not shrunk. */
  readonly shrinksPerSet?: number;
  readonly externalIp?: string;
  /** Checked before each set and each shrinking step: true stops the run (it still reports). */
  readonly stop?: () => boolean;
  readonly onEvent?: (event: FuzzEvent) => void;
  readonly now?: () => number;
}

export interface ReplaySet {
  readonly name: string;
  readonly policies: readonly PolicyObject[];
}

export type FuzzEvent =
  | {
      readonly kind: 'set';
      readonly index: number;
      readonly total?: number;
      readonly differing?: number;
    }
  | {
      readonly kind: 'shrink';
      readonly index: number;
      readonly cell: CellKey;
      readonly steps: number;
    };

export interface MinimalCase {
  readonly policies: readonly PolicyObject[];
  /** A scenario file that reproduces the case (`polygraph run` fails on the differing cells). */
  readonly scenario: string;
  /** Every cell of the minimal case that differs, with the model's reason. */
  readonly cells: readonly DifferingCell[];
  readonly shrink: {
    readonly steps: number;
    readonly dismissed: number;
    readonly ms: number;
    /** No single removal keeps the cell differing (false: stopped by a bound). */
    readonly minimal: boolean;
  };
}

export interface FuzzGroup {
  readonly signature: string;
  /** Sets with a cell this group covers, by index. */
  readonly sets: number[];
  /** Differing cells of those sets that its minimal case also shows. */
  cells: number;
  readonly minimal: MinimalCase;
  /** The set (index) whose cell was shrunk, and the cell. */
  readonly from: { readonly set: number; readonly cell: CellKey };
}

export interface FuzzSetRecord {
  readonly index: number;
  /** The set's own seed (generated sets); absent for a replayed one. */
  readonly seed?: number;
  readonly name: string;
  readonly policies: readonly PolicyObject[];
  readonly cells: number;
  readonly differing: number;
  /** The differing cells (`PROBE FROM TO`); the cluster showed the other verdict than the spec's. */
  readonly differingCells: readonly CellKey[];
  readonly flaky: number;
  readonly probeErrors: number;
  /** Differing cells that did not differ again when the set was run a second time. */
  readonly intermittent: readonly CellKey[];
  /** Differing cells neither shrunk nor covered by a minimal case (limits). */
  readonly unshrunk: number;
  readonly durationMs: number;
}

export interface FuzzRun {
  readonly seed: number;
  readonly shapes: readonly Shape[];
  readonly replay: boolean;
  readonly stopped: 'cases' | 'duration' | 'interrupted' | 'replayed';
  readonly sets: readonly FuzzSetRecord[];
  readonly groups: readonly FuzzGroup[];
  readonly totals: {
    readonly sets: number;
    readonly cells: number;
    readonly differing: number;
    readonly setsWithDifferences: number;
    readonly intermittent: number;
    readonly flaky: number;
    readonly probeErrors: number;
  };
  readonly durationMs: number;
}

const DEFAULT_BOUNDS: ShrinkBounds = { maxSteps: 40, maxMs: 180_000 };

/** The model's step for a scenario, offline. */
export const modelStep: Oracle = async (scenario) => {
  const step = (await checkScenario(scenario)).steps[0];
  if (step === undefined) throw new InternalError('a fuzz scenario has one step');
  return step;
};

export async function fuzz(oracle: Oracle, options: FuzzOptions): Promise<FuzzRun> {
  const now = options.now ?? (() => performance.now());
  const began = now();
  const shapes = options.shapes ?? NETWORK_POLICY_SHAPES;
  const generator = new PolicyGenerator(shapes);
  const bounds = options.bounds ?? DEFAULT_BOUNDS;
  const emit = (e: FuzzEvent) => options.onEvent?.(e);
  const cases =
    options.replay?.length ?? options.cases ?? (options.durationMs === undefined ? 100 : Infinity);
  const sets: FuzzSetRecord[] = [];
  const groups = new Map<string, FuzzGroup>();
  let stopped: FuzzRun['stopped'] = options.replay === undefined ? 'cases' : 'replayed';

  const toScenario = async (name: string, policies: readonly PolicyObject[]): Promise<Scenario> =>
    fuzzScenario({
      name,
      policies,
      ...(options.externalIp === undefined ? {} : { externalIp: options.externalIp }),
    });
  /**
   * The set as a scenario, if the validation accepts it and the model warns of nothing: a
   * cluster policy peer left with no field (the CRD refuses it) or equal priorities that overlap
   * (the API leaves the outcome undefined) is no candidate.
   */
  const valid = async (name: string, policies: readonly PolicyObject[]) => {
    try {
      const scenario = await toScenario(name, policies);
      return (scenario.warnings ?? []).length > 0 ? undefined : scenario;
    } catch (error) {
      if (error instanceof InputError) return undefined;
      throw error;
    }
  };

  /** Observations of minimal cases carried over to other namespaces, by their policies. */
  const carried = new Map<string, StepResult | undefined>();
  /** The group whose minimal case, embedded in `policies`, shows `target` the same way. */
  const knownGroup = async (
    target: DifferingCell,
    policies: readonly PolicyObject[],
  ): Promise<{ group: FuzzGroup; cells: DifferingCell[] } | undefined> => {
    for (const group of groups.values()) {
      for (const placed of placements(group.minimal.policies, policies)) {
        const id = JSON.stringify(placed);
        if (!carried.has(id)) {
          const scenario = await valid('carried', placed);
          const model = scenario === undefined ? undefined : await modelStep(scenario);
          const cell = model?.cells.find((c) => cellKeyOf(c) === target.key);
          // Asked of the cluster only when the model gives the cell the verdict it had.
          carried.set(
            id,
            scenario === undefined || cell?.modelled !== target.modelled
              ? undefined
              : await oracle(scenario),
          );
        }
        const step = carried.get(id);
        if (step === undefined) continue;
        const shown = differences(step).differing;
        if (!shown.some((d) => d.key === target.key && d.observed === target.observed)) continue;
        const scenario = await valid('carried', placed);
        if (scenario === undefined || caseSignature(scenario, target).id !== group.signature)
          continue;
        return { group, cells: shown };
      }
    }
    return undefined;
  };

  for (let index = 0; index < cases; index++) {
    if (options.stop?.() === true) {
      stopped = 'interrupted';
      break;
    }
    if (options.durationMs !== undefined && now() - began >= options.durationMs) {
      stopped = 'duration';
      break;
    }
    const setBegan = now();
    const replayed = options.replay?.[index];
    const seed = replayed === undefined ? setSeed(options.seed, index) : undefined;
    const name = replayed?.name ?? `fuzz-${String(options.seed)}-${String(index)}`;
    const policies = replayed?.policies ?? generator.set(new Random(seed ?? 0));
    emit({ kind: 'set', index, ...(Number.isFinite(cases) ? { total: cases } : {}) });
    let scenario: Scenario;
    try {
      scenario = await toScenario(name, policies);
      const warning = scenario.warnings?.[0];
      if (replayed === undefined && warning !== undefined)
        throw new InternalError(
          `the generator made a policy set the model warns of (seed ${String(options.seed)}, set ${String(index)}): ${warning}`,
        );
    } catch (error) {
      if (replayed === undefined && error instanceof InputError)
        throw new InternalError(
          `the generator made an invalid policy set (seed ${String(options.seed)}, set ${String(index)}): ${error.message}`,
          { cause: error },
        );
      throw error;
    }
    const step = await oracle(scenario);
    const found = differences(step);
    emit({ kind: 'set', index, differing: found.differing.length });
    const intermittent: CellKey[] = [];
    const uncovered = new Map(found.differing.map((d) => [d.key, d]));
    /** Marks the set's differing cells that `shown` also shows the same way; how many. */
    const cover = (shown: readonly DifferingCell[]): number => {
      let n = 0;
      for (const c of shown) {
        const original = uncovered.get(c.key);
        if (original !== undefined && original.observed === c.observed) {
          uncovered.delete(c.key);
          n++;
        }
      }
      return n;
    };
    let shrunk = 0;
    let again: ReturnType<typeof differences> | undefined;
    for (const target of found.differing) {
      if (!uncovered.has(target.key)) continue;
      // A deviation already grouped: its minimal case, carried over to this set's namespaces,
      // shows this cell (one run per group and placement, cached), so nothing is shrunk.
      const known = await knownGroup(target, policies);
      if (known !== undefined) {
        if (!known.group.sets.includes(index)) known.group.sets.push(index);
        known.group.cells += cover(known.cells);
        continue;
      }
      if (shrunk >= (options.shrinksPerSet ?? 2)) continue;
      // Run the set again and shrink only what differs twice: a plugin whose behaviour changes
      // between its syncs would otherwise send the shrinker after a cell it cannot keep.
      again ??= differences(await oracle(scenario));
      const confirmed = again.differing.find(
        (d) => d.key === target.key && d.observed === target.observed,
      );
      if (confirmed === undefined) {
        intermittent.push(target.key);
        uncovered.delete(target.key);
        continue;
      }
      shrunk++;
      // Without shrinking, the set itself stands for its case (grouped by its own signature).
      const outcome =
        options.shrink === false
          ? { policies: [...policies], step, steps: 0, dismissed: 0, ms: 0, minimal: false }
          : await shrink(
              policies,
              step,
              target,
              {
                scenario: (p) => valid(name, p),
                model: modelStep,
                oracle,
                now,
                ...(options.stop === undefined ? {} : { stop: options.stop }),
              },
              bounds,
            );
      emit({ kind: 'shrink', index, cell: target.key, steps: outcome.steps });
      const minimalScenario = await toScenario(`${name}-minimal`, outcome.policies);
      const minimalCells = differences(outcome.step).differing;
      const signature = caseSignature(minimalScenario, target).id;
      const covered = cover(minimalCells);
      const group = groups.get(signature);
      if (group === undefined) {
        groups.set(signature, {
          signature,
          sets: [index],
          cells: covered,
          minimal: {
            policies: outcome.policies,
            scenario: minimalText(
              `${name}-minimal`,
              outcome.policies,
              minimalCells,
              signature,
              options.externalIp,
            ),
            cells: minimalCells,
            shrink: {
              steps: outcome.steps,
              dismissed: outcome.dismissed,
              ms: Math.round(outcome.ms),
              minimal: outcome.minimal,
            },
          },
          from: { set: index, cell: target.key },
        });
      } else {
        if (!group.sets.includes(index)) group.sets.push(index);
        group.cells += covered;
      }
    }
    sets.push({
      index,
      ...(seed === undefined ? {} : { seed }),
      name,
      policies,
      cells: step.cells.length,
      differing: found.differing.length,
      differingCells: found.differing.map((d) => d.key),
      flaky: found.flaky.length,
      probeErrors: found.probeErrors,
      intermittent,
      unshrunk: uncovered.size,
      durationMs: Math.round(now() - setBegan),
    });
  }
  const sum = (f: (s: FuzzSetRecord) => number) => sets.reduce((n, s) => n + f(s), 0);
  return {
    seed: options.seed,
    shapes,
    replay: options.replay !== undefined,
    stopped,
    sets,
    groups: [...groups.values()],
    totals: {
      sets: sets.length,
      cells: sum((s) => s.cells),
      differing: sum((s) => s.differing),
      setsWithDifferences: sets.filter((s) => s.differing > 0).length,
      intermittent: sum((s) => s.intermittent.length),
      flaky: sum((s) => s.flaky),
      probeErrors: sum((s) => s.probeErrors),
    },
    durationMs: Math.round(now() - began),
  };
}

/** A minimal case as a scenario file: the spec's verdict expected on every differing cell. */
function minimalText(
  name: string,
  policies: readonly PolicyObject[],
  cells: readonly DifferingCell[],
  signature: string,
  externalIp: string | undefined,
): string {
  return scenarioText({
    name,
    description: `minimal case found by polygraph fuzz: ${signature}`,
    policies,
    ...(externalIp === undefined ? {} : { externalIp }),
    expect: cells.map((c) => ({
      rule: `from ${c.from} to ${c.to} on ${c.probe}: ${c.modelled}`,
      comment: `observed: ${c.observed}; the spec: ${c.explanation}`,
    })),
  });
}

/**
 * The ways a minimal case embeds in a set: each of its policies, with its pieces, found inside a
 * distinct policy of the same kind in the set (the shrinker only removes pieces, so a set that
 * shrinks to the case holds it this way); the case is returned in that policy's namespace (a
 * cluster policy, cluster-scoped, as it is).
 */
function placements(
  minimal: readonly PolicyObject[],
  set: readonly PolicyObject[],
): PolicyObject[][] {
  const out: PolicyObject[][] = [];
  const spec = (p: PolicyObject) => p.spec;
  const place = (i: number, used: readonly number[], acc: PolicyObject[]) => {
    const m = minimal[i];
    if (m === undefined) {
      out.push(acc);
      return;
    }
    set.forEach((p, j) => {
      if (used.includes(j) || p.kind !== m.kind || !embeds(spec(m), spec(p))) return;
      if (m.kind !== 'NetworkPolicy') {
        place(i + 1, [...used, j], [...acc, m]);
        return;
      }
      const namespace = (p.metadata as { namespace?: unknown } | undefined)?.namespace;
      const metadata = { ...(m.metadata as object), namespace };
      place(i + 1, [...used, j], [...acc, { ...m, metadata }]);
    });
  };
  place(0, [], []);
  return out;
}
