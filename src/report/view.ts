import type { ProbePort } from '../domain/probe.js';
import type { Endpoint, NetworkModel, TruthTable } from '../model/engine.js';

/**
 * What a report shows of one probe's truth table: the sources and destinations selected, and one
 * mark per cell. Shared by the tables and the JSON document so that both say the same.
 */
export type Mark = '.' | 'X' | '?' | '-' | ' ';

/** The marks and what they mean (the JSON document's `marks`, the tables' legend). */
export const MARKS = {
  '.': 'allow',
  X: 'deny',
  '?': 'unresolved',
  '-': 'not-served',
  ' ': 'none',
} as const satisfies Record<Mark, string>;

const ALLOW = 0x2e; // '.'
const DENY = 0x58; // 'X'
const UNRESOLVED = 0x3f; // '?'
const NOT_SERVED = 0x2d; // '-'
const NONE = 0x20; // ' '

export interface Selection {
  /** Candidate sources and destinations (after --from / --to), in endpoint order. */
  readonly from: readonly Endpoint[];
  readonly to: readonly Endpoint[];
  /** Keep only sources and destinations with at least one cell of this verdict. */
  readonly only?: 'allow' | 'deny';
  /**
   * Probe each destination only on the ports it serves (default): a pod that declares container
   * ports but not this one is "not served". Pods declaring no port and external peers are
   * probed on every port, since what they serve is unknown.
   */
  readonly servedOnly: boolean;
}

export interface Counts {
  allowed: number;
  denied: number;
  unresolved: number;
  notServed: number;
}

export function emptyCounts(): Counts {
  return { allowed: 0, denied: 0, unresolved: 0, notServed: 0 };
}

export function addCounts(into: Counts, from: Counts): void {
  into.allowed += from.allowed;
  into.denied += from.denied;
  into.unresolved += from.unresolved;
  into.notServed += from.notServed;
}

/** Whether `destination` serves the probe's port (see Selection.servedOnly). */
export function serves(probe: ProbePort, destination: Endpoint): boolean {
  if (destination.kind !== 'pod' || destination.pod.ports.length === 0) return true;
  if (typeof probe.port === 'string') return true; // a name: resolved or unresolved ('?')
  return destination.pod.ports.some(
    (p) => p.containerPort === probe.port && p.protocol === probe.protocol,
  );
}

export class ProbeView {
  readonly from: readonly Endpoint[];
  readonly to: readonly Endpoint[];
  private readonly served: Uint8Array;
  private readonly buffer: Buffer;

  constructor(
    readonly table: TruthTable,
    selection: Selection,
  ) {
    const probe = table.probe;
    this.served = new Uint8Array(table.size);
    for (const e of selection.to)
      this.served[e.index] = !selection.servedOnly || serves(probe, e) ? 1 : 0;
    let from = selection.from;
    let to = selection.to;
    if (selection.only !== undefined) {
      const wanted = selection.only === 'allow' ? ALLOW : DENY;
      const keepColumn = new Uint8Array(table.size);
      const buffer = Buffer.alloc(to.length);
      from = from.filter((f) => {
        this.fill(f, to, buffer);
        let any = false;
        for (let i = 0; i < to.length; i++)
          if (buffer[i] === wanted) {
            any = true;
            keepColumn[to[i]?.index ?? 0] = 1;
          }
        return any;
      });
      to = to.filter((t) => keepColumn[t.index] === 1);
    }
    this.from = from;
    this.to = to;
    this.buffer = Buffer.alloc(to.length);
  }

  get probe(): ProbePort {
    return this.table.probe;
  }

  private fill(
    from: Endpoint,
    to: readonly Endpoint[],
    out: Buffer,
    start = 0,
    end = to.length,
  ): void {
    const table = this.table;
    const resolved = table.resolved;
    const fromExternal = from.kind === 'external';
    for (let i = start; i < end; i++) {
      const t = to[i] as Endpoint;
      const d = t.index;
      let mark: number;
      if (fromExternal && t.kind === 'external') mark = NONE;
      else if (((resolved[d >>> 5] ?? 0) & (1 << (d & 31))) === 0) mark = UNRESOLVED;
      else if (this.served[d] !== 1) mark = NOT_SERVED;
      else mark = table.allowed(from.index, d) ? ALLOW : DENY;
      out[i - start] = mark;
    }
  }

  /**
   * The marks of one row, one character per destination of `to` (or of `to[start..end)`);
   * counts added to `counts`.
   */
  row(from: Endpoint, counts?: Counts, start = 0, end = this.to.length): string {
    const buffer = this.buffer.subarray(0, end - start);
    this.fill(from, this.to, buffer, start, end);
    if (counts)
      for (const b of buffer) {
        if (b === ALLOW) counts.allowed++;
        else if (b === DENY) counts.denied++;
        else if (b === UNRESOLVED) counts.unresolved++;
        else if (b === NOT_SERVED) counts.notServed++;
      }
    return buffer.toString('latin1');
  }
}

export function probeView(model: NetworkModel, probe: ProbePort, selection: Selection): ProbeView {
  return new ProbeView(model.table(probe), selection);
}
