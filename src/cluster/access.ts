/** What the kubeconfig's user may do, asked of the API server (SelfSubjectAccessReview). */
import type * as k8s from '@kubernetes/client-node';
import { k8s as lib } from './k8s.js';
import { clientsOf, toModel, type Cluster } from './cluster.js';
import { toClusterError } from './errors.js';

export interface Permission {
  readonly verb: string;
  /** `pods`, `pods/exec`, `networkpolicies`, … */
  readonly resource: string;
  /** API group: '' for core. */
  readonly group: string;
  /** Absent: cluster-wide (or any namespace). */
  readonly namespace?: string;
}

export function formatPermission(p: Permission): string {
  const resource = p.group === '' ? p.resource : `${p.resource}.${p.group}`;
  return `${p.verb} ${resource}${p.namespace === undefined ? '' : ` in ${p.namespace}`}`;
}

/** The permissions of `wanted` that the API server does not grant. */
export async function missingPermissions(
  cluster: Cluster,
  wanted: readonly Permission[],
): Promise<Permission[]> {
  const api = clientsOf(cluster).config.makeApiClient(lib().AuthorizationV1Api);
  const answers = await Promise.all(
    wanted.map(async (p) => {
      const [resource = p.resource, subresource] = p.resource.split('/');
      try {
        const body = toModel('authorization.k8s.io/v1', 'SelfSubjectAccessReview', {
          spec: {
            resourceAttributes: {
              verb: p.verb,
              resource,
              group: p.group,
              ...(subresource === undefined ? {} : { subresource }),
              ...(p.namespace === undefined ? {} : { namespace: p.namespace }),
            },
          },
        }) as k8s.V1SelfSubjectAccessReview;
        const review = await api.createSelfSubjectAccessReview({ body });
        return review.status?.allowed === true;
      } catch (error) {
        throw toClusterError(error, { verb: 'review access to', kind: 'SelfSubjectAccessReview' });
      }
    }),
  );
  return wanted.filter((_, i) => answers[i] !== true);
}
