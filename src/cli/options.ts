import { InvalidArgumentError, Option, type Command } from 'commander';
import { parseIp } from '../model/cidr.js';
import type { Endpoint } from '../model/engine.js';
import { matchPattern, type Pattern } from '../domain/pattern.js';
import type { Family } from '../domain/job.js';
import { parseProbe, type ProbePort } from '../domain/probe.js';
import type { ExternalInfo, ModelOptions } from '../model/types.js';

/** Commander argument parsers: a bad value becomes a usage error naming what was expected. */

export function collect<T>(parse: (value: string) => T) {
  return (value: string, previous: T[] | undefined): T[] => [...(previous ?? []), parse(value)];
}

export function probeArg(value: string): ProbePort {
  const probe = parseProbe(value);
  if (typeof probe === 'string') throw new InvalidArgumentError(probe);
  return probe;
}

/** `--family 4|6|both`: the IP families to probe. */
export function familyArg(value: string): Family[] {
  switch (value.trim().toLowerCase()) {
    case '4':
    case 'ipv4':
      return [4];
    case '6':
    case 'ipv6':
      return [6];
    case 'both':
      return [4, 6];
    default:
      throw new InvalidArgumentError(`expected 4, 6 or both, got "${value}"`);
  }
}

/** The help of `--family`: `check` decides the families the pods declare, `run` those they have. */
export function familyHelp(where: 'declared' | 'live'): string {
  return where === 'declared'
    ? 'IP families to decide: 4, 6 or both (default: every family the pods declare in ips:; a cell per family when there are two)'
    : 'IP families to probe: 4, 6 or both (default: every family the live pods have in status.podIPs; a cell per family when there are two)';
}

/** `NAME=IP` or a bare IP (named after itself). */
export function externalArg(value: string): ExternalInfo {
  const eq = value.indexOf('=');
  const name = eq >= 0 ? value.slice(0, eq) : value;
  const ip = eq >= 0 ? value.slice(eq + 1) : value;
  if (!parseIp(ip))
    throw new InvalidArgumentError(
      `expected NAME=IP (e.g. backup=10.0.9.9), got "${value}": "${ip}" is not an IP address`,
    );
  if (!/^[A-Za-z0-9][-A-Za-z0-9_.:]*$/.test(name))
    throw new InvalidArgumentError(
      `"${name}" is not a usable name: letters, digits, "-", "_", "." and ":"`,
    );
  return { name, ip };
}

/** `NAME=COMMAND`: a command (split on blanks, no shell) that runs a program on a host. */
export function externalExecArg(value: string): { name: string; command: string[] } {
  const eq = value.indexOf('=');
  const name = eq > 0 ? value.slice(0, eq) : '';
  const command = value
    .slice(eq + 1)
    .split(/\s+/)
    .filter((w) => w !== '');
  if (eq <= 0 || command.length === 0)
    throw new InvalidArgumentError(
      `expected NAME=COMMAND (e.g. "backup=docker exec backup"), got "${value}"`,
    );
  if (!/^[A-Za-z0-9][-A-Za-z0-9_.:]*$/.test(name))
    throw new InvalidArgumentError(
      `"${name}" is not a usable name: letters, digits, "-", "_", "." and ":"`,
    );
  return { name, command };
}

export interface ModelFlags {
  selfTraffic: ModelOptions['selfTraffic'];
  ipblockPods: 'match' | 'ignore';
  hostNetwork: ModelOptions['hostNetwork'];
}

export function modelOptions(flags: ModelFlags): ModelOptions {
  return {
    selfTraffic: flags.selfTraffic,
    ipBlockMatchesPods: flags.ipblockPods === 'match',
    hostNetwork: flags.hostNetwork,
  };
}

/** The model's switches for what the spec leaves to network plugins (docs/MODEL.md). */
export function addModelSwitches(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--self-traffic <mode>',
        'a pod connecting to itself: allow (loopback, unfiltered) or policy',
      )
        .choices(['allow', 'policy'])
        .default('allow'),
    )
    .addOption(
      new Option('--ipblock-pods <mode>', 'whether ipBlock peers match pod IPs')
        .choices(['match', 'ignore'])
        .default('match'),
    )
    .addOption(
      new Option(
        '--host-network <mode>',
        "hostNetwork pods: node (their traffic is the node's) or pod",
      )
        .choices(['node', 'pod'])
        .default('node'),
    );
}

/** Whether an endpoint of the model matches one of `--from`/`--to`'s patterns. */
export function endpointMatches(patterns: readonly Pattern[], e: Endpoint): boolean {
  return patterns.some((p) =>
    matchPattern(
      p,
      e.kind === 'pod'
        ? {
            key: e.key,
            namespace: e.namespace,
            labels: e.pod.labels,
            namespaceLabels: e.namespaceLabels,
          }
        : { key: e.key, external: true },
    ),
  );
}
