/**
 * @kubernetes/client-node, loaded on first use. Importing it costs about 0.7 s (a third of a
 * second even on a fast machine), which every offline command (`check`, `model`, `explain`,
 * `report`, `--help`) would pay for a client it never uses. The cluster layer's modules import its
 * types only and reach its values through `k8s()`, which loads it synchronously (require of an ES
 * module, supported from Node 20.19; the same instance as an `import` of it).
 */
import { createRequire } from 'node:module';
import type * as K8s from '@kubernetes/client-node';

let loaded: typeof K8s | undefined;

export function k8s(): typeof K8s {
  loaded ??= createRequire(import.meta.url)('@kubernetes/client-node') as typeof K8s;
  return loaded;
}
