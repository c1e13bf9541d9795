/**
 * What the lab changes on the host besides processes: sysctls, links, routes, the guards, the lab's
 * cgroup, the external host's network namespace, iptables chains, ipsets, mounts and cgroups — and
 * how each is undone. Every cleanup here is idempotent: it runs at lab:down and before every lab:up.
 */
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  rmdirSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import {
  BRIDGE,
  CLUSTER_CIDR,
  CLUSTER_CIDR6,
  DATA_DIR,
  EXTERNAL_GUARD_COMMENT,
  GUARD_COMMENT,
  HOST_GUARD_COMMENT,
  HOST_SNAPSHOT,
  LAB_CGROUP,
  type LabFamily,
  type LabNode,
  NODES,
  NODE_GUARD_COMMENT,
  RUN_DIR,
  SERVICE_CIDR,
  SERVICE_CIDR6,
  external,
  node,
} from './config.js';
import { log, output, run, sleep, tryRun } from './util.js';

/** Sysctls the lab sets, and those kubelet sets host-wide on its own (recorded to be restored). */
export const LAB_SYSCTLS: Record<string, string> = {
  'net.ipv4.ip_forward': '1',
  'net.bridge.bridge-nf-call-iptables': '1',
  'net.bridge.bridge-nf-call-ip6tables': '1',
  // Without this, only ~6 of a burst of denied probes get kube-router's reject (docs/LAB.md).
  'net.ipv4.icmp_ratelimit': '0',
};
/** What a dual-stack lab sets on top: IPv6 forwarding, and no rate limit on kube-router's ICMPv6 rejects. */
export const LAB_SYSCTLS_DUAL: Record<string, string> = {
  'net.ipv6.conf.all.forwarding': '1',
  'net.ipv6.icmp.ratelimit': '0',
};
/**
 * Written by the kernel when `net.ipv6.conf.all.forwarding` is: `default` and every interface's
 * own `forwarding` follow it. Recorded too (every interface present before the lab), and restored
 * after `all`, so that each is back to what it was.
 */
function ipv6ForwardingSysctls(): string[] {
  const dir = '/proc/sys/net/ipv6/conf';
  const names = existsSync(dir) ? readdirSync(dir).filter((n) => n !== 'all') : [];
  // `default` first, then the interfaces ('.' in a name would be '/' in the key: skip those).
  return names
    .filter((n) => !n.includes('.'))
    .sort((a, b) => Number(b === 'default') - Number(a === 'default'))
    .map((n) => `net.ipv6.conf.${n}.forwarding`);
}
const KUBELET_SYSCTLS = [
  'kernel.panic',
  'kernel.panic_on_oops',
  'vm.overcommit_memory',
  'vm.panic_on_oom',
  'kernel.keys.root_maxkeys',
  'kernel.keys.root_maxbytes',
];

interface HostSnapshot {
  sysctls: Record<string, string>;
  /** Whether /run/netns was a mount point before the lab (ip netns add makes it one). */
  netnsWasMount: boolean;
  /** Directories that kubelet or the CNI plugins create outside the lab's own, if they were absent. */
  absentDirs?: string[];
}

/** Made by kubelet (hard-coded) and libcni; removed at down if the lab made them and they are empty. */
const FOREIGN_DIRS = ['/var/log/containers', '/var/lib/cni/results', '/var/lib/cni'];

function sysctlPath(key: string): string {
  return join('/proc/sys', ...key.split('.'));
}

function readSysctl(key: string): string | undefined {
  try {
    return readFileSync(sysctlPath(key), 'utf8').trim();
  } catch {
    return undefined;
  }
}

function writeSysctl(key: string, value: string): void {
  writeFileSync(sysctlPath(key), `${value}\n`);
}

function mountPoints(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => p !== undefined)
    .map((p) => p.replace(/\\040/g, ' '));
}

/**
 * Record host values before the lab changes them. A snapshot left by a killed lab is kept: it holds
 * the values from before that lab, which are the ones to restore.
 */
export function snapshotHost(): void {
  if (existsSync(HOST_SNAPSHOT)) return;
  const sysctls: Record<string, string> = {};
  // Both families' keys whatever the lab's family: restoring a value that did not change is a no-op.
  // `all.forwarding` before the keys it overwrites (restored in this order).
  const keys = [
    ...Object.keys(LAB_SYSCTLS),
    ...Object.keys(LAB_SYSCTLS_DUAL),
    ...ipv6ForwardingSysctls(),
    ...KUBELET_SYSCTLS,
  ];
  for (const key of keys) {
    const value = readSysctl(key);
    if (value !== undefined) sysctls[key] = value;
  }
  mkdirSync(RUN_DIR, { recursive: true });
  const snapshot: HostSnapshot = {
    sysctls,
    netnsWasMount: mountPoints().includes('/run/netns'),
    absentDirs: FOREIGN_DIRS.filter((d) => !existsSync(d)),
  };
  writeFileSync(HOST_SNAPSHOT, JSON.stringify(snapshot, null, 2));
}

export function setLabSysctls(family: LabFamily): void {
  for (const [key, value] of Object.entries(LAB_SYSCTLS)) writeSysctl(key, value);
  if (family === 'dual') {
    for (const [key, value] of Object.entries(LAB_SYSCTLS_DUAL)) writeSysctl(key, value);
  }
}

/** Restore recorded sysctls and /run/netns; returns the keys that changed back. */
export async function restoreHost(): Promise<string[]> {
  if (!existsSync(HOST_SNAPSHOT)) return [];
  const snapshot = JSON.parse(readFileSync(HOST_SNAPSHOT, 'utf8')) as HostSnapshot;
  const restored: string[] = [];
  for (const [key, value] of Object.entries(snapshot.sysctls)) {
    const now = readSysctl(key);
    // undefined: an interface that is gone since (nothing to restore).
    if (now !== undefined && now !== value) {
      writeSysctl(key, value);
      restored.push(`${key}=${value}`);
    }
  }
  if (!snapshot.netnsWasMount && mountPoints().includes('/run/netns')) {
    const left = existsSync('/run/netns') ? readdirSync('/run/netns') : [];
    if (left.length === 0) await tryRun('umount', ['/run/netns']);
  }
  for (const dir of snapshot.absentDirs ?? []) {
    try {
      rmdirSync(dir); // only if empty
    } catch {
      // not empty (someone else uses it) or absent
    }
  }
  rmSync(HOST_SNAPSHOT, { force: true });
  return restored;
}

/** Interface of the IPv4 default route: where a packet would leave this machine. */
export async function uplink(): Promise<string> {
  const routes = JSON.parse((await output('ip', ['-j', 'route', 'show', 'default'])) || '[]') as {
    dev?: string;
  }[];
  const dev = routes[0]?.dev;
  if (dev === undefined) throw new Error('no IPv4 default route: cannot tell the uplink');
  return dev;
}

async function linkExists(name: string): Promise<boolean> {
  return tryRun('ip', ['link', 'show', 'dev', name]);
}

/** `file args` inside a network namespace (nsenter --net: /sys and the cgroup mounts stay visible). */
export function inNetns(
  netns: string | undefined,
  file: string,
  args: readonly string[],
): [string, string[]] {
  return netns === undefined
    ? [file, [...args]]
    : ['nsenter', [`--net=/run/netns/${netns}`, '--', file, ...args]];
}

/**
 * Node IP on an empty bridge (no dummy links in this kernel); service range black-holed. Dual
 * stack: the node's IPv6 address too (no duplicate address detection: usable at once) and the
 * IPv6 service range black-holed as well.
 */
export async function setupNodeNetwork(family: LabFamily): Promise<void> {
  if (!(await linkExists(BRIDGE))) {
    await run('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
  }
  await run('ip', ['addr', 'replace', `${node.ip}/${node.prefix}`, 'dev', BRIDGE]);
  if (family === 'dual') {
    await run('ip', [
      '-6',
      'addr',
      'replace',
      `${node.ip6}/${node.prefix6}`,
      'dev',
      BRIDGE,
      'nodad',
    ]);
  }
  await run('ip', ['link', 'set', BRIDGE, 'up']);
  // No kube-proxy: nothing translates Service IPs, so none may be routed out of the uplink.
  await run('ip', ['route', 'replace', 'blackhole', SERVICE_CIDR]);
  if (family === 'dual') await run('ip', ['-6', 'route', 'replace', 'blackhole', SERVICE_CIDR6]);
}

/** Sysctls a node in its own network namespace needs there (they are per namespace). */
const NODE_NETNS_SYSCTLS: Record<string, string> = {
  'net.ipv4.ip_forward': '1',
  'net.bridge.bridge-nf-call-iptables': '1',
  'net.bridge.bridge-nf-call-ip6tables': '1',
  'net.ipv4.icmp_ratelimit': '0',
};
const NODE_NETNS_SYSCTLS_DUAL: Record<string, string> = {
  'net.ipv6.conf.all.forwarding': '1',
  'net.ipv6.icmp.ratelimit': '0',
};

/**
 * A node in its own network namespace: a veth whose host end is a port of `k8s0`, the node's IP on
 * the other end, default route via the host (node1's IP); on the host, a route to the node's pod
 * CIDR via the node. Its sysctls are set inside the namespace.
 */
export async function setupNodeNetns(n: LabNode, family: LabFamily): Promise<void> {
  const { netns, hostVeth } = n;
  if (netns === undefined || hostVeth === undefined) return;
  await run('ip', ['netns', 'add', netns]);
  await run('ip', [
    'link',
    'add',
    hostVeth,
    'type',
    'veth',
    'peer',
    'name',
    'eth0',
    'netns',
    netns,
  ]);
  await run('ip', ['link', 'set', hostVeth, 'master', BRIDGE]);
  await run('ip', ['link', 'set', hostVeth, 'up']);
  const inNs = (...args: string[]) => run('ip', ['-n', netns, ...args]);
  const dual = family === 'dual';
  await inNs('addr', 'add', `${n.ip}/${n.prefix}`, 'dev', 'eth0');
  if (dual) await inNs('-6', 'addr', 'add', `${n.ip6}/${n.prefix6}`, 'dev', 'eth0', 'nodad');
  await inNs('link', 'set', 'eth0', 'up');
  await inNs('link', 'set', 'lo', 'up');
  await inNs('route', 'add', 'default', 'via', node.ip);
  if (dual) await inNs('-6', 'route', 'add', 'default', 'via', node.ip6, 'dev', 'eth0');
  const sysctls = { ...NODE_NETNS_SYSCTLS, ...(dual ? NODE_NETNS_SYSCTLS_DUAL : {}) };
  const writes = Object.entries(sysctls)
    .map(([key, value]) => `echo ${value} > ${sysctlPath(key)}`)
    .join(' && ');
  await run(...inNetns(netns, '/bin/sh', ['-c', writes]));
  await run('ip', ['route', 'replace', n.podCIDR, 'via', n.ip, 'dev', BRIDGE]);
  if (dual) await run('ip', ['-6', 'route', 'replace', n.podCIDR6, 'via', n.ip6, 'dev', BRIDGE]);
}

/**
 * The kubelet's cgroupRoot of a node that is not the host's own: it must exist in every v1
 * hierarchy before the kubelet starts, with cpuset.cpus/mems copied from the parent (an empty
 * cpuset admits no task).
 */
export function createNodeCgroups(n: LabNode): void {
  if (n.cgroupRoot === '/') return;
  const base = '/sys/fs/cgroup';
  // cgroup2 only: one hierarchy at the base; hybrid/v1: one per mounted hierarchy below it.
  const hierarchies = existsSync(join(base, 'cgroup.procs')) ? [base] : cgroupRoots().slice(1);
  for (const root of hierarchies) {
    const dir = join(root, n.cgroupRoot);
    mkdirSync(dir, { recursive: true });
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      const parent = join(root, file);
      if (existsSync(parent) && existsSync(join(dir, file))) {
        writeFileSync(join(dir, file), readFileSync(parent, 'utf8'));
      }
    }
  }
}

/**
 * The pod guard's rules, in the order they end up in mangle FORWARD: [binary, rule]. IPv4: the
 * pod range. IPv6: whatever comes in from node1's pods' bridge and, on a dual-stack lab, first the
 * IPv6 pod range (node2's pods reach the host from k8s0 and are matched by their source).
 */
function guardRules(dev: string, family: LabFamily): ['iptables' | 'ip6tables', string[]][] {
  const rule = (match: string[]) => [
    ...match,
    '-o',
    dev,
    '-m',
    'comment',
    '--comment',
    GUARD_COMMENT,
    '-j',
    'DROP',
  ];
  const rules: ['iptables' | 'ip6tables', string[]][] = [['iptables', rule(['-s', CLUSTER_CIDR])]];
  if (family === 'dual') rules.push(['ip6tables', rule(['-s', CLUSTER_CIDR6])]);
  rules.push(['ip6tables', rule(['-i', node.cniBridge])]);
  return rules;
}

/**
 * The guard: drop everything from the pod range that would leave through the uplink, in mangle
 * FORWARD (evaluated before filter FORWARD, where kube-router inserts its ACCEPT rules first).
 * On an IPv4 lab pods have no IPv6 address; the IPv6 rule (`-i cni0`) is there in case they
 * ever do. On a dual-stack lab the IPv6 pod range is dropped as the IPv4 one is.
 */
export async function installGuard(family: LabFamily): Promise<void> {
  const dev = await uplink();
  // Inserted last first, so that each ends up in the order of guardRules.
  for (const [bin, args] of guardRules(dev, family).reverse()) {
    if (!(await tryRun(bin, ['-w', '-t', 'mangle', '-C', 'FORWARD', ...args]))) {
      await run(bin, ['-w', '-t', 'mangle', '-I', 'FORWARD', '1', ...args]);
    }
  }
}

export async function guardInstalled(family: LabFamily): Promise<boolean> {
  const dev = await uplink();
  for (const [bin, args] of guardRules(dev, family)) {
    if (!(await tryRun(bin, ['-w', '-t', 'mangle', '-C', 'FORWARD', ...args]))) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// The lab's cgroup and the host guard

/**
 * Mount point of the cgroup2 hierarchy: `/sys/fs/cgroup/unified` on this hybrid machine,
 * `/sys/fs/cgroup` on a cgroup2-only one. `-m cgroup --path` names paths relative to it.
 */
export function cgroup2Root(): string {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [left, right] = line.split(' - ');
    if (right?.split(' ')[0] === 'cgroup2') {
      const mountPoint = left?.split(' ')[4];
      if (mountPoint !== undefined) return mountPoint;
    }
  }
  throw new Error('no cgroup2 hierarchy mounted: the host guard needs one');
}

/** Directory of the lab's cgroup (in the cgroup2 hierarchy). */
export function labCgroupDir(): string {
  return join(cgroup2Root(), LAB_CGROUP);
}

/** Its `cgroup.procs`: a process that writes its own pid there is in the lab's cgroup. */
export function labCgroupProcs(): string {
  return join(labCgroupDir(), 'cgroup.procs');
}

export function createLabCgroup(): void {
  mkdirSync(labCgroupDir(), { recursive: true });
}

/** Pids in the lab's cgroup and every cgroup below it. */
export function labCgroupPids(): number[] {
  const pids: number[] = [];
  for (const dir of cgroupTree(labCgroupDir())) {
    try {
      for (const p of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n')) {
        if (p !== '') pids.push(Number(p));
      }
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

function hostGuardArgs(dev: string, family: 4 | 6, labFamily: LabFamily): string[][] {
  const podRange = family === 4 ? CLUSTER_CIDR : labFamily === 'dual' ? CLUSTER_CIDR6 : undefined;
  return [
    // Every socket of a process in the lab's cgroup (they inherit it: daemons, their children).
    [
      'OUTPUT',
      '-o',
      dev,
      '-m',
      'cgroup',
      '--path',
      LAB_CGROUP,
      '-m',
      'comment',
      '--comment',
      HOST_GUARD_COMMENT,
      '-j',
      'DROP',
    ],
    // A node in its own network namespace (node2): its daemons' and its pods' packets reach the
    // uplink forwarded from k8s0, where no cgroup match sees them. Nothing else is on k8s0.
    // (The pod range stays the pod guard's, so that each guard counts its own packets.)
    [
      'FORWARD',
      '-i',
      BRIDGE,
      ...(podRange === undefined ? [] : ['!', '-s', podRange]),
      '-o',
      dev,
      '-m',
      'comment',
      '--comment',
      NODE_GUARD_COMMENT,
      '-j',
      'DROP',
    ],
    // The external host lives in its own network namespace: the host forwards its packets, which
    // no cgroup match sees (a forwarded packet has no local socket).
    [
      'FORWARD',
      '-i',
      external.hostVeth,
      '-o',
      dev,
      '-m',
      'comment',
      '--comment',
      EXTERNAL_GUARD_COMMENT,
      '-j',
      'DROP',
    ],
  ];
}

/**
 * The host guard: drop every packet of the lab's cgroup (mangle OUTPUT) and of the external host
 * (mangle FORWARD) that would leave through the uplink, IPv4 and IPv6. The cgroup must exist: the
 * rule resolves the path when it is added (recreating the cgroup later would not be matched).
 */
export async function installHostGuard(labFamily: LabFamily): Promise<void> {
  const dev = await uplink();
  for (const [bin, family] of [
    ['iptables', 4],
    ['ip6tables', 6],
  ] as const) {
    for (const [chain, ...args] of hostGuardArgs(dev, family, labFamily)) {
      if (!(await tryRun(bin, ['-w', '-t', 'mangle', '-C', chain!, ...args]))) {
        await run(bin, ['-w', '-t', 'mangle', '-I', chain!, '1', ...args]);
      }
    }
  }
}

export async function hostGuardInstalled(labFamily: LabFamily): Promise<boolean> {
  if (!existsSync(labCgroupDir())) return false;
  const dev = await uplink();
  for (const [bin, family] of [
    ['iptables', 4],
    ['ip6tables', 6],
  ] as const) {
    for (const [chain, ...args] of hostGuardArgs(dev, family, labFamily)) {
      if (!(await tryRun(bin, ['-w', '-t', 'mangle', '-C', chain!, ...args]))) return false;
    }
  }
  return true;
}

/**
 * Kill whatever is left in the lab's cgroup (called once the daemons were stopped by pid: only
 * processes the lab started are in it) and wait until it is empty. Returns how many were killed.
 */
export async function killLabCgroup(): Promise<number> {
  let dir: string;
  try {
    dir = labCgroupDir();
  } catch {
    return 0;
  }
  if (!existsSync(dir)) return 0;
  const pids = labCgroupPids().filter((p) => p !== process.pid);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  for (let attempt = 0; attempt < 50 && labCgroupPids().length > 0; attempt++) await sleep(100);
  return pids.length;
}

/**
 * Remove the lab's cgroup (children first). A daemon that exited may still hold it for a few
 * seconds as a zombie (not listed in cgroup.procs, but rmdir says EBUSY until init has reaped it):
 * retry for up to `timeoutMs`. Returns whether it is gone.
 */
export async function removeLabCgroup(timeoutMs = 20_000): Promise<boolean> {
  let dir: string;
  try {
    dir = labCgroupDir();
  } catch {
    return false;
  }
  if (!existsSync(dir)) return false;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let lastError: unknown;
    for (const d of cgroupTree(dir)) {
      try {
        rmdirSync(d);
      } catch (error) {
        lastError = error;
      }
    }
    if (!existsSync(dir)) return true;
    if (Date.now() > deadline) {
      log(`warning: could not remove cgroup ${dir}: ${String(lastError)}`);
      return false;
    }
    await sleep(200);
  }
}

/**
 * Packet counter of the first rule in `table` whose comment is `comment` (undefined if none), in
 * iptables (IPv4, the default) or ip6tables (`family` 6).
 */
export async function rulePackets(
  table: string,
  comment: string,
  family: 4 | 6 = 4,
): Promise<number | undefined> {
  const save = await output(family === 4 ? 'iptables-save' : 'ip6tables-save', ['-c', '-t', table]);
  for (const line of save.split('\n')) {
    if (!line.includes(`"${comment}"`) && !line.includes(`--comment ${comment} `)) continue;
    const match = /^\[(\d+):\d+\]/.exec(line);
    if (match?.[1] !== undefined) return Number(match[1]);
  }
  return undefined;
}

/** The external host: netns + veth; servers are started by the caller inside the netns. */
export async function setupExternalHost(): Promise<void> {
  const { netns, hostVeth, hostIP, ip, prefix } = external;
  await run('ip', ['netns', 'add', netns]);
  await run('ip', [
    'link',
    'add',
    hostVeth,
    'type',
    'veth',
    'peer',
    'name',
    'eth0',
    'netns',
    netns,
  ]);
  await run('ip', ['addr', 'add', `${hostIP}/${prefix}`, 'dev', hostVeth]);
  await run('ip', ['link', 'set', hostVeth, 'up']);
  const inNs = (...args: string[]) => run('ip', ['-n', netns, ...args]);
  await inNs('addr', 'add', `${ip}/${prefix}`, 'dev', 'eth0');
  await inNs('link', 'set', 'eth0', 'up');
  await inNs('link', 'set', 'lo', 'up');
  await inNs('route', 'add', 'default', 'via', hostIP);
}

// ---------------------------------------------------------------------------------------------
// Cleanup

const LAB_CHAIN = /^(KUBE-|CNI-)/;
const LAB_RULE = /(-[jg] (KUBE-|CNI-))|polygraph-lab/;

/**
 * Remove every KUBE-* and CNI-* chain, every rule jumping to one, and the lab's own commented rules,
 * from every table of iptables and ip6tables, nft and legacy backends. Each table is rewritten with
 * iptables-restore only if it holds something of the lab.
 */
export async function cleanIptables(): Promise<string[]> {
  return removeChainsAndRules(LAB_CHAIN, LAB_RULE);
}

/** kube-router's own chains (firewall only): not kubelet's KUBE-FIREWALL / KUBE-KUBELET-CANARY. */
const KUBE_ROUTER_CHAIN = /^KUBE-(ROUTER-|POD-FW-|NWPLCY-)/;
const KUBE_ROUTER_RULE = /-[jg] KUBE-(ROUTER-|POD-FW-|NWPLCY-)/;

/**
 * Remove what kube-router enforces with (its chains, the rules jumping to them, its ipsets), so
 * that nothing is enforced once it has stopped. Returns the tables changed and the sets removed.
 */
export async function cleanKubeRouter(
  netns?: string,
): Promise<{ tables: string[]; sets: string[] }> {
  const tables = await removeChainsAndRules(KUBE_ROUTER_CHAIN, KUBE_ROUTER_RULE, netns);
  const sets = await cleanIpsets(netns);
  return { tables, sets };
}

async function removeChainsAndRules(
  chainPattern: RegExp,
  rulePattern: RegExp,
  netns?: string,
): Promise<string[]> {
  const cleaned: string[] = [];
  const backends = [
    ['iptables-save', 'iptables-restore'],
    ['ip6tables-save', 'ip6tables-restore'],
    ['iptables-legacy-save', 'iptables-legacy-restore'],
    ['ip6tables-legacy-save', 'ip6tables-legacy-restore'],
  ] as const;
  for (const [save, restore] of backends) {
    for (const table of ['filter', 'nat', 'mangle', 'raw']) {
      const text = await output(...inNetns(netns, save, ['-t', table]));
      if (text === '') continue;
      const lines = text.split('\n');
      const kept = lines.filter((line) => {
        if (line.startsWith(':')) return !chainPattern.test(line.slice(1));
        if (line.startsWith('-A ')) {
          const chain = line.split(' ')[1] ?? '';
          return !chainPattern.test(chain) && !rulePattern.test(line);
        }
        return true;
      });
      if (kept.length === lines.length) continue;
      const result = await execa(...inNetns(netns, restore, ['-w']), {
        input: kept.join('\n') + '\n',
        reject: false,
      });
      if (result.exitCode !== 0) {
        log(`warning: ${restore} (${table}) failed: ${result.stderr}`);
      } else {
        cleaned.push(`${save.replace('-save', '')}/${table}`);
      }
    }
  }
  return cleaned;
}

export async function cleanIpsets(netns?: string): Promise<string[]> {
  const names = (await output(...inNetns(netns, 'ipset', ['list', '-n'])))
    .split('\n')
    .filter((n) => /^(inet6:)?KUBE-/.test(n));
  for (const name of names) await tryRun(...inNetns(netns, 'ipset', ['destroy', name]));
  // A set still referenced cannot be destroyed on the first pass.
  for (const name of names) await tryRun(...inNetns(netns, 'ipset', ['destroy', name]));
  return names;
}

/**
 * CNI network namespaces made by containerd (of every node), the external host's, and those of
 * the nodes that have their own (their veths, bridges, iptables rules, ipsets and sysctls go with
 * them).
 */
export async function cleanNetns(): Promise<string[]> {
  const dir = '/run/netns';
  const ours = new Set<string>([external.netns, ...NODES.flatMap((n) => n.netns ?? [])]);
  const names = existsSync(dir)
    ? readdirSync(dir)
        .filter((n) => n.startsWith('cni-') || ours.has(n))
        // The pods' namespaces first, then the nodes' own.
        .sort((a, b) => Number(ours.has(a)) - Number(ours.has(b)))
    : [];
  for (const name of names) {
    if (!(await tryRun('ip', ['netns', 'delete', name]))) {
      await tryRun('umount', ['-l', join(dir, name)]);
      rmSync(join(dir, name), { force: true });
    }
  }
  return names;
}

export async function cleanLinks(): Promise<string[]> {
  const removed: string[] = [];
  const links = JSON.parse((await output('ip', ['-j', 'link', 'show'])) || '[]') as {
    ifname: string;
    master?: string;
  }[];
  for (const link of links) {
    const veth = link.master === node.cniBridge && link.ifname.startsWith('veth');
    const ours = link.ifname === external.hostVeth || NODES.some((n) => n.hostVeth === link.ifname);
    if (veth || ours) {
      if (await tryRun('ip', ['link', 'delete', link.ifname])) removed.push(link.ifname);
    }
  }
  for (const n of NODES) {
    if (n.netns === undefined) continue;
    await tryRun('ip', ['route', 'delete', n.podCIDR]);
    await tryRun('ip', ['-6', 'route', 'delete', n.podCIDR6]);
  }
  for (const bridge of [node.cniBridge, BRIDGE]) {
    if (await tryRun('ip', ['link', 'delete', bridge])) removed.push(bridge);
  }
  await tryRun('ip', ['route', 'delete', 'blackhole', SERVICE_CIDR]);
  await tryRun('ip', ['-6', 'route', 'delete', 'blackhole', SERVICE_CIDR6]);
  return removed;
}

/** Unmount everything under the lab's directories, deepest first. */
export async function cleanMounts(): Promise<number> {
  const ours = mountPoints()
    .filter((p) => [DATA_DIR, RUN_DIR].some((d) => p === d || p.startsWith(`${d}/`)))
    .sort((a, b) => b.length - a.length);
  for (const p of ours) await tryRun('umount', ['-l', p]);
  return ours.length;
}

function cgroupRoots(): string[] {
  const base = '/sys/fs/cgroup';
  if (!existsSync(base)) return [];
  const roots = [base];
  for (const entry of readdirSync(base)) {
    const p = join(base, entry);
    if (existsSync(join(p, 'cgroup.procs'))) roots.push(p);
  }
  return roots;
}

function cgroupTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(d, entry.name));
    }
    out.push(d);
  };
  if (existsSync(dir)) walk(dir);
  return out; // children before parents
}

/**
 * Kill what is left in the kubepods cgroups (container processes outlive their shims), node1's at
 * the root and those under the other nodes' cgroupRoot (/node2/kubepods…), and remove them.
 */
export async function cleanCgroups(): Promise<{ killed: number; removed: number }> {
  const tops = ['kubepods', ...NODES.flatMap((n) => (n.cgroupRoot === '/' ? [] : [n.cgroupRoot]))];
  const trees = cgroupRoots().flatMap((root) => tops.flatMap((t) => cgroupTree(join(root, t))));
  const pids = new Set<number>();
  for (const dir of trees) {
    try {
      for (const p of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n')) {
        if (p !== '') pids.add(Number(p));
      }
    } catch {
      // gone meanwhile
    }
  }
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  let removed = 0;
  for (let attempt = 0; attempt < 50; attempt++) {
    let left = 0;
    for (const dir of trees) {
      if (!existsSync(dir)) continue;
      try {
        rmdirSync(dir);
        removed++;
      } catch {
        left++;
      }
    }
    if (left === 0) break;
    await sleep(100);
  }
  return { killed: pids.size, removed };
}

/** Files the lab leaves outside its directories: CNI result cache, container log links. */
export function cleanFiles(): void {
  const results = '/var/lib/cni/results';
  if (existsSync(results)) {
    for (const f of readdirSync(results)) {
      // The pods' network, and containerd's own loopback network for each sandbox.
      const ours = NODES.some((n) => f.startsWith(`${n.cniNetwork}-`));
      if (ours || f.startsWith('cni-loopback-')) {
        rmSync(join(results, f), { force: true });
      }
    }
  }
  const links = '/var/log/containers';
  if (existsSync(links)) {
    for (const f of readdirSync(links)) {
      let target = '';
      try {
        target = readlinkSync(join(links, f));
      } catch {
        continue;
      }
      if (target.startsWith(`${DATA_DIR}/`)) rmSync(join(links, f), { force: true });
    }
  }
}
