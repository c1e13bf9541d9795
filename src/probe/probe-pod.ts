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
  /**
   * TCP ports a step holds connections to (absent: none): served in HTTP mode, whose keep-alive
   * answers a held connection more than once.
   */
  readonly keepAlive?: ReadonlySet<number>;
}

/**
 * A probe pod standing for a scenario pod: it declares every port of the scenario pod as
 * written (on the container `probe`), and serves each port number on its TCP and UDP declarations
 * with agnhost serve-hostname, one process for both (`--tcp --udp`; a UDP server replies, so a
 * reply proves delivery). A TCP port a step holds connections to (`keepAlive`) is served in HTTP
 * mode instead (keep-alive: a held connection answers more than once), and its UDP by a second
 * process (serve-hostname cannot serve HTTP and UDP at once). The first server (lowest port, TCP
 * before UDP) runs in the container `probe` itself, every other in `serve-<port>`
 * (`serve-<port>-udp` for the UDP server of a port served over HTTP). A
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
  // One process per port; a held TCP port in HTTP mode, with its UDP in a second process.
  const served = [...byPort]
    .sort(([a], [b]) => a - b)
    .flatMap(([port, protocols]) => {
      const p = String(port);
      const tcp = protocols.has('TCP');
      const udp = protocols.has('UDP');
      const udpOnly = ['serve-hostname', '--udp', '--http=false', `--port=${p}`];
      if (tcp && request.keepAlive?.has(port) === true)
        return [
          { name: `serve-${p}`, args: ['serve-hostname', `--port=${p}`] },
          ...(udp ? [{ name: `serve-${p}-udp`, args: udpOnly }] : []),
        ];
      if (!tcp && !udp) return [];
      return [
        {
          name: `serve-${p}`,
          args: [
            'serve-hostname',
            ...(tcp ? ['--tcp'] : []),
            ...(udp ? ['--udp'] : []),
            '--http=false',
            `--port=${p}`,
          ],
        },
      ];
    });
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
