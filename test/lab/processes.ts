/**
 * Daemons of the lab: started detached with their output in `.lab/logs/<name>.log` and a pid file
 * under /run/polygraph-lab/pids, stopped by pid with bounded waits. Every daemon starts inside the
 * lab's cgroup (the host guard drops that cgroup's traffic to the uplink).
 */
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { LOG_DIR, PID_DIR } from './config.js';
import { labCgroupProcs } from './host.js';
import { LabError, log, sleep } from './util.js';

interface PidRecord {
  pid: number;
  /** The executable, checked against /proc/<pid>/cmdline before any signal is sent. */
  command: string;
}

export function logFile(name: string): string {
  return join(LOG_DIR, `${name}.log`);
}

function pidFile(name: string): string {
  return join(PID_DIR, `${name}.pid`);
}

function cmdline(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      .split('\0')
      .filter((s) => s !== '');
  } catch {
    return undefined;
  }
}

function isZombie(pid: number): boolean {
  try {
    return / Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\)/, ''));
  } catch {
    return true;
  }
}

/** Alive and still the process we started (pids are reused). */
export function isOurs(record: PidRecord): boolean {
  const args = cmdline(record.pid);
  return args !== undefined && args.includes(record.command) && !isZombie(record.pid);
}

export function readPid(name: string): PidRecord | undefined {
  try {
    return JSON.parse(readFileSync(pidFile(name), 'utf8')) as PidRecord;
  } catch {
    return undefined;
  }
}

/** Every pid file present, including names from an older version of the lab. */
export function recordedComponents(): string[] {
  if (!existsSync(PID_DIR)) return [];
  return readdirSync(PID_DIR)
    .filter((f) => f.endsWith('.pid'))
    .map((f) => f.slice(0, -4));
}

/**
 * `command args` run inside the lab's cgroup with no window: a shell writes its own pid into the
 * cgroup's `cgroup.procs`, then execs the command (same pid, already in the cgroup, before it can
 * open a socket). If the write fails, the command does not run at all.
 */
export function inLabCgroup(command: string, args: readonly string[]): [string, string[]] {
  const procs = labCgroupProcs();
  if (!existsSync(procs)) throw new LabError(`the lab's cgroup is missing (${procs})`);
  return ['/bin/sh', ['-c', 'echo $$ > "$0" && exec "$@"', procs, command, ...args]];
}

export interface StartOptions {
  /** Run inside this network namespace (nsenter --net, which keeps /sys and cgroups visible). */
  netns?: string;
  env?: Record<string, string>;
}

/** Start a daemon detached from this process; returns its pid. */
export function startDaemon(
  name: string,
  command: string,
  args: readonly string[],
  options: StartOptions = {},
): number {
  mkdirSync(LOG_DIR, { recursive: true });
  mkdirSync(PID_DIR, { recursive: true });
  const fd = openSync(logFile(name), 'a');
  const [file, argv] = inLabCgroup(
    ...(options.netns === undefined
      ? ([command, [...args]] as const)
      : (['nsenter', [`--net=/run/netns/${options.netns}`, '--', command, ...args]] as const)),
  );
  const child = spawn(file, argv, {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, ...options.env },
  });
  closeSync(fd);
  if (child.pid === undefined) throw new LabError(`could not start ${name}`, logFile(name));
  child.unref();
  writeFileSync(pidFile(name), JSON.stringify({ pid: child.pid, command } satisfies PidRecord));
  return child.pid;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** SIGTERM, wait up to `graceMs`, then SIGKILL and wait again. Returns false if it would not die. */
export async function stopPid(record: PidRecord, graceMs: number): Promise<boolean> {
  if (!isOurs(record)) return true;
  signal(record.pid, 'SIGTERM');
  for (const [sig, wait] of [
    ['SIGTERM', graceMs],
    ['SIGKILL', 5000],
  ] as const) {
    if (sig === 'SIGKILL' && isOurs(record)) signal(record.pid, 'SIGKILL');
    const deadline = Date.now() + wait;
    while (Date.now() < deadline) {
      if (!isOurs(record)) return true;
      await sleep(50);
    }
  }
  return !isOurs(record);
}

export async function stopDaemon(name: string, graceMs = 10_000): Promise<void> {
  const record = readPid(name);
  if (record === undefined) return;
  const alive = isOurs(record);
  const start = performance.now();
  const stopped = await stopPid(record, graceMs);
  if (alive) {
    const ms = Math.round(performance.now() - start);
    log(`stopped ${name} (pid ${record.pid}) in ${ms} ms${stopped ? '' : ' — STILL RUNNING'}`);
  }
  if (stopped) rmSync(pidFile(name), { force: true });
}

/**
 * Processes a killed lab may have left without pid files: our containerd shims and anything run
 * from the lab's binaries or data directories. Matched by command line, never by name alone.
 */
export function strayProcesses(markers: readonly string[]): number[] {
  const self = process.pid;
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === self || pid === process.ppid) continue;
    const args = cmdline(pid);
    const exe = args?.[0];
    if (args === undefined || exe === undefined) continue;
    // Only daemons: a command whose executable itself is a lab binary or a lab-configured
    // containerd/etcd/shim — never a shell that merely mentions a path.
    const isDaemon =
      markers.some((m) => exe.startsWith(m)) ||
      (/(^|\/)(containerd|containerd-shim-runc-v2|etcd|nsenter)$/.test(exe) &&
        args.slice(1).some((a) => markers.some((m) => a.includes(m))));
    if (isDaemon && !isZombie(pid)) found.push(pid);
  }
  return found;
}

export async function killPids(pids: readonly number[]): Promise<void> {
  for (const pid of pids) signal(pid, 'SIGKILL');
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && pids.some((p) => existsSync(`/proc/${p}`) && !isZombie(p))) {
    await sleep(50);
  }
}
