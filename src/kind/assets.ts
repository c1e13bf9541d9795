/**
 * Files applied to clusters, shipped in the npm package under src/kind/assets (package.json
 * "files"). The path is the same two levels up from src/kind/*.ts (tests) and dist/kind/*.js.
 */
import { fileURLToPath } from 'node:url';

function asset(name: string): string {
  return fileURLToPath(new URL(`../../src/kind/assets/${name}`, import.meta.url));
}

export const ASSETS = {
  /** Installation (IP pool = POD_SUBNET) and APIServer, for the Tigera operator. */
  calicoCustomResources: asset('calico-custom-resources.yaml'),
  /** Helm values for `cilium install`. */
  ciliumValues: asset('cilium-values.yaml'),
} as const;
