/**
 * `check`: a scenario against the model, offline. Per step: plan the jobs once, let the model
 * runner decide the runnable ones, compare every cell with the expectation.
 */
import { InternalError } from '../domain/errors.js';
import type { JobResult } from '../domain/job.js';
import { classify } from '../compare/classify.js';
import { expectedVerdict } from '../compare/expectation.js';
import type { Scenario, ScenarioStep } from '../dsl/types.js';
import { NetworkModel } from '../model/engine.js';
import { planJobs, type PlanEndpoint } from '../plan/plan.js';
import { ModelRunner } from '../probe/model-runner.js';
import {
  addCounts,
  countCells,
  type CellResult,
  type ScenarioResult,
  type StepResult,
} from './results.js';

export async function checkStep(scenario: Scenario, step: ScenarioStep): Promise<StepResult> {
  const plan = planJobs(step.world, scenario.probes);
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
    const expected = expectedVerdict(step.expect, from, to, job.probe);
    const base = {
      from: job.from,
      to: job.to,
      probe: job.probe,
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
  return {
    index: step.index,
    name: step.name,
    probes: plan.probes,
    endpoints: plan.endpoints.map((e) => e.key),
    cells,
    counts: countCells(cells),
  };
}

export async function checkScenario(scenario: Scenario): Promise<ScenarioResult> {
  const steps: StepResult[] = [];
  for (const step of scenario.steps) steps.push(await checkStep(scenario, step));
  return {
    file: scenario.file,
    name: scenario.name,
    steps,
    counts: addCounts(steps.map((s) => s.counts)),
  };
}
