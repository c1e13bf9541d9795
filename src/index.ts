/**
 * netpol-polygraph's library API. The model and its inputs are stable enough to build on; the
 * cluster side (src/cluster, the cluster runner) is internal until `polygraph run` lands.
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
