import type { Protocol } from '../domain/protocol.js';

/**
 * The model's inputs: the API objects that decide connectivity, already validated and defaulted
 * the way the API server would store them. Loaders (plain manifests, scenarios) produce these.
 */

export type Labels = Readonly<Record<string, string>>;

export const SELECTOR_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;
export type SelectorOperator = (typeof SELECTOR_OPERATORS)[number];

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: SelectorOperator;
  readonly values: readonly string[];
}

/** metav1.LabelSelector. Both parts empty selects everything. */
export interface LabelSelector {
  readonly matchLabels: Labels;
  readonly matchExpressions: readonly LabelSelectorRequirement[];
}

export interface ContainerPort {
  readonly name?: string;
  readonly containerPort: number;
  readonly protocol: Protocol;
}

export interface NamespaceInfo {
  readonly name: string;
  /** Labels as the API server stores them, `kubernetes.io/metadata.name` included. */
  readonly labels: Labels;
}

export interface PodInfo {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Labels;
  /** status.podIPs (or status.podIP); the first is the primary address. May be empty. */
  readonly ips: readonly string[];
  readonly ports: readonly ContainerPort[];
  readonly hostNetwork: boolean;
  /** spec.nodeName: the node the pod runs on, when known. */
  readonly nodeName?: string;
  /** What the pod stands for when it is a workload's representative, e.g. `Deployment web`. */
  readonly origin?: string;
}

/** A non-pod peer (a host outside the cluster, a subnet's representative) with one IP. */
export interface ExternalInfo {
  readonly name: string;
  readonly ip: string;
  /**
   * The peer is a cluster node: traffic between it and the pods running on it (spec.nodeName)
   * is always allowed, whatever the policies say (the documented exception for node traffic).
   */
  readonly node?: boolean;
  /** The ports the host serves (what a probe to it can target); absent: none declared. */
  readonly ports?: readonly ContainerPort[];
  /** A node's labels (metadata.labels), which `nodes` peers of cluster policies select. */
  readonly labels?: Labels;
}

export type PolicyType = 'Ingress' | 'Egress';

export interface IPBlock {
  readonly cidr: string;
  readonly except: readonly string[];
}

/**
 * NetworkPolicyPeer. Either ipBlock alone, or podSelector and/or namespaceSelector. An absent
 * namespaceSelector means the policy's own namespace; an absent podSelector (with a
 * namespaceSelector) means every pod of the selected namespaces.
 */
export interface PolicyPeer {
  readonly podSelector?: LabelSelector;
  readonly namespaceSelector?: LabelSelector;
  readonly ipBlock?: IPBlock;
}

/** NetworkPolicyPort with the API server's default applied (protocol TCP). */
export interface PolicyPort {
  readonly protocol: Protocol;
  /** Absent: every port of the protocol. */
  readonly port?: number | string;
  readonly endPort?: number;
}

/** An ingress or egress rule. `peers` null: every peer; `ports` null: every port. */
export interface PolicyRule {
  readonly peers: readonly PolicyPeer[] | null;
  readonly ports: readonly PolicyPort[] | null;
}

export interface NetworkPolicyInfo {
  readonly namespace: string;
  readonly name: string;
  readonly podSelector: LabelSelector;
  /** After defaulting: what the API server stores. */
  readonly policyTypes: readonly PolicyType[];
  /** True when policyTypes was absent or empty and the default was applied. */
  readonly policyTypesDefaulted: boolean;
  readonly ingress: readonly PolicyRule[];
  readonly egress: readonly PolicyRule[];
}

/*
 * Cluster-scoped, ordered policies of policy.networking.k8s.io: ClusterNetworkPolicy (v1alpha2,
 * v1beta1: one schema) and the older AdminNetworkPolicy / BaselineAdminNetworkPolicy (v1alpha1),
 * mapped onto the same tiers (docs/MODEL.md, "Cluster policies").
 */

export const CLUSTER_POLICY_KINDS = [
  'ClusterNetworkPolicy',
  'AdminNetworkPolicy',
  'BaselineAdminNetworkPolicy',
] as const;
export type ClusterPolicyKind = (typeof CLUSTER_POLICY_KINDS)[number];

export type ClusterTier = 'Admin' | 'Baseline';

/** Accept (v1alpha1: Allow), Deny, Pass (not in a BaselineAdminNetworkPolicy). */
export type ClusterAction = 'Accept' | 'Deny' | 'Pass';

/** NamespacedPod: pods matching podSelector in namespaces matching namespaceSelector. */
export interface NamespacedPodSelector {
  readonly namespaceSelector: LabelSelector;
  readonly podSelector: LabelSelector;
}

/** Exactly one of namespaces or pods. */
export type ClusterSubject =
  { readonly namespaces: LabelSelector } | { readonly pods: NamespacedPodSelector };

/**
 * One peer: exactly one field is set. `none` stands for a peer with no field, which the API tells
 * implementations to fail closed on (an Accept rule matches nothing through it; a Deny or Pass
 * rule becomes "deny all").
 */
export type ClusterPeer =
  | { readonly kind: 'namespaces'; readonly selector: LabelSelector }
  | { readonly kind: 'pods'; readonly pods: NamespacedPodSelector }
  | { readonly kind: 'networks'; readonly cidrs: readonly string[] }
  | { readonly kind: 'nodes'; readonly selector: LabelSelector }
  | { readonly kind: 'domainNames'; readonly names: readonly string[] }
  | { readonly kind: 'none' };

/**
 * A destination port a rule matches: a protocol with every port, one port or an inclusive range,
 * or a container port name (resolved on the destination pod, whatever its protocol).
 */
export type ClusterPort =
  | { readonly protocol: Protocol; readonly port?: number; readonly endPort?: number }
  | { readonly namedPort: string };

export interface ClusterRule {
  readonly name?: string;
  readonly action: ClusterAction;
  readonly peers: readonly ClusterPeer[];
  /** null: every port and protocol. */
  readonly ports: readonly ClusterPort[] | null;
}

export interface ClusterPolicyInfo {
  readonly kind: ClusterPolicyKind;
  readonly apiVersion: string;
  readonly name: string;
  readonly tier: ClusterTier;
  /** 0–1000, lower first; undefined for a BaselineAdminNetworkPolicy, which has none. */
  readonly priority?: number;
  readonly subject: ClusterSubject;
  readonly ingress: readonly ClusterRule[];
  readonly egress: readonly ClusterRule[];
}

/** Everything the model evaluates: one snapshot of a cluster. */
export interface World {
  readonly namespaces: readonly NamespaceInfo[];
  readonly pods: readonly PodInfo[];
  readonly externals: readonly ExternalInfo[];
  readonly policies: readonly NetworkPolicyInfo[];
  /** ClusterNetworkPolicies, AdminNetworkPolicies and BaselineAdminNetworkPolicies. */
  readonly clusterPolicies?: readonly ClusterPolicyInfo[];
}

/**
 * Behaviours the NetworkPolicy spec leaves to the network plugin (docs/MODEL.md). The defaults
 * are what the upstream e2e suite and the common plugins do.
 */
export interface ModelOptions {
  /**
   * A pod connecting to its own IP: `allow` (default: the traffic stays on the pod's loopback
   * and no common plugin filters it) or `policy` (evaluate it like any other flow).
   */
  readonly selfTraffic: 'allow' | 'policy';
  /** Whether ipBlock peers match pod IPs (default true, as the upstream e2e suite expects). */
  readonly ipBlockMatchesPods: boolean;
  /**
   * hostNetwork pods: `node` (default: their traffic is the node's — policies never select
   * them, pod and namespace selectors never match them, ipBlock matches their IP) or `pod`
   * (treated as ordinary pods).
   */
  readonly hostNetwork: 'node' | 'pod';
}

export const DEFAULT_MODEL_OPTIONS: ModelOptions = {
  selfTraffic: 'allow',
  ipBlockMatchesPods: true,
  hostNetwork: 'node',
};

export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
