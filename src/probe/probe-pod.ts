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
