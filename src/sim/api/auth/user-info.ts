/**
 * Who a request acts as, in the API server's terms (k8s.io/apiserver's user.Info): a name, an
 * optional uid, groups, and extra attributes. Authentication yields it; RBAC decides on it.
 */
export interface UserInfo {
  readonly username: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  readonly extra?: Readonly<Record<string, readonly string[]>>;
}

export const SYSTEM_MASTERS = 'system:masters';
export const AUTHENTICATED = 'system:authenticated';
export const UNAUTHENTICATED = 'system:unauthenticated';
export const ANONYMOUS = 'system:anonymous';
const SERVICE_ACCOUNT_PREFIX = 'system:serviceaccount:';

/** The kubeconfig's user, as kubeadm names it; the real control plane backend uses the same name. */
export const ADMIN_USER: UserInfo = { username: 'kubernetes-admin', groups: [SYSTEM_MASTERS, AUTHENTICATED] };

export function serviceAccountUsername(namespace: string, name: string): string {
  return `${SERVICE_ACCOUNT_PREFIX}${namespace}:${name}`;
}

/** The groups every service account's token carries, in the real authenticator's order. */
export function serviceAccountGroups(namespace: string): string[] {
  return ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, AUTHENTICATED];
}

/** `{ namespace, name }` of `system:serviceaccount:<ns>:<name>`; undefined for any other user name. */
export function parseServiceAccountUsername(username: string): { namespace: string; name: string } | undefined {
  if (!username.startsWith(SERVICE_ACCOUNT_PREFIX)) return undefined;
  const [namespace, name, ...rest] = username.slice(SERVICE_ACCOUNT_PREFIX.length).split(':');
  if (!namespace || !name || rest.length) return undefined;
  return { namespace, name };
}
