/**
 * Jobs, resolved once. For a world and its probes: every (source, destination, probe) is either
 * runnable (with the destination port it targets) or unresolvable (with the reason: a port name
 * the destination does not serve, a port number no container of it declares, a host that
 * declares no ports). The model runner and the probe runner take these jobs; nobody else
 * resolves ports. Pure: no I/O.
 */
import { podKey, type EndpointKey } from '../domain/endpoint.js';
import { familyName, FAMILIES, type Family, type Job } from '../domain/job.js';
import type { PatternEndpoint } from '../domain/pattern.js';
import { formatProbe, type ProbePort } from '../domain/probe.js';
import { familiesOf } from '../model/cidr.js';
import {
  NAMESPACE_NAME_LABEL,
  type ContainerPort,
  type Labels,
  type World,
} from '../model/types.js';

/** One row/column of a step's matrix. */
export interface PlanEndpoint extends PatternEndpoint {
  readonly key: EndpointKey;
  readonly kind: 'pod' | 'external' | 'node';
  /** The pod's or the host's name. */
  readonly name: string;
  /** What the endpoint serves; undefined for a host that declares nothing. */
  readonly ports: readonly ContainerPort[];
  /** The IP families of its addresses; empty when it has none (it is then in every family). */
  readonly families: readonly Family[];
}

export type PlannedJob =
  | { readonly kind: 'runnable'; readonly job: Job; readonly port: number }
  | { readonly kind: 'unresolvable'; readonly job: Job; readonly reason: string };

export interface JobPlan {
  readonly endpoints: readonly PlanEndpoint[];
  readonly probes: readonly ProbePort[];
  /** The families of a run that probes more than one (jobs carry them); absent: one family. */
  readonly families?: readonly Family[];
  /**
   * Probe-major, then family (in `families` order), then source, then destination (the order of
   * `endpoints`). A flow of a family an end has no address of is no job: it does not exist.
   */
  readonly jobs: readonly PlannedJob[];
}

/** Whether an endpoint takes part in flows of `family` (one without addresses: in every one). */
export function inFamily(e: PlanEndpoint, family: Family): boolean {
  return e.families.length === 0 || e.families.includes(family);
}

/** The families of the addresses the pods of some worlds declare (or have, live), in order. */
export function podFamilies(worlds: readonly World[]): Family[] {
  return familiesOf(worlds.flatMap((w) => w.pods.flatMap((p) => p.ips)));
}

/**
 * The families a run probes. `requested` (--family): each must be a family some pod has, else
 * the message says which is missing. Default: every family the pods have. More than one family
 * available: the jobs carry their family (also when one is requested, so that a dual-stack
 * scenario probed on one family says which). One family or none: undefined, a single-family run
 * whose flows use the destination's primary address, as a run without families.
 */
export function selectFamilies(
  available: readonly Family[],
  requested?: readonly Family[],
  origin: 'declared' | 'live' = 'declared',
): { families?: readonly Family[] } | { problem: string } {
  if (requested !== undefined) {
    const missing = requested.filter((f) => !available.includes(f)).map(familyName);
    if (missing.length > 0) {
      const have = available.length === 0 ? 'none' : available.map(familyName).join(' and ');
      const use =
        available.length === 0
          ? ''
          : `use --family ${available.length === 1 ? String(available[0]) : 'both'}`;
      return {
        problem:
          origin === 'declared'
            ? `no pod declares an ${missing.join(' or ')} address in ips: (they declare ${have})${use === '' ? '' : `; ${use}`}`
            : `no pod has an ${missing.join(' or ')} address in status.podIPs (they have ${have}): the cluster does not give pods that family${use === '' ? '' : `; ${use}`}`,
      };
    }
  }
  if (available.length < 2) return {};
  return { families: FAMILIES.filter((f) => (requested ?? available).includes(f)) };
}

export { familiesOf };

/** Pods (in world order), then externals and nodes, keyed as expectations name them. */
export function planEndpoints(world: World): PlanEndpoint[] {
  const nsLabels = new Map<string, Labels>();
  for (const ns of world.namespaces)
    nsLabels.set(ns.name, { ...ns.labels, [NAMESPACE_NAME_LABEL]: ns.name });
  const endpoints: PlanEndpoint[] = world.pods.map((pod) => ({
    key: podKey(pod.namespace, pod.name),
    kind: 'pod',
    namespace: pod.namespace,
    name: pod.name,
    labels: pod.labels,
    namespaceLabels: nsLabels.get(pod.namespace) ?? { [NAMESPACE_NAME_LABEL]: pod.namespace },
    ports: pod.ports,
    families: familiesOf(pod.ips),
  }));
  for (const e of world.externals)
    endpoints.push({
      key: `ext:${e.name}`,
      kind: e.node === true ? 'node' : 'external',
      name: e.name,
      external: true,
      ports: e.ports ?? [],
      families: familiesOf([e.ip]),
    });
  return endpoints;
}

/** Every (port, protocol) some endpoint serves, by protocol then port. */
export function servedProbes(endpoints: readonly PlanEndpoint[]): ProbePort[] {
  const seen = new Map<string, ProbePort>();
  for (const e of endpoints)
    for (const p of e.ports)
      seen.set(`${p.protocol}/${String(p.containerPort)}`, {
        port: p.containerPort,
        protocol: p.protocol,
      });
  return [...seen.values()].sort(
    (a, b) => a.protocol.localeCompare(b.protocol) || Number(a.port) - Number(b.port),
  );
}

/** The port `probe` targets on `destination`, or why there is none. */
export function resolvePort(probe: ProbePort, destination: PlanEndpoint): number | string {
  const served = destination.ports.filter((p) => p.protocol === probe.protocol);
  const what = destination.kind === 'pod' ? 'serves' : 'declares';
  if (typeof probe.port === 'string') {
    const named = served.find((p) => p.name === probe.port);
    if (named) return named.containerPort;
    return `${destination.key} ${what} no ${probe.protocol} port named "${probe.port}"${describeServed(destination)}`;
  }
  if (served.some((p) => p.containerPort === probe.port)) return probe.port;
  return `${destination.key} ${what} no ${formatProbe(probe)} port${describeServed(destination)}`;
}

function describeServed(e: PlanEndpoint): string {
  if (e.ports.length === 0) return ' (it declares no ports)';
  const list = e.ports.map(
    (p) => `${p.name ? `${p.name}=` : ''}${String(p.containerPort)}/${p.protocol}`,
  );
  return ` (it serves ${list.join(', ')})`;
}

/**
 * Every job of a world: from every endpoint to every endpoint (external to external excepted:
 * no policy decides it) on every probe and, given families (selectFamilies), on every family
 * both ends have.
 */
export function planJobs(
  world: World,
  probes?: readonly ProbePort[],
  families?: readonly Family[],
): JobPlan {
  const endpoints = planEndpoints(world);
  const chosen = probes ?? servedProbes(endpoints);
  const jobs: PlannedJob[] = [];
  for (const probe of chosen) {
    const ports = endpoints.map((d) => resolvePort(probe, d));
    for (const family of families ?? [undefined]) {
      for (const from of endpoints) {
        if (family !== undefined && !inFamily(from, family)) continue;
        endpoints.forEach((to, t) => {
          if (from.kind !== 'pod' && to.kind !== 'pod') return;
          if (family !== undefined && !inFamily(to, family)) return;
          const job: Job = {
            from: from.key,
            to: to.key,
            probe,
            ...(family === undefined ? {} : { family }),
          };
          // Stryker disable next-line StringLiteral: equivalent, `ports` has one entry per endpoint, so the fallback is never read
          const port = ports[t] ?? 'internal: no port';
          jobs.push(
            typeof port === 'number'
              ? { kind: 'runnable', job, port }
              : { kind: 'unresolvable', job, reason: port },
          );
        });
      }
    }
  }
  return { endpoints, probes: chosen, ...(families === undefined ? {} : { families }), jobs };
}
