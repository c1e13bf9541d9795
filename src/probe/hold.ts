/**
 * Held connections of a step (domain/hold.ts) from one source pod: the probe client in hold mode
 * (probes/probe.sh --hold), one exec per source pod and step, stdin open. Each connection is
 * opened with one exchange before the step's actions and tested with one more after them; the
 * client keeps the sockets until its input ends, so closing the exec ends every connection.
 *
 * Protocol: the client prints READY, then answers each command with one line:
 *   OPEN <id> <host> <port> <TCP|UDP> <timeout>  →  HELD <id> open|probe-error <ms> <detail>
 *   TEST <id> <timeout>                          →  HELD <id> open|reset|dropped|probe-error <ms> <detail>
 * An infrastructure failure (the exec cannot open, ends, or does not answer in time) is a
 * probe-error with its reason, never an outcome.
 */
import type { ExecStream } from '../cluster/index.js';
import { isHoldOutcome, type HoldOutcome } from '../domain/hold.js';
import type { OpenSessionExec } from './session.js';
import type { ProbeSource } from './batch.js';
import { ExecLines } from './exec-lines.js';

export interface HoldRequest {
  /** No blanks. */
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly protocol: 'TCP' | 'UDP';
  /** Bound of each exchange, whole seconds. */
  readonly timeoutSeconds: number;
}

export interface HoldReport {
  readonly id: string;
  readonly outcome: HoldOutcome | 'probe-error';
  readonly elapsedMs: number;
  readonly detail: string;
}

/** The held connections of one source pod for one step. */
export interface HeldClient {
  /** Opens each connection with one exchange; `open` or a probe-error per request, in order. */
  open(requests: readonly HoldRequest[]): Promise<HoldReport[]>;
  /** One more exchange on each opened connection; one report per id, in order. */
  test(ids: readonly string[], timeoutSeconds: number): Promise<HoldReport[]>;
  /** Ends the client and every connection it holds (idempotent). */
  close(): void;
}

const ID = /^[^\s]+$/;

/** Parses one `HELD` line; undefined when it is not one. */
export function parseHeldLine(line: string): HoldReport | undefined {
  const [tag, id = '', outcome = '', elapsed = '', ...rest] = line.split('\t');
  if (tag !== 'HELD' || id === '' || !/^\d+$/.test(elapsed)) return undefined;
  if (outcome !== 'probe-error' && !isHoldOutcome(outcome)) return undefined;
  return { id, outcome, elapsedMs: Number(elapsed), detail: rest.join('\t') };
}

/** The hold-mode client over an exec stream (openExec), for one source pod. */
export class HoldSession implements HeldClient {
  private stream: ExecStream | undefined;
  private failure: string | undefined;
  private closed = false;
  private readonly lines = new ExecLines((line) => {
    this.line(line);
  });
  private readonly waiting = new Map<string, (report: HoldReport) => void>();
  private onReady: (() => void) | undefined;
  private onEnd: ((why: string) => void) | undefined;

  constructor(
    private readonly source: ProbeSource,
    private readonly command: readonly string[],
    private readonly openExec: OpenSessionExec,
    /** Bound of starting the client until READY. */
    private readonly openTimeoutMs = 30_000,
  ) {}

  private get name(): string {
    return `${this.source.namespace}/${this.source.pod}/${this.source.container}`;
  }

  private async start(): Promise<void> {
    const ready = new Promise<void>((resolve, reject) => {
      this.onReady = resolve;
      this.onEnd = (why) => {
        reject(new Error(why));
      };
    });
    ready.catch(() => undefined); // awaited below; a failure before that is not unhandled
    const stream = await this.openExec(this.source, this.command, (which, text) => {
      this.lines.output(which, text);
    });
    this.stream = stream;
    if (this.closed) stream.close();
    void stream.ended.then((end) => {
      const base =
        end.kind === 'exited'
          ? `the hold client in ${this.name} exited with code ${String(end.exitCode)}`
          : `the hold client in ${this.name} was lost: ${end.reason}`;
      const tail = this.lines.stderr.trim().split('\n').slice(-2).join(' | ');
      this.fail(tail === '' ? base : `${base}; stderr: ${tail.slice(0, 300)}`);
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        ready,
        new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => {
            reject(
              new Error(
                `the hold client in ${this.name} did not start within ${String(this.openTimeoutMs)} ms`,
              ),
            );
          }, this.openTimeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  private line(line: string): void {
    if (line === 'READY') this.onReady?.();
    const report = parseHeldLine(line);
    if (report === undefined) return;
    const resolve = this.waiting.get(report.id);
    this.waiting.delete(report.id);
    resolve?.(report);
  }

  private fail(reason: string): void {
    this.failure ??= reason;
    this.onEnd?.(this.failure);
    for (const [id, resolve] of this.waiting)
      resolve({ id, outcome: 'probe-error', elapsedMs: 0, detail: this.failure });
    this.waiting.clear();
    this.stream?.close();
  }

  /** Sends commands and waits for one report per id, bounded. */
  private async exchange(
    commands: readonly { id: string; line: string }[],
    boundMs: number,
  ): Promise<HoldReport[]> {
    const stream = this.stream;
    const dead = this.failure ?? (this.closed ? 'the hold client was closed' : undefined);
    if (stream === undefined || dead !== undefined)
      return commands.map(({ id }) => ({
        id,
        outcome: 'probe-error',
        elapsedMs: 0,
        detail: dead ?? 'the hold client is not running',
      }));
    const answers = commands.map(
      ({ id }) =>
        new Promise<HoldReport>((resolve) => {
          this.waiting.set(id, resolve);
        }),
    );
    const timer = setTimeout(() => {
      this.fail(`the hold client in ${this.name} did not answer within ${String(boundMs)} ms`);
    }, boundMs);
    try {
      stream.write(commands.map((c) => `${c.line}\n`).join(''));
      return await Promise.all(answers);
    } finally {
      clearTimeout(timer);
    }
  }

  async open(requests: readonly HoldRequest[]): Promise<HoldReport[]> {
    for (const r of requests) {
      if (!ID.test(r.id) || !ID.test(r.host))
        throw new Error(`internal: a held connection id or host with blanks: ${r.id} ${r.host}`);
    }
    if (requests.length === 0) return [];
    try {
      if (this.stream === undefined) await this.start();
    } catch (error) {
      const why = `could not start the hold client in ${this.name}: ${error instanceof Error ? error.message : String(error)}`;
      this.fail(why);
    }
    // Connections open one after the other: each takes at most two timeouts (connect, exchange).
    const bound = requests.reduce((ms, r) => ms + (2 * r.timeoutSeconds + 1) * 1000, 0) + 10_000;
    return this.exchange(
      requests.map((r) => ({
        id: r.id,
        line: `OPEN ${r.id} ${r.host} ${String(r.port)} ${r.protocol} ${String(r.timeoutSeconds)}`,
      })),
      bound,
    );
  }

  test(ids: readonly string[], timeoutSeconds: number): Promise<HoldReport[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.exchange(
      ids.map((id) => ({ id, line: `TEST ${id} ${String(timeoutSeconds)}` })),
      ids.length * (timeoutSeconds + 1) * 1000 + 10_000,
    );
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.fail('the hold client was closed');
  }
}
