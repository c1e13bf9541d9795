/**
 * What the live suites (test/e2e/) share: the built CLI, the cluster under test and its probe
 * image, and whether anything of polygraph's is left on it.
 *
 * The cluster comes from POLYGRAPH_KUBECONFIG or KUBECONFIG, else the lab's `.lab/kubeconfig`
 * (then the lab must be up); the probe image from POLYGRAPH_IMAGE, else the lab's.
 */
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, listClusterObjects, listNamespaces } from '../../src/cluster/index.js';
import { OWNED_SELECTOR } from '../../src/engine/names.js';
import * as lab from '../lab/lab.js';
import { ROOT } from './scenarios.js';

/** The built CLI, as users run it. */
export const CLI = join(ROOT, 'dist/cli/main.js');

/** The kubeconfig of the cluster under test. */
export const KUBECONFIG =
  process.env.POLYGRAPH_KUBECONFIG ?? process.env.KUBECONFIG ?? lab.kubeconfigPath();

/** Whether the cluster under test is the lab. */
export const ON_LAB = KUBECONFIG === lab.kubeconfigPath();

/** The ClusterNetworkPolicy resource (network-policy-api v1beta1), for listing what is left. */
export const CLUSTER_NETWORK_POLICY = {
  group: 'policy.networking.k8s.io',
  version: 'v1beta1',
  plural: 'clusternetworkpolicies',
  kind: 'ClusterNetworkPolicy',
} as const;

export interface LiveTarget {
  readonly kubeconfig: string;
  /** The probe image polygraph deploys (`--image`). */
  readonly image: string;
  readonly cluster: Cluster;
  /** A fresh temporary directory for the suite's files. */
  readonly tmp: string;
}

/**
 * For a suite's `before`: fails unless the CLI is built and (on the lab) the lab is up; returns
 * the cluster, the probe image and a temporary directory named after `suite`.
 */
export async function liveTarget(suite: string): Promise<LiveTarget> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: npm run build first`);
  if (ON_LAB && !(await lab.status()).up) throw new Error('the lab is not up (npm run lab:up)');
  return {
    kubeconfig: KUBECONFIG,
    image: process.env.POLYGRAPH_IMAGE ?? (await lab.probeImageRef()),
    cluster: Cluster.connect({ kubeconfig: KUBECONFIG }),
    tmp: await mkdtemp(join(tmpdir(), `polygraph-${suite}-e2e-`)),
  };
}

/** The built CLI with these arguments, run from the repository (the process: it can be killed); never rejects; no colour. */
export function polygraph(...args: string[]) {
  return execa('node', [CLI, ...args], { cwd: ROOT, reject: false, env: { NO_COLOR: '1' } });
}

/** The arguments every live command of the suites takes: cluster, image, the lab's plugin. */
export function liveArgs(target: LiveTarget, plugin = 'kube-router'): string[] {
  return ['--kubeconfig', target.kubeconfig, '--image', target.image, '--plugin', plugin];
}

/** The names of the namespaces polygraph owns on the cluster. */
export async function ownedNamespaces(cluster: Cluster): Promise<string[]> {
  return (await listNamespaces(cluster, OWNED_SELECTOR)).map((n) => n.name);
}

/** The names of the ClusterNetworkPolicies polygraph owns on the cluster. */
export async function ownedClusterPolicies(cluster: Cluster): Promise<string[]> {
  return (await listClusterObjects(cluster, CLUSTER_NETWORK_POLICY, OWNED_SELECTOR)).map(
    (p) => p.name,
  );
}

/**
 * The namespaces of polygraph still there after waiting up to `boundMs` for them to go (a run
 * that waits for its cleanup leaves none; one killed leaves them to `polygraph clean`).
 */
export async function namespacesLeft(cluster: Cluster, boundMs = 60_000): Promise<string[]> {
  const t0 = Date.now();
  for (;;) {
    const left = await ownedNamespaces(cluster);
    if (left.length === 0 || Date.now() - t0 > boundMs) return left;
    await new Promise((r) => setTimeout(r, 500));
  }
}
