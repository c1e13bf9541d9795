/**
 * Run a batch of probes from one pod: one exec of probes/probe.sh, all jobs concurrently. (A run
 * probes through probe sessions, session.ts, and falls back to this.)
 */
import { readFileSync } from 'node:fs';
import { ClusterError, type Cluster } from '../cluster/index.js';
import {
  formatJob,
  matchResults,
  parseProbeOutput,
  type ProbeJob,
  type ProbeResult,
} from './batch-protocol.js';

let script: string | undefined;

/** The probe client's text (probes/probe.sh, shipped with the package). */
export function probeScript(): string {
  script ??= readFileSync(new URL('../../probes/probe.sh', import.meta.url), 'utf8');
  return script;
}

/** The script without its comment lines: it travels as an argument (and in exec URLs). */
function compactScript(): string {
  return probeScript()
    .split('\n')
    .filter((line) => !/^\s*#/.test(line) && line.trim() !== '')
    .join('\n');
}

/** The command that runs `jobs` in a container that has bash and /usr/bin/nc. */
export function probeCommand(jobs: readonly ProbeJob[]): string[] {
  return ['bash', '-c', compactScript(), 'probe.sh', ...jobs.map(formatJob)];
}

/** The command of a probe session: the client reading rounds of jobs on stdin (session.ts). */
export function sessionCommand(): string[] {
  return ['bash', '-c', compactScript(), 'probe.sh', '--session'];
}

/** The command of the held connections of a step: the client in hold mode (hold.ts). */
export function holdCommand(): string[] {
  return ['bash', '-c', compactScript(), 'probe.sh', '--hold'];
}

export interface ProbeSource {
  namespace: string;
  pod: string;
  container: string;
}

/**
 * Results in job order. When the exec itself fails, every job is a probe-error carrying the reason
 * and a command to reproduce it.
 */
export async function runProbeBatch(
  cluster: Cluster,
  source: ProbeSource,
  jobs: readonly ProbeJob[],
): Promise<ProbeResult[]> {
  if (jobs.length === 0) return [];
  const maxTimeout = Math.max(...jobs.map((j) => j.timeoutSeconds));
  const reproduce = `kubectl exec -n ${source.namespace} ${source.pod} -c ${source.container} -- bash probe.sh ${jobs.map(formatJob).join(' ')}`;
  try {
    const result = await cluster.exec(
      source.namespace,
      source.pod,
      source.container,
      probeCommand(jobs),
      {
        timeoutMs: maxTimeout * 1000 + 30_000,
      },
    );
    const parsed = parseProbeOutput(result.stdout);
    const failure =
      result.exitCode === 0
        ? undefined
        : `probe client exited ${String(result.exitCode)}: ${result.stderr.trim()} (reproduce: ${reproduce})`;
    return matchResults(jobs, parsed, failure);
  } catch (error) {
    if (!(error instanceof ClusterError)) throw error;
    return matchResults(
      jobs,
      { results: [], done: undefined, unparsed: [] },
      `${error.message} (reproduce: ${reproduce})`,
    );
  }
}
