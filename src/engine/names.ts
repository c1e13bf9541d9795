/**
 * Live names for a scenario's namespaces, and its policies rewritten to them. Pure: no I/O.
 *
 * By default every namespace gets the run's suffix (`shop` → `shop-<run id>`), so runs never
 * collide with each other or with what is already on the cluster. The model keeps evaluating
 * the scenario's own names; only what is sent to the API server is mapped: a policy's
 * `metadata.namespace`, and the values of `kubernetes.io/metadata.name` in its
 * namespaceSelectors (the one label whose value is the namespace's name).
 */
import { randomBytes } from 'node:crypto';
import { UsageError } from '../domain/errors.js';
import type { ClusterObjectManifest, NetworkPolicyManifest } from '../cluster/index.js';
import { BASELINE_ADMIN_NAME } from '../model/cluster-validate.js';
import { NAMESPACE_NAME_LABEL, type Labels } from '../model/types.js';

/** Labels on every namespace polygraph creates: what `polygraph clean` looks for. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'polygraph';
export const RUN_LABEL = 'polygraph.dev/run';
/** The selector of everything polygraph created. */
export const OWNED_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY}`;

export type NamespaceNames = 'suffix' | 'exact';

/** Six characters of [a-z0-9]: a run id fit for a DNS label and a label value. */
export function newRunId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(6)].map((b) => alphabet[b % alphabet.length]).join('');
}

export function ownershipLabels(runId: string): Labels {
  return { [MANAGED_BY_LABEL]: MANAGED_BY, [RUN_LABEL]: runId };
}

/** Scenario namespace → live namespace, for every name given. */
export function namespaceMap(
  names: Iterable<string>,
  runId: string,
  mode: NamespaceNames,
): Map<string, string> {
  const map = new Map<string, string>();
  for (const name of names) {
    const live = mode === 'exact' ? name : `${name}-${runId}`;
    if (live.length > 63)
      throw new UsageError(
        `namespace "${name}" is too long for the run suffix (${live} has ${String(live.length)} characters, at most 63): shorten it or use --namespace-names exact`,
      );
    map.set(name, live);
  }
  return map;
}

/** A namespace's live labels: the scenario's, its live name, and polygraph's ownership. */
export function liveNamespaceLabels(
  scenarioLabels: Labels,
  liveName: string,
  runId: string,
): Labels {
  const labels: Record<string, string> = { ...scenarioLabels };
  labels[NAMESPACE_NAME_LABEL] = liveName;
  return { ...labels, ...ownershipLabels(runId) };
}

type Json = unknown;

function isRecord(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function mapSelector(selector: Json, live: (ns: string) => string): Json {
  if (!isRecord(selector)) return selector;
  const out: Record<string, Json> = { ...selector };
  const matchLabels = selector.matchLabels;
  if (isRecord(matchLabels) && typeof matchLabels[NAMESPACE_NAME_LABEL] === 'string')
    out.matchLabels = {
      ...matchLabels,
      [NAMESPACE_NAME_LABEL]: live(matchLabels[NAMESPACE_NAME_LABEL]),
    };
  if (Array.isArray(selector.matchExpressions))
    out.matchExpressions = selector.matchExpressions.map((e: Json) =>
      isRecord(e) && e.key === NAMESPACE_NAME_LABEL && Array.isArray(e.values)
        ? { ...e, values: e.values.map((v: Json) => (typeof v === 'string' ? live(v) : v)) }
        : e,
    );
  return out;
}

function mapPeers(rules: Json, key: 'from' | 'to', live: (ns: string) => string): Json {
  if (!Array.isArray(rules)) return rules;
  return rules.map((rule: Json) => {
    if (!isRecord(rule) || !Array.isArray(rule[key])) return rule;
    return {
      ...rule,
      [key]: rule[key].map((peer: Json) =>
        isRecord(peer) && peer.namespaceSelector !== undefined
          ? { ...peer, namespaceSelector: mapSelector(peer.namespaceSelector, live) }
          : peer,
      ),
    };
  });
}

/** Scenario namespace → live name; a name the map does not hold is mapped the same way. */
function liveName(
  names: ReadonlyMap<string, string>,
  runId: string,
  mode: NamespaceNames,
): (ns: string) => string {
  return (ns) => names.get(ns) ?? (mode === 'exact' ? ns : `${ns}-${runId}`);
}

/**
 * The policy as sent to the cluster: in its live namespace, namespaceSelectors on
 * `kubernetes.io/metadata.name` naming live namespaces. A name the map does not hold (a
 * namespace the scenario never creates) is mapped the same way, so that it still matches
 * nothing polygraph did not create.
 */
export function livePolicy(
  manifest: Readonly<Record<string, unknown>>,
  names: ReadonlyMap<string, string>,
  runId: string,
  mode: NamespaceNames,
): NetworkPolicyManifest {
  const live = liveName(names, runId, mode);
  const metadata = isRecord(manifest.metadata) ? manifest.metadata : {};
  const namespace = typeof metadata.namespace === 'string' ? metadata.namespace : 'default';
  const spec = isRecord(manifest.spec) ? manifest.spec : {};
  const name = typeof metadata.name === 'string' ? metadata.name : '';
  const labels = isRecord(metadata.labels) ? (metadata.labels as Labels) : undefined;
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace: live(namespace), ...(labels === undefined ? {} : { labels }) },
    spec: {
      ...spec,
      ...(spec.ingress === undefined ? {} : { ingress: mapPeers(spec.ingress, 'from', live) }),
      ...(spec.egress === undefined ? {} : { egress: mapPeers(spec.egress, 'to', live) }),
    },
  };
}

/**
 * The name of a cluster policy on the cluster: `NAME-<run id>`, except a
 * BaselineAdminNetworkPolicy's, which its CRD requires to be `default`.
 */
export function liveClusterPolicyName(kind: string, name: string, runId: string): string {
  return kind === 'BaselineAdminNetworkPolicy' ? BASELINE_ADMIN_NAME : `${name}-${runId}`;
}

/** A selector of namespaces, also requiring one of the run's namespaces (ANDed). */
function bindSelector(selector: Json, runNamespaces: readonly string[]): Json {
  const base = isRecord(selector) ? selector : {};
  const expressions: Json[] = Array.isArray(base.matchExpressions) ? base.matchExpressions : [];
  return {
    ...base,
    matchExpressions: [
      ...expressions,
      { key: NAMESPACE_NAME_LABEL, operator: 'In', values: [...runNamespaces] },
    ],
  };
}

/** `namespaces` and `pods` peers with their namespace names mapped to the live ones. */
function mapClusterPeers(rules: Json, key: 'from' | 'to', live: (ns: string) => string): Json {
  if (!Array.isArray(rules)) return rules;
  return rules.map((rule: Json) => {
    if (!isRecord(rule) || !Array.isArray(rule[key])) return rule;
    return {
      ...rule,
      [key]: rule[key].map((peer: Json) => {
        if (!isRecord(peer)) return peer;
        if (peer.namespaces !== undefined)
          return { ...peer, namespaces: mapSelector(peer.namespaces, live) };
        if (isRecord(peer.pods) && peer.pods.namespaceSelector !== undefined)
          return {
            ...peer,
            pods: {
              ...peer.pods,
              namespaceSelector: mapSelector(peer.pods.namespaceSelector, live),
            },
          };
        return peer;
      }),
    };
  });
}

/**
 * A cluster policy (ClusterNetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy) as sent
 * to the cluster. A cluster-scoped policy would act on every namespace its subject selects, so it
 * is bound to the run: its subject's namespace selector (for a `pods` subject without one: a new
 * one) also requires `kubernetes.io/metadata.name In [the run's namespaces]`. Peers are left as
 * written (their namespace names mapped like a NetworkPolicy's): a peer only widens or narrows
 * what the bound subjects may reach, so it cannot act on anything outside the run, and among the
 * run's pods it matches exactly what the scenario's peer matches. The name gets the run id
 * (`NAME-<run id>`), except a BaselineAdminNetworkPolicy's, which must be `default`; the labels
 * get the run's (what `polygraph clean` finds).
 */
export function liveClusterPolicy(
  manifest: Readonly<Record<string, unknown>>,
  names: ReadonlyMap<string, string>,
  runId: string,
  mode: NamespaceNames,
): ClusterObjectManifest {
  const live = liveName(names, runId, mode);
  const runNamespaces = [...new Set(names.values())].sort();
  const kind = typeof manifest.kind === 'string' ? manifest.kind : '';
  const apiVersion = typeof manifest.apiVersion === 'string' ? manifest.apiVersion : '';
  const metadata = isRecord(manifest.metadata) ? manifest.metadata : {};
  const written = typeof metadata.name === 'string' ? metadata.name : '';
  const name = liveClusterPolicyName(kind, written, runId);
  if (name.length > 253)
    throw new UsageError(
      `${kind} "${written}" is too long for the run suffix (${String(name.length)} characters, at most 253): shorten its name`,
    );
  const labels = isRecord(metadata.labels) ? (metadata.labels as Labels) : {};
  const spec = isRecord(manifest.spec) ? manifest.spec : {};
  const subject = isRecord(spec.subject) ? spec.subject : {};
  const boundSubject = isRecord(subject.pods)
    ? {
        ...subject,
        pods: {
          ...subject.pods,
          namespaceSelector: bindSelector(
            mapSelector(subject.pods.namespaceSelector ?? {}, live),
            runNamespaces,
          ),
        },
      }
    : {
        ...subject,
        namespaces: bindSelector(mapSelector(subject.namespaces, live), runNamespaces),
      };
  return {
    apiVersion,
    kind,
    metadata: { name, labels: { ...labels, ...ownershipLabels(runId) } },
    spec: {
      ...spec,
      subject: boundSubject,
      ...(spec.ingress === undefined
        ? {}
        : { ingress: mapClusterPeers(spec.ingress, 'from', live) }),
      ...(spec.egress === undefined ? {} : { egress: mapClusterPeers(spec.egress, 'to', live) }),
    },
  };
}
