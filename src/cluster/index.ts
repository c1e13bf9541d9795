export {
  Cluster,
  type ConnectOptions,
  type ExecOptions,
  type OpenExecOptions,
  type WaitOptions,
} from './cluster.js';
export { ClusterError, type ClusterErrorDetails } from './errors.js';
export type {
  ContainerPort,
  ContainerSpec,
  ExecEnd,
  ExecOutputListener,
  ExecResult,
  ExecStream,
  Labels,
  NamespaceInfo,
  NetworkPolicyManifest,
  PodInfo,
  PodSpecInput,
} from './types.js';
export { applyNetworkPolicy, deletePod, FIELD_MANAGER } from './apply.js';
export { formatPermission, missingPermissions, type Permission } from './access.js';
export { findNamespace, listNamespaces } from './namespaces.js';
export { waitPodsReady, type ReadyOptions } from './ready.js';
