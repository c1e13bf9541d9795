/** Plain data that crosses the src/cluster boundary (no client-node type leaks out). */

export type Labels = Readonly<Record<string, string>>;

export interface ContainerPort {
  containerPort: number;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  name?: string;
}

export interface ContainerSpec {
  name: string;
  image: string;
  command?: readonly string[];
  args?: readonly string[];
  ports?: readonly ContainerPort[];
}

/**
 * A pod as polygraph creates it. Containers always run hardened: non-root (65534 unless set), no
 * capabilities, no privilege escalation, read-only root filesystem.
 */
export interface PodSpecInput {
  namespace: string;
  name: string;
  labels?: Labels;
  containers: readonly ContainerSpec[];
  /** Safe pod sysctls, e.g. net.ipv4.ip_unprivileged_port_start=0 to bind ports < 1024. */
  sysctls?: Readonly<Record<string, string>>;
  terminationGracePeriodSeconds?: number;
  runAsUser?: number;
  /** spec.nodeName: bypasses the scheduler (only for pods that must run on one node). */
  nodeName?: string;
  /** Scheduled onto this node only (required node affinity on metadata.name): a placement. */
  node?: string;
}

/** A node as placements and cluster facts see it. */
export interface NodeFacts {
  name: string;
  ready: boolean;
  /** Ready, not cordoned, and no NoSchedule / NoExecute taint: a probe pod may land there. */
  schedulable: boolean;
  /** status.addresses of type InternalIP. */
  internalIPs: string[];
}

/** A DaemonSet, as network-plugin detection reads it. */
export interface DaemonSetFacts {
  namespace: string;
  name: string;
  images: string[];
}

export interface PodInfo {
  namespace: string;
  name: string;
  /** status.podIP: the primary address. */
  ip: string | undefined;
  /** status.podIPs (status.podIP first when the list is absent): one per IP family. */
  ips?: string[];
  nodeName: string | undefined;
  phase: string;
  ready: boolean;
  labels: Labels;
  /** Declared container ports of every container (what named policy ports resolve against). */
  containerPorts: ContainerPort[];
}

export interface NamespaceInfo {
  name: string;
  labels: Labels;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  elapsedMs: number;
}

/** How a long-lived exec ended: the command exited, or the stream was lost (the reason). */
export type ExecEnd =
  | { readonly kind: 'exited'; readonly exitCode: number }
  | { readonly kind: 'lost'; readonly reason: string };

/**
 * A command running in a container with its standard input open (Cluster.openExec): text written
 * goes to its stdin as it is written, its output comes to the listener given at opening.
 */
export interface ExecStream {
  /** Sends text to the command's standard input. */
  write(text: string): void;
  /** Settles once, when the command exits or the stream is lost; never rejects. */
  readonly ended: Promise<ExecEnd>;
  /** Ends the command's stdin and closes the stream (idempotent). */
  close(): void;
}

/** Output of an ExecStream as it arrives, decoded as UTF-8 (a chunk may end mid-line). */
export type ExecOutputListener = (stream: 'stdout' | 'stderr', text: string) => void;

/** A NetworkPolicy (networking.k8s.io/v1) as plain JSON. */
export interface NetworkPolicyManifest {
  apiVersion?: 'networking.k8s.io/v1';
  kind?: 'NetworkPolicy';
  metadata: { name: string; namespace?: string; labels?: Labels };
  spec: Readonly<Record<string, unknown>>;
}

/**
 * A cluster-scoped object as plain JSON (a ClusterNetworkPolicy, AdminNetworkPolicy or
 * BaselineAdminNetworkPolicy): what src/cluster/custom.ts applies.
 */
export interface ClusterObjectManifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Labels };
  spec: Readonly<Record<string, unknown>>;
}

/** One resource an API group serves, from API discovery. */
export interface ServedResource {
  group: string;
  version: string;
  kind: string;
  /** The resource name (plural), as in the URL. */
  plural: string;
  namespaced: boolean;
}
