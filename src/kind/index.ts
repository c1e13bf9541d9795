export { ASSETS } from './assets.js';
export { clusterDown, clusterUp, commandLine, type Progress, type UpReport } from './cluster.js';
export { CNIS, kindConfig, kindConfigYaml, POD_SUBNET, type Cni } from './config.js';
export {
  contextOf,
  downSteps,
  upRequirements,
  upSteps,
  type Step,
  type UpOptions,
} from './plan.js';
export { CALICO_MANIFESTS, INSTALL_HINTS, TIMEOUTS, VERSIONS } from './versions.js';
