import type { ObjectStore, StoredObject } from '../../store.js';
import { CLUSTER_ROLES, CLUSTER_ROLE_BINDINGS, type PolicyRule } from './rbac-authorizer.js';
import { AUTHENTICATED, SYSTEM_MASTERS, UNAUTHENTICATED } from './user-info.js';

/**
 * The cluster roles and bindings the real API server writes at start (plugin/pkg/auth/authorizer/
 * rbac/bootstrappolicy), those a user meets: cluster-admin for system:masters; the discovery,
 * public-info and basic-user roles every authenticated user has (so a service account can run
 * `kubectl auth can-i` and `auth whoami`); and the user-facing admin, edit and view roles, with
 * the rules their aggregated parts give for the resources this cluster serves (plus the core ones
 * it does not, so a rule reads as upstream's).
 */
const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const READ_WRITE = [...READ, ...WRITE];

function rule(verbs: string[], apiGroups: string[], resources: string[]): PolicyRule {
  return { verbs, apiGroups, resources };
}

const VIEW: PolicyRule[] = [
  rule(READ, [''], ['configmaps', 'endpoints', 'persistentvolumeclaims', 'persistentvolumeclaims/status', 'pods', 'replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/status']),
  rule(READ, [''], ['bindings', 'events', 'limitranges', 'namespaces/status', 'pods/log', 'pods/status', 'replicationcontrollers/status', 'resourcequotas', 'resourcequotas/status']),
  rule(READ, [''], ['namespaces']),
  rule(READ, ['discovery.k8s.io'], ['endpointslices']),
  rule(READ, ['apps'], ['controllerrevisions', 'daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status', 'replicasets', 'replicasets/scale', 'replicasets/status', 'statefulsets', 'statefulsets/scale', 'statefulsets/status']),
  rule(READ, ['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status']),
  rule(READ, ['batch'], ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status']),
  rule(READ, ['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status']),
  rule(READ, ['networking.k8s.io'], ['ingresses', 'ingresses/status', 'networkpolicies']),
];

const EDIT: PolicyRule[] = [
  rule(READ, [''], ['pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy', 'secrets', 'services/proxy']),
  rule(['impersonate'], [''], ['serviceaccounts']),
  rule(WRITE, [''], ['pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy']),
  rule(['create'], [''], ['pods/eviction']),
  rule(WRITE, [''], ['configmaps', 'events', 'persistentvolumeclaims', 'replicationcontrollers', 'replicationcontrollers/scale', 'secrets', 'serviceaccounts', 'services', 'services/proxy']),
  rule(['create'], [''], ['serviceaccounts/token']),
  rule(WRITE, ['apps'], ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'replicasets', 'replicasets/scale', 'statefulsets', 'statefulsets/scale']),
  rule(WRITE, ['autoscaling'], ['horizontalpodautoscalers']),
  rule(WRITE, ['batch'], ['cronjobs', 'jobs']),
  rule(WRITE, ['policy'], ['poddisruptionbudgets']),
  rule(WRITE, ['networking.k8s.io'], ['ingresses', 'networkpolicies']),
  rule(READ_WRITE, ['coordination.k8s.io'], ['leases']),
  ...VIEW,
];

const ADMIN: PolicyRule[] = [
  rule(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews']),
  rule(READ_WRITE, ['rbac.authorization.k8s.io'], ['rolebindings', 'roles']),
  ...EDIT,
];

const CLUSTER_ROLE_RULES: Record<string, PolicyRule[]> = {
  'cluster-admin': [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, { verbs: ['*'], nonResourceURLs: ['*'] }],
  admin: ADMIN,
  edit: EDIT,
  view: VIEW,
  'system:basic-user': [rule(['create'], ['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']), rule(['create'], ['authentication.k8s.io'], ['selfsubjectreviews'])],
  'system:discovery': [{ verbs: ['get'], nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'] }],
  'system:public-info-viewer': [{ verbs: ['get'], nonResourceURLs: ['/healthz', '/livez', '/readyz', '/version', '/version/'] }],
  'system:service-account-issuer-discovery': [{ verbs: ['get'], nonResourceURLs: ['/.well-known/openid-configuration', '/.well-known/openid-configuration/', '/openid/v1/jwks', '/openid/v1/jwks/'] }],
};

const CLUSTER_ROLE_BINDING_SUBJECTS: Record<string, string[]> = {
  'cluster-admin': [SYSTEM_MASTERS],
  'system:basic-user': [AUTHENTICATED],
  'system:discovery': [AUTHENTICATED],
  'system:public-info-viewer': [AUTHENTICATED, UNAUTHENTICATED],
  'system:service-account-issuer-discovery': ['system:serviceaccounts'],
};

const BOOTSTRAP_METADATA = {
  labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' },
  annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' },
};

/** Writes the bootstrap roles and bindings that are missing, as the real server's post-start hook does. */
export function ensureBootstrapPolicy(store: ObjectStore): void {
  const meta = (name: string) => ({ name, uid: '', resourceVersion: '', creationTimestamp: '', ...structuredClone(BOOTSTRAP_METADATA) });
  for (const [name, rules] of Object.entries(CLUSTER_ROLE_RULES)) {
    if (store.get(CLUSTER_ROLES, undefined, name)) continue;
    store.create(CLUSTER_ROLES, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: meta(name), rules: structuredClone(rules) } as StoredObject);
  }
  for (const [name, groups] of Object.entries(CLUSTER_ROLE_BINDING_SUBJECTS)) {
    if (store.get(CLUSTER_ROLE_BINDINGS, undefined, name)) continue;
    store.create(CLUSTER_ROLE_BINDINGS, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: meta(name),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: groups.map((g) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: g })),
    } as StoredObject);
  }
}
