/**
 * The only code that talks to a Kubernetes API server. A small, typed wrapper over
 * @kubernetes/client-node: every failure comes out as a ClusterError.
 */
import { PassThrough, Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type * as k8s from '@kubernetes/client-node';
import { k8s as lib } from './k8s.js';
import { ClusterError, shortenUrls, toClusterError } from './errors.js';
import type {
  ContainerPort,
  DaemonSetFacts,
  ExecEnd,
  ExecOutputListener,
  ExecResult,
  ExecStream,
  Labels,
  NamespaceInfo,
  NetworkPolicyManifest,
  NodeFacts,
  PodInfo,
  PodSpecInput,
} from './types.js';

export interface ConnectOptions {
  /** Path of a kubeconfig; the default loading rules (KUBECONFIG, ~/.kube/config) otherwise. */
  kubeconfig?: string;
  context?: string;
}

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

export interface ExecOptions {
  timeoutMs?: number;
}

export interface OpenExecOptions {
  /** Receives the command's output as it arrives. */
  onOutput: ExecOutputListener;
  /** Bound of setting up the stream. Default 30 s. */
  connectTimeoutMs?: number;
}

const sleep = (ms: number) =>
  new Promise<void>((resolve) => {
    setTimeout(resolve, ms);
  });

/** The part of the exec WebSocket used here (its type comes from isomorphic-ws). */
interface SocketLike {
  on(event: 'close', listener: () => void): void;
  close(): void;
  terminate?(): void;
}

/** A sink that hands decoded text to a listener as it arrives. */
class Forward extends Writable {
  private readonly decoder = new StringDecoder('utf8');
  constructor(private readonly listener: (text: string) => void) {
    super();
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    const text = this.decoder.write(chunk);
    if (text !== '') this.listener(text);
    callback();
  }
}

/**
 * Plain JSON → client-node model. Its serializer writes only the model's attributes, some of which
 * are renamed (`from` is `_from`): a plain object sent as is silently loses `from`, which turns
 * "allow from X" into "allow from anywhere". loadYaml runs the matching deserializer.
 */
export function toModel(apiVersion: string, kind: string, object: object): unknown {
  return lib().loadYaml(JSON.stringify({ ...object, apiVersion, kind }));
}

export function isNotFound(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 404;
}

function isConflict(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 409;
}

class Collector extends Writable {
  private readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.chunks.push(chunk);
    callback();
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

function exitCodeOf(status: k8s.V1Status): number | undefined {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  if (cause?.message !== undefined && /^\d+$/.test(cause.message)) return Number(cause.message);
  return undefined;
}

/** The Pod object `createPod` sends (pure): non-root, no privilege, read-only root, seccomp. */
export function podBody(input: PodSpecInput) {
  const runAsUser = input.runAsUser ?? 65534;
  return {
    metadata: { name: input.name, namespace: input.namespace, labels: { ...input.labels } },
    spec: {
      ...(input.nodeName === undefined ? {} : { nodeName: input.nodeName }),
      // A placement goes through the scheduler (resources, taints), pinned to one node by name.
      ...(input.node === undefined
        ? {}
        : {
            affinity: {
              nodeAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: {
                  nodeSelectorTerms: [
                    {
                      matchFields: [{ key: 'metadata.name', operator: 'In', values: [input.node] }],
                    },
                  ],
                },
              },
            },
          }),
      terminationGracePeriodSeconds: input.terminationGracePeriodSeconds ?? 1,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      securityContext: {
        runAsNonRoot: true,
        runAsUser,
        runAsGroup: runAsUser,
        seccompProfile: { type: 'RuntimeDefault' },
        sysctls: Object.entries(input.sysctls ?? {}).map(([name, value]) => ({ name, value })),
      },
      containers: input.containers.map((c) => ({
        name: c.name,
        image: c.image,
        imagePullPolicy: 'IfNotPresent',
        ...(c.command === undefined ? {} : { command: [...c.command] }),
        ...(c.args === undefined ? {} : { args: [...c.args] }),
        ports: (c.ports ?? []).map((p) => ({
          containerPort: p.containerPort,
          protocol: p.protocol,
          ...(p.name === undefined ? {} : { name: p.name }),
        })),
        securityContext: {
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        },
      })),
    },
  };
}

/** status.podIPs, status.podIP first when the list lacks it; no duplicates. */
function podIps(pod: k8s.V1Pod): string[] {
  const ips: string[] = [];
  for (const ip of [pod.status?.podIP, ...(pod.status?.podIPs ?? []).map((p) => p.ip)])
    if (ip !== undefined && ip !== '' && !ips.includes(ip)) ips.push(ip);
  return ips;
}

export function podInfo(pod: k8s.V1Pod): PodInfo {
  const ready =
    pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  return {
    namespace: pod.metadata?.namespace ?? '',
    name: pod.metadata?.name ?? '',
    ip: pod.status?.podIP,
    ips: podIps(pod),
    nodeName: pod.spec?.nodeName,
    phase: pod.status?.phase ?? 'Unknown',
    ready,
    labels: pod.metadata?.labels ?? {},
    containerPorts: (pod.spec?.containers ?? []).flatMap((c) =>
      (c.ports ?? []).map((p): ContainerPort => ({
        containerPort: p.containerPort,
        protocol: p.protocol === 'UDP' || p.protocol === 'SCTP' ? p.protocol : 'TCP',
        ...(p.name === undefined ? {} : { name: p.name }),
      })),
    ),
  };
}

/** Why a pod is not Ready, from its container statuses: "c1: ImagePullBackOff (msg)". */
function notReadyReason(pod: k8s.V1Pod | undefined): string {
  if (pod === undefined) return 'not found';
  const parts = [`phase ${pod.status?.phase ?? 'unknown'}`];
  const unscheduled = pod.status?.conditions?.find(
    (c) => c.type === 'PodScheduled' && c.status !== 'True',
  );
  if (unscheduled !== undefined) parts.push(`unscheduled: ${unscheduled.message ?? ''}`);
  for (const c of pod.status?.containerStatuses ?? []) {
    const waiting = c.state?.waiting;
    const terminated = c.state?.terminated ?? c.lastState?.terminated;
    if (waiting !== undefined) {
      parts.push(`${c.name}: ${waiting.reason ?? 'waiting'} ${waiting.message ?? ''}`.trim());
    } else if (terminated !== undefined) {
      parts.push(`${c.name}: exited ${String(terminated.exitCode)} ${terminated.reason ?? ''}`);
    }
  }
  return parts.join('; ');
}

/** The client-node objects behind a Cluster, for the small operation files of src/cluster. */
export interface Clients {
  readonly config: k8s.KubeConfig;
  readonly core: k8s.CoreV1Api;
  readonly networking: k8s.NetworkingV1Api;
}

const clients = new WeakMap<Cluster, Clients>();

/** For src/cluster only (not re-exported by index.ts): the clients of a Cluster. */
export function clientsOf(cluster: Cluster): Clients {
  const c = clients.get(cluster);
  if (c === undefined) throw new Error('internal: a Cluster without clients');
  return c;
}

export class Cluster {
  private readonly core: k8s.CoreV1Api;
  private readonly networking: k8s.NetworkingV1Api;
  private readonly apps: k8s.AppsV1Api;
  private readonly execClient: k8s.Exec;

  private constructor(private readonly config: k8s.KubeConfig) {
    this.core = config.makeApiClient(lib().CoreV1Api);
    this.networking = config.makeApiClient(lib().NetworkingV1Api);
    this.apps = config.makeApiClient(lib().AppsV1Api);
    this.execClient = new (lib().Exec)(config);
    clients.set(this, { config, core: this.core, networking: this.networking });
  }

  static connect(options: ConnectOptions = {}): Cluster {
    const config = new (lib().KubeConfig)();
    const details = {
      verb: 'load',
      kind: 'kubeconfig',
      ...(options.kubeconfig === undefined ? {} : { name: options.kubeconfig }),
      hint: 'check the kubeconfig path and its current context',
    };
    try {
      if (options.kubeconfig === undefined) config.loadFromDefault();
      else config.loadFromFile(options.kubeconfig);
      if (options.context !== undefined) config.setCurrentContext(options.context);
    } catch (error) {
      // The client fails on a file that is YAML but not a kubeconfig (empty, /dev/null) with a
      // TypeError of its own internals: say what the file lacks instead.
      const message =
        error instanceof TypeError
          ? 'not a kubeconfig: it has no clusters, users and contexts to read'
          : error instanceof Error
            ? error.message
            : String(error);
      throw new ClusterError(message, details, { cause: error });
    }
    if (config.getCurrentCluster() === null) {
      const context = config.getCurrentContext() as string | undefined;
      const known = config.getContexts().map((c) => c.name);
      const listed = known.length === 0 ? 'it defines none' : `it defines ${known.join(', ')}`;
      throw new ClusterError(
        context === undefined || context === ''
          ? `no current context: current-context is not set and no --context was given (${listed})`
          : config.getContextObject(context) === null
            ? `no context "${context}" (${listed})`
            : `its context "${context}" names a cluster it does not define`,
        details,
      );
    }
    return new Cluster(config);
  }

  /** The API server's URL from the kubeconfig. */
  get server(): string {
    return this.config.getCurrentCluster()?.server ?? '';
  }

  async serverVersion(): Promise<string> {
    try {
      const version = await this.config.makeApiClient(lib().VersionApi).getCode();
      return version.gitVersion;
    } catch (error) {
      throw toClusterError(error, { verb: 'get', kind: 'version' });
    }
  }

  async createNamespace(name: string, labels: Labels = {}): Promise<void> {
    try {
      const body = toModel('v1', 'Namespace', {
        metadata: { name, labels: { ...labels } },
      }) as k8s.V1Namespace;
      await this.core.createNamespace({ body });
    } catch (error) {
      throw toClusterError(error, { verb: 'create', kind: 'Namespace', name });
    }
  }

  async getNamespace(name: string): Promise<NamespaceInfo> {
    try {
      const ns = await this.core.readNamespace({ name });
      return { name, labels: ns.metadata?.labels ?? {} };
    } catch (error) {
      throw toClusterError(error, { verb: 'read', kind: 'Namespace', name });
    }
  }

  /**
   * Give a namespace exactly these labels (others removed; the API server keeps
   * kubernetes.io/metadata.name). Read, then replace; retried once on a write conflict.
   */
  async setNamespaceLabels(name: string, labels: Labels): Promise<void> {
    const details = { kind: 'Namespace', name };
    await this.replaceLabels(details, async () => {
      const body = await this.core.readNamespace({ name });
      body.metadata ??= new (lib().V1ObjectMeta)();
      body.metadata.labels = { ...labels };
      await this.core.replaceNamespace({ name, body });
    });
  }

  /** Give a pod exactly these labels (others removed). Read, then replace. */
  async setPodLabels(namespace: string, name: string, labels: Labels): Promise<void> {
    const details = { kind: 'Pod', namespace, name };
    await this.replaceLabels(details, async () => {
      const body = await this.core.readNamespacedPod({ namespace, name });
      body.metadata ??= new (lib().V1ObjectMeta)();
      body.metadata.labels = { ...labels };
      await this.core.replaceNamespacedPod({ namespace, name, body });
    });
  }

  private async replaceLabels(
    details: { kind: string; namespace?: string; name: string },
    replace: () => Promise<void>,
  ): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await replace();
        return;
      } catch (error) {
        if (isConflict(error) && attempt < 3) continue;
        throw toClusterError(error, { verb: 'relabel', ...details });
      }
    }
  }

  /**
   * Delete a namespace polygraph created; with `wait`, until it is gone. Absent already is fine.
   * Its pods go first, at once (grace period 0; probe pods hold nothing to drain, and the
   * kubelet stops their containers): the namespace controller starts on a namespace only 5 s
   * after its deletion, and then backs off while pods are still terminating, so a namespace of
   * running probe pods took 8–11 s to go, against 5–7 s without them. Should the pods not go
   * (no `deletecollection` on pods, say), deleting the namespace still removes them.
   */
  async deleteNamespace(
    name: string,
    options: WaitOptions & { wait?: boolean } = {},
  ): Promise<void> {
    try {
      await this.core.deleteCollectionNamespacedPod({ namespace: name, gracePeriodSeconds: 0 });
    } catch {
      // the namespace deletion below removes them, or says why it cannot
    }
    try {
      await this.core.deleteNamespace({ name });
    } catch (error) {
      if (isNotFound(error)) return;
      throw toClusterError(error, { verb: 'delete', kind: 'Namespace', name });
    }
    if (options.wait !== true) return;
    await this.poll(
      { verb: 'wait for deletion of', kind: 'Namespace', name },
      async () => {
        try {
          await this.core.readNamespace({ name });
          return undefined;
        } catch (error) {
          if (isNotFound(error)) return true;
          throw error;
        }
      },
      () => Promise.resolve('still terminating'),
      { timeoutMs: 120_000, ...options },
    );
  }

  async createPod(input: PodSpecInput): Promise<void> {
    const pod = podBody(input);
    try {
      const body = toModel('v1', 'Pod', pod) as k8s.V1Pod;
      await this.core.createNamespacedPod({ namespace: input.namespace, body });
    } catch (error) {
      throw toClusterError(error, {
        verb: 'create',
        kind: 'Pod',
        namespace: input.namespace,
        name: input.name,
      });
    }
  }

  /** Every node, with what placements need (list nodes). */
  async listNodes(): Promise<NodeFacts[]> {
    try {
      const list = await this.core.listNode();
      return list.items.map((n) => {
        const ready =
          n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
        const tainted = (n.spec?.taints ?? []).some(
          (t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute',
        );
        return {
          name: n.metadata?.name ?? '',
          ready,
          schedulable: ready && n.spec?.unschedulable !== true && !tainted,
          internalIPs: (n.status?.addresses ?? [])
            .filter((a) => a.type === 'InternalIP')
            .map((a) => a.address),
        };
      });
    } catch (error) {
      throw toClusterError(error, { verb: 'list', kind: 'Node' });
    }
  }

  /** Every DaemonSet of the cluster, with its images (list daemonsets, all namespaces). */
  async listDaemonSets(): Promise<DaemonSetFacts[]> {
    try {
      const list = await this.apps.listDaemonSetForAllNamespaces();
      return list.items.map((d) => ({
        namespace: d.metadata?.namespace ?? '',
        name: d.metadata?.name ?? '',
        images: (d.spec?.template.spec?.containers ?? []).map((c) => c.image ?? ''),
      }));
    } catch (error) {
      throw toClusterError(error, { verb: 'list', kind: 'DaemonSet' });
    }
  }

  async getPod(namespace: string, name: string): Promise<PodInfo> {
    try {
      return podInfo(await this.core.readNamespacedPod({ namespace, name }));
    } catch (error) {
      throw toClusterError(error, { verb: 'read', kind: 'Pod', namespace, name });
    }
  }

  /** Wait until every named pod is Ready; the error names each pod that is not, and why. */
  async waitPodsReady(
    namespace: string,
    names: readonly string[],
    options: WaitOptions = {},
  ): Promise<PodInfo[]> {
    const pods = new Map<string, k8s.V1Pod>();
    const readAll = async () => {
      await Promise.all(
        names.map(async (name) => {
          try {
            pods.set(name, await this.core.readNamespacedPod({ namespace, name }));
          } catch (error) {
            if (!isNotFound(error)) throw error;
            pods.delete(name);
          }
        }),
      );
    };
    return this.poll(
      { verb: 'wait for Ready', kind: 'Pod', namespace, name: names.join(',') },
      async () => {
        await readAll();
        const infos = names.map((n) => pods.get(n)).map((p) => (p ? podInfo(p) : undefined));
        return infos.every((i) => i?.ready === true) ? (infos as PodInfo[]) : undefined;
      },
      () =>
        Promise.resolve(
          names
            .filter((n) => {
              const p = pods.get(n);
              return p === undefined || !podInfo(p).ready;
            })
            .map((n) => `${n}: ${notReadyReason(pods.get(n))}`)
            .join('; '),
        ),
      { timeoutMs: 60_000, ...options },
    );
  }

  /** Create the policy, or replace it if it exists. */
  async applyNetworkPolicy(namespace: string, policy: NetworkPolicyManifest): Promise<void> {
    const name = policy.metadata.name;
    const body = toModel('networking.k8s.io/v1', 'NetworkPolicy', {
      metadata: { ...policy.metadata, namespace },
      spec: policy.spec,
    }) as k8s.V1NetworkPolicy;
    const details = { kind: 'NetworkPolicy', namespace, name };
    try {
      await this.networking.createNamespacedNetworkPolicy({ namespace, body });
    } catch (error) {
      if (!isConflict(error)) throw toClusterError(error, { verb: 'create', ...details });
      try {
        await this.networking.replaceNamespacedNetworkPolicy({ namespace, name, body });
      } catch (replaceError) {
        throw toClusterError(replaceError, { verb: 'replace', ...details });
      }
    }
  }

  /** Names of the NetworkPolicies of a namespace. */
  async listNetworkPolicies(namespace: string): Promise<string[]> {
    try {
      const list = await this.networking.listNamespacedNetworkPolicy({ namespace });
      return list.items.map((p) => p.metadata?.name ?? '').filter((n) => n !== '');
    } catch (error) {
      throw toClusterError(error, { verb: 'list', kind: 'NetworkPolicy', namespace });
    }
  }

  /** Delete a policy; absent already is fine. */
  async deleteNetworkPolicy(namespace: string, name: string): Promise<void> {
    try {
      await this.networking.deleteNamespacedNetworkPolicy({ namespace, name });
    } catch (error) {
      if (isNotFound(error)) return;
      throw toClusterError(error, { verb: 'delete', kind: 'NetworkPolicy', namespace, name });
    }
  }

  /**
   * Run a command in a container and collect its output and exit status. A command that ran and
   * failed is a result (exitCode ≠ 0); a command that could not be run is a ClusterError.
   */
  async exec(
    namespace: string,
    pod: string,
    container: string,
    command: readonly string[],
    options: ExecOptions = {},
  ): Promise<ExecResult> {
    const details = { verb: 'exec in', kind: 'Pod', namespace, name: `${pod}/${container}` };
    const stdout = new Collector();
    const stderr = new Collector();
    const start = performance.now();
    const timeoutMs = options.timeoutMs ?? 60_000;
    return new Promise<ExecResult>((resolve, reject) => {
      let settled = false;
      let socket: { close: () => void } | undefined;
      const finish = (result: ExecResult | ClusterError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (result instanceof ClusterError) reject(result);
        else resolve(result);
      };
      const timer = setTimeout(() => {
        socket?.close();
        finish(
          new ClusterError(`no exit status after ${String(timeoutMs)} ms`, {
            ...details,
            hint: 'the command hung, or the exec stream was lost',
          }),
        );
      }, timeoutMs);
      const onStatus = (status: k8s.V1Status) => {
        const exitCode = exitCodeOf(status);
        if (exitCode === undefined) {
          finish(
            new ClusterError(shortenUrls(status.message ?? 'exec failed'), {
              ...details,
              ...(status.code === undefined ? {} : { httpCode: status.code }),
              hint: 'could the command start in this container? is the container running?',
            }),
          );
          return;
        }
        // The status arrives with the socket close; let the output streams flush first.
        setImmediate(() => {
          finish({
            stdout: stdout.text(),
            stderr: stderr.text(),
            exitCode,
            elapsedMs: Math.round(performance.now() - start),
          });
        });
      };
      this.execClient
        .exec(namespace, pod, container, [...command], stdout, stderr, null, false, onStatus)
        .then(
          (ws: unknown) => {
            const stream = ws as SocketLike;
            socket = stream;
            stream.on('close', () => {
              setTimeout(() => {
                finish(
                  new ClusterError('the exec stream closed without an exit status', {
                    ...details,
                    hint: 'the kubelet or API server ended the stream; see their logs',
                  }),
                );
              }, 100);
            });
          },
          (error: unknown) => {
            finish(toClusterError(error, details));
          },
        );
    });
  }

  /**
   * Start a command in a container with its standard input open, for a conversation: what is
   * written goes to its stdin, its output goes to `onOutput` as it arrives, and `ended` settles
   * when it exits or the stream is lost. Resolves once the stream is set up; a stream that cannot
   * be set up is a ClusterError.
   */
  async openExec(
    namespace: string,
    pod: string,
    container: string,
    command: readonly string[],
    options: OpenExecOptions,
  ): Promise<ExecStream> {
    const details = { verb: 'exec in', kind: 'Pod', namespace, name: `${pod}/${container}` };
    const stdin = new PassThrough();
    const stdout = new Forward((text) => {
      options.onOutput('stdout', text);
    });
    const stderr = new Forward((text) => {
      options.onOutput('stderr', text);
    });
    let settle: (end: ExecEnd) => void = () => undefined;
    let over = false;
    const ended = new Promise<ExecEnd>((resolve) => {
      settle = (end) => {
        if (over) return;
        over = true;
        resolve(end);
      };
    });
    const onStatus = (status: k8s.V1Status) => {
      const exitCode = exitCodeOf(status);
      // The status arrives with the socket close; let the output streams flush first.
      setImmediate(() => {
        settle(
          exitCode === undefined
            ? { kind: 'lost', reason: shortenUrls(status.message ?? 'exec failed') }
            : { kind: 'exited', exitCode },
        );
      });
    };
    const connecting = this.execClient.exec(
      namespace,
      pod,
      container,
      [...command],
      stdout,
      stderr,
      stdin,
      false,
      onStatus,
    );
    const timeoutMs = options.connectTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    let socket: SocketLike;
    try {
      socket = (await Promise.race([
        connecting,
        new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => {
            reject(
              new ClusterError(`the exec stream was not set up within ${String(timeoutMs)} ms`, {
                ...details,
                hint: 'is the API server overloaded, or the kubelet unreachable?',
              }),
            );
          }, timeoutMs);
        }),
      ])) as SocketLike;
    } catch (error) {
      // A stream set up after all is closed at once.
      connecting.then(
        (ws: unknown) => {
          (ws as SocketLike).close();
        },
        () => undefined,
      );
      stdin.destroy();
      throw error instanceof ClusterError ? error : toClusterError(error, details);
    } finally {
      clearTimeout(timer);
    }
    socket.on('close', () => {
      setTimeout(() => {
        settle({ kind: 'lost', reason: 'the exec stream closed without an exit status' });
      }, 100);
    });
    let closed = false;
    return {
      write: (text) => {
        if (!closed) stdin.write(text);
      },
      ended,
      close: () => {
        if (closed) return;
        closed = true;
        stdin.end();
        socket.close();
        // A server that does not answer the close handshake does not hold the process.
        const force = setTimeout(() => socket.terminate?.(), 2000);
        force.unref();
        void ended.then(() => {
          clearTimeout(force);
        });
      },
    };
  }

  private async poll<T>(
    details: { verb: string; kind: string; namespace?: string; name?: string },
    check: () => Promise<T | undefined>,
    describe: () => Promise<string>,
    options: WaitOptions,
  ): Promise<T> {
    const timeoutMs = options.timeoutMs ?? 60_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const value = await check();
        if (value !== undefined) return value;
      } catch (error) {
        throw toClusterError(error, details);
      }
      if (Date.now() > deadline) {
        throw new ClusterError(
          `not done after ${String(timeoutMs / 1000)} s: ${await describe()}`,
          {
            ...details,
            hint: 'see the pod events (kubectl describe) and the kubelet log',
          },
        );
      }
      await sleep(options.intervalMs ?? 250);
    }
  }
}
