import type { IncomingHttpHeaders } from 'node:http';
import { ApiError } from '../api-error.js';
import type { RbacAuthorizer } from './rbac-authorizer.js';
import { forbiddenMessage, requestAttributes, type RequestAttributes } from './request-attributes.js';
import type { TokenAuthority } from './token-authority.js';
import { ADMIN_USER, ANONYMOUS, AUTHENTICATED, SYSTEM_MASTERS, UNAUTHENTICATED, parseServiceAccountUsername, serviceAccountGroups, type UserInfo } from './user-info.js';

export interface GateRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  /** A WebSocket upgrade: streaming pod subresources then need `create`. */
  readonly websocket?: boolean;
}

/**
 * What stands before every API request, in the real server's filter order: authentication (a
 * bearer token), impersonation (`Impersonate-User`, `-Group`, `-Uid`, `-Extra-*`, each authorized
 * as the `impersonate` verb), then authorization. It answers with the user the request acts as,
 * or throws the real server's 401 or 403.
 *
 * A request with no credentials at all acts as the admin: many clients of the embedded cluster
 * (and its own tests) send none, and the README's fidelity table says so. A token the cluster did
 * not issue gets 401, as upstream.
 */
export class RequestGate {
  constructor(
    private readonly tokens: TokenAuthority,
    private readonly authorizer: RbacAuthorizer,
  ) {}

  admit(req: GateRequest): UserInfo {
    const user = this.impersonate(this.authenticate(req.headers), req.headers);
    // The privileged group is allowed everything: skip resolving the request, the common case here.
    if (user.groups.includes(SYSTEM_MASTERS)) return user;
    const attributes = requestAttributes(user, req.method, req.path, req.query, req.websocket ?? false);
    const decision = this.authorizer.authorize(attributes);
    if (!decision.allowed) throw forbidden(attributes, decision.reason);
    return user;
  }

  authenticate(headers: IncomingHttpHeaders): UserInfo {
    const header = headers.authorization;
    if (header === undefined) return ADMIN_USER;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const user = m ? this.tokens.authenticate(m[1]!) : undefined;
    if (!user) throw new ApiError(401, 'Unauthorized', 'Unauthorized');
    return user;
  }

  private impersonate(requester: UserInfo, headers: IncomingHttpHeaders): UserInfo {
    const asUser = single(headers['impersonate-user']);
    const asGroups = all(headers['impersonate-group']);
    const asUid = single(headers['impersonate-uid']);
    const extraHeaders = Object.keys(headers).filter((h) => h.startsWith('impersonate-extra-'));
    if (asUser === undefined) {
      if (asGroups.length || asUid !== undefined || extraHeaders.length) throw ApiError.badRequest('requested impersonation of groups, uid or extra without impersonating a user');
      return requester;
    }
    const check = (resource: string, name: string, extra: Partial<RequestAttributes> = {}): void => {
      const attributes: RequestAttributes = { user: requester, verb: 'impersonate', resourceRequest: true, path: '', namespace: '', apiGroup: '', apiVersion: '', resource, subresource: '', name, ...extra };
      const decision = this.authorizer.authorize(attributes);
      if (!decision.allowed) throw forbidden(attributes, decision.reason);
    };
    const sa = parseServiceAccountUsername(asUser);
    let groups: string[] = [];
    if (sa) {
      check('serviceaccounts', sa.name, { namespace: sa.namespace });
      if (!asGroups.length) groups = serviceAccountGroups(sa.namespace).filter((g) => g !== AUTHENTICATED);
    } else {
      check('users', asUser);
    }
    for (const g of asGroups) {
      check('groups', g);
      groups.push(g);
    }
    const extra: Record<string, string[]> = {};
    for (const h of extraHeaders) {
      const key = decodeURIComponent(h.slice('impersonate-extra-'.length));
      for (const value of all(headers[h])) {
        check('userextras', value, { apiGroup: 'authentication.k8s.io', subresource: key });
        (extra[key] ??= []).push(value);
      }
    }
    if (asUid !== undefined) check('uids', asUid, { apiGroup: 'authentication.k8s.io' });
    const marker = asUser === ANONYMOUS ? UNAUTHENTICATED : AUTHENTICATED;
    if (!groups.includes(marker)) groups.push(marker);
    return { username: asUser, groups, ...(asUid !== undefined ? { uid: asUid } : {}), ...(Object.keys(extra).length ? { extra } : {}) };
  }
}

/** responsewriters.Forbidden: `<resource>[.<group>] ["<name>"] is forbidden: <why>[: <reason>]`. */
export function forbidden(a: RequestAttributes, reason: string): ApiError {
  const why = reason ? `${forbiddenMessage(a)}: ${reason}` : forbiddenMessage(a);
  if (!a.resourceRequest || !a.resource) return new ApiError(403, 'Forbidden', `forbidden: ${why}`, {});
  const qualified = a.apiGroup ? `${a.resource}.${a.apiGroup}` : a.resource;
  const subject = a.name ? `${qualified} ${JSON.stringify(a.name)}` : qualified;
  return new ApiError(403, 'Forbidden', `${subject} is forbidden: ${why}`, {
    ...(a.name ? { name: a.name } : {}),
    ...(a.apiGroup ? { group: a.apiGroup } : {}),
    kind: a.resource,
  });
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function all(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : value.split(',')).map((v) => v.trim()).filter(Boolean);
}
