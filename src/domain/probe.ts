import { isProtocol, type Protocol } from './protocol.js';

/**
 * What is probed on a destination: a port number, or a port name resolved against the
 * destination pod's container ports, and a protocol.
 */
export interface ProbePort {
  readonly port: number | string;
  readonly protocol: Protocol;
}

export function formatProbe(probe: ProbePort): string {
  return `${probe.port}/${probe.protocol}`;
}

const PORT_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** The IANA service-name rules the API server applies to port names (IsValidPortName). */
export function portNameProblems(name: string): string[] {
  const problems: string[] = [];
  if (name.length === 0 || name.length > 15) problems.push('must be 1 to 15 characters long');
  if (!PORT_NAME.test(name))
    problems.push(
      'must contain only lowercase letters, digits and "-", starting and ending with a letter or digit',
    );
  if (name.includes('--')) problems.push('must not contain consecutive hyphens');
  if (!/[a-z]/.test(name)) problems.push('must contain at least one letter');
  return problems;
}

/**
 * Parses `PORT[/PROTOCOL]` as given on the command line: `80`, `80/UDP`, `serve-80-tcp/TCP`.
 * The protocol defaults to TCP and is case-insensitive. Returns an error message on failure.
 */
export function parseProbe(text: string): ProbePort | string {
  const [portText = '', protocolText, ...rest] = text.trim().split('/');
  if (rest.length > 0) return `expected PORT[/PROTOCOL], got "${text}"`;
  const protocol = (protocolText ?? 'TCP').toUpperCase();
  if (!isProtocol(protocol))
    return `unknown protocol "${protocolText ?? ''}" in "${text}": expected TCP, UDP or SCTP`;
  if (/^\d+$/.test(portText)) {
    const port = Number(portText);
    if (port < 1 || port > 65535) return `port ${port} out of range: expected 1-65535`;
    return { port, protocol };
  }
  const problems = portNameProblems(portText);
  if (problems.length > 0)
    return `"${portText}" is neither a port number nor a valid port name (${problems.join('; ')})`;
  return { port: portText, protocol };
}
