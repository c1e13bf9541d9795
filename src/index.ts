/**
 * netpol-polygraph's library API (docs/LIBRARY.md): load a scenario, `check` it against the model
 * offline or `run` it on a live cluster, and assert on the ScenarioResult (or use the chai plugin,
 * `netpol-polygraph/chai`). The model and its inputs are exported too. Re-exports only.
 */
export * from './domain/index.js';
export {
  NetworkModel,
  TruthTable,
  type Direction,
  type Endpoint,
  type RuleRef,
  type SideDecision,
  type Unresolved,
  type Verdict,
  type VerdictValue,
} from './model/engine.js';
export {
  explainFlow,
  type FlowExplanation,
  type PolicyWalk,
  type RuleWalk,
  type SideWalk,
} from './model/explain.js';
export * from './model/types.js';
export { loadManifests, loadManifestText } from './manifest/load.js';
export type { ManifestSet, Origins } from './manifest/objects.js';
export type { JobRunner } from './probe/job-runner.js';
export { ModelRunner } from './probe/model-runner.js';
export {
  MODEL_API_VERSION,
  modelDocument,
  writeModelDocument,
  type CellJson,
  type ModelDocument,
  type ModelDocumentInput,
} from './report/model-json.js';
export { loadScenario, parseScenario } from './dsl/load.js';
export type {
  Action,
  CellSelector,
  Expectation,
  ExpectationRule,
  ExpectationTable,
  ExpectedVerdict,
  KnownDeviation,
  Scenario,
  ScenarioPolicy,
  ScenarioStep,
} from './dsl/types.js';
export {
  check,
  run,
  runAll,
  DEFAULT_PROBE_IMAGE,
  type CheckScenarioOptions,
  type RunAllOptions,
  type RunScenarioOptions,
} from './engine/api.js';
export type { FamilyNote } from './compare/family.js';
export type { RunEvent } from './engine/run.js';
export {
  failing,
  type CellResult,
  type ClassCounts,
  type Counts,
  type ScenarioLive,
  type ScenarioResult,
  type StepLive,
  type StepResult,
} from './engine/results.js';
export { CELL_CLASSES, FAILING_CLASSES, type CellClass, type Decided } from './compare/classify.js';
export { resultDocument, type DocumentOptions } from './report/check-json.js';
export { RESULT_API_VERSION, type ResultDocument } from './report/document.js';
export {
  cellName,
  declaredProbes,
  diffModels,
  diffWorlds,
  hasChanges,
  type CellChange,
  type CellChangeKind,
  type DiffOptions,
  type DiffResult,
  type DiffSummary,
  type OneSidedEndpoint,
  type WorldChanges,
} from './compare/diff.js';
export { applyManifests, deleteManifests, type Overlay } from './manifest/overlay.js';
export { DIFF_API_VERSION, diffDocument, type DiffDocument, type DiffSide } from './report/diff.js';
