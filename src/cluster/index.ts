export {
  Cluster,
  podBody,
  type ConnectOptions,
  type ExecOptions,
  type OpenExecOptions,
  type WaitOptions,
} from './cluster.js';
export { ClusterError, type ClusterErrorDetails } from './errors.js';
export type {
  ContainerPort,
  ContainerSpec,
  DaemonSetFacts,
  ExecEnd,
  ExecOutputListener,
  ExecResult,
  ExecStream,
  Labels,
  NamespaceInfo,
  NetworkPolicyManifest,
  NodeFacts,
  PodInfo,
  PodSpecInput,
} from './types.js';
export { applyNetworkPolicy, deletePod, FIELD_MANAGER } from './apply.js';
export { formatPermission, missingPermissions, type Permission } from './access.js';
export { findNamespace, listNamespaces } from './namespaces.js';
export { waitPodsReady, type ReadyOptions } from './ready.js';
export {
  readClusterState,
  READ_PERMISSIONS,
  type ClusterState,
  type LivePod,
  type LivePolicy,
  type ReadOptions,
} from './read.js';
