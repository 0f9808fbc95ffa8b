// `wharf k8s check`: asks the API server (SelfSubjectAccessReview) whether this identity may do
// each thing the worker will do, so a missing verb is named now rather than found as a 403
// in the middle of a task.
import { AuthorizationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { roleRules, type ManifestOptions } from './manifests.js';

export interface Permission {
  verb: string;
  resource: string;
  subresource?: string;
  allowed: boolean;
  reason?: string;
}

export async function checkPermissions(kc: KubeConfig, namespace: string, o: Pick<ManifestOptions, 'builds' | 'workloads' | 'secrets'>): Promise<Permission[]> {
  const api = kc.makeApiClient(AuthorizationV1Api);
  const wanted = roleRules(o).flatMap((r) => r.resources.flatMap((res) => r.verbs.map((verb) => ({ verb, res }))));
  return Promise.all(wanted.map(async ({ verb, res }) => {
    const [resource = res, subresource] = res.split('/');
    const review = await api.createSelfSubjectAccessReview({
      body: {
        apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { namespace, verb, group: '', version: 'v1', resource, ...(subresource ? { subresource } : {}) } },
      },
    });
    const p: Permission = { verb, resource, allowed: review.status?.allowed === true };
    if (subresource) p.subresource = subresource;
    if (review.status?.reason) p.reason = review.status.reason;
    return p;
  }));
}

/** "get pods/log" */
export function describePermission(p: Permission): string {
  return `${p.verb} ${p.resource}${p.subresource ? `/${p.subresource}` : ''}`;
}
