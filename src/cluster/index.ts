export { Cluster, type ConnectOptions, type ExecOptions, type WaitOptions } from './cluster.js';
export { ClusterError, type ClusterErrorDetails } from './errors.js';
export type {
  ContainerPort,
  ContainerSpec,
  ExecResult,
  Labels,
  NamespaceInfo,
  NetworkPolicyManifest,
  PodInfo,
  PodSpecInput,
} from './types.js';
