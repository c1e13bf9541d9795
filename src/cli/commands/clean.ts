import { Command } from 'commander';
import { Cluster, listNamespaces } from '../../cluster/index.js';
import { OWNED_SELECTOR, RUN_LABEL } from '../../engine/names.js';
import type { Io } from '../io.js';
import type { CommandResult } from '../result.js';

export function cleanCommand(io: Io, done: (result: CommandResult) => void): Command {
  return new Command('clean')
    .summary("remove what runs of polygraph left on a cluster (namespaces labelled as polygraph's)")
    .description(
      `Deletes every namespace labelled ${OWNED_SELECTOR} (with everything in it: pods,\n` +
        'policies) and waits until they are gone. Touches nothing else: polygraph creates\n' +
        'everything of a run inside namespaces it created and labelled. Prints what it removed.',
    )
    .option('--kubeconfig <file>', 'kubeconfig (default: KUBECONFIG, then ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context (default: its current context)')
    .option('--run <id>', 'only what this run created')
    .action(async (flags: { kubeconfig?: string; context?: string; run?: string }) => {
      const cluster = Cluster.connect({
        ...(flags.kubeconfig === undefined ? {} : { kubeconfig: flags.kubeconfig }),
        ...(flags.context === undefined ? {} : { context: flags.context }),
      });
      const selector =
        flags.run === undefined ? OWNED_SELECTOR : `${OWNED_SELECTOR},${RUN_LABEL}=${flags.run}`;
      const namespaces = await listNamespaces(cluster, selector);
      await Promise.all(namespaces.map((ns) => cluster.deleteNamespace(ns.name, { wait: true })));
      for (const ns of namespaces)
        io.out(`namespace ${ns.name} (run ${ns.labels[RUN_LABEL] ?? '?'}) removed`);
      if (namespaces.length === 0) io.err(`nothing to remove (no namespace labelled ${selector})`);
      done({ kind: 'done' });
    });
}
