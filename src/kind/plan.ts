/**
 * What `polygraph cluster up` and `cluster down` do, as data: the preflight checks and the ordered
 * steps, each one command line. Pure; src/kind/cluster.ts runs a plan. docs/KIND.md lists the same
 * commands (a unit test runs the built CLI against recording fakes and checks the order).
 */
import { ASSETS } from './assets.js';
import { kindConfigYaml, type Cni } from './config.js';
import { CALICO_MANIFESTS, INSTALL_HINTS, TIMEOUTS, VERSIONS } from './versions.js';

export type Tool = 'docker' | 'kind' | 'kubectl' | 'cilium';

/** A version check: run `tool ...args`, read the version, compare with the minimum. */
export interface Requirement {
  readonly tool: Tool;
  readonly args: readonly string[];
  /** The version in the output (vX.Y.Z), or undefined when it cannot be read. */
  readonly parse: (stdout: string) => string | undefined;
  /** Undefined: present (and answering) is enough. */
  readonly minimum: string | undefined;
  readonly hint: string;
}

export type Step =
  /** Run one command; a non-zero exit fails the step. */
  | {
      readonly kind: 'run';
      readonly title: string;
      readonly tool: Tool;
      readonly args: readonly string[];
      /** Text for the command's stdin (then `-` in args stands for it). */
      readonly input?: string;
      readonly timeoutSeconds: number;
      /** What to look at when the step fails. */
      readonly hint?: string;
    }
  /** `docker image inspect IMAGE`, and `docker pull IMAGE` when the image is absent. */
  | { readonly kind: 'pull-if-absent'; readonly title: string; readonly image: string };

export interface UpOptions {
  readonly cni: Cni;
  readonly name: string;
  /** The probe image loaded into the nodes. */
  readonly image: string;
  /** The kind node image (Kubernetes version). */
  readonly nodeImage: string;
}

const versionIn = (text: string): string | undefined => /\bv?(\d+\.\d+\.\d+)/.exec(text)?.[1];

const dockerRequirement: Requirement = {
  tool: 'docker',
  // Fails when the engine is not reachable, not only when the client is missing.
  args: ['version', '--format', '{{.Server.Version}}'],
  parse: versionIn,
  minimum: undefined,
  hint: INSTALL_HINTS.docker,
};

const kindRequirement: Requirement = {
  tool: 'kind',
  args: ['version'],
  parse: versionIn, // "kind v0.31.0 go1.25.5 linux/amd64"
  minimum: VERSIONS.kind.minimum,
  hint: INSTALL_HINTS.kind,
};

const kubectlRequirement: Requirement = {
  tool: 'kubectl',
  args: ['version', '--client', '-o', 'json'],
  parse: (stdout) => {
    try {
      const doc = JSON.parse(stdout) as { clientVersion?: { gitVersion?: unknown } };
      const v = doc.clientVersion?.gitVersion;
      return typeof v === 'string' ? versionIn(v) : undefined;
    } catch {
      return undefined;
    }
  },
  minimum: VERSIONS.kubectl.minimum,
  hint: INSTALL_HINTS.kubectl,
};

const ciliumRequirement: Requirement = {
  tool: 'cilium',
  args: ['version', '--client'],
  parse: (stdout) => versionIn(/cilium-cli:\s*(\S+)/.exec(stdout)?.[1] ?? ''), // "cilium-cli: v0.19.0 compiled with …"
  minimum: VERSIONS.ciliumCli.minimum,
  hint: INSTALL_HINTS.cilium,
};

export function upRequirements(cni: Cni): Requirement[] {
  return [
    dockerRequirement,
    kindRequirement,
    kubectlRequirement,
    ...(cni === 'cilium' ? [ciliumRequirement] : []),
  ];
}

export function downRequirements(): Requirement[] {
  return [kindRequirement];
}

/** The kubectl context kind writes for a cluster. */
export const contextOf = (name: string): string => `kind-${name}`;

function cniSteps(cni: Cni, name: string): Step[] {
  const ctx = ['--context', contextOf(name)];
  const kubectl = (title: string, args: string[], timeoutSeconds: number, hint?: string): Step => ({
    kind: 'run',
    title,
    tool: 'kubectl',
    args: [...ctx, ...args],
    timeoutSeconds,
    ...(hint === undefined ? {} : { hint }),
  });
  switch (cni) {
    case 'calico': {
      const look = `look at kubectl --context ${contextOf(name)} get tigerastatus,pods -A`;
      return [
        kubectl(
          `install the Calico ${VERSIONS.calico} operator CRDs`,
          ['create', '-f', CALICO_MANIFESTS.operatorCrds],
          TIMEOUTS.rollout,
        ),
        kubectl(
          `install the Tigera operator (Calico ${VERSIONS.calico})`,
          ['create', '-f', CALICO_MANIFESTS.tigeraOperator],
          TIMEOUTS.rollout,
        ),
        kubectl(
          'wait for the operator CRDs to be established',
          [
            'wait',
            '--for=condition=Established',
            `--timeout=${String(TIMEOUTS.crdEstablished)}s`,
            'crd/installations.operator.tigera.io',
            'crd/apiservers.operator.tigera.io',
          ],
          TIMEOUTS.crdEstablished,
        ),
        kubectl(
          'wait for the Tigera operator to roll out',
          [
            '-n',
            'tigera-operator',
            'rollout',
            'status',
            'deployment/tigera-operator',
            `--timeout=${String(TIMEOUTS.rollout)}s`,
          ],
          TIMEOUTS.rollout,
          look,
        ),
        kubectl(
          `apply the Calico Installation (IP pool = the kind podSubnet) and APIServer`,
          ['apply', '-f', ASSETS.calicoCustomResources],
          TIMEOUTS.rollout,
        ),
        kubectl(
          'wait for the operator to report on Calico',
          ['wait', '--for=create', `--timeout=${String(TIMEOUTS.rollout)}s`, 'tigerastatus/calico'],
          TIMEOUTS.rollout,
          look,
        ),
        kubectl(
          'wait for Calico to be available',
          [
            'wait',
            '--for=condition=Available',
            `--timeout=${String(TIMEOUTS.calicoAvailable)}s`,
            'tigerastatus/calico',
          ],
          TIMEOUTS.calicoAvailable,
          look,
        ),
      ];
    }
    case 'cilium':
      return [
        {
          kind: 'run',
          title: `install Cilium ${VERSIONS.cilium}`,
          tool: 'cilium',
          args: [
            'install',
            ...ctx,
            '--version',
            VERSIONS.cilium,
            '--values',
            ASSETS.ciliumValues,
            '--wait',
          ],
          timeoutSeconds: TIMEOUTS.ciliumStatus,
          hint: `look at cilium status --context ${contextOf(name)}`,
        },
        {
          kind: 'run',
          title: 'wait for Cilium to be ready',
          tool: 'cilium',
          args: [
            'status',
            ...ctx,
            '--wait',
            '--wait-duration',
            `${String(TIMEOUTS.ciliumStatus)}s`,
          ],
          timeoutSeconds: TIMEOUTS.ciliumStatus,
          hint: `look at cilium status --context ${contextOf(name)} and kubectl --context ${contextOf(name)} -n kube-system get pods`,
        },
      ];
    case 'kindnet':
      return [
        kubectl(
          'wait for kindnet (with its network policy controller) to roll out',
          [
            '-n',
            'kube-system',
            'rollout',
            'status',
            'daemonset/kindnet',
            `--timeout=${String(TIMEOUTS.rollout)}s`,
          ],
          TIMEOUTS.rollout,
          `look at kubectl --context ${contextOf(name)} -n kube-system get pods -l app=kindnet`,
        ),
      ];
  }
}

/** The steps of `cluster up`, after the preflight. */
export function upSteps(options: UpOptions): Step[] {
  const { cni, name, image, nodeImage } = options;
  const ctx = ['--context', contextOf(name)];
  return [
    { kind: 'pull-if-absent', title: `make the probe image ${image} available to docker`, image },
    {
      kind: 'run',
      title: `create the kind cluster "${name}" (1 control plane, 2 workers, ${cni})`,
      tool: 'kind',
      args: ['create', 'cluster', '--name', name, '--image', nodeImage, '--config', '-'],
      input: kindConfigYaml(cni),
      timeoutSeconds: TIMEOUTS.slowCommand,
    },
    ...cniSteps(cni, name),
    {
      kind: 'run',
      title: 'wait for every node to be Ready',
      tool: 'kubectl',
      args: [
        ...ctx,
        'wait',
        '--for=condition=Ready',
        'nodes',
        '--all',
        `--timeout=${String(TIMEOUTS.nodesReady)}s`,
      ],
      timeoutSeconds: TIMEOUTS.nodesReady,
      hint: `look at kubectl --context ${contextOf(name)} describe nodes`,
    },
    {
      kind: 'run',
      title: 'wait for cluster DNS (pods on the new network)',
      tool: 'kubectl',
      args: [
        ...ctx,
        '-n',
        'kube-system',
        'rollout',
        'status',
        'deployment/coredns',
        `--timeout=${String(TIMEOUTS.rollout)}s`,
      ],
      timeoutSeconds: TIMEOUTS.rollout,
      hint: `look at kubectl --context ${contextOf(name)} -n kube-system get pods`,
    },
    {
      kind: 'run',
      title: 'load the probe image into the nodes',
      tool: 'kind',
      args: ['load', 'docker-image', image, '--name', name],
      timeoutSeconds: TIMEOUTS.slowCommand,
    },
  ];
}

export function downSteps(name: string): Step[] {
  return [
    {
      kind: 'run',
      title: `delete the kind cluster "${name}"`,
      tool: 'kind',
      args: ['delete', 'cluster', '--name', name],
      timeoutSeconds: TIMEOUTS.slowCommand,
    },
  ];
}
