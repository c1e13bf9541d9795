import type { LabelSelector, PolicyRule, World } from '../src/model/types.js';

/** The synthetic world as Kubernetes manifests (multi-document YAML of JSON documents). */
export function worldManifests(world: World): string {
  const selector = (s: LabelSelector) => ({
    ...(Object.keys(s.matchLabels).length > 0 ? { matchLabels: s.matchLabels } : {}),
    ...(s.matchExpressions.length > 0
      ? {
          matchExpressions: s.matchExpressions.map((e) => ({
            key: e.key,
            operator: e.operator,
            ...(e.values.length > 0 ? { values: e.values } : {}),
          })),
        }
      : {}),
  });
  const rule = (r: PolicyRule, peersKey: 'from' | 'to') => ({
    ...(r.peers === null
      ? {}
      : {
          [peersKey]: r.peers.map((p) =>
            p.ipBlock
              ? { ipBlock: { cidr: p.ipBlock.cidr, except: p.ipBlock.except } }
              : {
                  ...(p.podSelector ? { podSelector: selector(p.podSelector) } : {}),
                  ...(p.namespaceSelector
                    ? { namespaceSelector: selector(p.namespaceSelector) }
                    : {}),
                },
          ),
        }),
    ...(r.ports === null ? {} : { ports: r.ports }),
  });
  const docs: unknown[] = [
    ...world.namespaces.map((ns) => ({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns.name, labels: ns.labels },
    })),
    ...world.pods.map((pod) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: pod.name, namespace: pod.namespace, labels: pod.labels },
      spec: { containers: [{ name: 'main', image: 'app', ports: pod.ports }] },
      status: { podIP: pod.ips[0], podIPs: pod.ips.map((ip) => ({ ip })) },
    })),
    ...world.policies.map((p) => ({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: p.name, namespace: p.namespace },
      spec: {
        podSelector: selector(p.podSelector),
        policyTypes: p.policyTypes,
        ...(p.ingress.length > 0 ? { ingress: p.ingress.map((r) => rule(r, 'from')) } : {}),
        ...(p.egress.length > 0 ? { egress: p.egress.map((r) => rule(r, 'to')) } : {}),
      },
    })),
  ];
  return docs.map((d) => JSON.stringify(d)).join('\n---\n') + '\n';
}
