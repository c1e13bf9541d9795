/**
 * Reading a live cluster's state for `model`, `explain`, `diff` and `init` (read-only: list and
 * get only): the options, progress on a terminal, and a one-line account on stderr.
 */
import type { Command } from 'commander';
import { UsageError } from '../domain/errors.js';
import { readLiveWorld, type LiveWorld } from '../engine/live-world.js';
import type { Io } from './io.js';

export interface LiveFlags {
  kubeconfig?: string;
  context?: string;
  allNamespaces?: boolean;
  namespace: string;
}

/** `--kubeconfig`, `--context`, `-A`; `-n` is the command's own (it restricts the read here). */
export function addLiveOptions(command: Command, what = 'the model'): Command {
  return command
    .option(
      '--kubeconfig <file>',
      `read ${what} from a live cluster (read-only: list and get, never a write): its namespaces, running pods and NetworkPolicies`,
    )
    .option('--context <name>', 'with --kubeconfig: the kubeconfig context (default: current)')
    .option(
      '-A, --all-namespaces',
      'with --kubeconfig: read every namespace (the default unless -n is given)',
    );
}

/** Whether the user gave `-n` (it has a default for manifests). */
export function namespaceGiven(command: Command): boolean {
  return command.getOptionValueSource('namespace') === 'cli';
}

/**
 * Reads the cluster of `--kubeconfig` (the default loading rules without it: KUBECONFIG,
 * ~/.kube/config): every namespace, or the one given with `-n`. Progress on a terminal (one
 * line rewritten), and on stderr what was read.
 */
export async function readLive(io: Io, flags: LiveFlags, command: Command): Promise<LiveWorld> {
  const restrict = namespaceGiven(command);
  if (restrict && flags.allNamespaces === true)
    throw new UsageError('give either -n NAMESPACE or -A (--all-namespaces), not both');
  const live =
    io.errIsTTY?.() === true && io.errRaw !== undefined
      ? (text: string): void => {
          io.errRaw?.(text);
        }
      : undefined;
  let shown = false;
  const started = performance.now();
  const result = await readLiveWorld(
    {
      ...(flags.kubeconfig === undefined ? {} : { kubeconfig: flags.kubeconfig }),
      ...(flags.context === undefined ? {} : { context: flags.context }),
    },
    {
      ...(restrict ? { namespaces: [flags.namespace] } : {}),
      ...(live === undefined
        ? {}
        : {
            onProgress: (what: string, count: number) => {
              live(`\r\x1b[2Kreading ${what}: ${String(count)}`);
              shown = true;
            },
          }),
    },
  ).finally(() => {
    if (shown) live?.('\r\x1b[2K');
  });
  const s = result.state;
  io.err(
    `read ${s.scope === 'all' ? 'all namespaces' : `namespace ${s.scope.join(', ')}`} of ${s.server}: ${String(s.namespaces.length)} namespace(s), ${String(s.pods.length)} running pod(s), ${String(s.policies.length)} NetworkPolicy(ies) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  return result;
}

/** How a live side is named in reports. */
export function liveSource(world: LiveWorld): string {
  const s = world.state;
  return `the cluster ${s.server} (${s.scope === 'all' ? 'all namespaces' : `namespace ${s.scope.join(', ')}`})`;
}
