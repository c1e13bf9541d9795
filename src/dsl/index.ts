export { loadScenario, parseScenario } from './load.js';
export { parseCellSelector } from './resolve.js';
export { SCENARIO, SCENARIO_API_VERSION, SCENARIO_KIND, scenarioJsonSchema } from './schema.js';
export type { ReadFile } from './sources.js';
export type * from './types.js';
