import { Command, InvalidArgumentError, Option } from 'commander';
import { clusterDown, clusterUp, CNIS, VERSIONS, type Cni } from '../../kind/index.js';
import type { Io } from '../io.js';
import type { CommandResult } from '../result.js';

const DEFAULT_NAME = 'polygraph';

/** kind cluster names become docker container names and the kubectl context kind-NAME. */
function clusterName(value: string): string {
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(value) || value.length > 40)
    throw new InvalidArgumentError(
      `expected a cluster name of lower-case letters, digits and "-" (at most 40), got "${value}"`,
    );
  return value;
}

function imageRef(value: string): string {
  if (value.trim() === '' || /\s/.test(value))
    throw new InvalidArgumentError(`expected an image reference, got "${value}"`);
  return value;
}

export function clusterCommand(io: Io, done: (result: CommandResult) => void): Command {
  const configure = (command: Command): Command =>
    command.exitOverride().configureOutput({
      writeOut: (s) => {
        io.out(s.trimEnd());
      },
      writeErr: (s) => {
        io.err(s.trimEnd());
      },
    });
  const progress = (line: string): void => {
    io.err(line);
  };

  const up = new Command('up')
    .summary('create a kind cluster with a NetworkPolicy-enforcing CNI, ready for polygraph run')
    .description(
      'Creates a kind cluster (1 control plane, 2 workers) with the given CNI at its pinned version,\n' +
        'waits until the CNI and every node are ready, and loads the probe image into the nodes.\n' +
        'Needs docker, kind and kubectl (and the cilium CLI for --cni cilium); see docs/KIND.md.\n' +
        'Progress goes to stderr. Exit 3 when a tool is missing, too old, or a step fails.',
    )
    .addOption(new Option('--cni <cni>', 'the network plugin').choices(CNIS).makeOptionMandatory())
    .option(
      '--name <name>',
      'kind cluster name (kubectl context kind-NAME)',
      clusterName,
      DEFAULT_NAME,
    )
    .option('--image <ref>', 'probe image to load into the nodes', imageRef, VERSIONS.probeImage)
    .option(
      '--node-image <ref>',
      'kind node image (Kubernetes version)',
      imageRef,
      VERSIONS.nodeImage,
    )
    .action(async (flags: { cni: Cni; name: string; image: string; nodeImage: string }) => {
      const report = await clusterUp(
        { cni: flags.cni, name: flags.name, image: flags.image, nodeImage: flags.nodeImage },
        progress,
      );
      io.out(
        `cluster "${report.name}" is up: kubectl context ${report.context}, ${report.cni} ${report.cniVersion}, ` +
          `probe image ${report.image} loaded.\nRemove it with: polygraph cluster down --name ${report.name}`,
      );
      done({ kind: 'done' });
    });

  const down = new Command('down')
    .summary('delete a kind cluster made by cluster up')
    .description('Deletes the kind cluster (nothing happens when there is none). Needs kind.')
    .option('--name <name>', 'kind cluster name', clusterName, DEFAULT_NAME)
    .action(async (flags: { name: string }) => {
      await clusterDown(flags.name, progress);
      io.out(`cluster "${flags.name}" is deleted`);
      done({ kind: 'done' });
    });

  return new Command('cluster')
    .summary('create or delete a kind cluster to run polygraph on (docs/KIND.md)')
    .addCommand(configure(up))
    .addCommand(configure(down));
}
