/**
 * Probe sessions: one long-lived exec of the probe client (probes/probe.sh --session) per source
 * pod, opened on first use (or ahead of it) and reused for every round of probes until it is
 * closed, so that a round costs a round trip on an open stream plus the probes themselves, not the
 * set-up of a new exec.
 *
 * Protocol: the client prints READY; each round is one line, `ROUND <token> JOB...`, answered by
 * one PROBE line per job and `END <token> <count>`. Job ids on the wire are `<token>.<index>`, so
 * a line of any other round is never taken for one of this round.
 *
 * An infrastructure failure is never a denial: when a session cannot be opened, is lost, ends, or
 * does not answer a round in time, the session is closed and that round is probed again by one
 * exec (runProbeBatch), whose results say why; only when that fails too are its jobs probe-errors,
 * with both reasons and a command that reproduces them. The next round opens a new session; a pod
 * whose sessions failed `maxFailures` times is probed by one exec per round from then on.
 */
import pLimit from 'p-limit';
import type { ExecEnd, ExecOutputListener, ExecStream } from '../cluster/index.js';
import {
  formatJob,
  matchResults,
  parseProbeOutput,
  type ProbeJob,
  type ProbeResult,
} from './batch-protocol.js';
import type { ProbeSource } from './batch.js';
import { ExecLines } from './exec-lines.js';

/** Opens the session's exec: `command` in the source's container, stdin open. */
export type OpenSessionExec = (
  source: ProbeSource,
  command: readonly string[],
  onOutput: ExecOutputListener,
) => Promise<ExecStream>;

/** Runs a round by one exec (runProbeBatch): the fallback when a session fails. */
export type OneExecBatch = (
  source: ProbeSource,
  jobs: readonly ProbeJob[],
) => Promise<ProbeResult[]>;

export interface ProbeSessionOptions {
  /** Bound of opening a session until the client's READY. Default 30 s. */
  readonly openTimeoutMs?: number;
  /** A round may take its slowest probe's timeout plus this. Default 10 s. */
  readonly roundMarginMs?: number;
  /** Failed sessions of one pod after which it is probed by one exec per round. Default 3. */
  readonly maxFailures?: number;
  /** Sessions opened at once by `open`. Default 10. */
  readonly openConcurrency?: number;
}

/** A session that failed: why, in words a person can act on. */
export class SessionFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SessionFailure';
  }
}

const sourceName = (s: ProbeSource) => `${s.namespace}/${s.pod}/${s.container}`;

function describeEnd(source: ProbeSource, end: ExecEnd, stderr: string): string {
  const tail = stderr.trim().split('\n').slice(-3).join(' | ');
  const base =
    end.kind === 'exited'
      ? `the probe session in ${sourceName(source)} ended (its client exited with code ${String(end.exitCode)})`
      : `the probe session in ${sourceName(source)} was lost: ${end.reason}`;
  return tail === '' ? base : `${base}; stderr: ${tail.slice(0, 300)}`;
}

interface Round {
  readonly token: string;
  readonly jobs: readonly ProbeJob[];
  readonly lines: string[];
  readonly resolve: (results: ProbeResult[]) => void;
  readonly reject: (error: Error) => void;
}

/** One source pod's session. Rounds run one at a time, in the order they were asked for. */
export class ProbeSession {
  private stream: ExecStream | undefined;
  private opening: Promise<void> | undefined;
  private failure: string | undefined;
  private closed = false;
  private readonly lines = new ExecLines((line) => {
    this.line(line);
  });
  private round: Round | undefined;
  private rounds = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private onReady: (() => void) | undefined;
  /** Protocol lines that belonged to no round (for diagnostics). */
  readonly stray: string[] = [];

  constructor(
    readonly source: ProbeSource,
    private readonly command: readonly string[],
    private readonly openExec: OpenSessionExec,
    private readonly options: Required<
      Pick<ProbeSessionOptions, 'openTimeoutMs' | 'roundMarginMs'>
    >,
  ) {}

  /** Why the session can no longer be used, once it failed or was closed. */
  get dead(): string | undefined {
    return this.failure ?? (this.closed ? 'the probe session was closed' : undefined);
  }

  /** Opens the session (once): resolves at the client's READY, rejects with a SessionFailure. */
  open(): Promise<void> {
    this.opening ??= this.start();
    return this.opening;
  }

  private async start(): Promise<void> {
    const name = sourceName(this.source);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        reject(
          new SessionFailure(
            `the probe client did not start within ${String(this.options.openTimeoutMs)} ms`,
          ),
        );
      }, this.options.openTimeoutMs);
    });
    const ready = new Promise<void>((resolve) => {
      this.onReady = resolve;
    });
    const opening = this.openExec(this.source, this.command, (which, text) => {
      this.lines.output(which, text);
    });
    try {
      const stream = await Promise.race([opening, timeout]);
      this.stream = stream;
      if (this.closed) throw new SessionFailure('the probe session was closed while it opened');
      void stream.ended.then((end) => {
        this.fail(describeEnd(this.source, end, this.lines.stderr));
      });
      await Promise.race([
        ready,
        timeout,
        stream.ended.then((end) => {
          throw new SessionFailure(describeEnd(this.source, end, this.lines.stderr));
        }),
      ]);
    } catch (error) {
      // A stream set up after all is closed at once.
      opening.then(
        (stream) => {
          stream.close();
        },
        () => undefined,
      );
      const message = `could not open a probe session in ${name}: ${error instanceof Error ? error.message : String(error)}`;
      this.fail(message);
      throw new SessionFailure(message);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Probes one round; rejects with a SessionFailure (the session is then closed) or an abort. */
  run(jobs: readonly ProbeJob[], signal?: AbortSignal): Promise<ProbeResult[]> {
    const next = this.queue.then(() => this.runNow(jobs, signal));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async runNow(jobs: readonly ProbeJob[], signal?: AbortSignal): Promise<ProbeResult[]> {
    signal?.throwIfAborted();
    await this.open();
    const dead = this.dead;
    if (dead !== undefined) throw new SessionFailure(dead);
    const stream = this.stream;
    if (stream === undefined)
      throw new SessionFailure('internal: an open session without a stream');
    if (jobs.length === 0) return [];
    const token = `r${String(++this.rounds)}`;
    const wire = jobs.map((job, i) => ({ ...job, id: `${token}.${String(i)}` }));
    const limitMs =
      Math.max(...jobs.map((j) => j.timeoutSeconds)) * 1000 + this.options.roundMarginMs;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    try {
      return await new Promise<ProbeResult[]>((resolve, reject) => {
        this.round = { token, jobs, lines: [], resolve, reject };
        timer = setTimeout(() => {
          this.fail(
            `the probe session in ${sourceName(this.source)} did not answer round ${token} within ${String(limitMs)} ms`,
          );
        }, limitMs);
        onAbort = () => {
          reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
          this.fail('the round was aborted');
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        stream.write(`ROUND ${token} ${wire.map(formatJob).join(' ')}\n`);
      });
    } finally {
      clearTimeout(timer);
      if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
      this.round = undefined;
    }
  }

  private line(line: string): void {
    const fields = line.split('\t');
    if (line === 'READY') {
      this.onReady?.();
      return;
    }
    const round = this.round;
    if (fields[0] === 'PROBE' && round !== undefined && fields[1]?.startsWith(`${round.token}.`)) {
      round.lines.push(line);
      return;
    }
    if (fields[0] === 'END' && round !== undefined && fields[1] === round.token) {
      this.round = undefined;
      this.finish(round, fields[2]);
      return;
    }
    if (fields[0] === 'ERROR' && round !== undefined) {
      this.fail(
        `the probe client in ${sourceName(this.source)} did not understand round ${round.token}: ${fields.slice(1).join(' ')}`,
      );
      return;
    }
    this.stray.push(line);
    if (this.stray.length > 20) this.stray.shift();
  }

  private finish(round: Round, count: string | undefined): void {
    const parsed = parseProbeOutput(round.lines.join('\n'));
    const wireIds = round.jobs.map((_, i) => `${round.token}.${String(i)}`);
    const matched = matchResults(
      round.jobs.map((job, i) => ({ ...job, id: wireIds[i] ?? job.id })),
      { ...parsed, done: count === undefined ? undefined : Number(count) },
    );
    round.resolve(matched.map((r, i) => ({ ...r, id: round.jobs[i]?.id ?? r.id })));
  }

  /** Marks the session failed and closes it; a round in flight rejects with the reason. */
  private fail(reason: string): void {
    if (this.failure === undefined && !this.closed) this.failure = reason;
    this.round?.reject(new SessionFailure(this.failure ?? reason));
    this.round = undefined;
    this.stream?.close();
  }

  /** Closes the session; a round in flight rejects. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.round?.reject(new SessionFailure('the probe session was closed during a round'));
    this.round = undefined;
    this.stream?.close();
  }
}

/**
 * The sessions of a run, one per source pod, with the one-exec fallback. `runBatch` has the
 * shape the probe runner takes.
 */
export class ProbeSessions {
  private readonly sessions = new Map<string, ProbeSession>();
  private readonly failures = new Map<string, number>();
  private readonly settings: Required<ProbeSessionOptions>;
  private startedCount = 0;

  constructor(
    private readonly command: readonly string[],
    private readonly openExec: OpenSessionExec,
    private readonly oneExec: OneExecBatch,
    options: ProbeSessionOptions = {},
  ) {
    this.settings = {
      openTimeoutMs: options.openTimeoutMs ?? 30_000,
      roundMarginMs: options.roundMarginMs ?? 10_000,
      maxFailures: options.maxFailures ?? 3,
      openConcurrency: options.openConcurrency ?? 10,
    };
  }

  /** Sessions started so far (for tests and diagnostics). */
  get started(): number {
    return this.startedCount;
  }

  /** The live session of a source, opening one unless its sessions failed too often. */
  private session(source: ProbeSource): ProbeSession | undefined {
    const key = sourceName(source);
    const existing = this.sessions.get(key);
    if (existing !== undefined) {
      if (existing.dead === undefined) return existing;
      this.failed(existing); // it died between rounds
    }
    if ((this.failures.get(key) ?? 0) >= this.settings.maxFailures) return undefined;
    const session = new ProbeSession(source, this.command, this.openExec, this.settings);
    this.sessions.set(key, session);
    this.startedCount++;
    return session;
  }

  private failed(session: ProbeSession): void {
    const key = sourceName(session.source);
    session.close();
    if (this.sessions.get(key) === session) this.sessions.delete(key);
    this.failures.set(key, (this.failures.get(key) ?? 0) + 1);
  }

  /** One round of a source pod's probes: on its session, else by one exec. Results in job order. */
  async runBatch(
    source: ProbeSource,
    jobs: readonly ProbeJob[],
    signal?: AbortSignal,
  ): Promise<ProbeResult[]> {
    if (jobs.length === 0) return [];
    const session = this.session(source);
    let why: string;
    if (session === undefined) {
      why = `its probe sessions failed ${String(this.settings.maxFailures)} times`;
    } else {
      try {
        return await session.run(jobs, signal);
      } catch (error) {
        if (!(error instanceof SessionFailure)) throw error;
        this.failed(session);
        why = error.message;
      }
    }
    signal?.throwIfAborted();
    const results = await this.oneExec(source, jobs);
    return results.map((r) =>
      r.outcome === 'probe-error'
        ? { ...r, detail: `${r.detail}; before that: ${why}` }
        : { ...r, detail: `${r.detail} [one exec: ${why}]` },
    );
  }

  /** Opens the sessions of these sources ahead of their first round; never rejects. */
  async open(sources: readonly ProbeSource[]): Promise<void> {
    const limit = pLimit(this.settings.openConcurrency);
    await Promise.all(
      sources.map((source) =>
        limit(async () => {
          const session = this.session(source);
          if (session === undefined) return;
          try {
            await session.open();
          } catch {
            this.failed(session);
          }
        }),
      ),
    );
  }

  /** Closes the sessions of these sources (all of them when none are given). */
  close(sources?: readonly ProbeSource[]): void {
    const keys = sources === undefined ? [...this.sessions.keys()] : sources.map(sourceName);
    for (const key of keys) {
      this.sessions.get(key)?.close();
      this.sessions.delete(key);
    }
  }
}
