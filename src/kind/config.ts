import { stringify } from 'yaml';

/** The CNIs `polygraph cluster up` can install. */
export const CNIS = ['calico', 'cilium', 'kindnet'] as const;
export type Cni = (typeof CNIS)[number];

/**
 * The pod network of every cluster polygraph creates: kind's own default, which kindnet uses as it
 * is, Calico's IP pool is set to (assets/calico-custom-resources.yaml) and Cilium allocates from
 * through the nodes' podCIDRs (assets/cilium-values.yaml, ipam.mode=kubernetes). Not Calico's
 * default 192.168.0.0/16, which often collides with home and office networks.
 */
export const POD_SUBNET = '10.244.0.0/16';

/** The kind cluster configuration (kind.x-k8s.io/v1alpha4) for a CNI. */
export function kindConfig(cni: Cni): Record<string, unknown> {
  return {
    kind: 'Cluster',
    apiVersion: 'kind.x-k8s.io/v1alpha4',
    // kindnet is kind's default CNI: keep it. Calico and Cilium replace it.
    networking: { disableDefaultCNI: cni !== 'kindnet', podSubnet: POD_SUBNET },
    nodes: [{ role: 'control-plane' }, { role: 'worker' }, { role: 'worker' }],
  };
}

export function kindConfigYaml(cni: Cni): string {
  return (
    `# kind cluster for polygraph (${cni === 'kindnet' ? 'kindnet, kind’s default CNI' : `${cni}: kind’s default CNI disabled`}).\n` +
    stringify(kindConfig(cni))
  );
}
