/**
 * A scenario after both validation phases: every reference resolved, every path read, the world
 * of every step computed. This is what plan/, the engine and the reporters consume; nothing here
 * refers back to YAML except the source locations kept for messages.
 */
import type { HoldOutcome } from '../domain/hold.js';
import type { SourceLocation } from '../domain/issue.js';
import type { Family } from '../domain/job.js';
import type { ProbePort } from '../domain/probe.js';
import type { Pattern } from '../domain/pattern.js';
import type {
  ClusterPolicyInfo,
  ClusterPolicyKind,
  ModelOptions,
  NetworkPolicyInfo,
  PodInfo,
  World,
} from '../model/types.js';

/** A verdict a user can expect of a cell. */
export type ExpectedVerdict = 'allow' | 'deny' | 'unresolvable';

/** One NetworkPolicy with the object to send to an API server (as the user wrote it). */
export interface ScenarioPolicy {
  readonly info: NetworkPolicyInfo;
  /** The object as parsed (YAML 1.1, as kubectl reads it), namespace filled in. */
  readonly manifest: Readonly<Record<string, unknown>>;
  readonly location: SourceLocation;
}

/**
 * One cluster-scoped policy (ClusterNetworkPolicy, AdminNetworkPolicy,
 * BaselineAdminNetworkPolicy) with the object as the user wrote it.
 */
export interface ScenarioClusterPolicy {
  readonly info: ClusterPolicyInfo;
  readonly manifest: Readonly<Record<string, unknown>>;
  readonly location: SourceLocation;
}

export type Action =
  | {
      readonly kind: 'apply';
      readonly policies: readonly ScenarioPolicy[];
      /** Cluster policies applied by the same action (absent: none). */
      readonly clusterPolicies?: readonly ScenarioClusterPolicy[];
    }
  | { readonly kind: 'delete-policy'; readonly namespace: string; readonly name: string }
  /** A cluster policy applied earlier, by kind and name (as written in the scenario). */
  | {
      readonly kind: 'delete-cluster-policy';
      readonly policyKind: ClusterPolicyKind;
      readonly apiVersion: string;
      readonly name: string;
    }
  /** Labels merged into the pod's; a null value removes the label. */
  | {
      readonly kind: 'label-pod';
      readonly namespace: string;
      readonly name: string;
      readonly labels: Readonly<Record<string, string | null>>;
    }
  | {
      readonly kind: 'label-namespace';
      readonly namespace: string;
      readonly labels: Readonly<Record<string, string | null>>;
    }
  | { readonly kind: 'create-pod'; readonly pod: PodInfo }
  | { readonly kind: 'delete-pod'; readonly namespace: string; readonly name: string };

/**
 * The cells one expectation rule covers: `from P to Q on PROBE over FAMILY`; absent parts cover
 * all.
 */
export interface CellSelector {
  readonly from?: Pattern;
  readonly to?: Pattern;
  readonly probe?: ProbePort;
  /** `over IPv4` / `over IPv6`: flows of that family only. */
  readonly family?: Family;
  /** The text as written, for messages. */
  readonly text: string;
}

export interface ExpectationRule {
  readonly cells: CellSelector;
  readonly verdict: ExpectedVerdict;
  readonly location: SourceLocation;
}

/** One table of the table notation: explicit cells by endpoint key (`-` cells are absent). */
export interface ExpectationTable {
  readonly probe: ProbePort;
  /** `from` key → `to` key → verdict. Keys as in the model (`ns/pod`, `ext:NAME`). */
  readonly cells: ReadonlyMap<string, ReadonlyMap<string, ExpectedVerdict>>;
  readonly location: SourceLocation;
}

/**
 * The expected matrix of a step: `default`, then `rules` in order (later wins), then `tables`.
 * A cell none of them covers is unchecked.
 */
export interface Expectation {
  readonly default?: 'allow' | 'deny';
  readonly rules: readonly ExpectationRule[];
  readonly tables: readonly ExpectationTable[];
}

export interface KnownDeviation {
  readonly plugin: string;
  readonly versions?: string;
  /** Step names it applies to; undefined: every step. */
  readonly step?: string;
  readonly cells: readonly CellSelector[];
  readonly observed: 'allow' | 'deny';
  /**
   * The plugin shows `observed` on some tries and the spec's verdict on others (its behaviour
   * depends on something that changes between its syncs): either is accepted, and a cell whose
   * tries mix the two is a known deviation, not flaky.
   */
  readonly intermittent?: boolean;
  readonly reason: string;
  readonly location: SourceLocation;
}

/**
 * A connection held across a step: opened (and used once) before the step's actions, used again
 * after them. Both ends are pods of the world before the step and of the world after it.
 */
export interface HeldConnection {
  /** Source pod key `ns/pod` (the client runs there). */
  readonly from: string;
  /** Destination pod key `ns/pod`. */
  readonly to: string;
  /** As written (a number or a name), with its protocol. */
  readonly probe: ProbePort;
  /** The destination port, resolved on the destination before the step. */
  readonly port: number;
  readonly protocol: 'TCP' | 'UDP';
  /** What the user states the plugin does to it; absent: observed only. */
  readonly expect?: HoldOutcome;
  /** `from A to B on P`, for messages. */
  readonly text: string;
  readonly location: SourceLocation;
}

export interface ScenarioStep {
  /** 0-based position. */
  readonly index: number;
  readonly name: string;
  readonly description?: string;
  readonly actions: readonly Action[];
  /** The world after this step's actions: what the step's probes run against. */
  readonly world: World;
  /** Absent: the step states no expectation (every cell unchecked). */
  readonly expect?: Expectation;
  /** Connections held across the step (absent: none). */
  readonly holds?: readonly HeldConnection[];
  readonly location: SourceLocation;
}

export interface Scenario {
  /** The scenario file's path as given. */
  readonly file: string;
  readonly name: string;
  readonly description?: string;
  readonly source?: string;
  readonly options: ModelOptions;
  /** Explicit probes; undefined: every (port, protocol) some endpoint of the step serves. */
  readonly probes?: readonly ProbePort[];
  /** Topology and the top-level policies: the state before the first step's actions. */
  readonly initial: World;
  /** The top-level policies (applied before the first step), for a live run. */
  readonly policies: readonly ScenarioPolicy[];
  /** The top-level cluster policies (absent: none). */
  readonly clusterPolicies?: readonly ScenarioClusterPolicy[];
  /**
   * What the model accepts but cannot decide exactly, per step (equal priorities that overlap,
   * peers with no field, domainNames), for people: `check` prints them.
   */
  readonly warnings?: readonly string[];
  /** At least one: a scenario without `steps` has one step named "main" with no actions. */
  readonly steps: readonly ScenarioStep[];
  readonly knownDeviations: readonly KnownDeviation[];
}
