/**
 * What `can(serviceaccount/shop/web, get, secrets[, namespace])` asks: may this service account
 * do this verb on this resource, in this namespace (the account's own when none is given)?
 * The resource is written as in an RBAC rule: `pods`, a subresource `pods/exec`, a group after
 * the first dot `deployments.apps`.
 */
export interface AccessTarget {
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly verb: string;
  readonly resource: string;
  readonly subresource: string;
  readonly group: string;
  /** Where the access is asked for. */
  readonly scope: string;
  /** As written, normalised: `serviceaccount/shop/web, get, secrets`. */
  readonly text: string;
}

const NAME = '[a-z0-9]([-a-z0-9.]*[a-z0-9])?';
const PART = /^\s*([^,\s]+)\s*$/;
/** The shape of the argument list, for checking a check before anything runs. */
export const ACCESS_TARGET_PATTERN = new RegExp(`^serviceaccount/${NAME}/${NAME}, ?[a-z*]+, ?[a-z0-9*.-]+(/[a-z*]+)?(, ?${NAME})?$`);

export function parseAccessTarget(text: string): AccessTarget {
  if (!ACCESS_TARGET_PATTERN.test(text)) throw new Error(`"${text}" is not an access target; write it as serviceaccount/namespace/name, verb, resource[, namespace], like serviceaccount/shop/web, get, secrets`);
  const parts = text.split(',').map((p) => PART.exec(p)![1]!);
  const [, namespace, serviceAccount] = parts[0]!.split('/') as [string, string, string];
  const [qualified, subresource = ''] = parts[2]!.split('/') as [string, string?];
  const dot = qualified.indexOf('.');
  return {
    namespace,
    serviceAccount,
    verb: parts[1]!,
    resource: dot < 0 ? qualified : qualified.slice(0, dot),
    subresource,
    group: dot < 0 ? '' : qualified.slice(dot + 1),
    scope: parts[3] ?? namespace,
    text: parts.join(', '),
  };
}
