/**
 * Every fixed value of the lab in one place: versions, addresses, directories.
 *
 * Node-specific values (name, IP, pod CIDR, directories, network namespace) are grouped per node
 * (`node`, `node2`: values of the same shape, `LabNode`).
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const KUBERNETES_VERSION = 'v1.32.4';
export const KUBE_ROUTER_VERSION = 'v2.1.0';
export const KUBE_ROUTER_MODULE = 'github.com/cloudnativelabs/kube-router/v2';
/**
 * The cluster policy CRDs (ClusterNetworkPolicy v1alpha2 and v1beta1, experimental channel: the
 * channel the model reads) come from this module; kube-router does not enforce them.
 */
export const NETWORK_POLICY_API_MODULE = 'sigs.k8s.io/network-policy-api';
export const NETWORK_POLICY_API_VERSION = 'v0.3.0';

/** Repository root (test/lab/../..). */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Build cache, outside the work tree, keyed by component and version. */
export const CACHE = process.env.POLYGRAPH_LAB_CACHE ?? join(homedir(), '.cache', 'polygraph-lab');
export const GO =
  process.env.POLYGRAPH_LAB_GO ??
  (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : 'go');

/** Per-checkout outputs: logs, admin kubeconfig, kubectl. Gitignored. */
export const LAB_DIR = join(REPO, '.lab');
export const LOG_DIR = join(LAB_DIR, 'logs');
export const KUBECONFIG = join(LAB_DIR, 'kubeconfig');
export const KUBECTL_LINK = join(LAB_DIR, 'bin', 'kubectl');

/** Machine-wide state of the running lab (there is one lab per machine). */
export const DATA_DIR = '/var/lib/polygraph-lab';
export const RUN_DIR = '/run/polygraph-lab';
export const PKI_DIR = join(DATA_DIR, 'pki');
export const PID_DIR = join(RUN_DIR, 'pids');
/** Host values the lab changed (sysctls, mounts), written once per lab lifetime, restored at down. */
export const HOST_SNAPSHOT = join(RUN_DIR, 'host-snapshot.json');

export const CLUSTER_CIDR = '10.244.0.0/16';
export const SERVICE_CIDR = '10.96.0.0/16';

/**
 * The IP families of the lab: 'ipv4' (the default) or 'dual' (lab:up --family dual): every pod
 * gets an IPv4 and an IPv6 address (IPv4 first), nodes and services have both.
 */
export type LabFamily = 'ipv4' | 'dual';
export const LAB_FAMILIES: readonly LabFamily[] = ['ipv4', 'dual'];

/*
 * IPv6 ranges of a dual-stack lab: unique local addresses (fd00::/8) that cannot collide with an
 * uplink's own prefix (here fd00::/64 on eth0): the 10.x of each IPv4 range reappears as fd00:10:….
 */
/** Pods, all nodes: each node gets a /64 of it (controller-manager --node-cidr-mask-size-ipv6). */
export const CLUSTER_CIDR6 = 'fd00:10:244::/56';
/** Services (the largest IPv6 service range the apiserver accepts is a /108; a /112 is plenty). */
export const SERVICE_CIDR6 = 'fd00:10:96::/112';
/** The nodes' network on k8s0 (node1 ::1 on the bridge, node2 ::2 in its namespace). */
export const NODE_CIDR6 = 'fd00:10:240::/64';
export const CLUSTER_DNS = '10.96.0.10';
export const API_PORT = 6443;

/** One node of the lab. Every node-specific value is here, so that nodes differ only in data. */
export interface LabNode {
  /** Node name (the kubelet's --hostname-override), also what scenarios pin pods to. */
  readonly name: string;
  /** Its IP on the bridge `k8s0` (the host's own address for node1). */
  readonly ip: string;
  readonly prefix: number;
  /** Its pod range: lab:up sets it on the Node when the kubelet has registered it. */
  readonly podCIDR: string;
  /** Its IPv6 address on `k8s0` (dual-stack lab only), prefix length `prefix6`. */
  readonly ip6: string;
  readonly prefix6: number;
  /** Its IPv6 pod range (dual-stack lab only), set with `podCIDR`. */
  readonly podCIDR6: string;
  /** The pods' bridge, made by the CNI bridge plugin in the node's network namespace. */
  readonly cniBridge: string;
  /** CNI network name (prefix of its files in /var/lib/cni/results). */
  readonly cniNetwork: string;
  readonly kubeletDir: string;
  readonly podLogsDir: string;
  readonly containerdRoot: string;
  readonly containerdState: string;
  readonly containerdSocket: string;
  readonly containerdConfig: string;
  readonly kubeletConfig: string;
  readonly cniConfDir: string;
  readonly ipamDir: string;
  /** Prefix of its daemons' names (pid files, logs): '' for node1, 'node2-' for node2. */
  readonly daemonPrefix: string;
  /** PKI client of its kubelet (system:node:<name>). */
  readonly kubeletClient: 'kubelet' | 'kubeletNode2';
  /**
   * Its own network namespace, wired to `k8s0` by a veth (`hostVeth` on the host side): undefined
   * for node1, which lives in the host's namespace.
   */
  readonly netns?: string;
  readonly hostVeth?: string;
  /** The kubelet's cgroupRoot ('/' for node1): kubepods/… below it in every v1 hierarchy. */
  readonly cgroupRoot: string;
}

export const BRIDGE = 'k8s0';

export const node: LabNode = {
  name: 'node1',
  /** On the empty bridge `k8s0` (this kernel has no dummy links). */
  ip: '10.240.0.1',
  prefix: 24,
  podCIDR: '10.244.0.0/24',
  ip6: 'fd00:10:240::1',
  prefix6: 64,
  podCIDR6: 'fd00:10:244::/64',
  cniBridge: 'cni0',
  cniNetwork: 'polygraph-lab',
  kubeletDir: join(DATA_DIR, 'kubelet'),
  podLogsDir: join(DATA_DIR, 'pod-logs'),
  containerdRoot: join(DATA_DIR, 'containerd'),
  containerdState: join(RUN_DIR, 'containerd'),
  containerdSocket: join(RUN_DIR, 'containerd', 'containerd.sock'),
  containerdConfig: join(RUN_DIR, 'containerd.toml'),
  kubeletConfig: join(RUN_DIR, 'kubelet.yaml'),
  cniConfDir: join(RUN_DIR, 'cni', 'net.d'),
  ipamDir: join(RUN_DIR, 'cni', 'networks'),
  daemonPrefix: '',
  kubeletClient: 'kubelet',
  cgroupRoot: '/',
};

const NODE2_DATA = join(DATA_DIR, 'node2');
const NODE2_RUN = join(RUN_DIR, 'node2');

/**
 * The second node (lab:up --nodes 2): its own network namespace with a veth on `k8s0`, its own
 * containerd, kubelet (cgroupRoot /node2) and kube-router, all started with `nsenter --net`.
 */
export const node2: LabNode = {
  name: 'node2',
  ip: '10.240.0.2',
  prefix: 24,
  podCIDR: '10.244.1.0/24',
  ip6: 'fd00:10:240::2',
  prefix6: 64,
  podCIDR6: 'fd00:10:244:1::/64',
  cniBridge: 'cni0',
  cniNetwork: 'polygraph-lab-node2',
  kubeletDir: join(NODE2_DATA, 'kubelet'),
  podLogsDir: join(NODE2_DATA, 'pod-logs'),
  containerdRoot: join(NODE2_DATA, 'containerd'),
  containerdState: join(NODE2_RUN, 'containerd'),
  containerdSocket: join(NODE2_RUN, 'containerd', 'containerd.sock'),
  containerdConfig: join(NODE2_RUN, 'containerd.toml'),
  kubeletConfig: join(NODE2_RUN, 'kubelet.yaml'),
  cniConfDir: join(NODE2_RUN, 'cni', 'net.d'),
  ipamDir: join(NODE2_RUN, 'cni', 'networks'),
  daemonPrefix: 'node2-',
  kubeletClient: 'kubeletNode2',
  netns: 'pg-node2',
  hostVeth: 'pg-node2-h',
  cgroupRoot: '/node2',
};

/** Every node the lab can run, in start order; lab:up --nodes N runs the first N. */
export const NODES: readonly LabNode[] = [node, node2];

/** The external host: a network namespace with a veth to the node, for ipBlock scenarios. */
export const external = {
  netns: 'pg-ext1',
  hostVeth: 'pg-ext1-h',
  hostIP: '10.250.0.1',
  ip: '10.250.0.10',
  prefix: 24,
  ports: [80, 443],
} as const;

export const NODE_GUARD_COMMENT =
  'polygraph-lab node guard: no packet of a node in its own network namespace leaves this machine';
export const GUARD_COMMENT = 'polygraph-lab guard: no pod packet leaves this machine';

/**
 * The lab's cgroup (cgroup2, path relative to the cgroup2 root): every daemon the lab starts runs
 * in it, and the host guard drops its traffic to the uplink.
 */
export const LAB_CGROUP = 'polygraph-lab';
export const HOST_GUARD_COMMENT =
  'polygraph-lab host guard: no packet of the lab daemons leaves this machine';
export const EXTERNAL_GUARD_COMMENT =
  'polygraph-lab external-host guard: no packet of the external host leaves this machine';

export const APT_PACKAGES = [
  'containerd',
  'runc',
  'containernetworking-plugins',
  'etcd-server',
  'iptables',
  'ipset',
  'conntrack',
  'openssl',
  'netcat-openbsd',
  'catatonit',
  'iproute2',
  'util-linux',
  'procps',
  'bash',
  'dash',
] as const;
