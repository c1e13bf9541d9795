/**
 * What the lab could leave on this machine, as sorted text lines: addresses and routes of both
 * families (every table), links, network namespaces, every table of iptables and ip6tables (nft and
 * legacy, counters stripped), ipsets, mounts, cgroups and directories of the lab, the sysctls it
 * changes (IPv4 and IPv6) and processes of the lab. `tsx test/lab/cli.ts state` prints it: taken
 * before lab:up and after lab:down, the two must be equal (docs/LAB.md, "lab:down leaves nothing").
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CACHE, DATA_DIR, LAB_CGROUP, NODES, RUN_DIR } from './config.js';
import { LAB_SYSCTLS, LAB_SYSCTLS_DUAL } from './host.js';
import { strayProcesses } from './processes.js';
import { output } from './util.js';

async function section(name: string, lines: Promise<string[]> | string[]): Promise<string[]> {
  return (await lines).map((l) => `${name}: ${l}`);
}

const linesOf = async (file: string, args: readonly string[]): Promise<string[]> =>
  (await output(file, args)).split('\n').filter((l) => l.trim() !== '');

/** `ip -o` output without what changes by itself (lifetimes, counters). */
async function ipLines(args: readonly string[]): Promise<string[]> {
  return (await linesOf('ip', args)).map((l) =>
    l
      .replace(/\\\s+valid_lft \S+ preferred_lft \S+/g, '')
      .replace(/\s+/g, ' ')
      .trim(),
  );
}

/** Rules and chains of one table, without counters and the save's comment lines. */
async function rules(save: string, table: string): Promise<string[]> {
  return (await linesOf(save, ['-t', table]))
    .filter((l) => !l.startsWith('#'))
    .map((l) => l.replace(/ \[\d+:\d+\]$/, ''));
}

function sysctlKeys(): string[] {
  const keys = new Set([
    ...Object.keys(LAB_SYSCTLS),
    ...Object.keys(LAB_SYSCTLS_DUAL),
    'kernel.panic',
    'kernel.panic_on_oops',
    'vm.overcommit_memory',
    'vm.panic_on_oom',
    'net.ipv6.icmp.ratelimit',
  ]);
  for (const family of ['ipv4', 'ipv6']) {
    const dir = `/proc/sys/net/${family}/conf`;
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      if (!name.includes('.')) keys.add(`net.${family}.conf.${name}.forwarding`);
    }
  }
  return [...keys];
}

function sysctls(): string[] {
  return sysctlKeys().map((key) => {
    let value = '(absent)';
    try {
      value = readFileSync(join('/proc/sys', ...key.split('.')), 'utf8').trim();
    } catch {
      // absent
    }
    return `${key}=${value}`;
  });
}

function mounts(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f.length > 4)
    .map((f) => `${f[4] ?? ''} ${f.slice(f.indexOf('-') + 1, f.indexOf('-') + 3).join(' ')}`);
}

/** Cgroups of the lab's names in every hierarchy (kubepods, node2's cgroupRoot, the lab's own). */
function cgroups(): string[] {
  const base = '/sys/fs/cgroup';
  if (!existsSync(base)) return [];
  const names = [
    'kubepods',
    LAB_CGROUP,
    ...NODES.flatMap((n) => (n.cgroupRoot === '/' ? [] : [n.cgroupRoot.slice(1)])),
  ];
  const found: string[] = [];
  for (const root of [base, ...readdirSync(base).map((e) => join(base, e))]) {
    for (const name of names) if (existsSync(join(root, name))) found.push(join(root, name));
  }
  return found;
}

export async function machineState(): Promise<string> {
  const tables = ['filter', 'nat', 'mangle', 'raw'];
  const saves = [
    'iptables-save',
    'ip6tables-save',
    'iptables-legacy-save',
    'ip6tables-legacy-save',
  ];
  const parts = await Promise.all([
    section('addr4', ipLines(['-o', '-4', 'addr', 'show'])),
    section('addr6', ipLines(['-o', '-6', 'addr', 'show'])),
    section('route4', ipLines(['-4', 'route', 'show', 'table', 'all'])),
    section('route6', ipLines(['-6', 'route', 'show', 'table', 'all'])),
    section('rule4', ipLines(['-4', 'rule', 'show'])),
    section('rule6', ipLines(['-6', 'rule', 'show'])),
    section(
      'link',
      ipLines(['-o', 'link', 'show']).then((ls) =>
        ls.map((l) => l.replace(/^\d+: /, '').replace(/\s*\\?\s*link\/.*$/, '')),
      ),
    ),
    section('netns', linesOf('ip', ['netns', 'list'])),
    ...saves.flatMap((save) => tables.map((t) => section(`${save} ${t}`, rules(save, t)))),
    section('ipset', linesOf('ipset', ['list', '-n'])),
    section('sysctl', sysctls()),
    section('mount', mounts()),
    section('cgroup', cgroups()),
    section(
      'dir',
      [DATA_DIR, RUN_DIR, '/var/lib/cni/results', '/var/log/containers'].map(
        (d) => `${d} ${existsSync(d) ? readdirSync(d).length : 'absent'}`,
      ),
    ),
    section('process', strayProcesses([CACHE, DATA_DIR, RUN_DIR]).map(String)),
  ]);
  return parts.flat().sort().join('\n') + '\n';
}
