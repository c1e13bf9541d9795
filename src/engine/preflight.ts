/**
 * Before a run: the API server answers, the kubeconfig's user may do what a run does (asked of
 * the API server, every missing permission listed at once), and the network plugin enforces
 * NetworkPolicies — proven by an enforcement canary, a throwaway scenario run like any other: a
 * client and a server pod, probed without a policy (must connect) and then under a deny-all
 * ingress policy (must be denied within a bound). A cluster that ignores policies (Flannel alone,
 * a plugin with policy support switched off) would otherwise pass every "deny" cell as a
 * connection that "happened to fail" — or fail them all for the wrong reason.
 */
import {
  ClusterError,
  formatPermission,
  listClusterObjects,
  missingPermissions,
  servedResources,
  type Cluster,
  type Permission,
  type ServedResource,
} from '../cluster/index.js';
import type { Scenario, ScenarioClusterPolicy, ScenarioPolicy } from '../dsl/types.js';
import {
  BASELINE_ADMIN_NAME,
  CLUSTER_POLICY_GROUP,
  CLUSTER_POLICY_RESOURCES,
} from '../model/cluster-validate.js';
import { IssueSink } from '../model/raw.js';
import {
  DEFAULT_MODEL_OPTIONS,
  type ClusterPolicyKind,
  type PodInfo,
  type World,
} from '../model/types.js';
import { readNetworkPolicy } from '../model/validate.js';
import { clusterFacts, type ClusterFacts } from './facts.js';
import type { LiveCluster } from './live-cluster.js';
import { MANAGED_BY, MANAGED_BY_LABEL } from './names.js';
import { runScenario, type RunOptions } from './run.js';

/** What a run does on the cluster (namespaced verbs are asked cluster-wide: namespaces are new). */
export const RUN_PERMISSIONS: readonly Permission[] = [
  { verb: 'create', resource: 'namespaces', group: '' },
  { verb: 'get', resource: 'namespaces', group: '' },
  { verb: 'list', resource: 'namespaces', group: '' },
  { verb: 'update', resource: 'namespaces', group: '' },
  { verb: 'delete', resource: 'namespaces', group: '' },
  { verb: 'create', resource: 'pods', group: '' },
  { verb: 'get', resource: 'pods', group: '' },
  { verb: 'update', resource: 'pods', group: '' },
  { verb: 'delete', resource: 'pods', group: '' },
  { verb: 'create', resource: 'pods/exec', group: '' },
  { verb: 'get', resource: 'pods/exec', group: '' },
  { verb: 'patch', resource: 'networkpolicies', group: 'networking.k8s.io' },
  { verb: 'delete', resource: 'networkpolicies', group: 'networking.k8s.io' },
];

/** The API server answers; every permission a run needs is granted. Returns the version. */
export async function checkAccess(cluster: Cluster): Promise<string> {
  const version = await cluster.serverVersion();
  const missing = await missingPermissions(cluster, RUN_PERMISSIONS);
  if (missing.length > 0)
    throw new ClusterError(
      `the kubeconfig's user lacks ${String(missing.length)} permission${missing.length === 1 ? '' : 's'} a run needs: ${missing.map(formatPermission).join('; ')}`,
      {
        verb: 'check permissions on',
        kind: 'cluster',
        name: cluster.server,
        hint: 'grant them (a ClusterRole bound to the user), or use a kubeconfig with more rights',
      },
    );
  return version;
}

const CANARY_NAMESPACE = 'polygraph-canary';
const LOC = { file: '<canary>', line: 1, col: 1 };

function canaryPod(name: string, labels: Record<string, string>): PodInfo {
  return {
    namespace: CANARY_NAMESPACE,
    name,
    labels,
    ips: [],
    ports: [{ containerPort: 8080, protocol: 'TCP' }],
    hostNetwork: false,
  };
}

/** The canary as a scenario: client → server allowed without policies, denied with deny-all. */
export function canaryScenario(): Scenario {
  const manifest = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'deny-server-ingress', namespace: CANARY_NAMESPACE },
    spec: { podSelector: { matchLabels: { role: 'server' } }, policyTypes: ['Ingress'] },
  };
  const info = readNetworkPolicy(manifest, new IssueSink());
  if (info === undefined) throw new Error('internal: the canary policy is invalid');
  const policy: ScenarioPolicy = { info, manifest, location: LOC };
  const world: World = {
    namespaces: [{ name: CANARY_NAMESPACE, labels: {} }],
    pods: [canaryPod('client', { role: 'client' }), canaryPod('server', { role: 'server' })],
    externals: [],
    policies: [],
  };
  const probes = [{ port: 8080, protocol: 'TCP' as const }];
  return {
    file: '<enforcement canary>',
    name: 'enforcement canary',
    options: DEFAULT_MODEL_OPTIONS,
    probes,
    initial: world,
    policies: [],
    steps: [
      { index: 0, name: 'no policy', actions: [], world, location: LOC },
      {
        index: 1,
        name: 'deny-all ingress to the server',
        actions: [{ kind: 'apply', policies: [policy] }],
        world: { ...world, policies: [info] },
        location: LOC,
      },
    ],
    knownDeviations: [],
  };
}

export interface CanaryResult {
  /** From applying the deny policy until the probe was denied. */
  readonly enforcedAfterMs: number;
}

/**
 * Runs the canary; throws a ClusterError when the cluster does not connect two pods without a
 * policy, or does not deny with one within `boundMs`.
 */
export async function enforcementCanary(
  cluster: LiveCluster,
  options: Pick<
    RunOptions,
    'image' | 'signal' | 'onEvent' | 'concurrency' | 'timeoutSeconds' | 'readyTimeoutMs' | 'runId'
  > & { readonly boundMs?: number },
): Promise<CanaryResult> {
  const boundMs = options.boundMs ?? 10_000;
  const result = await runScenario(canaryScenario(), cluster, {
    ...options,
    settleTimeoutMs: boundMs,
    retries: 0,
    // Its namespace goes in the background while the scenarios run.
    waitForCleanup: false,
  });
  const cell = (step: number) =>
    result.steps[step]?.cells.find((c) => c.from.endsWith('/client') && c.to.endsWith('/server'));
  const before = cell(0);
  const after = cell(1);
  const where = { verb: 'verify enforcement on', kind: 'cluster', name: cluster.server };
  if (before?.observed !== 'allowed')
    throw new ClusterError(
      `the enforcement canary's client could not reach its server without any policy: ${before?.observed ?? 'no result'} (${before?.observedDetail ?? ''})`,
      {
        ...where,
        hint: 'pods cannot reach each other at all: check the network plugin (or pass --skip-canary to run anyway)',
      },
    );
  const denied = after?.observed === 'refused' || after?.observed === 'dropped';
  const settle = result.steps[1]?.live?.settle;
  if (!denied || settle?.settled !== true)
    throw new ClusterError(
      `this cluster does not enforce NetworkPolicies (the enforcement canary's client still reached its server ${String(Math.round(boundMs / 1000))} s after a deny-all ingress policy selected it: ${after?.observed ?? 'no result'})`,
      {
        ...where,
        hint: 'install or enable a network plugin that enforces NetworkPolicies (Calico, Cilium, kube-router, kind ≥ 0.24 …); --skip-canary runs anyway',
      },
    );
  return { enforcedAfterMs: settle.exposureMs ?? 0 };
}

/** Every cluster policy a scenario applies: the top-level ones and those of its steps. */
export function scenarioClusterPolicies(scenario: Scenario): ScenarioClusterPolicy[] {
  return [
    ...(scenario.clusterPolicies ?? []),
    ...scenario.steps
      .flatMap((s) => s.actions)
      .flatMap((a) => (a.kind === 'apply' ? (a.clusterPolicies ?? []) : [])),
  ];
}

/** Where the CRDs come from, per kind (the files of sigs.k8s.io/network-policy-api). */
const CRD_SOURCE = 'https://raw.githubusercontent.com/kubernetes-sigs/network-policy-api';
const INSTALL_HINT =
  'install the CRDs of sigs.k8s.io/network-policy-api — ClusterNetworkPolicy (v1alpha2, v1beta1): ' +
  `kubectl apply --server-side -f ${CRD_SOURCE}/v0.3.0/config/crd/experimental/policy.networking.k8s.io_clusternetworkpolicies.yaml; ` +
  `AdminNetworkPolicy and BaselineAdminNetworkPolicy (v1alpha1): the two files of ${CRD_SOURCE}/v0.1.7/config/crd/experimental/ — ` +
  'and a network plugin that enforces them (docs/RUN.md, "Cluster policies")';

export interface ClusterPolicySupport {
  /** What the run should say before it starts (policies already in the cluster, unlistable kinds). */
  readonly warnings: readonly string[];
}

function describeServed(served: readonly ServedResource[]): string {
  if (served.length === 0)
    return `it serves nothing of ${CLUSTER_POLICY_GROUP} (none of its CRDs is installed)`;
  return `of ${CLUSTER_POLICY_GROUP} it serves ${served.map((r) => `${r.version} ${r.kind}`).join(', ')} only`;
}

/** Tier and priority of a listed policy, for messages. */
function placeOf(kind: string, spec: Readonly<Record<string, unknown>>): string {
  if (kind === 'BaselineAdminNetworkPolicy') return 'Baseline tier';
  const text = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : '?');
  const tier = kind === 'AdminNetworkPolicy' ? 'Admin' : text(spec.tier);
  return `${tier} tier, priority ${text(spec.priority)}`;
}

/**
 * Before a run of scenarios with cluster policies, nothing created yet: the API server must serve
 * every group/version/kind they use (API discovery), and the user may apply, delete and list
 * them. Otherwise a ClusterError (exit 3) names what is missing, what the cluster does serve of
 * the group, and how to install the CRDs. Then the cluster policies already in the cluster are
 * listed (read-only): they act on the run's pods too (an Admin one with a lower priority number
 * before the scenario's), so each is returned as a warning; a BaselineAdminNetworkPolicy (one per
 * cluster, named `default`) that polygraph did not create stops a scenario that has its own.
 * Scenarios without cluster policies cost nothing here.
 */
export async function checkClusterPolicySupport(
  cluster: Cluster,
  scenarios: readonly Scenario[],
): Promise<ClusterPolicySupport> {
  const needed = new Map<string, { kind: ClusterPolicyKind; version: string; file: string }>();
  for (const scenario of scenarios)
    for (const { info } of scenarioClusterPolicies(scenario)) {
      const version = info.apiVersion.slice(info.apiVersion.indexOf('/') + 1);
      const key = `${version} ${info.kind}`;
      if (!needed.has(key)) needed.set(key, { kind: info.kind, version, file: scenario.file });
    }
  if (needed.size === 0) return { warnings: [] };
  const served = await servedResources(cluster, CLUSTER_POLICY_GROUP);
  const where = { verb: 'check the API of', kind: 'cluster', name: cluster.server };
  const missing = [...needed.values()].filter(
    (n) => !served.some((r) => r.version === n.version && r.kind === n.kind),
  );
  if (missing.length > 0)
    throw new ClusterError(
      `this cluster does not serve ${missing.map((m) => `${m.kind} ${CLUSTER_POLICY_GROUP}/${m.version} (${m.file} uses it)`).join(', ')}; ${describeServed(served)}`,
      { ...where, hint: INSTALL_HINT },
    );
  const kinds = [...new Set([...needed.values()].map((n) => n.kind))];
  const wanted: Permission[] = kinds.flatMap((kind) =>
    ['patch', 'delete', 'list'].map((verb) => ({
      verb,
      resource: CLUSTER_POLICY_RESOURCES[kind],
      group: CLUSTER_POLICY_GROUP,
    })),
  );
  const denied = await missingPermissions(cluster, wanted);
  if (denied.length > 0)
    throw new ClusterError(
      `the kubeconfig's user lacks ${String(denied.length)} permission${denied.length === 1 ? '' : 's'} a run of cluster policies needs: ${denied.map(formatPermission).join('; ')}`,
      {
        ...where,
        verb: 'check permissions on',
        hint: 'grant them (a ClusterRole bound to the user), or use a kubeconfig with more rights',
      },
    );
  // What is already there, by kind (one served version each: the group's preferred comes first).
  const warnings: string[] = [];
  const listed = new Set<string>();
  for (const resource of served) {
    if (listed.has(resource.kind)) continue;
    listed.add(resource.kind);
    let objects;
    try {
      objects = await listClusterObjects(cluster, resource);
    } catch (error) {
      if (!(error instanceof ClusterError)) throw error;
      warnings.push(
        `could not list the ${resource.kind}s already in the cluster (${error.message}): any of them acts on the run's pods too`,
      );
      continue;
    }
    const foreign = objects.filter((o) => o.labels[MANAGED_BY_LABEL] !== MANAGED_BY);
    if (
      resource.kind === 'BaselineAdminNetworkPolicy' &&
      foreign.some((o) => o.name === BASELINE_ADMIN_NAME) &&
      kinds.includes('BaselineAdminNetworkPolicy')
    )
      throw new ClusterError(
        `the cluster already has its BaselineAdminNetworkPolicy "${BASELINE_ADMIN_NAME}" (one per cluster, by its CRD), which polygraph did not create and will not replace`,
        {
          ...where,
          verb: 'apply',
          kind: 'BaselineAdminNetworkPolicy',
          name: BASELINE_ADMIN_NAME,
          hint: 'run the scenario on a cluster without one, or without its BaselineAdminNetworkPolicy',
        },
      );
    if (foreign.length > 0)
      warnings.push(
        `the cluster already holds ${String(foreign.length)} ${resource.kind}${foreign.length === 1 ? '' : 's'} (${foreign.map((o) => `${o.name}: ${placeOf(resource.kind, o.spec)}`).join('; ')}): those whose subjects select the run's pods act on them too — an Admin one with a lower priority number before the scenario's — and the model does not know them`,
      );
  }
  return { warnings };
}

/** What a run knows of its cluster before it starts: what the result and the defaults need. */
export interface RunPreflight {
  /** The API server's Kubernetes version. */
  readonly version: string;
  readonly facts: ClusterFacts;
  /** The network plugin named by the user, else the one detected from its DaemonSet, if any. */
  readonly plugin: string | undefined;
  /** What to tell the user before the run (cluster policies already in the cluster, …). */
  readonly warnings: readonly string[];
}

/**
 * Everything a run (the CLI's and the library's alike) checks and learns before it creates
 * anything, except the enforcement canary: access, cluster-policy support, the cluster's facts,
 * and the plugin whose known deviations apply — the one named, else the one detected.
 */
export async function preflightRun(
  cluster: Cluster,
  scenarios: readonly Scenario[],
  plugin: string | undefined,
): Promise<RunPreflight> {
  const version = await checkAccess(cluster);
  const { warnings } = await checkClusterPolicySupport(cluster, scenarios);
  const facts = await clusterFacts(cluster);
  return { version, facts, plugin: plugin ?? facts.networkPlugin, warnings };
}
