/**
 * The batched probe client's protocol (probes/probe.sh): jobs in, one result line per job out.
 * Pure: no I/O.
 */

export type ProbeProtocol = 'TCP' | 'UDP';
export const PROBE_OUTCOMES = ['allowed', 'refused', 'dropped', 'probe-error'] as const;
export type ProbeOutcome = (typeof PROBE_OUTCOMES)[number];

export interface ProbeJob {
  /** Echoed back by the script: no blanks or commas. */
  id: string;
  host: string;
  port: number;
  protocol: ProbeProtocol;
  timeoutSeconds: number;
}

export interface ProbeResult {
  id: string;
  outcome: ProbeOutcome;
  elapsedMs: number;
  detail: string;
}

export interface ParsedProbeOutput {
  results: ProbeResult[];
  /** The job count of the final DONE line; undefined when it is missing (output cut short). */
  done: number | undefined;
  /** Lines that are not part of the protocol. */
  unparsed: string[];
}

const ID = /^[^\s,]+$/;

/** One argument per job for probe.sh: "id,host,port,protocol,timeout". */
export function formatJob(job: ProbeJob): string {
  if (!ID.test(job.id)) throw new Error(`probe job id must have no blanks or commas: '${job.id}'`);
  if (!ID.test(job.host))
    throw new Error(`probe job host must have no blanks or commas: '${job.host}'`);
  if (!Number.isInteger(job.port) || job.port < 1 || job.port > 65535) {
    throw new Error(`probe job port out of range: ${String(job.port)}`);
  }
  if (!Number.isInteger(job.timeoutSeconds) || job.timeoutSeconds < 1) {
    throw new Error(
      `probe job timeout must be a whole number of seconds ≥ 1: ${String(job.timeoutSeconds)}`,
    );
  }
  return [job.id, job.host, job.port, job.protocol, job.timeoutSeconds].join(',');
}

function isOutcome(s: string): s is ProbeOutcome {
  return (PROBE_OUTCOMES as readonly string[]).includes(s);
}

export function parseProbeOutput(text: string): ParsedProbeOutput {
  const results: ProbeResult[] = [];
  const unparsed: string[] = [];
  let done: number | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const fields = line.split('\t');
    if (fields[0] === 'PROBE' && fields.length >= 4) {
      const [, id = '', outcome = '', elapsed = '', ...rest] = fields;
      if (isOutcome(outcome) && /^\d+$/.test(elapsed)) {
        results.push({ id, outcome, elapsedMs: Number(elapsed), detail: rest.join('\t') });
        continue;
      }
    } else if (fields[0] === 'DONE' && fields.length === 2 && /^\d+$/.test(fields[1] ?? '')) {
      done = Number(fields[1]);
      continue;
    }
    unparsed.push(line);
  }
  return { results, done, unparsed };
}

/**
 * Results in job order. A job without a result line becomes a probe-error that says why: an
 * infrastructure failure must never read as "denied".
 */
export function matchResults(
  jobs: readonly ProbeJob[],
  parsed: ParsedProbeOutput,
  failure?: string,
): ProbeResult[] {
  const byId = new Map(parsed.results.map((r) => [r.id, r]));
  const missing =
    failure ??
    (parsed.done === undefined ? 'probe output ended before DONE' : 'no result line for this job');
  return jobs.map(
    (job) =>
      byId.get(job.id) ?? { id: job.id, outcome: 'probe-error', elapsedMs: 0, detail: missing },
  );
}
