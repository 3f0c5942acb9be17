import { AuthorizationV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { AccessTarget } from '../core/access-target.js';
import { rawGetWithRetries } from './raw-request.js';
import type { Permission } from './rbac.js';

export interface AccessAnswer {
  readonly allowed: boolean;
  /** The authorizer's reason, when it gives one: `RBAC: allowed by RoleBinding "…"`. */
  readonly reason?: string;
}

export const ACCESS_REVIEW_PERMISSION: Permission = {
  why: 'can() checks: ask the API server what a service account may do (SubjectAccessReview)',
  verbs: ['create'],
  resource: 'subjectaccessreviews',
  group: 'authorization.k8s.io',
};

/**
 * Asks the cluster's own authorizer whether a service account may do something, through a
 * SubjectAccessReview: nothing is attempted and no object is read, so a check never touches a
 * secret's value. The account's groups are those its token would carry. A cluster-scoped resource
 * (nodes, namespaces…, found through discovery as kubectl auth can-i does) is asked about at the
 * cluster scope, where only cluster role bindings count.
 */
export async function reviewAccess(kubeConfig: KubeConfig, target: AccessTarget): Promise<AccessAnswer> {
  const namespaced = await isNamespaced(kubeConfig, target.group, target.resource);
  const review = await kubeConfig.makeApiClient(AuthorizationV1Api).createSubjectAccessReview({
    body: {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user: `system:serviceaccount:${target.namespace}:${target.serviceAccount}`,
        groups: ['system:serviceaccounts', `system:serviceaccounts:${target.namespace}`, 'system:authenticated'],
        resourceAttributes: { namespace: namespaced ? target.scope : '', verb: target.verb, group: target.group, resource: target.resource, ...(target.subresource ? { subresource: target.subresource } : {}) },
      },
    },
  });
  const status = review.status;
  return { allowed: status?.allowed === true, ...(status?.reason ? { reason: status.reason } : {}) };
}

/** Whether discovery says the resource lives in namespaces; an unknown one is taken as namespaced, as kubectl does. */
async function isNamespaced(kubeConfig: KubeConfig, group: string, resource: string): Promise<boolean> {
  const read = async (path: string): Promise<unknown> => {
    const r = await rawGetWithRetries(kubeConfig, path);
    return r.status === 200 ? JSON.parse(r.body) : undefined;
  };
  let path = '/api/v1';
  if (group) {
    const found = (await read(`/apis/${group}`)) as { preferredVersion?: { groupVersion?: string } } | undefined;
    if (!found?.preferredVersion?.groupVersion) return true;
    path = `/apis/${found.preferredVersion.groupVersion}`;
  }
  const list = (await read(path)) as { resources?: { name: string; namespaced: boolean }[] } | undefined;
  return list?.resources?.find((r) => r.name === resource)?.namespaced ?? true;
}
