/**
 * Waiting for pods to be Ready, failing fast and clearly: an image that cannot be pulled, a
 * container that keeps crashing or a pod no node takes stops the wait at once with the pod, the
 * reason and what to do, instead of a timeout.
 */
import type * as k8s from '@kubernetes/client-node';
import { clientsOf, isNotFound, podInfo, type Cluster } from './cluster.js';
import { ClusterError, toClusterError } from './errors.js';
import type { PodInfo } from './types.js';

const PULL = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull']);
const CRASH = new Set([
  'CrashLoopBackOff',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
]);
/** An unschedulable pod may still be taken (an autoscaler adds a node): give it this long. */
const UNSCHEDULABLE_GRACE_MS = 10_000;

export interface ReadyOptions {
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
  readonly signal?: AbortSignal;
}

const sleep = (ms: number) =>
  new Promise<void>((resolve) => {
    setTimeout(resolve, ms);
  });

interface Fatal {
  readonly message: string;
  readonly hint: string;
}

/** Why this pod will not become Ready by waiting, if it will not. */
export function fatalReason(pod: k8s.V1Pod, waitedMs: number): Fatal | undefined {
  const ns = pod.metadata?.namespace ?? '';
  const name = pod.metadata?.name ?? '';
  for (const c of pod.status?.containerStatuses ?? []) {
    const reason = c.state?.waiting?.reason;
    if (reason === undefined) continue;
    const detail = `container ${c.name}: ${reason}${c.state?.waiting?.message ? ` (${c.state.waiting.message})` : ''}`;
    if (PULL.has(reason))
      return {
        message: `${detail}; image ${c.image}`,
        hint: `this cluster cannot pull ${c.image}: pass --image with an image it can pull (e.g. from your registry; docs/RUN.md)`,
      };
    if (CRASH.has(reason))
      return {
        message: detail,
        hint: `its server does not stay up: kubectl logs -n ${ns} ${name} -c ${c.name} --previous; kubectl describe pod -n ${ns} ${name}`,
      };
  }
  if (pod.status?.phase === 'Failed')
    return {
      message:
        `phase Failed${pod.status.reason ? `: ${pod.status.reason}` : ''} ${pod.status.message ?? ''}`.trim(),
      hint: `kubectl describe pod -n ${ns} ${name}`,
    };
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (
    scheduled?.status === 'False' &&
    scheduled.reason === 'Unschedulable' &&
    waitedMs > UNSCHEDULABLE_GRACE_MS
  )
    return {
      message: `unschedulable: ${scheduled.message ?? ''}`,
      hint: `no node takes it (taints, resources, node selector): kubectl describe pod -n ${ns} ${name}`,
    };
  return undefined;
}

function pending(pod: k8s.V1Pod | undefined): string {
  if (pod === undefined) return 'not found';
  const parts = [`phase ${pod.status?.phase ?? 'unknown'}`];
  for (const c of pod.status?.containerStatuses ?? []) {
    const waiting = c.state?.waiting?.reason;
    if (waiting !== undefined) parts.push(`${c.name} ${waiting}`);
  }
  return parts.join(', ');
}

/** Every named pod of a namespace Ready; a ClusterError naming the first that cannot be. */
export async function waitPodsReady(
  cluster: Cluster,
  namespace: string,
  names: readonly string[],
  options: ReadyOptions = {},
): Promise<PodInfo[]> {
  const core = clientsOf(cluster).core;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const start = Date.now();
  const pods = new Map<string, k8s.V1Pod>();
  for (;;) {
    options.signal?.throwIfAborted();
    await Promise.all(
      names.map(async (name) => {
        try {
          pods.set(name, await core.readNamespacedPod({ namespace, name }));
        } catch (error) {
          if (!isNotFound(error))
            throw toClusterError(error, { verb: 'read', kind: 'Pod', namespace, name });
          pods.delete(name);
        }
      }),
    );
    const infos = names.map((n) => pods.get(n)).map((p) => (p ? podInfo(p) : undefined));
    if (infos.every((i) => i?.ready === true)) return infos as PodInfo[];
    const waited = Date.now() - start;
    for (const name of names) {
      const pod = pods.get(name);
      const fatal = pod === undefined ? undefined : fatalReason(pod, waited);
      if (fatal !== undefined)
        throw new ClusterError(fatal.message, {
          verb: 'wait for Ready',
          kind: 'Pod',
          namespace,
          name,
          hint: fatal.hint,
        });
    }
    if (waited > timeoutMs) {
      const late = names.filter((n) => {
        const pod = pods.get(n);
        return pod === undefined || !podInfo(pod).ready;
      });
      throw new ClusterError(
        `not Ready after ${String(Math.round(timeoutMs / 1000))} s: ${late.map((n) => `${n} (${pending(pods.get(n))})`).join('; ')}`,
        {
          verb: 'wait for Ready',
          kind: 'Pod',
          namespace,
          name: late.join(','),
          hint: `kubectl describe pod -n ${namespace} ${late[0] ?? ''}; kubectl get events -n ${namespace}`,
        },
      );
    }
    await sleep(options.intervalMs ?? 200);
  }
}
