/**
 * Keys of the endpoints of a truth table. A pod is `namespace/name`. A non-pod peer (a host
 * outside the cluster that policies reach through ipBlock) is `ext:NAME@IP`; `ext:NAME` is
 * accepted wherever a key is looked up.
 */
export type EndpointKey = string;

export function podKey(namespace: string, name: string): EndpointKey {
  return `${namespace}/${name}`;
}

export function externalKey(name: string, ip: string): EndpointKey {
  return `ext:${name}@${ip}`;
}

/** `ext:NAME@IP` → `ext:NAME`; other keys unchanged. */
export function externalAlias(key: EndpointKey): EndpointKey {
  const at = key.lastIndexOf('@');
  return isExternalKey(key) && at > 0 ? key.slice(0, at) : key;
}

export function isExternalKey(key: string): boolean {
  return key.startsWith('ext:');
}
