/** Probe pods: agnhost serve-hostname on each port (TCP and UDP), and the probe client. */
import type { PodSpecInput } from '../cluster/index.js';

export interface ProbePodRequest {
  namespace: string;
  name: string;
  labels?: Readonly<Record<string, string>>;
  /** registry.k8s.io/e2e-test-images/agnhost:<v>, or the lab's polygraph.local/probe:<v>. */
  image: string;
  /** Each port is served on TCP and UDP by one process, all in the container `probe`. */
  ports: readonly number[];
  nodeName?: string;
  /**
   * Name of each declared container port (what named policy ports match). Default
   * `tcp-<port>` / `udp-<port>`; the upstream e2e suite's pods name them `serve-<port>-<tcp|udp>`.
   */
  portName?: (port: number, protocol: 'TCP' | 'UDP') => string;
}

const defaultPortName = (port: number, protocol: 'TCP' | 'UDP'): string =>
  `${protocol.toLowerCase()}-${String(port)}`;

/** The container a probe pod's servers run in, and the probe client when exec'd into. */
export const PROBE_CONTAINER = 'probe';

/** A word for bash as it is: plain flags bare, anything else single-quoted. */
function shellWord(word: string): string {
  return /^[A-Za-z0-9_./=:,-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * How the one container of a probe pod runs its servers (each the arguments of one agnhost
 * process): none, `agnhost pause`; one, agnhost itself; several, a bash that starts each in the
 * background and exits when any does (so the kubelet restarts the container, and a crash loop
 * shows), and on SIGTERM stops them all at once (serve-hostname alone waits 60 s after it). One
 * container rather than one per server: a container costs the node a runtime create and start,
 * and the pods of a topology become Ready that much sooner.
 */
export function serverCommand(servers: readonly (readonly string[])[]): {
  command: string[];
  args: string[];
} {
  const [first, ...rest] = servers;
  if (first === undefined) return { command: ['/agnhost'], args: ['pause'] };
  if (rest.length === 0) return { command: ['/agnhost'], args: [...first] };
  const script = [
    "trap 'kill $(jobs -p) 2>/dev/null; exit 0' TERM INT",
    ...servers.map((args) => `/agnhost ${args.map(shellWord).join(' ')} &`),
    'wait -n',
    'status=$?',
    'echo "polygraph: a server exited (status $status)" >&2',
    'exit 1',
  ].join('\n');
  return { command: ['/bin/bash', '-c'], args: [script] };
}

export function probePod(request: ProbePodRequest): PodSpecInput {
  if (request.ports.length === 0) throw new Error('a probe pod needs at least one port');
  const portName = request.portName ?? defaultPortName;
  return {
    namespace: request.namespace,
    name: request.name,
    labels: request.labels ?? {},
    ...(request.nodeName === undefined ? {} : { nodeName: request.nodeName }),
    // Non-root servers on ports < 1024, on any cluster (a safe sysctl since Kubernetes 1.22).
    sysctls: { 'net.ipv4.ip_unprivileged_port_start': '0' },
    terminationGracePeriodSeconds: 1,
    containers: [
      {
        name: PROBE_CONTAINER,
        image: request.image,
        ...serverCommand(
          request.ports.map((port) => [
            'serve-hostname',
            '--tcp',
            '--udp',
            '--http=false',
            `--port=${String(port)}`,
          ]),
        ),
        ports: request.ports.flatMap((port) => [
          { containerPort: port, protocol: 'TCP' as const, name: portName(port, 'TCP') },
          { containerPort: port, protocol: 'UDP' as const, name: portName(port, 'UDP') },
        ]),
      },
    ],
  };
}

export interface ScenarioPodRequest {
  /** The live namespace (the scenario's name, mapped). */
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Exactly the scenario pod's ports: names and protocols are what named policy ports match. */
  readonly ports: readonly {
    readonly containerPort: number;
    readonly protocol: 'TCP' | 'UDP' | 'SCTP';
    readonly name?: string;
  }[];
  readonly image: string;
  /** Whether the cluster can carry SCTP; when not, SCTP ports are declared but not served. */
  readonly sctp?: boolean;
  /**
   * TCP ports a step holds connections to (absent: none): served in HTTP mode, whose keep-alive
   * answers a held connection more than once.
   */
  readonly keepAlive?: ReadonlySet<number>;
}

/**
 * The agnhost arguments of each server a scenario pod's probe pod runs, in port order: one per
 * port number for its TCP and UDP declarations; a held TCP port in HTTP mode, its UDP apart.
 */
export function probeServers(request: ScenarioPodRequest): string[][] {
  const byPort = new Map<number, Set<string>>();
  for (const p of request.ports) {
    const set = byPort.get(p.containerPort) ?? new Set<string>();
    set.add(p.protocol);
    byPort.set(p.containerPort, set);
  }
  return [...byPort]
    .sort(([a], [b]) => a - b)
    .flatMap(([port, protocols]): string[][] => {
      const p = String(port);
      const tcp = protocols.has('TCP');
      const udp = protocols.has('UDP');
      const udpOnly = ['serve-hostname', '--udp', '--http=false', `--port=${p}`];
      if (tcp && request.keepAlive?.has(port) === true)
        return [['serve-hostname', `--port=${p}`], ...(udp ? [udpOnly] : [])];
      if (!tcp && !udp) return [];
      return [
        [
          'serve-hostname',
          ...(tcp ? ['--tcp'] : []),
          ...(udp ? ['--udp'] : []),
          '--http=false',
          `--port=${p}`,
        ],
      ];
    });
}

/**
 * A probe pod standing for a scenario pod, one container `probe`: it declares every port of the
 * scenario pod as written, and serves each port number on its TCP and UDP declarations with
 * agnhost serve-hostname, one process for both (`--tcp --udp`; a UDP server replies, so a reply
 * proves delivery). A TCP port a step holds connections to (`keepAlive`) is served in HTTP mode
 * instead (keep-alive: a held connection answers more than once), and its UDP by a second process
 * (serve-hostname cannot serve HTTP and UDP at once). The processes start in port order (see
 * serverCommand); a pod that serves nothing runs `agnhost pause`. The probe client runs in
 * `probe` too (exec). SCTP ports are declared (policies can match them by name) but not served:
 * the probe client has no SCTP probe, so SCTP cells are skipped.
 */
export function scenarioProbePod(request: ScenarioPodRequest): PodSpecInput {
  const servers = probeServers(request);
  return {
    namespace: request.namespace,
    name: request.name,
    labels: request.labels,
    sysctls: { 'net.ipv4.ip_unprivileged_port_start': '0' },
    terminationGracePeriodSeconds: 1,
    containers: [
      {
        name: PROBE_CONTAINER,
        image: request.image,
        ...serverCommand(servers),
        ports: request.ports.map((p) => ({
          containerPort: p.containerPort,
          protocol: p.protocol,
          ...(p.name === undefined ? {} : { name: p.name }),
        })),
      },
    ],
  };
}
