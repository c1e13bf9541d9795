/**
 * What a change does to connectivity: two worlds (before and after) evaluated by the model, and
 * every cell whose verdict differs, with the verdict (and so the deciding policies and rules) on
 * both sides. Pure: the worlds come from manifests, a live cluster, or a cluster with manifests
 * applied or removed (src/engine/live-world.ts, src/manifest/overlay.ts).
 */
import type { EndpointKey } from '../domain/endpoint.js';
import { formatProbe, type ProbePort } from '../domain/probe.js';
import { NetworkModel, type Endpoint, type TruthTable, type Verdict } from '../model/engine.js';
import { NAMESPACE_NAME_LABEL, type ModelOptions, type World } from '../model/types.js';

export interface DiffOptions {
  /** The probes compared; default: every port a pod declares on either side. */
  readonly probes?: readonly ProbePort[];
  /**
   * Compare a destination only on the ports it serves (on either side), as `model` shows them
   * (default true). Pods declaring no port and external peers are compared on every probe.
   */
  readonly servedOnly?: boolean;
  /** Sources and destinations to compare (default: all), decided on the after side's endpoint. */
  readonly from?: (e: Endpoint) => boolean;
  readonly to?: (e: Endpoint) => boolean;
}

export type CellChangeKind = 'opened' | 'closed';

/** One cell whose verdict differs: its verdict (with provenance) before and after. */
export interface CellChange {
  readonly change: CellChangeKind;
  readonly probe: ProbePort;
  readonly from: EndpointKey;
  readonly to: EndpointKey;
  readonly before: Verdict;
  readonly after: Verdict;
}

/** An endpoint present on one side only, and how many cells of it are allowed there. */
export interface OneSidedEndpoint {
  readonly key: EndpointKey;
  /** Allowed cells with this endpoint as source or destination, on the side it exists. */
  readonly allowed: number;
  readonly cells: number;
}

/** What differs between the two worlds' objects (for context: not every edit changes a cell). */
export interface WorldChanges {
  readonly policies: {
    readonly added: readonly string[];
    readonly removed: readonly string[];
    readonly changed: readonly string[];
  };
  readonly namespaces: {
    readonly added: readonly string[];
    readonly removed: readonly string[];
    readonly relabelled: readonly string[];
  };
  readonly endpoints: {
    readonly added: readonly OneSidedEndpoint[];
    readonly removed: readonly OneSidedEndpoint[];
    /** Pods on both sides whose labels, ports, IPs or node differ. */
    readonly changed: readonly string[];
  };
}

export interface DiffSummary {
  /** Cells evaluated on both sides. */
  readonly compared: number;
  readonly unchanged: number;
  readonly opened: number;
  readonly closed: number;
  /**
   * Cells of endpoints present on both sides that are evaluated on one side only (a probe by port
   * name the destination serves on one side only).
   */
  readonly oneSided: number;
}

export interface DiffResult {
  readonly options: ModelOptions;
  readonly probes: readonly ProbePort[];
  /** Cells now allowed that were denied, in probe, source, destination order. */
  readonly opened: readonly CellChange[];
  /** Cells now denied that were allowed. */
  readonly closed: readonly CellChange[];
  readonly changes: WorldChanges;
  readonly summary: DiffSummary;
}

/** Whether the diff found a change of connectivity: a cell opened or closed, an endpoint added or removed. */
export function hasChanges(result: DiffResult): boolean {
  return (
    result.opened.length > 0 ||
    result.closed.length > 0 ||
    result.changes.endpoints.added.length > 0 ||
    result.changes.endpoints.removed.length > 0
  );
}

/** Every (port, protocol) some pod declares in either model, ordered by protocol then port. */
export function declaredProbes(models: readonly NetworkModel[]): ProbePort[] {
  const seen = new Map<string, ProbePort>();
  for (const model of models)
    for (const e of model.endpoints) {
      if (e.kind !== 'pod') continue;
      for (const p of e.pod.ports)
        seen.set(`${p.protocol}/${p.containerPort}`, {
          port: p.containerPort,
          protocol: p.protocol,
        });
    }
  return [...seen.values()].sort(
    (a, b) => a.protocol.localeCompare(b.protocol) || Number(a.port) - Number(b.port),
  );
}

/**
 * Whether `destination` serves the probe's port: pods declaring no port and external peers serve
 * every port, a name is resolved or not (the same rule as `model`'s "not served" cells).
 */
function serves(probe: ProbePort, destination: Endpoint): boolean {
  if (destination.kind !== 'pod' || destination.pod.ports.length === 0) return true;
  if (typeof probe.port === 'string') return true;
  return destination.pod.ports.some(
    (p) => p.containerPort === probe.port && p.protocol === probe.protocol,
  );
}

function resolved(table: TruthTable, index: number): boolean {
  return ((table.resolved[index >>> 5] ?? 0) & (1 << (index & 31))) !== 0;
}

/** Whether there is a cell from `a` to `b` (external to external is none). */
function isPair(a: Endpoint, b: Endpoint): boolean {
  return !(a.kind === 'external' && b.kind === 'external');
}

const stable = (value: unknown): string =>
  JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );

function worldChanges(
  before: NetworkModel,
  after: NetworkModel,
  oneSided: { added: OneSidedEndpoint[]; removed: OneSidedEndpoint[] },
): WorldChanges {
  const byKey = <T>(items: readonly T[], key: (t: T) => string) =>
    new Map(items.map((t) => [key(t), t]));
  const compare = <T>(a: Map<string, T>, b: Map<string, T>, same: (x: T, y: T) => boolean) => ({
    added: [...b.keys()].filter((k) => !a.has(k)),
    removed: [...a.keys()].filter((k) => !b.has(k)),
    changed: [...b.entries()]
      .filter(([k, v]) => {
        const old = a.get(k);
        return old !== undefined && !same(old, v);
      })
      .map(([k]) => k),
  });
  const policies = compare(
    byKey(before.world.policies, (p) => `${p.namespace}/${p.name}`),
    byKey(after.world.policies, (p) => `${p.namespace}/${p.name}`),
    (x, y) => stable(x) === stable(y),
  );
  const labelsOf = (labels: Readonly<Record<string, string>>, name: string) =>
    stable({ ...labels, [NAMESPACE_NAME_LABEL]: name });
  const namespaces = compare(
    byKey(before.world.namespaces, (n) => n.name),
    byKey(after.world.namespaces, (n) => n.name),
    (x, y) => labelsOf(x.labels, x.name) === labelsOf(y.labels, y.name),
  );
  const pods = compare(
    byKey(before.world.pods, (p) => `${p.namespace}/${p.name}`),
    byKey(after.world.pods, (p) => `${p.namespace}/${p.name}`),
    (x, y) =>
      stable([x.labels, x.ports, x.ips, x.hostNetwork, x.nodeName ?? null]) ===
      stable([y.labels, y.ports, y.ips, y.hostNetwork, y.nodeName ?? null]),
  );
  return {
    policies,
    namespaces: {
      added: namespaces.added,
      removed: namespaces.removed,
      relabelled: namespaces.changed,
    },
    endpoints: { ...oneSided, changed: pods.changed },
  };
}

/**
 * The cells whose verdict differs between two worlds, each with both verdicts and their
 * provenance. Endpoints are matched by key (`ns/pod`, `ext:NAME@IP`); those present on one side
 * only are listed with the number of their allowed cells there, not compared cell by cell.
 */
export function diffWorlds(
  beforeWorld: World,
  afterWorld: World,
  modelOptions: Partial<ModelOptions> = {},
  options: DiffOptions = {},
): DiffResult {
  return diffModels(
    new NetworkModel(beforeWorld, modelOptions),
    new NetworkModel(afterWorld, modelOptions),
    options,
  );
}

/** diffWorlds on compiled models (of the same options). */
export function diffModels(
  before: NetworkModel,
  after: NetworkModel,
  options: DiffOptions = {},
): DiffResult {
  const probes = options.probes ?? declaredProbes([before, after]);
  const servedOnly = options.servedOnly ?? true;
  const wantFrom = options.from ?? (() => true);
  const wantTo = options.to ?? (() => true);
  // After-side endpoints with their before-side twin, in after order; then the removed ones.
  const pairs: { a: Endpoint; b: Endpoint }[] = [];
  const added: Endpoint[] = [];
  for (const a of after.endpoints) {
    const b = before.endpoint(a.key);
    if (b !== undefined && b.key === a.key) pairs.push({ a, b });
    else added.push(a);
  }
  const removed = before.endpoints.filter((b) => after.endpoint(b.key)?.key !== b.key);
  const sources = pairs.filter((p) => wantFrom(p.a));
  const destinations = pairs.filter((p) => wantTo(p.a));
  const opened: CellChange[] = [];
  const closed: CellChange[] = [];
  let compared = 0;
  let oneSided = 0;
  const addedCounts = new Map(added.map((e) => [e.key, { allowed: 0, cells: 0 }]));
  const removedCounts = new Map(removed.map((e) => [e.key, { allowed: 0, cells: 0 }]));
  /** Counts the cells of endpoints present on one side only, on that side's table. */
  const countOneSided = (
    model: NetworkModel,
    table: TruthTable,
    lonely: readonly Endpoint[],
    counts: Map<string, { allowed: number; cells: number }>,
    probe: ProbePort,
  ): void => {
    if (lonely.length === 0) return;
    const isLonely = new Set(lonely.map((e) => e.index));
    for (const s of model.endpoints)
      for (const d of model.endpoints) {
        if (!isLonely.has(s.index) && !isLonely.has(d.index)) continue;
        if (!isPair(s, d) || !resolved(table, d.index)) continue;
        if (servedOnly && !serves(probe, d)) continue;
        const allowed = table.allowed(s.index, d.index);
        for (const e of s.index === d.index ? [s] : [s, d]) {
          const c = isLonely.has(e.index) ? counts.get(e.key) : undefined;
          if (c === undefined) continue;
          c.cells++;
          if (allowed) c.allowed++;
        }
      }
  };
  for (const probe of probes) {
    const tb = before.table(probe);
    const ta = after.table(probe);
    countOneSided(after, ta, added, addedCounts, probe);
    countOneSided(before, tb, removed, removedCounts, probe);
    for (const s of sources) {
      for (const d of destinations) {
        if (!isPair(s.a, d.a)) continue;
        if (servedOnly && !serves(probe, d.a) && !serves(probe, d.b)) continue;
        const ra = resolved(ta, d.a.index);
        const rb = resolved(tb, d.b.index);
        if (!ra || !rb) {
          if (ra || rb) oneSided++;
          continue;
        }
        compared++;
        const allowedBefore = tb.allowed(s.b.index, d.b.index);
        const allowedAfter = ta.allowed(s.a.index, d.a.index);
        if (allowedBefore === allowedAfter) continue;
        const vb = before.verdict(s.b.key, d.b.key, probe);
        const va = after.verdict(s.a.key, d.a.key, probe);
        if (!('verdict' in vb) || !('verdict' in va)) continue; // resolved above: never
        const change: CellChange = {
          change: allowedAfter ? 'opened' : 'closed',
          probe,
          from: s.a.key,
          to: d.a.key,
          before: vb,
          after: va,
        };
        (allowedAfter ? opened : closed).push(change);
      }
    }
  }
  const oneSidedList = (
    endpoints: readonly Endpoint[],
    counts: Map<string, { allowed: number; cells: number }>,
  ): OneSidedEndpoint[] =>
    endpoints
      .filter((e) => wantFrom(e) || wantTo(e))
      .map((e) => ({ key: e.key, ...(counts.get(e.key) ?? { allowed: 0, cells: 0 }) }));
  return {
    options: after.options,
    probes,
    opened,
    closed,
    changes: worldChanges(before, after, {
      added: oneSidedList(added, addedCounts),
      removed: oneSidedList(removed, removedCounts),
    }),
    summary: {
      compared,
      unchanged: compared - opened.length - closed.length,
      opened: opened.length,
      closed: closed.length,
      oneSided,
    },
  };
}

/** `80/TCP shop/web -> shop/api`: how a changed cell is named in reports. */
export function cellName(change: Pick<CellChange, 'probe' | 'from' | 'to'>): string {
  return `${formatProbe(change.probe)} ${change.from} -> ${change.to}`;
}
