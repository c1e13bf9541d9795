/**
 * Every fixed value of the lab in one place: versions, addresses, directories.
 *
 * Node-specific values (name, IP, pod CIDR, directories) are grouped in `node` so a second node can
 * be added later as another value of the same shape.
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
export const CLUSTER_DNS = '10.96.0.10';
export const API_PORT = 6443;

export const node = {
  name: 'polygraph-lab-node1',
  /** On the empty bridge `k8s0` (this kernel has no dummy links). */
  bridge: 'k8s0',
  ip: '10.240.0.1',
  prefix: 24,
  /** What the controller-manager allocates to the first node (checked at start). */
  podCIDR: '10.244.0.0/24',
  cniBridge: 'cni0',
  cniNetwork: 'polygraph-lab',
  kubeletDir: join(DATA_DIR, 'kubelet'),
  containerdRoot: join(DATA_DIR, 'containerd'),
  containerdState: join(RUN_DIR, 'containerd'),
  containerdSocket: join(RUN_DIR, 'containerd', 'containerd.sock'),
  cniConfDir: join(RUN_DIR, 'cni', 'net.d'),
  ipamDir: join(RUN_DIR, 'cni', 'networks'),
} as const;

/** The external host: a network namespace with a veth to the node, for ipBlock scenarios. */
export const external = {
  netns: 'pg-ext1',
  hostVeth: 'pg-ext1-h',
  hostIP: '10.250.0.1',
  ip: '10.250.0.10',
  prefix: 24,
  ports: [80, 443],
} as const;

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
