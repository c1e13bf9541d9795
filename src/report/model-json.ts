import type { ProbePort } from '../domain/probe.js';
import type { NetworkModel, SideDecision, TruthTable } from '../model/engine.js';
import type { Origins } from '../manifest/objects.js';

/** The documented `polygraph model -o json` document (docs/OUTPUT.md). */
export interface ModelDocument {
  readonly apiVersion: 'polygraph.dev/v1alpha1';
  readonly kind: 'ModelResult';
  readonly options: NetworkModel['options'];
  readonly endpoints: readonly EndpointJson[];
  readonly policies: readonly PolicyJson[];
  readonly probes: readonly { port: number | string; protocol: string }[];
  readonly cells: readonly CellJson[];
  readonly unresolved: readonly {
    from: string;
    to: string;
    port: number | string;
    protocol: string;
    reason: string;
  }[];
  readonly summary: {
    readonly cells: number;
    readonly allowed: number;
    readonly denied: number;
    readonly unresolved: number;
  };
}

type EndpointJson =
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

interface PolicyJson {
  key: string;
  policyTypes: readonly string[];
  policyTypesDefaulted: boolean;
  source?: string;
}

interface SideJson {
  decision: SideDecision['kind'];
  why?: string;
  policies?: readonly string[];
  admittedBy?: readonly { policy: string; rule: string }[];
}

export interface CellJson {
  from: string;
  to: string;
  port: number | string;
  protocol: string;
  verdict: 'allow' | 'deny';
  resolvedPort?: number;
  self?: true;
  reason: string;
  egress: SideJson;
  ingress: SideJson;
}

function side(decision: SideDecision): SideJson {
  switch (decision.kind) {
    case 'not-isolated':
      return { decision: decision.kind };
    case 'not-subject':
      return { decision: decision.kind, why: decision.why };
    case 'allowed':
      return {
        decision: decision.kind,
        policies: decision.policies,
        admittedBy: decision.admittedBy.map((r) => ({ policy: r.policy, rule: r.path })),
      };
    case 'denied':
      return { decision: decision.kind, policies: decision.policies };
    case 'own-node':
      return { decision: decision.kind, why: `node ${decision.node}` };
  }
}

export function modelDocument(
  model: NetworkModel,
  tables: readonly TruthTable[],
  origins?: Origins,
): ModelDocument {
  const where = (id: string): string | undefined => {
    const at = origins?.get(id);
    return at ? `${at.file}:${at.line}` : undefined;
  };
  const cells: CellJson[] = [];
  const unresolved: ModelDocument['unresolved'][number][] = [];
  let allowed = 0;
  for (const table of tables) {
    const probe: ProbePort = table.probe;
    for (const from of model.endpoints) {
      for (const to of model.endpoints) {
        if (from.kind === 'external' && to.kind === 'external') continue;
        const v = model.verdict(from.key, to.key, probe);
        if (!('verdict' in v)) {
          unresolved.push({
            from: from.key,
            to: to.key,
            port: probe.port,
            protocol: probe.protocol,
            reason: v.reason,
          });
          continue;
        }
        if (v.verdict === 'allow') allowed++;
        cells.push({
          from: from.key,
          to: to.key,
          port: probe.port,
          protocol: probe.protocol,
          verdict: v.verdict,
          ...(typeof probe.port === 'string' ? { resolvedPort: v.port } : {}),
          ...(v.self ? { self: true as const } : {}),
          reason: v.reason,
          egress: side(v.egress),
          ingress: side(v.ingress),
        });
      }
    }
  }
  return {
    apiVersion: 'polygraph.dev/v1alpha1',
    kind: 'ModelResult',
    options: model.options,
    endpoints: model.endpoints.map((e): EndpointJson => {
      if (e.kind === 'external')
        return {
          kind: 'external',
          key: e.key,
          name: e.name,
          ip: e.external.ip,
          ...(e.external.node ? { node: true as const } : {}),
        };
      // A workload's pods come from the workload object (origin `Kind name`).
      const source = e.pod.origin
        ? where(e.pod.origin.replace(' ', ` ${e.namespace}/`))
        : where(`Pod ${e.key}`);
      return {
        kind: 'pod',
        key: e.key,
        namespace: e.namespace,
        name: e.name,
        labels: { ...e.pod.labels },
        ips: e.pod.ips,
        hostNetwork: e.pod.hostNetwork,
        ...(e.pod.origin ? { origin: e.pod.origin } : {}),
        ...(source ? { source } : {}),
      };
    }),
    policies: model.world.policies.map((p) => {
      const key = `${p.namespace}/${p.name}`;
      const source = where(`NetworkPolicy ${key}`);
      return {
        key,
        policyTypes: p.policyTypes,
        policyTypesDefaulted: p.policyTypesDefaulted,
        ...(source ? { source } : {}),
      };
    }),
    probes: tables.map((t) => ({ port: t.probe.port, protocol: t.probe.protocol })),
    cells,
    unresolved,
    summary: {
      cells: cells.length,
      allowed,
      denied: cells.length - allowed,
      unresolved: unresolved.length,
    },
  };
}
