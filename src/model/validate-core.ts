/*
 * core/v1 pieces the model reads from pods, validated as the API server does
 * (pkg/apis/core/validation): protocols, port numbers, a pod spec's container ports and
 * status.podIPs.
 */
import { isProtocol, PROTOCOLS, type Protocol } from '../domain/protocol.js';
import { portNameProblems } from '../domain/probe.js';
import { parseIp } from './cidr.js';
import { IssueSink, join, readInteger, readList, readMap, readString, type RawMap } from './raw.js';
import { type ContainerPort } from './types.js';

export function readProtocol(value: unknown, path: string, sink: IssueSink): Protocol {
  if (value === undefined || value === null) return 'TCP';
  const text = readString(value, path, sink);
  if (text === undefined) return 'TCP';
  if (isProtocol(text)) return text;
  const upper = text.toUpperCase();
  const hint = isProtocol(upper) ? `; did you mean "${upper}"? (protocols are case-sensitive)` : '';
  sink.add(path, `unsupported protocol "${text}": expected one of ${PROTOCOLS.join(', ')}${hint}`);
  return 'TCP';
}

export function portNumberProblem(port: number): string | undefined {
  return port < 1 || port > 65535
    ? `must be between 1 and 65535, inclusive (got ${port})`
    : undefined;
}

/**
 * containers[].ports of a pod spec (or pod template spec), validated as the API server does
 * (validateContainerPorts, after SetDefaults_ContainerPort turns an empty protocol into TCP).
 * Ports of init containers are validated too, but only restartable (sidecar) init containers keep
 * serving, so only theirs are returned.
 */
export function readContainerPorts(spec: RawMap, path: string, sink: IssueSink): ContainerPort[] {
  const ports: ContainerPort[] = [];
  for (const group of ['initContainers', 'containers'] as const) {
    const groupPath = join(path, group);
    (readList(spec[group], groupPath, sink) ?? []).forEach((rawContainer, i) => {
      const containerPath = join(groupPath, i);
      const container = readMap(rawContainer, containerPath, sink);
      if (!container) return;
      const serving = group === 'containers' || container.restartPolicy === 'Always';
      const names = new Set<string>();
      const portsPath = join(containerPath, 'ports');
      (readList(container.ports, portsPath, sink) ?? []).forEach((rawPort, j) => {
        const portPath = join(portsPath, j);
        const port = readMap(rawPort, portPath, sink);
        if (!port) return;
        const containerPort = readInteger(
          port.containerPort,
          join(portPath, 'containerPort'),
          sink,
        );
        if (containerPort === undefined) {
          if (port.containerPort === undefined)
            sink.add(join(portPath, 'containerPort'), 'required');
          return;
        }
        const problem = portNumberProblem(containerPort);
        if (problem) {
          sink.add(join(portPath, 'containerPort'), problem);
          return;
        }
        const protocol =
          port.protocol === ''
            ? 'TCP'
            : readProtocol(port.protocol, join(portPath, 'protocol'), sink);
        const rawName = readString(port.name, join(portPath, 'name'), sink);
        const name = rawName === '' ? undefined : rawName;
        if (name !== undefined) {
          const problems = portNameProblems(name);
          if (problems.length > 0) {
            sink.add(join(portPath, 'name'), `invalid port name "${name}": ${problems.join('; ')}`);
            return;
          }
          if (names.has(name)) {
            sink.add(join(portPath, 'name'), `duplicate port name "${name}" in this container`);
            return;
          }
          names.add(name);
        }
        if (serving)
          ports.push({ containerPort, protocol, ...(name !== undefined ? { name } : {}) });
      });
    });
  }
  return ports;
}

/** status.podIPs / status.podIP: valid IP addresses, primary first. */
export function readPodIps(status: RawMap | undefined, sink: IssueSink): string[] {
  if (!status) return [];
  const ips: string[] = [];
  const add = (text: string | undefined, path: string): void => {
    if (text === undefined || text === '' || ips.includes(text)) return;
    if (!parseIp(text)) sink.add(path, `"${text}" is not a valid IP address`);
    else ips.push(text);
  };
  add(readString(status.podIP, 'status.podIP', sink), 'status.podIP');
  (readList(status.podIPs, 'status.podIPs', sink) ?? []).forEach((raw, i) => {
    const entry = readMap(raw, join('status.podIPs', i), sink);
    if (entry)
      add(
        readString(entry.ip, join(join('status.podIPs', i), 'ip'), sink),
        join(join('status.podIPs', i), 'ip'),
      );
  });
  return ips;
}
