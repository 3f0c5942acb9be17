import type { RequestAttributes } from '../api/auth/request-attributes.js';
import type { ApiConnection } from './api-connection.js';

export interface Decision {
  readonly allowed: boolean;
  readonly reason: string;
}

export interface Authorizer {
  authorize(attributes: RequestAttributes): Promise<Decision>;
}

/** k8s.io/apiserver's delegating authorizer keeps allowed and denied answers this long (--authorization-webhook-cache-*-ttl). */
const CACHE_TTL_MS = 10_000;

/**
 * Authorization delegated to the API server, as an aggregated API server does it: each request's
 * attributes become a SubjectAccessReview, and the answer is cached for 10 s (allowed or denied
 * alike), so a busy client costs one review per distinct request every 10 s.
 */
export class DelegatedAuthorizer implements Authorizer {
  private readonly cache = new Map<string, { decision: Decision; expires: number }>();

  constructor(private readonly connection: ApiConnection) {}

  async authorize(a: RequestAttributes): Promise<Decision> {
    const spec = {
      user: a.user.username,
      ...(a.user.uid !== undefined ? { uid: a.user.uid } : {}),
      groups: a.user.groups,
      ...(a.user.extra ? { extra: a.user.extra } : {}),
      ...(a.resourceRequest
        ? { resourceAttributes: { namespace: a.namespace, verb: a.verb, group: a.apiGroup, version: a.apiVersion, resource: a.resource, subresource: a.subresource, name: a.name } }
        : { nonResourceAttributes: { path: a.path, verb: a.verb } }),
    };
    const key = JSON.stringify(spec);
    const now = Date.now();
    const cached = this.cache.get(key);
    if (cached && cached.expires > now) return cached.decision;
    const answer = await this.connection.call('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec });
    if (answer.status !== 201 && answer.status !== 200) throw new Error(`SubjectAccessReview: HTTP ${answer.status} ${answer.body.slice(0, 200)}`);
    const status = (JSON.parse(answer.body) as { status?: { allowed?: boolean; reason?: string } }).status ?? {};
    const decision = { allowed: status.allowed === true, reason: status.reason ?? '' };
    for (const [k, v] of this.cache) if (v.expires <= now) this.cache.delete(k);
    this.cache.set(key, { decision, expires: now + CACHE_TTL_MS });
    return decision;
  }
}
