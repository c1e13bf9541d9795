import type { ProbePort } from '../domain/probe.js';
import type { Endpoint, NetworkModel, RuleRef, SideDecision, Verdict } from '../model/engine.js';
import type { Origins } from '../manifest/objects.js';
import {
  MARKS,
  ProbeView,
  addCounts,
  emptyCounts,
  type Counts,
  type Mark,
  type Selection,
} from './view.js';

/**
 * The documented JSON document of `model`, `explain` (and later `check`): docs/OUTPUT.md and
 * schemas/model-output.schema.json. Compact at cluster scale: per probe, the ordered keys and one
 * string of marks per source; provenance only for the cells asked for. Written as a stream, one
 * probe's table in memory at a time.
 */
export const MODEL_API_VERSION = 'polygraph.dev/v1alpha2';

export interface ModelDocument {
  readonly apiVersion: typeof MODEL_API_VERSION;
  readonly kind: 'ModelResult';
  readonly options: NetworkModel['options'];
  readonly marks: typeof MARKS;
  readonly endpoints: readonly EndpointJson[];
  readonly policies: readonly PolicyJson[];
  readonly probes: readonly ProbeJson[];
  readonly summary: SummaryJson;
}

export interface SummaryJson {
  /** Evaluated cells: allowed + denied. */
  readonly cells: number;
  readonly allowed: number;
  readonly denied: number;
  readonly unresolved: number;
  readonly notServed: number;
}

export interface ProbeJson {
  readonly port: number | string;
  readonly protocol: string;
  readonly from: readonly string[];
  readonly to: readonly string[];
  /** One string per `from`, one mark per `to` (see `marks`). */
  readonly rows: readonly string[];
  /** Provenance of the cells asked for (--explain-cells, explain). */
  readonly cells?: readonly CellJson[];
  readonly summary: SummaryJson;
}

export type EndpointJson =
  | {
      kind: 'pod';
      key: string;
      namespace: string;
      name: string;
      labels: Record<string, string>;
      ips: readonly string[];
      hostNetwork: boolean;
      origin?: string;
      source?: string;
    }
  | { kind: 'external'; key: string; name: string; ip: string; node?: true };

export interface PolicyJson {
  key: string;
  policyTypes: readonly string[];
  policyTypesDefaulted: boolean;
  source?: string;
}

/** A rule; a cluster policy's also names its tier, priority, action and name. */
export interface RuleJson {
  policy: string;
  rule: string;
  tier?: string;
  priority?: number;
  action?: string;
  name?: string;
}

export interface SideJson {
  decision: SideDecision['kind'];
  why?: string;
  policies?: readonly string[];
  admittedBy?: readonly RuleJson[];
  /** The cluster policy rule that denied the flow. */
  deniedBy?: RuleJson;
  /** Pass rules of cluster policies that sent the flow on to the next tier. */
  passed?: readonly RuleJson[];
}

function ruleJson(r: RuleRef): RuleJson {
  return {
    policy: r.policy,
    rule: r.path,
    ...(r.tier !== undefined ? { tier: r.tier } : {}),
    ...(r.priority !== undefined ? { priority: r.priority } : {}),
    ...(r.action !== undefined ? { action: r.action } : {}),
    ...(r.name !== undefined ? { name: r.name } : {}),
  };
}

function passedJson(decision: { passed?: readonly RuleRef[] }): Pick<SideJson, 'passed'> {
  return decision.passed ? { passed: decision.passed.map(ruleJson) } : {};
}

export interface CellJson {
  from: string;
  to: string;
  verdict: 'allow' | 'deny';
  resolvedPort?: number;
  self?: true;
  reason: string;
  egress: SideJson;
  ingress: SideJson;
  /** explain only: the walkthrough of both sides. */
  walkthrough?: unknown;
}

function side(decision: SideDecision): SideJson {
  switch (decision.kind) {
    case 'not-isolated':
      return { decision: decision.kind, ...passedJson(decision) };
    case 'not-subject':
      return { decision: decision.kind, why: decision.why };
    case 'allowed':
      return {
        decision: decision.kind,
        policies: decision.policies,
        admittedBy: decision.admittedBy.map(ruleJson),
        ...passedJson(decision),
      };
    case 'denied':
      return {
        decision: decision.kind,
        policies: decision.policies,
        ...(decision.deniedBy ? { deniedBy: ruleJson(decision.deniedBy) } : {}),
        ...passedJson(decision),
      };
    case 'own-node':
      return { decision: decision.kind, why: `node ${decision.node}` };
  }
}

export function cellJson(v: Verdict, walkthrough?: unknown): CellJson {
  return {
    from: v.from,
    to: v.to,
    verdict: v.verdict,
    ...(typeof v.probe.port === 'string' ? { resolvedPort: v.port } : {}),
    ...(v.self ? { self: true as const } : {}),
    reason: v.reason,
    egress: side(v.egress),
    ingress: side(v.ingress),
    ...(walkthrough === undefined ? {} : { walkthrough }),
  };
}

export function endpointJson(e: Endpoint, origins?: Origins): EndpointJson {
  if (e.kind === 'external')
    return {
      kind: 'external',
      key: e.key,
      name: e.name,
      ip: e.external.ip,
      ...(e.external.node ? { node: true as const } : {}),
    };
  // A workload's pods come from the workload object (origin `Kind name`).
  const at = origins?.get(
    e.pod.origin ? e.pod.origin.replace(' ', ` ${e.namespace}/`) : `Pod ${e.key}`,
  );
  return {
    kind: 'pod',
    key: e.key,
    namespace: e.namespace,
    name: e.name,
    labels: { ...e.pod.labels },
    ips: e.pod.ips,
    hostNetwork: e.pod.hostNetwork,
    ...(e.pod.origin ? { origin: e.pod.origin } : {}),
    ...(at ? { source: `${at.file}:${at.line}` } : {}),
  };
}

/** Receives the document in chunks; a returned promise is awaited (backpressure). */
export type Sink = (chunk: string) => void | Promise<void>;

export interface ModelDocumentInput {
  readonly model: NetworkModel;
  readonly probes: readonly ProbePort[];
  readonly origins?: Origins;
  /** Default: every endpoint both ways, destinations probed on the ports they serve. */
  readonly selection?: Partial<Selection>;
  /** Provenance for every evaluated cell shown (of the `only` verdict when one is given). */
  readonly explainCells?: boolean;
  /** Extra data for a cell's provenance (explain's walkthrough). */
  readonly walkthrough?: (from: Endpoint, to: Endpoint, probe: ProbePort) => unknown;
}

/** Gathers small strings into large writes. */
class Chunker {
  private parts: string[] = [];
  private size = 0;
  constructor(private readonly sink: Sink) {}
  async push(text: string): Promise<void> {
    this.parts.push(text);
    this.size += text.length;
    if (this.size >= 1 << 20) await this.flush();
  }
  async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const chunk = this.parts.join('');
    this.parts = [];
    this.size = 0;
    await this.sink(chunk);
  }
}

const json = (value: unknown): string => JSON.stringify(value);

function summary(counts: Counts): SummaryJson {
  return { cells: counts.allowed + counts.denied, ...counts };
}

/** Writes the document to `sink`, one probe's table in memory at a time; returns the totals. */
export async function writeModelDocument(
  sink: Sink,
  input: ModelDocumentInput,
): Promise<SummaryJson> {
  const { model } = input;
  const selection: Selection = {
    from: input.selection?.from ?? model.endpoints,
    to: input.selection?.to ?? model.endpoints,
    servedOnly: input.selection?.servedOnly ?? true,
    ...(input.selection?.only ? { only: input.selection.only } : {}),
  };
  const out = new Chunker(sink);
  const list = async <T>(items: Iterable<T>, write: (item: T) => string): Promise<void> => {
    let first = true;
    for (const item of items) {
      await out.push(`${first ? '\n    ' : ',\n    '}${write(item)}`);
      first = false;
    }
    if (!first) await out.push('\n  ');
  };
  await out.push(
    `{\n  "apiVersion": ${json(MODEL_API_VERSION)},\n  "kind": "ModelResult",\n  "options": ${json(model.options)},\n  "marks": ${json(MARKS)},\n  "endpoints": [`,
  );
  await list(model.endpoints, (e) => json(endpointJson(e, input.origins)));
  await out.push('],\n  "policies": [');
  await list(model.world.policies, (p) => {
    const key = `${p.namespace}/${p.name}`;
    const at = input.origins?.get(`NetworkPolicy ${key}`);
    const policy: PolicyJson = {
      key,
      policyTypes: p.policyTypes,
      policyTypesDefaulted: p.policyTypesDefaulted,
      ...(at ? { source: `${at.file}:${at.line}` } : {}),
    };
    return json(policy);
  });
  const clusterPolicies = model.world.clusterPolicies ?? [];
  if (clusterPolicies.length > 0) {
    // Only when there are some: documents of NetworkPolicy-only inputs are unchanged.
    await out.push('],\n  "clusterPolicies": [');
    await list(clusterPolicies, (p) => {
      const at = input.origins?.get(`${p.kind} ${p.name}`);
      return json({
        key: `${p.kind}/${p.name}`,
        apiVersion: p.apiVersion,
        tier: p.tier,
        ...(p.priority !== undefined ? { priority: p.priority } : {}),
        ...(at ? { source: `${at.file}:${at.line}` } : {}),
      });
    });
    if (model.warnings.length > 0) {
      await out.push('],\n  "warnings": [');
      await list(model.warnings, (w) => json(w));
    }
  }
  await out.push('],\n  "probes": [');
  const total = emptyCounts();
  const wanted: Mark[] =
    selection.only === 'allow' ? ['.'] : selection.only === 'deny' ? ['X'] : ['.', 'X'];
  for (const [p, probe] of input.probes.entries()) {
    const view = new ProbeView(model.table(probe), selection);
    const counts = emptyCounts();
    await out.push(
      `${p === 0 ? '' : ','}\n    {\n      "port": ${json(probe.port)},\n      "protocol": ${json(probe.protocol)},\n      "from": ${json(view.from.map((e) => e.key))},\n      "to": ${json(view.to.map((e) => e.key))},\n      "rows": [`,
    );
    for (const [i, from] of view.from.entries())
      await out.push(`${i === 0 ? '\n        ' : ',\n        '}${json(view.row(from, counts))}`);
    await out.push(view.from.length > 0 ? '\n      ]' : ']');
    if (input.explainCells) {
      // A second pass over the rows: memory stays bounded however many cells are explained.
      await out.push(',\n      "cells": [');
      let first = true;
      for (const from of view.from) {
        const row = view.row(from);
        for (let j = 0; j < row.length; j++) {
          if (!wanted.includes(row[j] as Mark)) continue;
          const to = view.to[j] as Endpoint;
          const v = model.verdict(from.key, to.key, probe);
          if (!('verdict' in v)) continue;
          const cell = cellJson(v, input.walkthrough?.(from, to, probe));
          await out.push(`${first ? '\n        ' : ',\n        '}${json(cell)}`);
          first = false;
        }
      }
      await out.push(first ? ']' : '\n      ]');
    }
    await out.push(`,\n      "summary": ${json(summary(counts))}\n    }`);
    addCounts(total, counts);
  }
  await out.push(
    `${input.probes.length > 0 ? '\n  ' : ''}],\n  "summary": ${json(summary(total))}\n}\n`,
  );
  await out.flush();
  return summary(total);
}

/** The document as an object (the library's entry; the CLI streams it instead). */
export async function modelDocument(input: ModelDocumentInput): Promise<ModelDocument> {
  const chunks: string[] = [];
  await writeModelDocument((c) => {
    chunks.push(c);
  }, input);
  return JSON.parse(chunks.join('')) as ModelDocument;
}
