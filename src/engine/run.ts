/**
 * `run`: a scenario on a live cluster, step by step. Namespaces (live names: names.ts) and a
 * probe pod per scenario pod are created, the top-level policies applied; then per step: the
 * actions, settling by probing (the cells this step changes, until they flip), the whole table
 * through the probe runner and the same planned jobs through the model runner, re-probes of
 * disagreeing cells, and the three-way comparison. Everything created is removed at the end,
 * whatever happens (unless kept on purpose).
 */
import { ClusterError, type Labels, type PodInfo as LivePodInfo } from '../cluster/index.js';
import { classify, type Decided } from '../compare/classify.js';
import { classifyHold } from '../compare/hold.js';
import { expectedVerdict, selects } from '../compare/expectation.js';
import { InternalError, UsageError } from '../domain/errors.js';
import {
  familyName,
  outcomeVerdict,
  triesVerdict,
  probeLabel,
  type Family,
  type JobResult,
  type Outcome,
  type RunnableJob,
} from '../domain/job.js';
import type {
  Action,
  HeldConnection,
  KnownDeviation,
  Scenario,
  ScenarioClusterPolicy,
  ScenarioStep,
} from '../dsl/types.js';
import { NetworkModel } from '../model/engine.js';
import { NAMESPACE_NAME_LABEL, type PodInfo, type World } from '../model/types.js';
import { planJobs, type PlanEndpoint, type PlannedJob } from '../plan/plan.js';
import type { LivePod } from '../probe/probe-runner.js';
import type { HeldClient, HoldReport } from '../probe/hold.js';
import { familiesFor, heldBase, type FamilyChoice } from './check.js';
import { familyNotes } from '../compare/family.js';
import { familiesOf } from '../model/cidr.js';
import { ModelRunner } from '../probe/model-runner.js';
import { PROBE_CONTAINER, scenarioProbePod } from '../probe/probe-pod.js';
import type { ClusterPolicyRef, LiveCluster, ProbeSettings } from './live-cluster.js';
import { heldPorts, topologyKey, type TopologyPool } from './pool.js';
import {
  liveClusterPolicy,
  liveClusterPolicyName,
  liveNamespaceLabels,
  livePolicy,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  namespaceMap,
  newRunId,
  RUN_LABEL,
  type NamespaceNames,
} from './names.js';
import {
  addCounts,
  countStep,
  type CellResult,
  type HeldResult,
  type ScenarioResult,
  type StepLive,
  type StepResult,
} from './results.js';

export interface RunOptions {
  /** The probe image: public agnhost, or a mirror of it. */
  readonly image: string;
  /** Default: a new random id. */
  readonly runId?: string;
  /** `suffix` (default): `ns-<run id>`; `exact`: as written, refusing existing namespaces. */
  readonly namespaceNames?: NamespaceNames;
  /** Source pods probing at once. Default 10. */
  readonly concurrency?: number;
  /** Per-probe timeout in whole seconds. Default 1. */
  readonly timeoutSeconds?: number;
  /** Leave everything on the cluster. */
  readonly keep?: boolean;
  /** The network plugin: declared known deviations for it classify as known-deviation. */
  readonly plugin?: string;
  /** Scenario external name → a live address that stands for it. */
  readonly externals?: ReadonlyMap<string, string>;
  /**
   * The IP families to probe (`--family`): `[4]`, `[6]` or `[4, 6]`. Default: every family the
   * live pods have (status.podIPs); on a dual-stack cluster every cell is probed on each.
   */
  readonly families?: readonly Family[];
  /**
   * Scenario external name → the command that runs a program on the host standing for it
   * (e.g. `['ip', 'netns', 'exec', 'ext1']`): its cells as a source are probed from there. Each
   * needs an address in `externals` too (ipBlock rules decide by the source's address).
   */
  readonly externalSources?: ReadonlyMap<string, readonly string[]>;
  /** Bound of settling after a step's actions. Default 15 s. */
  readonly settleTimeoutMs?: number;
  /**
   * What settling rounds probe: the whole table (default; the last round is the table) or only
   * the changed cells, then the table once.
   */
  readonly settleScope?: 'table' | 'changed';
  /**
   * Where the probe pods run: `spread` (default) round-robin over the schedulable nodes, so that
   * cells cross nodes; `pack` all on one node. Each pod is pinned with a required node affinity
   * (the scheduler still checks resources). When the nodes cannot be listed, the scheduler
   * places them and the run says so.
   */
  readonly placement?: 'spread' | 'pack';
  /** Re-probes of a disagreeing cell. Default 2. */
  readonly retries?: number;
  /** Bound of waiting for probe pods. Default 120 s. */
  readonly readyTimeoutMs?: number;
  /** Wait until the namespaces are gone at cleanup (default true). */
  readonly waitForCleanup?: boolean;
  /**
   * Keep the deployed topology for the next scenario that has the same one, reset instead of
   * deleted (see TopologyPool): for suites of many scenarios. Needs run-suffixed names and no
   * `keep`.
   */
  readonly pool?: TopologyPool;
  /**
   * With a pool: give the deployment back to it at the end (default), or — for the last scenario
   * of its topology — take one from it but delete it at the end as without a pool.
   */
  readonly returnToPool?: boolean;
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: RunEvent) => void;
  /** Milliseconds clock; tests pass a fake one. */
  readonly now?: () => number;
}

export type RunEvent =
  | { readonly kind: 'phase'; readonly scenario: string; readonly message: string }
  | {
      readonly kind: 'step';
      readonly scenario: string;
      readonly step: string;
      readonly index: number;
      readonly total: number;
    }
  | {
      readonly kind: 'probes';
      readonly scenario: string;
      readonly step: string;
      readonly what: 'settle' | 'table' | 'retry';
      readonly done: number;
      readonly total: number;
    }
  | {
      readonly kind: 'cleanup';
      readonly scenario: string;
      readonly namespaces: readonly string[];
      /** When kept: the command that removes them. */
      readonly kept?: string;
    };

/** Every namespace a scenario uses, in order of appearance. */
export function scenarioNamespaces(scenario: Scenario): string[] {
  const names = new Set<string>();
  const add = (world: World) => {
    for (const ns of world.namespaces) names.add(ns.name);
    for (const pod of world.pods) names.add(pod.namespace);
    for (const p of world.policies) names.add(p.namespace);
  };
  add(scenario.initial);
  for (const step of scenario.steps) add(step.world);
  return [...names];
}

const cellKey = (job: RunnableJob['job']): string =>
  `${probeLabel(job.probe, job.family)} ${job.from} ${job.to}`;

/** The known deviations of `plugin` that apply to a step. */
export function stepDeviations(
  scenario: Scenario,
  step: ScenarioStep,
  plugin: string | undefined,
): KnownDeviation[] {
  if (plugin === undefined) return [];
  return scenario.knownDeviations.filter(
    (d) => d.plugin === plugin && (d.step === undefined || d.step === step.name),
  );
}

function merge(
  labels: Labels,
  changes: Readonly<Record<string, string | null>>,
): Record<string, string> {
  const out = new Map(Object.entries(labels));
  for (const [k, v] of Object.entries(changes)) {
    if (v === null) out.delete(k);
    else out.set(k, v);
  }
  return Object.fromEntries(out);
}

/** The cluster's state as the engine tracks it, keyed by scenario names. */
class LiveState {
  readonly pods = new Map<string, LivePod>();
  /** Why a scenario pod has no live pod (hostNetwork). */
  readonly absent = new Map<string, string>();
  readonly podLabels = new Map<string, Labels>();
  readonly namespaceLabels = new Map<string, Labels>();
  readonly created: string[] = [];
  /** Policies applied and not deleted, as `live namespace/name`. */
  readonly applied = new Set<string>();
  /** Cluster policies applied (bound to the run), by `Kind/live name`. */
  readonly appliedCluster = new Map<string, ClusterPolicyRef>();
  /** Pods were created or deleted by the steps: the topology is not the deployed one any more. */
  topologyChanged = false;
}

export async function runScenario(
  scenario: Scenario,
  cluster: LiveCluster,
  options: RunOptions,
): Promise<ScenarioResult> {
  const now = options.now ?? (() => performance.now());
  const mode = options.namespaceNames ?? 'suffix';
  const pool = options.pool;
  if (pool !== undefined && (mode === 'exact' || options.keep === true))
    throw new UsageError('a topology pool needs run-suffixed namespace names and no keep');
  const scenarioNs = scenarioNamespaces(scenario);
  const poolKey = pool === undefined ? undefined : topologyKey(scenario, scenarioNs);
  const reused = poolKey === undefined ? undefined : pool?.take(poolKey);
  const runId = reused?.runId ?? options.runId ?? newRunId();
  const externals = options.externals ?? new Map<string, string>();
  const externalSources = options.externalSources ?? new Map<string, readonly string[]>();
  for (const [name, command] of externalSources) {
    if (!externals.has(name))
      throw new UsageError(
        `external ${name} has a command to probe from (--external-exec) but no address: add --external ${name}=IP`,
      );
    if (command.length === 0)
      throw new UsageError(`external ${name}: the command to probe from is empty`);
  }
  const settings: ProbeSettings = {
    concurrency: options.concurrency ?? 10,
    timeoutSeconds: options.timeoutSeconds ?? 1,
    hosts: new Map([...externalSources].map(([name, command]) => [`ext:${name}`, command])),
  };
  const settleTimeoutMs = options.settleTimeoutMs ?? 15_000;
  const retries = options.retries ?? 2;
  const signal = options.signal;
  const emit = (event: RunEvent) => options.onEvent?.(event);
  const phase = (message: string) => {
    emit({ kind: 'phase', scenario: scenario.name, message });
  };
  const names = reused?.names ?? namespaceMap(scenarioNs, runId, mode);
  const live = (ns: string): string => {
    const name = names.get(ns);
    if (name === undefined) throw new InternalError(`namespace ${ns} was not mapped`);
    return name;
  };
  const state = new LiveState();
  const steps: StepResult[] = [];
  let kept: string | undefined;

  const placement = options.placement ?? 'spread';
  /** Schedulable nodes by name, once per run; undefined: the scheduler places the pods. */
  let nodes: string[] | undefined;
  let placed = 0;
  const podNodes = new Map<string, string>();
  async function schedulableNodes(): Promise<string[] | undefined> {
    try {
      const all = await cluster.listNodes();
      const ok = all
        .filter((n) => n.schedulable)
        .map((n) => n.name)
        .sort();
      if (ok.length === 0) {
        phase(
          'no node is schedulable for certain (all tainted, cordoned or not Ready): the scheduler places the probe pods',
        );
        return undefined;
      }
      return ok;
    } catch (error) {
      if (!(error instanceof ClusterError)) throw error;
      phase(`${error.message}: the scheduler places the probe pods`);
      return undefined;
    }
  }
  /** The node of the next pod: round-robin (spread) or always the first (pack). */
  function nextNode(): string | undefined {
    if (nodes === undefined) return undefined;
    const node = placement === 'pack' ? nodes[0] : nodes[placed % nodes.length];
    placed++;
    return node;
  }

  async function createPods(pods: readonly PodInfo[]): Promise<void> {
    const byNamespace = new Map<string, PodInfo[]>();
    for (const pod of pods) {
      const key = `${pod.namespace}/${pod.name}`;
      state.podLabels.set(key, pod.labels);
      if (pod.hostNetwork) {
        state.absent.set(
          key,
          `${key} is a hostNetwork pod: polygraph does not create those (its probes would run on the node)`,
        );
        continue;
      }
      if (pod.nodeName !== undefined && nodes !== undefined && !nodes.includes(pod.nodeName))
        throw new ClusterError(
          `${key} is pinned to node ${pod.nodeName} (its node in the topology), which is not a schedulable node of this cluster (${nodes.join(', ')})`,
          {
            verb: 'create',
            kind: 'Pod',
            name: key,
            hint: 'name a node of this cluster, or leave node out and let --placement place the pod',
          },
        );
      byNamespace.set(pod.namespace, [...(byNamespace.get(pod.namespace) ?? []), pod]);
    }
    await Promise.all(
      [...byNamespace].flatMap(([, list]) =>
        list.map((pod) => {
          const node = pod.nodeName ?? nextNode();
          return cluster.createPod({
            ...scenarioProbePod({
              namespace: live(pod.namespace),
              name: pod.name,
              labels: pod.labels,
              ports: pod.ports,
              image: options.image,
              keepAlive: heldPorts(scenario, `${pod.namespace}/${pod.name}`),
            }),
            ...(node === undefined ? {} : { node }),
          });
        }),
      ),
    );
    const ready = await Promise.all(
      [...byNamespace].map(([ns, list]) =>
        cluster.waitPodsReady(
          live(ns),
          list.map((p) => p.name),
          options.readyTimeoutMs ?? 120_000,
          signal,
        ),
      ),
    );
    [...byNamespace].forEach(([ns], i) => {
      for (const info of ready[i] ?? []) recordPod(ns, info);
    });
    // Each pod's probe session, so that no step pays for opening it.
    await cluster.openProbes(
      [...byNamespace].flatMap(([ns], i) =>
        (ready[i] ?? []).flatMap((info) => state.pods.get(`${ns}/${info.name}`) ?? []),
      ),
    );
  }

  function recordPod(ns: string, info: LivePodInfo): void {
    if (info.nodeName !== undefined) podNodes.set(`${ns}/${info.name}`, info.nodeName);
    state.pods.set(`${ns}/${info.name}`, {
      namespace: info.namespace,
      name: info.name,
      ip: info.ip,
      ips: info.ips ?? (info.ip === undefined || info.ip === '' ? [] : [info.ip]),
      container: PROBE_CONTAINER,
    });
  }

  async function applyPolicy(manifest: Parameters<typeof livePolicy>[0]): Promise<void> {
    const policy = livePolicy(manifest, names, runId, mode);
    await cluster.applyPolicy(policy);
    state.applied.add(`${policy.metadata.namespace ?? ''}/${policy.metadata.name}`);
  }

  async function applyClusterPolicy(policy: ScenarioClusterPolicy): Promise<void> {
    const live = liveClusterPolicy(policy.manifest, names, runId, mode);
    await cluster.applyClusterPolicy(live);
    state.appliedCluster.set(`${live.kind}/${live.metadata.name}`, {
      kind: policy.info.kind,
      apiVersion: live.apiVersion,
      name: live.metadata.name,
    });
  }

  /**
   * Deletes the cluster policies the run applied (they are not in its namespaces): every one is
   * tried; the first failure is thrown after.
   */
  async function deleteClusterPolicies(): Promise<void> {
    let failed: Error | undefined;
    for (const [key, ref] of state.appliedCluster) {
      try {
        await cluster.deleteClusterPolicy(ref);
        state.appliedCluster.delete(key);
      } catch (error) {
        failed ??= error instanceof Error ? error : new InternalError(String(error));
      }
    }
    if (failed !== undefined) throw failed;
  }

  /**
   * Back to the deployed topology: the scenario's policies (cluster policies too) deleted, its
   * label changes undone.
   */
  async function resetTopology(): Promise<void> {
    await deleteClusterPolicies();
    for (const key of state.applied) {
      const slash = key.indexOf('/');
      await cluster.deletePolicy(key.slice(0, slash), key.slice(slash + 1));
    }
    for (const [ns, name] of names) {
      const declared = initialNamespaceLabels(ns);
      if (!sameLabels(state.namespaceLabels.get(ns) ?? {}, declared))
        await cluster.setNamespaceLabels(name, liveNamespaceLabels(declared, name, runId));
    }
    for (const pod of scenario.initial.pods) {
      const key = `${pod.namespace}/${pod.name}`;
      if (state.pods.has(key) && !sameLabels(state.podLabels.get(key) ?? {}, pod.labels))
        await cluster.setPodLabels(live(pod.namespace), pod.name, pod.labels);
    }
  }

  function initialNamespaceLabels(ns: string): Labels {
    const declared = scenario.initial.namespaces.find((n) => n.name === ns)?.labels ?? {};
    return Object.fromEntries(Object.entries(declared).filter(([k]) => k !== NAMESPACE_NAME_LABEL));
  }

  async function perform(action: Action): Promise<void> {
    signal?.throwIfAborted();
    switch (action.kind) {
      case 'apply':
        for (const p of action.policies) await applyPolicy(p.manifest);
        for (const p of action.clusterPolicies ?? []) await applyClusterPolicy(p);
        return;
      case 'delete-policy':
        await cluster.deletePolicy(live(action.namespace), action.name);
        state.applied.delete(`${live(action.namespace)}/${action.name}`);
        return;
      case 'delete-cluster-policy': {
        const name = liveClusterPolicyName(action.policyKind, action.name, runId);
        await cluster.deleteClusterPolicy({
          kind: action.policyKind,
          apiVersion: action.apiVersion,
          name,
        });
        state.appliedCluster.delete(`${action.policyKind}/${name}`);
        return;
      }
      case 'label-pod': {
        const key = `${action.namespace}/${action.name}`;
        const labels = merge(state.podLabels.get(key) ?? {}, action.labels);
        state.podLabels.set(key, labels);
        if (state.pods.has(key))
          await cluster.setPodLabels(live(action.namespace), action.name, labels);
        return;
      }
      case 'label-namespace': {
        const labels = merge(state.namespaceLabels.get(action.namespace) ?? {}, action.labels);
        state.namespaceLabels.set(action.namespace, labels);
        const name = live(action.namespace);
        await cluster.setNamespaceLabels(name, liveNamespaceLabels(labels, name, runId));
        return;
      }
      case 'create-pod':
        state.topologyChanged = true;
        await createPods([action.pod]);
        return;
      case 'delete-pod': {
        state.topologyChanged = true;
        const key = `${action.namespace}/${action.name}`;
        const pod = state.pods.get(key);
        if (pod !== undefined) {
          state.pods.delete(key);
          await cluster.closeProbes([pod]);
          await cluster.deletePod(live(action.namespace), action.name);
        }
        state.absent.delete(key);
        state.podLabels.delete(key);
        return;
      }
    }
  }

  /** The step's world as the model evaluates it: scenario names, live addresses. */
  function modelWorld(world: World): World {
    return {
      ...world,
      pods: world.pods.map((p) => {
        const pod = state.pods.get(`${p.namespace}/${p.name}`);
        const ips = pod?.ips ?? (pod?.ip === undefined || pod.ip === '' ? [] : [pod.ip]);
        return ips.length === 0 ? p : { ...p, ips: [...ips] };
      }),
      externals: world.externals.map((e) => {
        const ip = externals.get(e.name);
        return ip === undefined ? e : { ...e, ip };
      }),
    };
  }

  /** Probe targets: live pods by scenario key, mapped externals as `ext:NAME`. */
  function targets(): Map<string, LivePod> {
    const map = new Map(state.pods);
    for (const [name, ip] of externals)
      map.set(`ext:${name}`, { namespace: '', name, ip, ips: [ip], container: '' });
    return map;
  }

  /**
   * The IP families of the run, from the live pods' addresses (status.podIPs) once they exist:
   * every family they have, or the requested ones (options.families).
   */
  let families: FamilyChoice | undefined;
  function familyChoice(): FamilyChoice {
    if (families !== undefined) return families;
    const available = familiesOf([...state.pods.values()].flatMap((p) => p.ips ?? []));
    families = familiesFor(scenario.file, available, options.families, 'live');
    if (families.families !== undefined)
      phase(`probing every cell on ${families.families.map(familyName).join(' and ')}`);
    return families;
  }

  /** Why a job cannot be probed here, if it cannot. */
  function unprobeable(
    planned: RunnableJob,
    endpoints: Map<string, PlanEndpoint>,
  ): string | undefined {
    const { job } = planned;
    const from = endpoints.get(job.from);
    const to = endpoints.get(job.to);
    if (from?.kind === 'node') return `${job.from} is a node: node traffic is not probed`;
    if (from?.kind === 'external') {
      if (!externalSources.has(from.name))
        return `${job.from} is outside the cluster: name a command that runs probes on a host standing for it with --external-exec ${from.name}=COMMAND`;
      if (to?.kind === 'external') return 'both ends are outside the cluster: no policy applies';
    } else if (!state.pods.has(job.from))
      return state.absent.get(job.from) ?? `${job.from} has no live pod`;
    if (to?.kind === 'node') return `${job.to} is a node: node traffic is not probed`;
    if (to?.kind === 'external' && !externals.has(to.name))
      return `${job.to} has no live address: map it to a host the cluster can reach with --external ${to.name}=IP`;
    if (to?.kind === 'pod' && !state.pods.has(job.to))
      return state.absent.get(job.to) ?? `${job.to} has no live pod`;
    if (job.probe.protocol === 'SCTP')
      return 'SCTP: the probe client has no SCTP probe (and the lab kernel cannot carry SCTP)';
    return undefined;
  }

  /** Cluster outcomes for jobs, counting probes. */
  async function probe(
    jobs: readonly RunnableJob[],
    what: 'settle' | 'table' | 'retry',
    step: ScenarioStep,
    stats: { probes: number; probeMs: number },
  ): Promise<JobResult[]> {
    signal?.throwIfAborted();
    const start = now();
    const results = await cluster.probe(jobs, targets(), settings, signal);
    stats.probes += jobs.length;
    stats.probeMs += now() - start;
    emit({
      kind: 'probes',
      scenario: scenario.name,
      step: step.name,
      what,
      done: jobs.length,
      total: jobs.length,
    });
    return results;
  }

  const verdictOf = (o: Outcome | undefined): Decided | 'probe-error' =>
    (o === undefined ? undefined : outcomeVerdict(o)) ?? 'probe-error';

  /** Targets of the previous state: cell key → the verdict the cluster should show. */
  let previous = new Map<string, Decided>();
  let lastActionAt = now();

  async function runStep(step: ScenarioStep): Promise<StepResult> {
    const stepStart = now();
    emit({
      kind: 'step',
      scenario: scenario.name,
      step: step.name,
      index: step.index,
      total: scenario.steps.length,
    });
    const holding = await openHolds(step);
    for (const action of step.actions) {
      await perform(action);
      lastActionAt = now();
    }
    const choice = familyChoice();
    const plan = planJobs(step.world, scenario.probes, choice.families);
    const endpoints = new Map(plan.endpoints.map((e) => [e.key, e]));
    const model = new NetworkModel(modelWorld(step.world), scenario.options);
    const runnable = plan.jobs.filter(
      (j): j is Extract<PlannedJob, { kind: 'runnable' }> => j.kind === 'runnable',
    );
    const modelled = await new ModelRunner(model).run(runnable, signal);
    const deviations = stepDeviations(scenario, step, options.plugin);

    // Per runnable job: the model's verdict, the declared deviation, the target the cluster
    // should show, and whether it can be probed here.
    const info = runnable.map((planned, i) => {
      const result = modelled[i];
      if (result?.outcome !== 'allowed' && result?.outcome !== 'denied')
        throw new InternalError(
          `the model gave ${result?.outcome ?? 'nothing'} for ${planned.job.from} -> ${planned.job.to}: ${result?.detail ?? ''}`,
        );
      const verdict: Decided = result.outcome === 'allowed' ? 'allow' : 'deny';
      const from = endpoints.get(planned.job.from);
      const to = endpoints.get(planned.job.to);
      if (from === undefined || to === undefined)
        throw new InternalError(
          `plan returned a job for an unknown endpoint: ${cellKey(planned.job)}`,
        );
      const family = planned.job.family ?? choice.sole;
      const deviation = deviations.find((d) =>
        d.cells.some((c) => selects(c, from, to, planned.job.probe, family)),
      );
      return {
        planned,
        modelled: verdict,
        explanation: result.detail,
        deviation,
        // An intermittent deviation's cells settle on the spec's verdict or the deviation's.
        target:
          deviation === undefined || deviation.intermittent === true ? verdict : deviation.observed,
        accepts: new Set<Decided | 'probe-error'>(
          deviation?.intermittent === true
            ? [verdict, deviation.observed]
            : [deviation?.observed ?? verdict],
        ),
        skip: unprobeable(planned, endpoints),
        from,
        to,
      };
    });
    const probeable = info.filter((c) => c.skip === undefined);
    const stats = { probes: 0, probeMs: 0 };

    // Settle: probe until every cell whose target changed (or that is new) shows it, and every
    // other cell shows its (unchanged) target too, bounded. With settleScope `table` (default)
    // every round probes the whole table — a source pod's probes of a round run concurrently in
    // its probe session, so a round costs about the same either way — and the round that shows
    // the step's state is the table. With `changed`, rounds probe only the cells still pending
    // and the whole table is probed once they all show their targets.
    const changed = new Set(
      probeable.filter((c) => previous.get(cellKey(c.planned.job)) !== c.target),
    );
    const wholeRounds = (options.settleScope ?? 'table') === 'table';
    const settle: { cells: number; rounds: number; settled: boolean; exposureMs?: number } = {
      cells: changed.size,
      rounds: 0,
      settled: true,
    };
    let first: JobResult[] | undefined;
    let pending = [...changed];
    let rounds = 0;
    for (;;) {
      const round = wholeRounds || pending.length === 0 ? probeable : pending;
      if (round.length === 0) break;
      const settling = pending.length > 0;
      const results = await probe(
        round.map((c) => c.planned),
        settling ? 'settle' : 'table',
        step,
        stats,
      );
      rounds++;
      const shown = new Map(round.map((c, i) => [c, verdictOf(results[i]?.outcome)]));
      const shows = (c: (typeof round)[number]) => c.accepts.has(shown.get(c) ?? 'probe-error');
      if (round === probeable) first = results;
      if (settling) {
        pending = pending.filter((c) => !shows(c));
        if (pending.length === 0) settle.exposureMs = Math.round(now() - lastActionAt);
      }
      const timedOut = now() - lastActionAt > settleTimeoutMs;
      if (pending.length > 0) {
        if (!timedOut) continue;
        settle.settled = false;
        pending = [];
        if (round !== probeable) continue;
        break;
      }
      if (round !== probeable) continue;
      // Every change shows. A cell the step did not change may still pass through another
      // verdict while the plugin applies several policies (a deny-all before the rule that
      // admits): whole rounds go on, within the same bound, until the table shows every target.
      if (!wholeRounds || timedOut || round.every(shows)) break;
    }
    // Rounds probed to settle (the last of them is the table); none when nothing had to.
    settle.rounds = changed.size > 0 || rounds > 1 ? rounds : 0;
    first ??= [];
    previous = new Map(info.map((c) => [cellKey(c.planned.job), c.target]));

    // Bounded re-probes of the cells that disagree.
    const tries = first.map((r) => [r]);
    let again = probeable
      .map((c, i) => ({ c, i }))
      .filter(({ c, i }) => !c.accepts.has(verdictOf(first[i]?.outcome)));
    for (let r = 0; r < retries && again.length > 0; r++) {
      const results = await probe(
        again.map(({ c }) => c.planned),
        'retry',
        step,
        stats,
      );
      again.forEach(({ i }, k) => {
        const result = results[k];
        if (result !== undefined) tries[i]?.push(result);
      });
      // A cell stays under re-probe only while it keeps disagreeing the same way.
      again = again.filter(({ c, i }) => {
        const seen = (tries[i] ?? []).map((t) => verdictOf(t.outcome));
        return seen.every((v) => v === seen[0]) && !c.accepts.has(seen[0] ?? 'probe-error');
      });
    }
    const observedBy = new Map(probeable.map((c, i) => [c, tries[i] ?? []]));

    let next = 0;
    const cells: CellResult[] = plan.jobs.map((planned): CellResult => {
      const { job } = planned;
      const from = endpoints.get(job.from);
      const to = endpoints.get(job.to);
      if (from === undefined || to === undefined)
        throw new InternalError(`plan returned a job for an unknown endpoint: ${cellKey(job)}`);
      const expected = expectedVerdict(step.expect, from, to, job.probe, job.family ?? choice.sole);
      const base = {
        from: job.from,
        to: job.to,
        probe: job.probe,
        ...(job.family === undefined ? {} : { family: job.family }),
        ...(expected === undefined ? {} : { expected }),
      };
      if (planned.kind === 'unresolvable')
        return {
          ...base,
          modelled: 'unresolvable',
          class: classify({ ...base, modelled: 'unresolvable' }),
          explanation: planned.reason,
        };
      const c = info[next++];
      if (c === undefined) throw new InternalError('runnable jobs and model results differ');
      const known = c.deviation === undefined ? {} : { knownDeviation: c.deviation.observed };
      const withModel = { ...base, port: planned.port, modelled: c.modelled };
      if (c.skip !== undefined)
        return {
          ...withModel,
          observed: 'skipped',
          observedDetail: c.skip,
          class: classify({ ...base, modelled: c.modelled, observed: 'skipped' }),
          explanation: c.explanation,
        };
      const results = observedBy.get(c) ?? [];
      const outcomes = results.map((r) => r.outcome);
      const { observed, stands } = triesVerdict(job.probe.protocol, outcomes);
      const firstResult = results[stands];
      const cls = classify({ ...base, modelled: c.modelled, observed, ...known });
      const deviationNote =
        cls === 'known-deviation' && c.deviation !== undefined
          ? ` — known${c.deviation.intermittent === true ? ' intermittent' : ''} deviation of ${c.deviation.plugin}${c.deviation.versions === undefined ? '' : ` ${c.deviation.versions}`}: ${c.deviation.reason}`
          : '';
      const fromNode = podNodes.get(job.from);
      const toNode = podNodes.get(job.to);
      return {
        ...withModel,
        ...(fromNode === undefined || toNode === undefined
          ? {}
          : { crossNode: fromNode !== toNode }),
        observed: firstResult?.outcome ?? 'probe-error',
        ...(firstResult === undefined ? {} : { observedDetail: firstResult.detail }),
        ...(outcomes.length > 1 ? { tries: outcomes } : {}),
        class: cls,
        explanation: `${c.explanation}${deviationNote}`,
      };
    });
    const held = holding === undefined ? undefined : await testHolds(holding, cells);
    const liveInfo: StepLive = {
      probes: stats.probes,
      probeMs: Math.round(stats.probeMs),
      durationMs: Math.round(now() - stepStart),
      settle,
    };
    const notes = plan.families === undefined ? [] : familyNotes(cells);
    return {
      index: step.index,
      name: step.name,
      probes: plan.probes,
      ...(plan.families === undefined ? {} : { families: plan.families }),
      ...(notes.length === 0 ? {} : { familyNotes: notes }),
      endpoints: plan.endpoints.map((e) => e.key),
      cells,
      ...(held === undefined ? {} : { held }),
      counts: countStep(cells, held),
      live: liveInfo,
    };
  }

  /** Hold clients of the step in progress; whatever is left is closed at the end of the run. */
  const holdClients = new Set<HeldClient>();
  /** Bound of each exchange on a held connection: a reply on an open one takes milliseconds. */
  const holdTimeoutSeconds = Math.max(2, settings.timeoutSeconds);

  interface Holding {
    readonly hold: HeldConnection;
    readonly id: string;
    readonly client?: HeldClient;
    /** How opening went: `open`, or why the connection decides nothing. */
    readonly opened: HoldReport | { readonly skipped: string };
    readonly openedAt: number;
  }

  /**
   * Opens the step's held connections (before its actions), one hold client per source pod,
   * each connection with one exchange. A connection that cannot open is a probe-error, never an
   * outcome.
   */
  async function openHolds(step: ScenarioStep): Promise<Holding[] | undefined> {
    const holds = step.holds ?? [];
    if (holds.length === 0) return undefined;
    signal?.throwIfAborted();
    phase(
      `step ${step.name}: holding ${String(holds.length)} connection${holds.length === 1 ? '' : 's'} across the actions`,
    );
    const bySource = new Map<string, { hold: HeldConnection; id: string; host: string }[]>();
    const skipped: Holding[] = [];
    holds.forEach((hold, i) => {
      const id = `h${String(i)}`;
      const from = state.pods.get(hold.from);
      const to = state.pods.get(hold.to);
      const why =
        from === undefined
          ? (state.absent.get(hold.from) ?? `${hold.from} has no live pod`)
          : to === undefined
            ? (state.absent.get(hold.to) ?? `${hold.to} has no live pod`)
            : to.ip === undefined || to.ip === ''
              ? `${hold.to} has no IP`
              : undefined;
      if (why !== undefined || to?.ip === undefined) {
        skipped.push({ hold, id, opened: { skipped: why ?? '' }, openedAt: now() });
        return;
      }
      bySource.set(hold.from, [...(bySource.get(hold.from) ?? []), { hold, id, host: to.ip }]);
    });
    const opened = await Promise.all(
      [...bySource].map(async ([from, list]) => {
        const pod = state.pods.get(from);
        if (pod === undefined) throw new InternalError(`held connection from unknown pod ${from}`);
        const client = cluster.holdFrom(pod);
        holdClients.add(client);
        const reports = await client.open(
          list.map(({ hold, id, host }) => ({
            id,
            host,
            port: hold.port,
            protocol: hold.protocol,
            timeoutSeconds: holdTimeoutSeconds,
          })),
        );
        const at = now();
        return list.map(({ hold, id }, k): Holding => ({
          hold,
          id,
          client,
          opened: reports[k] ?? {
            id,
            outcome: 'probe-error',
            elapsedMs: 0,
            detail: 'the hold client returned no report for this connection',
          },
          openedAt: at,
        }));
      }),
    );
    return [...skipped, ...opened.flat()].sort(
      (a, b) => holds.indexOf(a.hold) - holds.indexOf(b.hold),
    );
  }

  /**
   * Uses every opened connection again (after the step settled and its table was probed), then
   * closes the step's hold clients.
   */
  async function testHolds(
    holding: readonly Holding[],
    cells: readonly CellResult[],
  ): Promise<HeldResult[]> {
    signal?.throwIfAborted();
    const clients = [...new Set(holding.flatMap((h) => h.client ?? []))];
    const tested = new Map<string, { report: HoldReport; at: number }>();
    try {
      await Promise.all(
        clients.map(async (client) => {
          const ids = holding
            .filter(
              (h) => h.client === client && 'outcome' in h.opened && h.opened.outcome === 'open',
            )
            .map((h) => h.id);
          const reports = await client.test(ids, holdTimeoutSeconds);
          const at = now();
          for (const report of reports) tested.set(report.id, { report, at });
        }),
      );
    } finally {
      for (const client of clients) {
        client.close();
        holdClients.delete(client);
      }
    }
    return holding.map(({ hold, id, opened, openedAt }): HeldResult => {
      const base = heldBase(hold, cells);
      if ('skipped' in opened)
        return {
          ...base,
          observed: 'skipped',
          observedDetail: opened.skipped,
          class: classifyHold(hold.expect, 'skipped'),
        };
      if (opened.outcome !== 'open')
        return {
          ...base,
          observed: 'probe-error',
          observedDetail: `could not hold it: ${opened.detail}`,
          class: classifyHold(hold.expect, 'probe-error'),
        };
      const test = tested.get(id);
      const observed = test?.report.outcome ?? 'probe-error';
      return {
        ...base,
        observed,
        observedDetail: `${opened.detail} (${String(opened.elapsedMs)} ms); after the step: ${test === undefined ? 'no report from the hold client' : `${test.report.detail} (${String(test.report.elapsedMs)} ms)`}`,
        ...(test === undefined ? {} : { heldMs: Math.round(test.at - openedAt) }),
        class: classifyHold(hold.expect, observed),
      };
    });
  }

  let failure: unknown;
  try {
    signal?.throwIfAborted();
    if (mode === 'exact') {
      for (const [ns, name] of names) {
        const existing = await cluster.findNamespace(name);
        if (existing === undefined) continue;
        const ours = existing[MANAGED_BY_LABEL] === MANAGED_BY;
        throw new ClusterError(`namespace ${name} (scenario namespace ${ns}) already exists`, {
          verb: 'create',
          kind: 'Namespace',
          name,
          hint: ours
            ? `a run of polygraph left it (run ${existing[RUN_LABEL] ?? '?'}): polygraph clean removes it`
            : 'polygraph did not create it and will not touch it: use the default namespace names (a run suffix) or another cluster',
        });
      }
    }
    if (reused !== undefined) {
      // The topology of an earlier scenario, reset: every cell settles on this scenario's
      // verdicts (an empty baseline), so what the cluster still shows of the last one is waited out.
      phase(`reusing namespaces ${[...names.values()].join(', ')} and their probe pods`);
      for (const [ns, name] of names) {
        state.namespaceLabels.set(ns, initialNamespaceLabels(ns));
        state.created.push(name);
      }
      for (const pod of scenario.initial.pods)
        state.podLabels.set(`${pod.namespace}/${pod.name}`, pod.labels);
      for (const [k, v] of reused.pods) state.pods.set(k, v);
      for (const [k, v] of reused.absent) state.absent.set(k, v);
      for (const [k, v] of reused.podNodes) podNodes.set(k, v);
      nodes = reused.nodes === undefined ? undefined : [...reused.nodes];
      previous = new Map();
    } else {
      phase(`creating namespaces ${[...names.values()].join(', ')}`);
      for (const [ns, name] of names) {
        const labels = initialNamespaceLabels(ns);
        state.namespaceLabels.set(ns, labels);
        await cluster.createNamespace(name, liveNamespaceLabels(labels, name, runId));
        state.created.push(name);
      }
      phase(`creating ${String(scenario.initial.pods.length)} probe pods`);
      nodes = await schedulableNodes();
      if (nodes !== undefined)
        phase(
          placement === 'pack'
            ? `placing the probe pods on ${nodes[0] ?? '?'} (pack)`
            : `spreading the probe pods over ${String(nodes.length)} node${nodes.length === 1 ? '' : 's'}`,
        );
      await createPods(scenario.initial.pods);
      // What the cluster shows before any policy: the settle baseline of the first step.
      {
        const world = modelWorld({ ...scenario.initial, policies: [], clusterPolicies: [] });
        const plan = planJobs(world, scenario.probes, familyChoice().families);
        const runnable = plan.jobs.filter(
          (j): j is Extract<PlannedJob, { kind: 'runnable' }> => j.kind === 'runnable',
        );
        const results = await new ModelRunner(new NetworkModel(world, scenario.options)).run(
          runnable,
        );
        previous = new Map(
          runnable.map((j, i) => [
            cellKey(j.job),
            results[i]?.outcome === 'allowed' ? ('allow' as const) : ('deny' as const),
          ]),
        );
      }
    }
    const topLevel = scenario.policies.length + (scenario.clusterPolicies ?? []).length;
    if (topLevel > 0) {
      phase(`applying ${String(topLevel)} ${topLevel === 1 ? 'policy' : 'policies'}`);
      for (const p of scenario.policies) await applyPolicy(p.manifest);
      for (const p of scenario.clusterPolicies ?? []) await applyClusterPolicy(p);
    }
    lastActionAt = now();
    for (const step of scenario.steps) steps.push(await runStep(step));
  } catch (error) {
    failure = error;
  } finally {
    for (const client of holdClients) client.close();
    holdClients.clear();
    const toPool =
      options.keep !== true &&
      pool !== undefined &&
      poolKey !== undefined &&
      options.returnToPool !== false &&
      failure === undefined &&
      !state.topologyChanged &&
      state.created.length > 0;
    // A deployment going back to the pool keeps its probe sessions for the next scenario; the pool
    // closes them when it deletes the deployment.
    if (!toPool && state.pods.size > 0) await cluster.closeProbes([...state.pods.values()]);
    if (options.keep === true) {
      const kinds = [...new Set([...state.appliedCluster.values()].map((r) => r.kind))];
      kept = `kubectl delete namespace${kinds.map((k) => `,${k.toLowerCase()}`).join('')} -l ${RUN_LABEL}=${runId}   (or: polygraph clean)`;
      emit({ kind: 'cleanup', scenario: scenario.name, namespaces: state.created, kept });
    } else if (toPool) {
      try {
        await resetTopology();
        // The deployment goes back as what this scenario left: the one it took is no more.
        if (reused !== undefined) pool.discard(reused);
        pool.give({
          key: poolKey,
          runId,
          names,
          pods: new Map(state.pods),
          absent: new Map(state.absent),
          podNodes: new Map(podNodes),
          nodes: nodes === undefined ? undefined : [...nodes],
        });
      } catch (error) {
        failure = error;
        await cluster.closeProbes([...state.pods.values()]);
        await deleteClusterPolicies().catch(() => undefined);
        await Promise.all(state.created.map((ns) => cluster.deleteNamespace(ns, false))).catch(
          () => undefined,
        );
        if (reused !== undefined) pool.discard(reused);
      }
    } else if (state.created.length > 0 || state.appliedCluster.size > 0) {
      emit({ kind: 'cleanup', scenario: scenario.name, namespaces: state.created });
      if (reused !== undefined) pool?.discard(reused);
      try {
        await deleteClusterPolicies();
      } catch (error) {
        failure ??= error;
      }
      try {
        await Promise.all(
          state.created.map((ns) => cluster.deleteNamespace(ns, options.waitForCleanup ?? true)),
        );
      } catch (error) {
        failure ??= error;
      }
    }
  }
  if (failure !== undefined)
    throw failure instanceof Error
      ? failure
      : new InternalError(`non-Error thrown: ${JSON.stringify(failure)}`);
  return {
    file: scenario.file,
    name: scenario.name,
    steps,
    counts: addCounts(steps.map((s) => s.counts)),
    live: {
      runId,
      server: cluster.server,
      namespaces: Object.fromEntries(names),
      ...(options.plugin === undefined ? {} : { plugin: options.plugin }),
      ...(kept === undefined ? {} : { kept }),
      ...(nodes === undefined ? {} : { placement }),
      ...(podNodes.size === 0 ? {} : { nodes: Object.fromEntries([...podNodes].sort()) }),
    },
  };
}

function sameLabels(a: Labels, b: Labels): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}
