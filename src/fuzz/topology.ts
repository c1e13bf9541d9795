/**
 * The topology a fuzz run deploys once: three namespaces with varied labels, three probe pods in
 * each with varied labels, every pod serving 80 and 81 on TCP and UDP under names (`b` names its
 * 80/TCP `http`, the others `serve-80-tcp`), so that selectors with every operator, named ports
 * that resolve on some pods, on all or on none, and both protocols have something to decide. An
 * external host joins it when the run has one (`--external`).
 */

export const FUZZ_NAMESPACES = ['x', 'y', 'z'] as const;
export const FUZZ_PODS = ['a', 'b', 'c'] as const;

export const NAMESPACE_LABELS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  x: { team: 'blue', env: 'prod' },
  y: { team: 'blue', env: 'dev' },
  z: { team: 'red' },
};

export const POD_LABELS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  a: { pod: 'a', app: 'web' },
  b: { pod: 'b', app: 'web', tier: 'front' },
  c: { pod: 'c', app: 'db' },
};

/** A container port as the scenario format writes it. */
export interface FuzzPort {
  readonly port: number;
  readonly protocol: 'TCP' | 'UDP';
  readonly name: string;
}

export function podPorts(pod: string): FuzzPort[] {
  return [
    { port: 80, protocol: 'TCP', name: pod === 'b' ? 'http' : 'serve-80-tcp' },
    { port: 80, protocol: 'UDP', name: 'serve-80-udp' },
    { port: 81, protocol: 'TCP', name: 'serve-81-tcp' },
    { port: 81, protocol: 'UDP', name: 'serve-81-udp' },
  ];
}

/**
 * The address the model gives a pod offline (a live run uses the pod's own): inside 10.0.0.0/8,
 * like the pods of most clusters, so that the generator's ipBlock palette decides the same.
 */
export function podIp(ns: string, pod: string): string {
  return `10.0.${String(FUZZ_NAMESPACES.indexOf(ns as 'x') + 1)}.${String(FUZZ_PODS.indexOf(pod as 'a') + 1)}`;
}

/** The name of the external host in scenarios (`ext:host`). */
export const EXTERNAL_NAME = 'host';

/** The `topology` of a fuzz scenario, in the scenario format (docs/SCENARIOS.md). */
export function fuzzTopology(externalIp?: string): Record<string, unknown> {
  const namespaces = Object.fromEntries(
    FUZZ_NAMESPACES.map((ns) => [
      ns,
      {
        labels: { ...NAMESPACE_LABELS[ns] },
        pods: Object.fromEntries(
          FUZZ_PODS.map((pod) => [
            pod,
            {
              labels: { ...POD_LABELS[pod] },
              ports: podPorts(pod).map((p) => ({ ...p })),
              ips: [podIp(ns, pod)],
            },
          ]),
        ),
      },
    ]),
  );
  return {
    namespaces,
    ...(externalIp === undefined
      ? {}
      : { externals: { [EXTERNAL_NAME]: { ip: externalIp, ports: [80, '80/UDP'] } } }),
  };
}
