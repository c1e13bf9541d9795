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
  missingPermissions,
  type Cluster,
  type Permission,
} from '../cluster/index.js';
import type { Scenario, ScenarioPolicy } from '../dsl/types.js';
import { IssueSink } from '../model/raw.js';
import { DEFAULT_MODEL_OPTIONS, type PodInfo, type World } from '../model/types.js';
import { readNetworkPolicy } from '../model/validate.js';
import type { LiveCluster } from './live-cluster.js';
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
