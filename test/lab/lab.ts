/**
 * The lab: a one- or two-node Kubernetes cluster with kube-router enforcing NetworkPolicies, on
 * this machine (node2, with --nodes 2, in a network namespace of its own). `up()`, `down()`, `status()` and `setEnforcement()` are what `npm run lab:*` call; the
 * other exports are for tests (paths, addresses, the guards' counters, enforcement off and on).
 * See docs/LAB.md.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { stringify } from 'yaml';
import {
  agnhostVersion,
  buildKubeRouter,
  buildKubernetes,
  ensurePackages,
  kubeRouterBin,
  kubernetesBin,
  networkPolicyApiCrds,
} from './build.js';
import {
  API_PORT,
  CACHE,
  CLUSTER_CIDR,
  CLUSTER_CIDR6,
  CLUSTER_DNS,
  DATA_DIR,
  EXTERNAL_GUARD_COMMENT,
  GUARD_COMMENT,
  HOST_GUARD_COMMENT,
  KUBECONFIG,
  KUBECTL_LINK,
  KUBE_ROUTER_VERSION,
  KUBERNETES_VERSION,
  LAB_CGROUP,
  LAB_DIR,
  type LabFamily,
  LOG_DIR,
  NETWORK_POLICY_API_MODULE,
  NETWORK_POLICY_API_VERSION,
  NODE_GUARD_COMMENT,
  type LabNode,
  NODES,
  PKI_DIR,
  RUN_DIR,
  SERVICE_CIDR,
  SERVICE_CIDR6,
  external,
  node,
} from './config.js';
import {
  cleanCgroups,
  cleanFiles,
  cleanIpsets,
  cleanIptables,
  cleanKubeRouter,
  cleanLinks,
  cleanMounts,
  cleanNetns,
  createLabCgroup,
  createNodeCgroups,
  guardInstalled,
  hostGuardInstalled,
  inNetns,
  installGuard,
  installHostGuard,
  killLabCgroup,
  labCgroupDir,
  removeLabCgroup,
  restoreHost,
  rulePackets,
  setLabSysctls,
  setupExternalHost,
  setupNodeNetns,
  setupNodeNetwork,
  snapshotHost,
  uplink,
} from './host.js';
import { buildImages, imageRef } from './images.js';
import { kubeconfigFor, makePKI, pkiPath, writeKubeconfig } from './pki.js';
import {
  inLabCgroup,
  isOurs,
  killPids,
  logFile,
  readPid,
  recordedComponents,
  startDaemon,
  stopDaemon,
  strayProcesses,
} from './processes.js';
import { LabError, log, output, phase, run, tail, timings, tryRun, waitFor } from './util.js';

// ---------------------------------------------------------------------------------------------
// Facts for tests

export const kubeconfigPath = (): string => KUBECONFIG;
export const kubectlPath = (): string => KUBECTL_LINK;
export const nodeName = (): string => node.name;
export const nodeIP = (): string => node.ip;
/** The first node's pod range (what its CNI hands out). */
export const podCIDR = (): string => node.podCIDR;

export interface NodeFacts {
  name: string;
  ip: string;
  podCIDR: string;
  /** Its IPv6 address and pod range: on a dual-stack lab only. */
  ip6: string | undefined;
  podCIDR6: string | undefined;
  /** The node's own network namespace (undefined: the host's). */
  netns: string | undefined;
}
/** The nodes of the running lab (lab:up --nodes N), in start order. */
export function nodes(): NodeFacts[] {
  const dual = runningFamily() === 'dual';
  return runningNodes().map((n) => ({
    name: n.name,
    ip: n.ip,
    podCIDR: n.podCIDR,
    ip6: dual ? n.ip6 : undefined,
    podCIDR6: dual ? n.podCIDR6 : undefined,
    netns: n.netns,
  }));
}
/** The cluster's pod range (all nodes); the guard drops it towards the uplink. */
export const clusterCIDR = (): string => CLUSTER_CIDR;
/** The cluster's IPv6 pod range (a dual-stack lab's pods; the guard drops it towards the uplink). */
export const clusterCIDR6 = (): string => CLUSTER_CIDR6;
/** The IP families of the running lab: 'ipv4' or 'dual' (lab:up --family). */
export const family = (): LabFamily => runningFamily();
export { uplink };

export interface ExternalHost {
  name: string;
  ip: string;
  /** agnhost serve-hostname answers TCP and UDP on each. */
  ports: readonly number[];
}
export function externalHosts(): ExternalHost[] {
  return [{ name: external.netns, ip: external.ip, ports: external.ports }];
}

/** The lab's probe image (agnhost + netcat-openbsd + bash), tagged with the agnhost version. */
export async function probeImageRef(): Promise<string> {
  return imageRef('probe', await agnhostVersion());
}

/**
 * Packets dropped so far by the guard (mangle FORWARD, pod range → uplink): IPv4 by default; with
 * `6`, the IPv6 pod range's rule (a dual-stack lab; on an IPv4 lab, the rule for node1's bridge).
 */
export async function guardPackets(ipFamily: 4 | 6 = 4): Promise<number | undefined> {
  return rulePackets('mangle', GUARD_COMMENT, ipFamily);
}
export { rulePackets };

/** Packets of the lab's daemons dropped so far by the host guard (mangle OUTPUT, lab cgroup → uplink). */
export async function hostGuardPackets(ipFamily: 4 | 6 = 4): Promise<number | undefined> {
  return rulePackets('mangle', HOST_GUARD_COMMENT, ipFamily);
}

/** Packets of node2 (its daemons; not its pods: the guard's) dropped so far (mangle FORWARD, k8s0 → uplink). */
export async function nodeGuardPackets(ipFamily: 4 | 6 = 4): Promise<number | undefined> {
  return rulePackets('mangle', NODE_GUARD_COMMENT, ipFamily);
}

/** Packets of the external host dropped so far (mangle FORWARD, its veth → uplink). */
export async function externalGuardPackets(): Promise<number | undefined> {
  return rulePackets('mangle', EXTERNAL_GUARD_COMMENT);
}

/** The lab's cgroup: its path relative to the cgroup2 root (what `-m cgroup --path` names), its directory. */
export function labCgroup(): { path: string; dir: string } {
  return { path: LAB_CGROUP, dir: labCgroupDir() };
}

/**
 * Run a short command the way the lab runs its daemons: inside the lab's cgroup and, with `netns`,
 * inside that network namespace (the external host's: `externalHosts()[0].name`). For tests of
 * the host guard only; never point it at an address the lab did not make, except TEST-NET-3 with
 * a backstop rule in place.
 */
export async function runInLab(
  command: string,
  args: readonly string[],
  options: { netns?: string | undefined; input?: string; timeoutMs?: number } = {},
): Promise<{ exitCode: number | undefined; stdout: string; stderr: string }> {
  const [file, argv] = inLabCgroup(
    ...(options.netns === undefined
      ? ([command, [...args]] as const)
      : (['nsenter', [`--net=/run/netns/${options.netns}`, '--', command, ...args]] as const)),
  );
  const result = await execa(file, argv, {
    input: options.input ?? '',
    reject: false,
    timeout: options.timeoutMs ?? 10_000,
  });
  return {
    exitCode: result.exitCode,
    stdout: result.stdout,
    stderr: result.stderr,
  };
}

// ---------------------------------------------------------------------------------------------
// Components

const EXTERNAL_SERVERS = external.ports.map((p) => `external-host-${String(p)}`);

const containerdName = (n: LabNode): string => `${n.daemonPrefix}containerd`;
const kubeletName = (n: LabNode): string => `${n.daemonPrefix}kubelet`;
const kubeRouterName = (n: LabNode): string => `${n.daemonPrefix}kube-router`;
const isKubeRouter = (name: string): boolean => NODES.some((n) => kubeRouterName(n) === name);

/** Start order of a lab of these nodes; stop is the reverse, etcd last. */
function order(labNodes: readonly LabNode[]): string[] {
  return [
    'etcd',
    'kube-apiserver',
    'kube-controller-manager',
    'kube-scheduler',
    ...labNodes.map(containerdName),
    ...EXTERNAL_SERVERS,
    ...labNodes.map(kubeletName),
    ...labNodes.map(kubeRouterName),
  ];
}

/** How many nodes the lab was started with (written at lab:up; read by status, enforcement). */
const NODES_FILE = join(RUN_DIR, 'nodes');

/** The lab's IP families (written at lab:up; absent: an IPv4 lab). */
const FAMILY_FILE = join(RUN_DIR, 'family');

function runningFamily(): LabFamily {
  try {
    return readFileSync(FAMILY_FILE, 'utf8').trim() === 'dual' ? 'dual' : 'ipv4';
  } catch {
    return 'ipv4';
  }
}

function runningNodes(): LabNode[] {
  let count = 1;
  try {
    count = Number(readFileSync(NODES_FILE, 'utf8').trim()) || 1;
  } catch {
    // no lab, or one started before the file existed: one node
  }
  return NODES.slice(0, Math.max(1, Math.min(count, NODES.length)));
}

const KUBE_ROUTER_HEALTH_PORT = 20244;

/** Present while enforcement is off (lab:up --no-enforcement, lab:enforcement off). */
const ENFORCEMENT_OFF_FILE = join(RUN_DIR, 'enforcement-off');

function enforcementOn(): boolean {
  return !existsSync(ENFORCEMENT_OFF_FILE);
}

function kubeconfigFile(client: string): string {
  return join(PKI_DIR, `${client}.kubeconfig`);
}

/** GET on the apiserver with the admin certificate; resolves to [status, body]. */
function apiGet(path: string): Promise<[number, string]> {
  return apiRequest('GET', path);
}

/** One request to the API server as admin: [status code, body]. */
function apiRequest(
  method: string,
  path: string,
  body?: { contentType: string; text: string },
): Promise<[number, string]> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: node.ip,
        port: API_PORT,
        path,
        method,
        ...(body === undefined ? {} : { headers: { 'content-type': body.contentType } }),
        ca: readFileSync(pkiPath('ca.crt')),
        cert: readFileSync(pkiPath('admin.crt')),
        key: readFileSync(pkiPath('admin.key')),
        timeout: 3000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          resolve([res.statusCode ?? 0, body]);
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body?.text);
  });
}

interface NodeObject {
  spec?: { podCIDR?: string; podCIDRs?: string[]; taints?: { key: string; effect: string }[] };
  status?: { conditions?: { type: string; status: string; message?: string }[] };
}

async function readNode(n: LabNode): Promise<NodeObject | undefined> {
  const [code, body] = await apiGet(`/api/v1/nodes/${n.name}`);
  return code === 200 ? (JSON.parse(body) as NodeObject) : undefined;
}

function isReady(object: NodeObject | undefined): boolean {
  return (
    object?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false
  );
}

async function nodeReady(n: LabNode): Promise<boolean> {
  return isReady(await readNode(n));
}

/**
 * Ready, and no NoSchedule or NoExecute taint left: the controller-manager removes the
 * `node.kubernetes.io/not-ready` taint up to one monitor period (5 s) after the node turns Ready,
 * and until then a suite that lists the schedulable nodes (Cluster.listNodes) does not see it.
 */
async function nodeSchedulable(n: LabNode): Promise<boolean> {
  const object = await readNode(n);
  const tainted = (object?.spec?.taints ?? []).some(
    (t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute',
  );
  return isReady(object) && !tainted;
}

/**
 * The node's kube-router has its firewall chains in filter (it has finished a first full sync):
 * in iptables and, on a dual-stack lab, in ip6tables too.
 */
async function kubeRouterSynced(n: LabNode): Promise<boolean> {
  const bins = runningFamily() === 'dual' ? ['iptables', 'ip6tables'] : ['iptables'];
  for (const bin of bins) {
    const rules = await output(...inNetns(n.netns, bin, ['-w', '-S']));
    const synced = ['KUBE-ROUTER-INPUT', 'KUBE-ROUTER-FORWARD', 'KUBE-ROUTER-OUTPUT'].every((c) =>
      rules.includes(`-N ${c}`),
    );
    if (!synced) return false;
  }
  return true;
}

/** Anything of kube-router's left in the node's iptables or ip6tables (filter, any chain) or ipsets. */
async function kubeRouterStateLeft(n: LabNode): Promise<string[]> {
  const chains: string[] = [];
  for (const bin of ['iptables', 'ip6tables']) {
    chains.push(
      ...(await output(...inNetns(n.netns, bin, ['-w', '-S'])))
        .split('\n')
        .filter((l) => /^-N KUBE-(ROUTER-|POD-FW-|NWPLCY-)/.test(l))
        .map((l) => `${bin} ${l.slice(3)}`),
    );
  }
  const sets = (await output(...inNetns(n.netns, 'ipset', ['list', '-n'])))
    .split('\n')
    .filter((name) => /^(inet6:)?KUBE-/.test(name));
  return [...chains, ...sets];
}

/** Start a daemon and wait for `ready`, failing early (with its log) if it exits. */
async function startAndWait(
  name: string,
  command: string,
  args: readonly string[],
  ready: () => Promise<boolean>,
  timeoutMs: number,
  options: Parameters<typeof startDaemon>[3] = {},
): Promise<number> {
  const pid = startDaemon(name, command, args, options);
  const record = { pid, command };
  await waitFor(
    `${name} to be ready`,
    async () => {
      if (!isOurs(record)) throw new LabError(`${name} exited`, logFile(name));
      return ready();
    },
    timeoutMs,
  ).catch((error: unknown) => {
    if (error instanceof LabError && error.logFile !== undefined) throw error;
    throw new LabError(error instanceof Error ? error.message : String(error), logFile(name), {
      cause: error,
    });
  });
  return pid;
}

async function httpOk(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  } catch {
    return false;
  }
}

/** An https health endpoint with a self-signed serving certificate (controller-manager, scheduler). */
function httpsOkInsecure(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/healthz', rejectUnauthorized: false, timeout: 2000 },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on('error', () => {
      resolve(false);
    });
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

function containerdConfig(n: LabNode, pauseImage: string): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return `# Generated by test/lab/lab.ts
version = 2
root = "${n.containerdRoot}"
state = "${n.containerdState}"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]

[grpc]
  address = "${n.containerdSocket}"

[${cri}]
  sandbox_image = "${pauseImage}"
  # Root here lacks CAP_SYS_RESOURCE: a negative oom_score_adj fails every sandbox.
  restrict_oom_score_adj = true

[${cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[${cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[${cri}.containerd.runtimes.runc.options]
  SystemdCgroup = false

[${cri}.cni]
  bin_dir = "/usr/lib/cni"
  conf_dir = "${n.cniConfDir}"
`;
}

/** The node's pod ranges, as the controller-manager allocates them: IPv4 first. */
function podCIDRs(n: LabNode, labFamily: LabFamily): string[] {
  return labFamily === 'dual' ? [n.podCIDR, n.podCIDR6] : [n.podCIDR];
}

/**
 * bridge + host-local, one range per family (dual stack: the bridge plugin then gives `cni0` a
 * gateway address of each and every pod an address and a default route of each).
 */
function cniConflist(n: LabNode, labFamily: LabFamily): string {
  const dual = labFamily === 'dual';
  return JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: n.cniNetwork,
      plugins: [
        {
          type: 'bridge',
          bridge: n.cniBridge,
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            ranges: podCIDRs(n, labFamily).map((subnet) => [{ subnet }]),
            routes: [{ dst: '0.0.0.0/0' }, ...(dual ? [{ dst: '::/0' }] : [])],
            dataDir: n.ipamDir,
          },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  );
}

function kubeletConfig(n: LabNode): string {
  return stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: n.ip,
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true },
      x509: { clientCAFile: pkiPath('ca.crt') },
    },
    authorization: { mode: 'Webhook' },
    cgroupDriver: 'cgroupfs',
    containerRuntimeEndpoint: `unix://${n.containerdSocket}`,
    // node2's pods live under /node2 (its cgroup, made with cpusets before the kubelet starts).
    cgroupRoot: n.cgroupRoot,
    failSwapOn: false,
    // Images can never be pulled again here: never collect them.
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    evictionHard: {
      'memory.available': '100Mi',
      'nodefs.available': '1%',
      'imagefs.available': '1%',
    },
    resolvConf: join(DATA_DIR, 'resolv.conf'),
    clusterDNS: [CLUSTER_DNS],
    clusterDomain: 'cluster.local',
    podLogsDir: n.podLogsDir,
    healthzBindAddress: '127.0.0.1',
    healthzPort: 10248,
    readOnlyPort: 0,
    serializeImagePulls: false,
    maxPods: 200,
  });
}

// ---------------------------------------------------------------------------------------------
// cluster policy CRDs

const CLUSTER_POLICY_GROUP = 'policy.networking.k8s.io';

interface CrdList {
  items?: {
    metadata?: { name?: string; annotations?: Record<string, string> };
    spec?: { group?: string; versions?: { name: string; served: boolean }[] };
    status?: { conditions?: { type: string; status: string }[] };
  }[];
}

/** The Established CRDs of policy.networking.k8s.io, each with its served versions and bundle. */
async function clusterPolicyCrds(): Promise<string[]> {
  const [code, body] = await apiGet('/apis/apiextensions.k8s.io/v1/customresourcedefinitions');
  if (code !== 200) return [];
  return ((JSON.parse(body) as CrdList).items ?? [])
    .filter(
      (c) =>
        c.spec?.group === CLUSTER_POLICY_GROUP &&
        c.status?.conditions?.some((k) => k.type === 'Established' && k.status === 'True') === true,
    )
    .map((c) => {
      const versions = (c.spec?.versions ?? []).filter((v) => v.served).map((v) => v.name);
      const a = c.metadata?.annotations ?? {};
      return `${c.metadata?.name ?? '?'} (${versions.join(', ')}; ${a['policy.networking.k8s.io/channel'] ?? '?'} ${a['policy.networking.k8s.io/bundle-version'] ?? '?'})`;
    });
}

/**
 * Installs the CRDs of sigs.k8s.io/network-policy-api from the module cache (server-side apply:
 * idempotent) and waits until the API server serves them. The lab's kube-router does not enforce
 * them: a run of a cluster policy scenario here shows the cluster deviating.
 */
async function installClusterPolicyCrds(): Promise<void> {
  const files = await networkPolicyApiCrds();
  const kubectl = kubernetesBin('kubectl');
  const kubeconfig = `--kubeconfig=${kubeconfigFile('admin')}`;
  await run(kubectl, [
    kubeconfig,
    'apply',
    '--server-side',
    '--field-manager=polygraph-lab',
    ...files.flatMap((f) => ['-f', f]),
  ]);
  // Polled, not `kubectl wait --for=condition=Established`: that fails at once ("status.conditions
  // accessor error") on a CRD the API server has not given any condition yet.
  const established = await waitFor(
    `the ${String(files.length)} CRDs of ${NETWORK_POLICY_API_MODULE} to be Established`,
    async () => {
      const crds = await clusterPolicyCrds();
      return crds.length >= files.length && crds;
    },
    60_000,
  );
  log(`${NETWORK_POLICY_API_MODULE}@${NETWORK_POLICY_API_VERSION}: ${established.join(', ')}`);
}

// ---------------------------------------------------------------------------------------------
// status

export interface ComponentStatus {
  name: string;
  pid: number | undefined;
  alive: boolean;
}

export interface NodeStatus {
  name: string;
  ip: string;
  ready: boolean;
  kubeRouterSynced: boolean;
}

export interface LabStatus {
  components: ComponentStatus[];
  /** Every node of the lab Ready. */
  nodeReady: boolean;
  /** Every node's kube-router synced. */
  kubeRouterSynced: boolean;
  nodes: NodeStatus[];
  /** 'ipv4', or 'dual': pods, nodes and services have IPv4 and IPv6 addresses (lab:up --family). */
  family: LabFamily;
  /** The pod guard (mangle FORWARD, pod range → uplink; both pod ranges on a dual-stack lab). */
  guard: boolean;
  /** The lab's cgroup and the host guard (its traffic and the external host's → uplink). */
  hostGuard: boolean;
  /** 'off': kube-router deliberately not running, none of its rules or sets left. */
  enforcement: 'on' | 'off';
  /**
   * The cluster policy CRDs installed and Established, as `name (versions; channel, bundle)`;
   * kube-router does not enforce them.
   */
  clusterPolicyCrds: string[];
  /**
   * Everything alive, node Ready, both guards in place, and either kube-router synced (enforcement
   * on) or none of it running or left (enforcement off).
   */
  up: boolean;
}

export async function status(): Promise<LabStatus> {
  const labNodes = runningNodes();
  const labFamily = runningFamily();
  const components = order(labNodes).map((name): ComponentStatus => {
    const record = readPid(name);
    return { name, pid: record?.pid, alive: record !== undefined && isOurs(record) };
  });
  const alive = (name: string) => components.find((c) => c.name === name)?.alive === true;
  const apiUp = alive('kube-apiserver') && existsSync(pkiPath('admin.crt'));
  const nodeStates = await Promise.all(
    labNodes.map(async (n): Promise<NodeStatus & { stateLeft: number }> => ({
      name: n.name,
      ip: n.ip,
      ready: apiUp && (await nodeReady(n).catch(() => false)),
      kubeRouterSynced: alive(kubeRouterName(n)) && (await kubeRouterSynced(n)),
      stateLeft: alive(kubeRouterName(n)) ? 1 : (await kubeRouterStateLeft(n)).length,
    })),
  );
  const ready = nodeStates.every((n) => n.ready);
  const synced = nodeStates.every((n) => n.kubeRouterSynced);
  const guard = await guardInstalled(labFamily).catch(() => false);
  const hostGuard = await hostGuardInstalled(labFamily).catch(() => false);
  const enforcement = enforcementOn() ? 'on' : 'off';
  const others = components.filter((c) => !isKubeRouter(c.name)).every((c) => c.alive);
  const crds = ready ? await clusterPolicyCrds().catch(() => []) : [];
  // Off: no kube-router running and nothing of any left, on every node.
  const enforcementAsWanted =
    enforcement === 'on' ? synced : nodeStates.every((n) => n.stateLeft === 0);
  return {
    components,
    nodeReady: ready,
    kubeRouterSynced: synced,
    nodes: nodeStates.map(({ stateLeft: _, ...n }) => n),
    family: labFamily,
    guard,
    hostGuard,
    enforcement,
    clusterPolicyCrds: crds,
    up: others && ready && enforcementAsWanted && guard && hostGuard && crds.length > 0,
  };
}

export function formatStatus(s: LabStatus): string {
  const off = s.enforcement === 'off';
  const lines = s.components.map((c) => {
    const state = c.alive
      ? 'alive'
      : off && isKubeRouter(c.name)
        ? 'off (enforcement off)'
        : 'not running';
    const pid = c.pid === undefined ? '-'.padStart(7) : String(c.pid).padStart(7);
    return `  ${c.name.padEnd(24)} ${pid}  ${state}`;
  });
  const dual = s.family === 'dual';
  lines.push(
    dual
      ? `  IP families: IPv4 and IPv6 (dual-stack; pods ${CLUSTER_CIDR} and ${CLUSTER_CIDR6}, services ${SERVICE_CIDR} and ${SERVICE_CIDR6})`
      : `  IP families: IPv4 only (pods ${CLUSTER_CIDR}, services ${SERVICE_CIDR})`,
  );
  for (const n of s.nodes) {
    const synced = off ? '' : `; kube-router synced: ${n.kubeRouterSynced ? 'yes' : 'no'}`;
    const facts = NODES.find((x) => x.name === n.name);
    const ips = dual && facts !== undefined ? `${n.ip}, ${facts.ip6}` : n.ip;
    lines.push(`  node ${n.name} (${ips}) Ready: ${n.ready ? 'yes' : 'no'}${synced}`);
  }
  lines.push(
    off
      ? '  enforcement: OFF (kube-router not running: NetworkPolicies are accepted but not enforced)'
      : `  enforcement: on (kube-router synced on every node: ${s.kubeRouterSynced ? 'yes' : 'no'})`,
  );
  lines.push(
    s.clusterPolicyCrds.length > 0
      ? `  cluster policy CRDs (not enforced by kube-router): ${s.clusterPolicyCrds.join(', ')}`
      : '  cluster policy CRDs: MISSING',
  );
  const ranges = dual ? `${CLUSTER_CIDR} and ${CLUSTER_CIDR6}` : CLUSTER_CIDR;
  lines.push(
    `  guard (mangle FORWARD ${ranges} → uplink DROP): ${s.guard ? 'in place' : 'MISSING'}`,
  );
  lines.push(
    `  host guard (cgroup ${LAB_CGROUP}: mangle OUTPUT → uplink DROP; external host and k8s0 (node2): mangle FORWARD → uplink DROP): ${s.hostGuard ? 'in place' : 'MISSING'}`,
  );
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// down

/** Stop everything and remove every trace of the lab. Harmless when nothing runs. */
export async function down(): Promise<void> {
  // Whatever ran, one node or two: every node's daemons (a missing pid file is a no-op).
  const all = order(NODES);
  const known = new Set(all);
  const extra = recordedComponents().filter((n) => !known.has(n));
  for (const name of [...extra, ...[...all].reverse()]) {
    // etcd last, and only once the apiserver has exited (docs/LAB.md, shutdown order).
    // serve-hostname waits 60 s after SIGTERM ("awaiting pod deletion"): no grace for it.
    const grace =
      name === 'kube-apiserver' ? 20_000 : name.startsWith('external-host') ? 300 : 10_000;
    await stopDaemon(name, grace);
  }
  const strays = strayProcesses([CACHE, DATA_DIR, RUN_DIR]);
  if (strays.length > 0) {
    log(`killing ${strays.length} leftover lab processes: ${strays.join(' ')}`);
    await killPids(strays);
  }
  // Anything else the lab started (only its processes are in its cgroup); the host guard's rules
  // go later, with the other iptables rules, once nothing is left to send.
  const labKilled = await killLabCgroup();
  if (labKilled > 0) log(`killed ${labKilled} processes left in the lab's cgroup`);
  const cgroups = await cleanCgroups();
  if (cgroups.killed > 0) log(`killed ${cgroups.killed} container processes left in kubepods`);
  const mounts = await cleanMounts();
  const netns = await cleanNetns();
  const chains = await cleanIptables();
  const sets = await cleanIpsets();
  const links = await cleanLinks();
  cleanFiles();
  const labCgroupRemoved = await removeLabCgroup();
  const restored = await restoreHost();
  rmSync(DATA_DIR, { recursive: true, force: true });
  rmSync(RUN_DIR, { recursive: true, force: true });
  rmSync(KUBECONFIG, { force: true });
  const parts = [
    mounts > 0 ? `${mounts} mounts` : '',
    netns.length > 0 ? `${netns.length} netns` : '',
    chains.length > 0 ? `iptables ${chains.join(',')}` : '',
    sets.length > 0 ? `${sets.length} ipsets` : '',
    links.length > 0 ? `links ${links.join(',')}` : '',
    cgroups.removed > 0 ? `${cgroups.removed} cgroups` : '',
    labCgroupRemoved ? `cgroup ${LAB_CGROUP}` : '',
    restored.length > 0 ? `sysctls ${restored.join(',')}` : '',
  ].filter((p) => p !== '');
  log(parts.length > 0 ? `removed: ${parts.join('; ')}` : 'nothing of the lab was left');
}

// ---------------------------------------------------------------------------------------------
// up

export interface UpResult {
  alreadyUp: boolean;
  status: LabStatus;
}

export interface UpOptions {
  /** false: start everything but kube-router (a cluster that ignores NetworkPolicies). Default true. */
  enforcement?: boolean;
  /** How many nodes (1 or 2). Default 1. */
  nodes?: number;
  /** 'ipv4' (default) or 'dual': pods, nodes and services with IPv4 and IPv6 addresses. */
  family?: LabFamily;
}

export async function up(options: UpOptions = {}): Promise<UpResult> {
  const enforcement = options.enforcement ?? true;
  const count = options.nodes ?? 1;
  const labFamily = options.family ?? 'ipv4';
  if (!Number.isInteger(count) || count < 1 || count > NODES.length)
    throw new LabError(`the lab runs 1 to ${String(NODES.length)} nodes, not ${String(count)}`);
  let before = await status();
  if (before.up && before.nodes.length !== count) {
    log(
      `the lab is up with ${String(before.nodes.length)} node(s): restarting it with ${String(count)}`,
    );
  } else if (before.up && before.family !== labFamily) {
    log(`the lab is up with family ${before.family}: restarting it with ${labFamily}`);
  } else if (before.up) {
    writeCheckoutFiles(); // the lab may have been started from another checkout
    if ((before.enforcement === 'on') !== enforcement) {
      log(`the lab is up with enforcement ${before.enforcement}: switching it`);
      await setEnforcement(enforcement);
      before = await status();
    }
    process.stdout.write(
      `polygraph lab is already up (npm run lab:down to stop it)\n${formatStatus(before)}\n` +
        `  kubeconfig:   ${KUBECONFIG}\n`,
    );
    return { alreadyUp: true, status: before };
  }
  try {
    return {
      alreadyUp: false,
      status: await start(enforcement, NODES.slice(0, count), labFamily),
    };
  } catch (error) {
    if (error instanceof LabError && error.logFile !== undefined) {
      log(`last lines of ${error.logFile}:\n${tail(error.logFile)}`);
    }
    throw error;
  }
}

async function start(
  enforcement: boolean,
  labNodes: readonly LabNode[],
  labFamily: LabFamily,
): Promise<LabStatus> {
  const dual = labFamily === 'dual';
  await phase('clear leftovers of an earlier lab', down);
  await phase('debian packages', async () => {
    const installed = await ensurePackages();
    log(installed.length > 0 ? `installed ${installed.join(' ')}` : 'all present');
  });
  await phase(`build kubernetes ${KUBERNETES_VERSION} + agnhost`, async () => {
    log((await buildKubernetes()) ? 'built' : `cached in ${CACHE}`);
  });
  await phase(`build kube-router ${KUBE_ROUTER_VERSION}`, async () => {
    log((await buildKubeRouter()) ? 'built' : `cached in ${CACHE}`);
  });
  const agnhost = await agnhostVersion();

  mkdirSync(LOG_DIR, { recursive: true });
  for (const d of [DATA_DIR, RUN_DIR, ...labNodes.flatMap((n) => [n.cniConfDir, n.ipamDir])])
    mkdirSync(d, { recursive: true });
  writeFileSync(NODES_FILE, `${String(labNodes.length)}\n`);
  writeFileSync(FAMILY_FILE, `${labFamily}\n`);
  if (!enforcement) writeFileSync(ENFORCEMENT_OFF_FILE, 'kube-router is not started\n');

  await phase('host network, sysctls and guards', async () => {
    snapshotHost();
    setLabSysctls(labFamily);
    await setupNodeNetwork(labFamily);
    // Before any pod exists: nothing from the pod range may leave through the uplink.
    await installGuard(labFamily);
    const dev = await uplink();
    log(
      `guard: mangle FORWARD -s ${CLUSTER_CIDR} -o ${dev} -j DROP` +
        (dual ? `; ip6tables -s ${CLUSTER_CIDR6} and -i ${node.cniBridge} -o ${dev} -j DROP` : ''),
    );
    // Before any daemon starts: every one starts inside this cgroup, whose traffic to the uplink
    // the host guard drops (the rule resolves the cgroup when added: create it first).
    createLabCgroup();
    await installHostGuard(labFamily);
    log(
      `host guard: mangle OUTPUT -m cgroup --path ${LAB_CGROUP} -o ${dev} -j DROP; ` +
        `mangle FORWARD -i ${external.hostVeth}|k8s0 -o ${dev} -j DROP (IPv4 and IPv6)`,
    );
    // The other nodes: own network namespace on k8s0, their kubelet's cgroupRoot.
    for (const n of labNodes.slice(1)) {
      await setupNodeNetns(n, labFamily);
      createNodeCgroups(n);
      log(
        `${n.name}: ${n.ip}${dual ? ` and ${n.ip6}` : ''} in netns ${String(n.netns)}, ` +
          `pod CIDR ${podCIDRs(n, labFamily).join(' and ')} routed via it`,
      );
    }
  });

  await phase('pki and kubeconfigs', async () => {
    await makePKI();
    for (const c of [
      'admin',
      'kubelet',
      'kubeletNode2',
      'controllerManager',
      'scheduler',
      'kubeRouter',
    ] as const) {
      writeKubeconfig(c, kubeconfigFile(c));
    }
    writeFileSync(join(DATA_DIR, 'resolv.conf'), '');
  });

  const serviceCIDRs = dual ? `${SERVICE_CIDR},${SERVICE_CIDR6}` : SERVICE_CIDR;

  await phase('etcd', () =>
    startAndWait(
      'etcd',
      '/usr/bin/etcd',
      [
        '--name=lab',
        `--data-dir=${join(DATA_DIR, 'etcd')}`,
        '--listen-client-urls=http://127.0.0.1:2379',
        '--advertise-client-urls=http://127.0.0.1:2379',
        '--listen-peer-urls=http://127.0.0.1:2380',
        '--initial-advertise-peer-urls=http://127.0.0.1:2380',
        '--initial-cluster=lab=http://127.0.0.1:2380',
        '--listen-metrics-urls=http://127.0.0.1:2381',
      ],
      () => httpOk('http://127.0.0.1:2381/health'),
      30_000,
    ),
  );

  await phase('kube-apiserver', () =>
    startAndWait(
      'kube-apiserver',
      kubernetesBin('kube-apiserver'),
      [
        `--advertise-address=${node.ip}`,
        `--bind-address=${node.ip}`,
        `--secure-port=${String(API_PORT)}`,
        '--etcd-servers=http://127.0.0.1:2379',
        `--service-cluster-ip-range=${serviceCIDRs}`,
        '--authorization-mode=Node,RBAC',
        '--enable-admission-plugins=NodeRestriction',
        `--client-ca-file=${pkiPath('ca.crt')}`,
        `--tls-cert-file=${pkiPath('apiserver.crt')}`,
        `--tls-private-key-file=${pkiPath('apiserver.key')}`,
        `--kubelet-client-certificate=${pkiPath('apiserverKubeletClient.crt')}`,
        `--kubelet-client-key=${pkiPath('apiserverKubeletClient.key')}`,
        `--service-account-key-file=${pkiPath('sa.pub')}`,
        `--service-account-signing-key-file=${pkiPath('sa.key')}`,
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        // Reach kubelets by node IP: a node name is not in any DNS here (and must not be looked up).
        '--kubelet-preferred-address-types=InternalIP',
        '--allow-privileged=true',
        '--profiling=false',
        '--v=1',
      ],
      async () => (await apiGet('/readyz').catch(() => [0, ''] as const))[0] === 200,
      90_000,
    ),
  );

  await phase('cluster policy CRDs', installClusterPolicyCrds);

  await phase('kube-controller-manager and kube-scheduler', async () => {
    await Promise.all([
      startAndWait(
        'kube-controller-manager',
        kubernetesBin('kube-controller-manager'),
        [
          `--kubeconfig=${kubeconfigFile('controllerManager')}`,
          `--authentication-kubeconfig=${kubeconfigFile('controllerManager')}`,
          `--authorization-kubeconfig=${kubeconfigFile('controllerManager')}`,
          '--bind-address=127.0.0.1',
          '--leader-elect=false',
          // lab:up sets each node's pod CIDRs itself (kubelet phase).
          '--allocate-node-cidrs=false',
          `--service-cluster-ip-range=${serviceCIDRs}`,
          `--service-account-private-key-file=${pkiPath('sa.key')}`,
          `--root-ca-file=${pkiPath('ca.crt')}`,
          `--cluster-signing-cert-file=${pkiPath('ca.crt')}`,
          `--cluster-signing-key-file=${pkiPath('ca.key')}`,
          '--use-service-account-credentials=true',
          '--configure-cloud-routes=false',
          '--v=1',
        ],
        () => httpsOkInsecure(10257),
        60_000,
      ),
      startAndWait(
        'kube-scheduler',
        kubernetesBin('kube-scheduler'),
        [
          `--kubeconfig=${kubeconfigFile('scheduler')}`,
          `--authentication-kubeconfig=${kubeconfigFile('scheduler')}`,
          `--authorization-kubeconfig=${kubeconfigFile('scheduler')}`,
          '--bind-address=127.0.0.1',
          '--leader-elect=false',
          '--v=1',
        ],
        () => httpsOkInsecure(10259),
        60_000,
      ),
    ]);
  });

  const ctr = (n: LabNode, ...args: string[]) =>
    run('ctr', ['--address', n.containerdSocket, '--namespace', 'k8s.io', ...args]);

  await phase('containerd', () =>
    Promise.all(
      labNodes.map(async (n) => {
        mkdirSync(dirname(n.containerdConfig), { recursive: true });
        writeFileSync(n.containerdConfig, containerdConfig(n, imageRef('pause', agnhost)));
        writeFileSync(join(n.cniConfDir, '10-polygraph-lab.conflist'), cniConflist(n, labFamily));
        await startAndWait(
          containerdName(n),
          '/usr/bin/containerd',
          ['--config', n.containerdConfig],
          () => tryRun('ctr', ['--address', n.containerdSocket, 'version']),
          30_000,
          n.netns === undefined ? {} : { netns: n.netns },
        );
      }),
    ),
  );

  await phase('images (build and import)', async () => {
    const images = await buildImages(kubernetesBin('agnhost'), agnhost);
    // Every node's containerd has its own image store: the same tars into each.
    await Promise.all(
      labNodes.map(async (n) => {
        for (const image of images) {
          await ctr(n, 'images', 'import', image.tar);
          log(`imported ${image.ref} into ${n.name}`);
        }
      }),
    );
  });

  await phase('external host', async () => {
    await setupExternalHost();
    for (const [i, port] of external.ports.entries()) {
      const name = EXTERNAL_SERVERS[i] ?? `external-host-${String(port)}`;
      const args = ['serve-hostname', '--tcp', '--udp', '--http=false', `--port=${String(port)}`];
      startDaemon(name, kubernetesBin('agnhost'), args, { netns: external.netns });
    }
    await waitFor(
      'external host servers to listen',
      async () => {
        const listening = await output('ip', ['netns', 'exec', external.netns, 'ss', '-ltnH']);
        return external.ports.every((p) => listening.includes(`:${String(p)} `));
      },
      10_000,
    );
    log(
      `external host ${external.ip} (netns ${external.netns}) serves TCP+UDP ${external.ports.join(', ')}`,
    );
  });

  await phase('kubelet (until every node schedules)', async () => {
    // One at a time until each has registered, then the lab gives it the pod CIDRs its CNI
    // conflist names (the controller-manager allocates none: its allocator can skip a range when
    // an allocation races with the node's registration). Then all until Ready.
    for (const n of labNodes) {
      writeFileSync(n.kubeletConfig, kubeletConfig(n));
      await startAndWait(
        kubeletName(n),
        kubernetesBin('kubelet'),
        [
          `--config=${n.kubeletConfig}`,
          `--kubeconfig=${kubeconfigFile(n.kubeletClient)}`,
          `--root-dir=${n.kubeletDir}`,
          `--hostname-override=${n.name}`,
          // Dual stack: both InternalIPs on the Node (kube-router reads its IPv6 address there).
          `--node-ip=${dual ? `${n.ip},${n.ip6}` : n.ip}`,
          '--v=1',
        ],
        async () => (await readNode(n)) !== undefined,
        120_000,
        n.netns === undefined ? {} : { netns: n.netns },
      );
      // Every family's range, in order (IPv4 first): what the conflist hands out.
      const want = podCIDRs(n, labFamily);
      if ((await readNode(n))?.spec?.podCIDR === undefined) {
        const [code, body] = await apiRequest('PATCH', `/api/v1/nodes/${n.name}`, {
          contentType: 'application/strategic-merge-patch+json',
          text: JSON.stringify({ spec: { podCIDR: want[0], podCIDRs: want } }),
        });
        if (code !== 200)
          throw new LabError(
            `setting the pod CIDRs of node ${n.name}: HTTP ${String(code)} ${body}`,
          );
      }
      const spec = (await readNode(n))?.spec;
      const got = spec?.podCIDRs ?? (spec?.podCIDR === undefined ? [] : [spec.podCIDR]);
      if (got.join(',') !== want.join(',')) {
        throw new LabError(
          `node ${n.name} got pod CIDRs ${got.join(', ') || 'none'}, but its CNI conflist hands out ${want.join(', ')}`,
        );
      }
    }
    await waitFor(
      `nodes ${labNodes.map((n) => n.name).join(', ')} to be Ready and schedulable`,
      async () => {
        for (const n of labNodes) {
          const record = readPid(kubeletName(n));
          if (record === undefined || !isOurs(record))
            throw new LabError(`${kubeletName(n)} exited`, logFile(kubeletName(n)));
        }
        return (await Promise.all(labNodes.map(nodeSchedulable))).every(Boolean);
      },
      120_000,
    ).catch((error: unknown) => {
      if (error instanceof LabError && error.logFile !== undefined) throw error;
      throw new LabError(
        error instanceof Error ? error.message : String(error),
        logFile('kubelet'),
      );
    });
  });

  if (enforcement) {
    await phase('kube-router (until synced on every node)', () =>
      Promise.all(labNodes.map(startKubeRouter)),
    );
  } else {
    log('kube-router not started: NetworkPolicies will not be enforced (--no-enforcement)');
  }

  writeCheckoutFiles();

  const final = await status();
  if (!final.up) throw new LabError(`the lab did not come up:\n${formatStatus(final)}`);
  printSummary(final, agnhost);
  return final;
}

function startKubeRouter(n: LabNode): Promise<number> {
  return startAndWait(
    kubeRouterName(n),
    kubeRouterBin,
    [
      '--run-router=false',
      '--run-service-proxy=false',
      '--run-firewall=true',
      '--run-loadbalancer=false',
      '--enable-cni=false',
      '--enable-ipv4=true',
      // Dual stack: its rules in ip6tables and inet6 ipsets as well. It reads the node's IPv6
      // InternalIP from the Node object (refuses to start without one), and wants one service
      // range of each family (its default is one IPv4 range).
      ...(runningFamily() === 'dual'
        ? ['--enable-ipv6=true', `--service-cluster-ip-range=${SERVICE_CIDR},${SERVICE_CIDR6}`]
        : ['--enable-ipv6=false']),
      `--hostname-override=${n.name}`,
      `--kubeconfig=${kubeconfigFile('kubeRouter')}`,
      `--health-port=${String(KUBE_ROUTER_HEALTH_PORT)}`,
      '--metrics-port=0',
      '--v=1',
    ],
    () => kubeRouterSynced(n),
    60_000,
    n.netns === undefined ? {} : { netns: n.netns },
  );
}

// ---------------------------------------------------------------------------------------------
// enforcement off / on

/**
 * Switch NetworkPolicy enforcement of the running lab. Off: stop kube-router, then remove its
 * chains, the rules jumping to them and its ipsets, and check none is left — from then on nothing
 * is enforced (policies are still accepted by the apiserver). On: start kube-router and wait until
 * it has synced (its chains exist; it then enforces the policies already present). Idempotent.
 */
export async function setEnforcement(on: boolean): Promise<void> {
  const s = await status();
  const apiAlive = s.components.find((c) => c.name === 'kube-apiserver')?.alive === true;
  if (!apiAlive || !s.nodeReady || !s.guard || !s.hostGuard) {
    throw new LabError(`the lab is not up (npm run lab:up):\n${formatStatus(s)}`);
  }
  const start = performance.now();
  const took = () => `${((performance.now() - start) / 1000).toFixed(1)} s`;
  const labNodes = runningNodes();
  if (on) {
    rmSync(ENFORCEMENT_OFF_FILE, { force: true });
    await Promise.all(
      labNodes.map(async (n) => {
        const record = readPid(kubeRouterName(n));
        if (record !== undefined && isOurs(record) && (await kubeRouterSynced(n))) return;
        await stopDaemon(kubeRouterName(n));
        await startKubeRouter(n);
      }),
    );
    log(
      `enforcement on: kube-router running and synced on ${String(labNodes.length)} node(s) in ${took()}`,
    );
    return;
  }
  writeFileSync(ENFORCEMENT_OFF_FILE, 'kube-router stopped by lab:enforcement off\n');
  const removed = await Promise.all(
    labNodes.map(async (n) => {
      await stopDaemon(kubeRouterName(n));
      const record = readPid(kubeRouterName(n));
      if (record !== undefined && isOurs(record)) {
        throw new LabError(`${kubeRouterName(n)} would not stop`, logFile(kubeRouterName(n)));
      }
      const cleaned = await cleanKubeRouter(n.netns);
      const left = await kubeRouterStateLeft(n);
      if (left.length > 0) {
        throw new LabError(
          `kube-router's rules or sets are still there on ${n.name}: ${left.join(', ')}`,
        );
      }
      return `${n.name}: ${cleaned.tables.join(', ') || 'no table'} and ${String(cleaned.sets.length)} ipsets`;
    }),
  );
  log(
    `enforcement off in ${took()}: kube-router stopped; removed its rules and sets (${removed.join('; ')})`,
  );
}

/** This checkout's admin kubeconfig and kubectl (the lab itself is machine-wide). */
function writeCheckoutFiles(): void {
  mkdirSync(join(LAB_DIR, 'bin'), { recursive: true });
  writeFileSync(KUBECONFIG, kubeconfigFor('admin'), { mode: 0o600 });
  rmSync(KUBECTL_LINK, { force: true });
  symlinkSync(kubernetesBin('kubectl'), KUBECTL_LINK);
}

function printSummary(s: LabStatus, agnhost: string): void {
  const total = timings.reduce((sum, t) => sum + t.seconds, 0);
  const lines = [
    '',
    'polygraph lab is up',
    formatStatus(s),
    `  kubeconfig:   ${KUBECONFIG}`,
    `  kubectl:      ${KUBECTL_LINK} (Kubernetes ${KUBERNETES_VERSION})`,
    ...s.nodes.map((n) => {
      const facts = NODES.find((x) => x.name === n.name);
      const where = facts?.netns === undefined ? 'host network' : `netns ${facts.netns}`;
      const dual = s.family === 'dual' && facts !== undefined;
      const ips = dual ? `${n.ip} and ${facts.ip6}` : n.ip;
      const cidrs = dual ? `${facts.podCIDR} and ${facts.podCIDR6}` : (facts?.podCIDR ?? '?');
      return `  node:         ${n.name} ${ips} (${where}), pod CIDR ${cidrs}`;
    }),
    `  probe image:  ${imageRef('probe', agnhost)}; pause image ${imageRef('pause', agnhost)}`,
    `  external:     ${external.ip} (netns ${external.netns}) TCP+UDP ${external.ports.join(', ')}`,
    `  logs:         ${LOG_DIR}`,
    '  phases:',
    ...timings.map((t) => `    ${t.phase.padEnd(45)} ${t.seconds.toFixed(1).padStart(7)} s`),
    `    ${'total'.padEnd(45)} ${total.toFixed(1).padStart(7)} s`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}
