/**
 * `check`: a scenario against the model, offline. Per step: plan the jobs once, let the model
 * runner decide the runnable ones, compare every cell with the expectation.
 */
import { InternalError, UsageError } from '../domain/errors.js';
import type { Family, JobResult } from '../domain/job.js';
import { classify } from '../compare/classify.js';
import { familyNotes } from '../compare/family.js';
import { classifyHold } from '../compare/hold.js';
import { expectedVerdict } from '../compare/expectation.js';
import type { HeldConnection, Scenario, ScenarioStep } from '../dsl/types.js';
import { NetworkModel } from '../model/engine.js';
import { planJobs, podFamilies, selectFamilies, type PlanEndpoint } from '../plan/plan.js';
import { ModelRunner } from '../probe/model-runner.js';
import {
  addCounts,
  countStep,
  type CellResult,
  type HeldResult,
  type ScenarioResult,
  type StepResult,
} from './results.js';

/** How the families of a scenario are probed: see familiesFor. */
export interface FamilyChoice {
  /** The families the jobs carry (more than one family in play); absent: a single-family run. */
  readonly families?: readonly Family[];
  /** The family of every flow of a single-family run, when known (what `over` rules match). */
  readonly sole?: Family;
}

/**
 * The families a scenario is probed on: `requested` (--family), or every family of `available`
 * (what the pods declare in `ips:` offline, their status.podIPs live). Throws a UsageError when a
 * requested family is one no pod has.
 */
export function familiesFor(
  file: string,
  available: readonly Family[],
  requested?: readonly Family[],
  origin: 'declared' | 'live' = 'declared',
): FamilyChoice {
  const chosen = selectFamilies(available, requested, origin);
  if ('problem' in chosen)
    throw new UsageError(
      `--family ${requested?.length === 1 ? String(requested[0]) : 'both'}: ${file}: ${chosen.problem}`,
    );
  if (chosen.families !== undefined) return { families: chosen.families };
  const sole = available.length === 1 ? available[0] : undefined;
  return sole === undefined ? {} : { sole };
}

export async function checkStep(
  scenario: Scenario,
  step: ScenarioStep,
  choice: FamilyChoice = {},
): Promise<StepResult> {
  const plan = planJobs(step.world, scenario.probes, choice.families);
  const model = new NetworkModel(step.world, scenario.options);
  const runnable = plan.jobs.filter((j) => j.kind === 'runnable');
  const decided = await new ModelRunner(model).run(runnable);
  const byEndpoint = new Map<string, PlanEndpoint>(plan.endpoints.map((e) => [e.key, e]));
  let next = 0;
  const cells: CellResult[] = plan.jobs.map((planned): CellResult => {
    const { job } = planned;
    const from = byEndpoint.get(job.from);
    const to = byEndpoint.get(job.to);
    if (from === undefined || to === undefined)
      throw new InternalError(
        `plan returned a job for an unknown endpoint: ${job.from} -> ${job.to}`,
      );
    const expected = expectedVerdict(step.expect, from, to, job.probe, job.family ?? choice.sole);
    const base = {
      from: job.from,
      to: job.to,
      probe: job.probe,
      ...(job.family === undefined ? {} : { family: job.family }),
      ...(expected === undefined ? {} : { expected }),
    };
    if (planned.kind === 'unresolvable') {
      return {
        ...base,
        modelled: 'unresolvable',
        class: classify({ ...base, modelled: 'unresolvable' }),
        explanation: planned.reason,
      };
    }
    const result: JobResult | undefined = decided[next++];
    if (result?.outcome !== 'allowed' && result?.outcome !== 'denied')
      throw new InternalError(
        `the model gave ${result?.outcome ?? 'nothing'} for ${job.from} -> ${job.to}: ${result?.detail ?? ''}`,
      );
    const modelled = result.outcome === 'allowed' ? 'allow' : 'deny';
    return {
      ...base,
      port: planned.port,
      modelled,
      class: classify({ ...base, modelled }),
      explanation: result.detail,
    };
  });
  const held = step.holds?.map((h) => heldOffline(h, cells));
  const notes = plan.families === undefined ? [] : familyNotes(cells);
  return {
    index: step.index,
    name: step.name,
    probes: plan.probes,
    ...(plan.families === undefined ? {} : { families: plan.families }),
    ...(notes.length === 0 ? {} : { familyNotes: notes }),
    endpoints: plan.endpoints.map((e) => e.key),
    cells,
    ...(held === undefined ? {} : { held }),
    counts: countStep(cells, held),
  };
}

/**
 * A held connection offline: not checkable (it needs a cluster), with the model's verdict for a
 * fresh connection of the same flow after the step as context, from the step's cells.
 */
export function heldOffline(hold: HeldConnection, cells: readonly CellResult[]): HeldResult {
  return { ...heldBase(hold, cells), class: classifyHold(hold.expect, undefined) };
}

/**
 * What a held connection's result says before anything is observed: the flow, the expectation
 * and the model's verdict for a fresh connection (offline and live alike).
 */
export function heldBase(
  hold: HeldConnection,
  cells: readonly CellResult[],
): Omit<HeldResult, 'class' | 'observed' | 'observedDetail' | 'heldMs'> {
  const fresh = freshModelled(hold, cells);
  return {
    from: hold.from,
    to: hold.to,
    probe: hold.probe,
    port: hold.port,
    ...(hold.expect === undefined ? {} : { expected: hold.expect }),
    ...(fresh === undefined ? {} : { freshModelled: fresh }),
  };
}

/** The model's verdict for a fresh connection of a held flow, when the step's cells have it. */
export function freshModelled(
  hold: HeldConnection,
  cells: readonly CellResult[],
): CellResult['modelled'] | undefined {
  return cells.find(
    (c) =>
      c.from === hold.from &&
      c.to === hold.to &&
      c.probe.protocol === hold.protocol &&
      (c.port === hold.port || c.probe.port === hold.probe.port),
  )?.modelled;
}

/**
 * Checks a scenario against the model. `families` (--family): the IP families to decide; default
 * every family the pods declare in `ips:` (both when they declare IPv4 and IPv6).
 */
export async function checkScenario(
  scenario: Scenario,
  options: { readonly families?: readonly Family[] } = {},
): Promise<ScenarioResult> {
  const choice = familiesFor(
    scenario.file,
    podFamilies(scenario.steps.map((s) => s.world)),
    options.families,
  );
  const steps: StepResult[] = [];
  for (const step of scenario.steps) steps.push(await checkStep(scenario, step, choice));
  return {
    file: scenario.file,
    name: scenario.name,
    steps,
    counts: addCounts(steps.map((s) => s.counts)),
  };
}
