/** Probe pods: agnhost serve-hostname on each port (TCP and UDP), and the probe client. */
import type { PodSpecInput } from '../cluster/index.js';

export interface ProbePodRequest {
  namespace: string;
  name: string;
  labels?: Readonly<Record<string, string>>;
  /** registry.k8s.io/e2e-test-images/agnhost:<v>, or the lab's polygraph.local/probe:<v>. */
  image: string;
  /** Each port is served on TCP and UDP by its own container, `serve-<port>`. */
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

/** Container to exec the probe client in (any of them has bash and nc). */
export function probeContainer(ports: readonly number[]): string {
  const first = ports[0];
  if (first === undefined) throw new Error('a probe pod needs at least one port');
  return `serve-${String(first)}`;
}

export function probePod(request: ProbePodRequest): PodSpecInput {
  probeContainer(request.ports);
  const portName = request.portName ?? defaultPortName;
  return {
    namespace: request.namespace,
    name: request.name,
    labels: request.labels ?? {},
    ...(request.nodeName === undefined ? {} : { nodeName: request.nodeName }),
    // Non-root servers on ports < 1024, on any cluster (a safe sysctl since Kubernetes 1.22).
    sysctls: { 'net.ipv4.ip_unprivileged_port_start': '0' },
    terminationGracePeriodSeconds: 1,
    containers: request.ports.map((port) => ({
      name: `serve-${String(port)}`,
      image: request.image,
      command: ['/agnhost'],
      args: ['serve-hostname', '--tcp', '--udp', '--http=false', `--port=${String(port)}`],
      ports: [
        { containerPort: port, protocol: 'TCP' as const, name: portName(port, 'TCP') },
        { containerPort: port, protocol: 'UDP' as const, name: portName(port, 'UDP') },
      ],
    })),
  };
}

/** The container a scenario pod's probes run in (see scenarioProbePod). */
export const PROBE_CONTAINER = 'probe';

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
}

/**
 * A probe pod standing for a scenario pod: it declares every port of the scenario pod as
 * written (on the container `probe`), and serves each of its TCP and UDP declarations with agnhost
 * serve-hostname: TCP in HTTP mode (keep-alive, so a held connection answers more than once), UDP
 * with `--udp` (a reply proves delivery). The first server (lowest port, TCP before UDP) runs in
 * the container `probe` itself, every other in `serve-<port>` (`serve-<port>-udp` for the UDP
 * server of a port that is also served on TCP). A
 * pod that serves nothing runs `agnhost pause` in `probe`. The probe client runs in `probe`
 * (exec). SCTP ports are declared (policies can match them by name) but not served: the probe
 * client has no SCTP probe, so SCTP cells are skipped.
 */
export function scenarioProbePod(request: ScenarioPodRequest): PodSpecInput {
  const byPort = new Map<number, Set<string>>();
  for (const p of request.ports) {
    const set = byPort.get(p.containerPort) ?? new Set<string>();
    set.add(p.protocol);
    byPort.set(p.containerPort, set);
  }
  // TCP in serve-hostname's HTTP mode (keep-alive: a held connection answers more than once),
  // UDP by a second process (serve-hostname cannot serve HTTP and UDP at once).
  const served = [...byPort]
    .sort(([a], [b]) => a - b)
    .flatMap(([port, protocols]) => [
      ...(protocols.has('TCP')
        ? [{ name: `serve-${String(port)}`, args: ['serve-hostname', `--port=${String(port)}`] }]
        : []),
      ...(protocols.has('UDP')
        ? [
            {
              name: protocols.has('TCP') ? `serve-${String(port)}-udp` : `serve-${String(port)}`,
              args: ['serve-hostname', '--udp', '--http=false', `--port=${String(port)}`],
            },
          ]
        : []),
    ]);
  const [first, ...rest] = served;
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
        command: ['/agnhost'],
        args: first?.args ?? ['pause'],
        ports: request.ports.map((p) => ({
          containerPort: p.containerPort,
          protocol: p.protocol,
          ...(p.name === undefined ? {} : { name: p.name }),
        })),
      },
      ...rest.map((s) => ({
        name: s.name,
        image: request.image,
        command: ['/agnhost'],
        args: s.args,
      })),
    ],
  };
}
