/**
 * Keys of the endpoints of a truth table. A pod is `namespace/name`. A non-pod peer (a host
 * outside the cluster that policies reach through ipBlock) is `ext:NAME`; its display key
 * includes its IP: `ext:NAME@IP`.
 */
export type EndpointKey = string;

export function podKey(namespace: string, name: string): EndpointKey {
  return `${namespace}/${name}`;
}

export function externalKey(name: string): EndpointKey {
  return `ext:${name}`;
}

export function isExternalKey(key: string): boolean {
  return key.startsWith('ext:');
}
