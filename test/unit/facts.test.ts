import { expect } from 'chai';
import { detectNetworkPlugin } from '../../src/engine/facts.js';

const ds = (namespace: string, name: string, ...images: string[]) => ({ namespace, name, images });

describe('network plugin detection (from the DaemonSets of the cluster)', () => {
  it('names the plugins users run on kind and in production, by their node agent', () => {
    const cases: [ReturnType<typeof ds>[], string | undefined][] = [
      [[ds('kube-system', 'kindnet', 'docker.io/kindest/kindnetd:v20250512-df8de77b')], 'kindnet'],
      [
        [
          ds('calico-system', 'calico-node', 'docker.io/calico/node:v3.29.1'),
          ds('calico-system', 'csi-node-driver', 'docker.io/calico/csi:v3.29.1'),
        ],
        'calico',
      ],
      [
        [
          ds(
            'kube-system',
            'cilium',
            'quay.io/cilium/cilium:v1.16.5@sha256:758ca0793f5995bb938a2fa219dcce63dc0b3fa7fc4ce5cc851125281fb7361d',
          ),
          ds('kube-system', 'cilium-envoy', 'quay.io/cilium/cilium-envoy:v1.30.8'),
        ],
        'cilium',
      ],
      [
        [
          ds(
            'kube-system',
            'canal',
            'docker.io/calico/node:v3.29.1',
            'quay.io/coreos/flannel:v0.15.1',
          ),
        ],
        'canal',
      ],
      [[ds('kube-system', 'antrea-agent', 'antrea/antrea-agent-ubuntu:v2.2.0')], 'antrea'],
      [
        [ds('kube-system', 'kube-router', 'docker.io/cloudnativelabs/kube-router:v2.1.0')],
        'kube-router',
      ],
      [[ds('kube-flannel', 'kube-flannel-ds', 'ghcr.io/flannel-io/flannel:v0.26.1')], 'flannel'],
      [
        [
          ds(
            'kube-system',
            'aws-node',
            '602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.19.0',
          ),
        ],
        'aws-vpc-cni',
      ],
      [
        [
          ds(
            'ovn-kubernetes',
            'ovnkube-node',
            'ghcr.io/ovn-org/ovn-kubernetes/ovn-kube-ubuntu:master',
          ),
        ],
        'ovn-kubernetes',
      ],
      // Nothing known (the lab runs kube-router as a host process): no guess.
      [[ds('kube-system', 'kube-proxy', 'registry.k8s.io/kube-proxy:v1.32.4')], undefined],
      [[], undefined],
    ];
    for (const [sets, plugin] of cases)
      expect(detectNetworkPlugin(sets), sets.map((d) => d.name).join(',')).to.equal(plugin);
  });
});
