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
  ClusterObjectManifest,
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
  ServedResource,
} from './types.js';
export {
  applyClusterObject,
  deleteClusterObject,
  listClusterObjects,
  servedResources,
  type ListedObject,
  type ResourceRef,
} from './custom.js';
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
