import { Command } from 'commander';
import {
  Cluster,
  ClusterError,
  deleteClusterObject,
  listClusterObjects,
  listNamespaces,
  servedResources,
} from '../../cluster/index.js';
import { OWNED_SELECTOR, RUN_LABEL } from '../../engine/names.js';
import { CLUSTER_POLICY_GROUP } from '../../model/cluster-validate.js';
import type { Io } from '../io.js';
import type { CommandResult } from '../result.js';

export function cleanCommand(io: Io, done: (result: CommandResult) => void): Command {
  return new Command('clean')
    .summary(
      "remove what runs of polygraph left on a cluster (namespaces and cluster policies labelled as polygraph's)",
    )
    .description(
      `Deletes every namespace labelled ${OWNED_SELECTOR} (with everything in it: pods,\n` +
        'policies) and every cluster policy (ClusterNetworkPolicy, AdminNetworkPolicy,\n' +
        'BaselineAdminNetworkPolicy) with that label, where the cluster serves them, and waits\n' +
        'until the namespaces are gone. Touches nothing else: polygraph creates everything of a\n' +
        'run inside namespaces it created, or labels it so. Prints what it removed.',
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
      // Cluster policies first (each kind once, in the version the group lists first).
      const resources = (await servedResources(cluster, CLUSTER_POLICY_GROUP)).filter(
        (r, i, all) => !r.namespaced && all.findIndex((o) => o.kind === r.kind) === i,
      );
      let removed = 0;
      for (const resource of resources) {
        let policies;
        try {
          policies = await listClusterObjects(cluster, resource, selector);
        } catch (error) {
          // Without the right to list them, the run could not have created any either.
          if (!(error instanceof ClusterError)) throw error;
          io.err(`warning: ${error.message}: ${resource.kind}s left as they are`);
          continue;
        }
        for (const policy of policies) {
          await deleteClusterObject(cluster, resource, policy.name);
          io.out(
            `${resource.kind} ${policy.name} (run ${policy.labels[RUN_LABEL] ?? '?'}) removed`,
          );
          removed++;
        }
      }
      const namespaces = await listNamespaces(cluster, selector);
      await Promise.all(namespaces.map((ns) => cluster.deleteNamespace(ns.name, { wait: true })));
      for (const ns of namespaces)
        io.out(`namespace ${ns.name} (run ${ns.labels[RUN_LABEL] ?? '?'}) removed`);
      if (namespaces.length === 0 && removed === 0)
        io.err(`nothing to remove (no namespace or cluster policy labelled ${selector})`);
      done({ kind: 'done' });
    });
}
