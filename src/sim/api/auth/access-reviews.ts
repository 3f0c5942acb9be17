import type { LooseJson } from '../loose-json.js';
import type { ObjectStore } from '../../store.js';
import { ApiError } from '../api-error.js';
import type { ResourceType } from '../resources.js';
import type { PolicyRule, RbacAuthorizer } from './rbac-authorizer.js';
import type { RequestAttributes } from './request-attributes.js';
import type { TokenAuthority } from './token-authority.js';
import type { UserInfo } from './user-info.js';

type Json = LooseJson;

export interface Answer {
  readonly code: number;
  readonly body: Json;
}

const REVIEW_KINDS = new Set(['SubjectAccessReview', 'LocalSubjectAccessReview', 'SelfSubjectAccessReview', 'SelfSubjectRulesReview', 'SelfSubjectReview']);

/** Review kinds are answered, never stored. */
export function isReview(r: ResourceType): boolean {
  return REVIEW_KINDS.has(r.kind);
}

/**
 * The authorization and authentication APIs that answer a question instead of storing an object:
 * (Local|Self)SubjectAccessReview and SelfSubjectRulesReview, decided by the same authorizer as
 * every request; SelfSubjectReview (`kubectl auth whoami`); and TokenRequest
 * (`serviceaccounts/<name>/token`, `kubectl create token`).
 */
export class AccessReviews {
  constructor(
    private readonly store: ObjectStore,
    private readonly authorizer: RbacAuthorizer,
    private readonly tokens: TokenAuthority,
  ) {}

  review(r: ResourceType, namespace: string | undefined, body: unknown, user: UserInfo): Answer {
    const input = objectBody(body);
    const spec = (input.spec ?? {}) as Json;
    const out: Json = { kind: r.kind, apiVersion: `${r.group}/${r.version}`, metadata: { ...(input.metadata ?? {}) } };
    switch (r.kind) {
      case 'SelfSubjectReview':
        return { code: 201, body: { ...out, status: { userInfo: userInfoJson(user) } } };
      case 'SelfSubjectRulesReview':
        return { code: 201, body: { ...out, spec, status: this.rulesReview(user, String(spec.namespace ?? '')) } };
      case 'SelfSubjectAccessReview':
        return { code: 201, body: { ...out, spec, status: this.decide(r, spec, user) } };
      default: {
        const subject = subjectOf(r, spec);
        if (r.kind === 'LocalSubjectAccessReview') {
          const asked = spec.resourceAttributes?.namespace ?? '';
          if (spec.resourceAttributes && asked !== namespace) throw invalid(r, 'spec.resourceAttributes.namespace', `Invalid value: ${JSON.stringify(asked)}: must match metadata.namespace`);
          out.metadata.namespace = namespace;
        }
        return { code: 201, body: { ...out, spec, status: this.decide(r, spec, subject) } };
      }
    }
  }

  /** POST serviceaccounts/<name>/token. */
  tokenRequest(namespace: string, name: string, body: unknown): Answer {
    const input = objectBody(body);
    const spec = (input.spec ?? {}) as Json;
    const expirationSeconds = spec.expirationSeconds ?? 3600;
    if (!Number.isInteger(expirationSeconds) || expirationSeconds < 600) {
      throw new ApiError(422, 'Invalid', `TokenRequest.authentication.k8s.io "${name}" is invalid: spec.expirationSeconds: Invalid value: ${String(expirationSeconds)}: may not specify a duration less than 10 minutes`, { name, group: 'authentication.k8s.io', kind: 'TokenRequest' });
    }
    const account = this.store.get('serviceaccounts', namespace, name);
    if (!account) throw new ApiError(404, 'NotFound', `serviceaccounts "${name}" not found`, { name, kind: 'serviceaccounts' });
    const pod = spec.boundObjectRef?.kind === 'Pod' ? this.store.get('pods', namespace, spec.boundObjectRef.name) : undefined;
    if (spec.boundObjectRef && !pod) throw new ApiError(404, 'NotFound', `pods "${spec.boundObjectRef.name}" not found`, { name: spec.boundObjectRef.name, kind: 'pods' });
    const audiences: string[] = spec.audiences ?? [];
    const issued = this.tokens.issue(account, { audiences, expirationSeconds, ...(pod ? { pod } : {}) });
    return {
      code: 201,
      body: {
        kind: 'TokenRequest',
        apiVersion: 'authentication.k8s.io/v1',
        metadata: { name, namespace },
        spec: { audiences: audiences.length ? audiences : ['https://kubernetes.default.svc.cluster.local'], expirationSeconds, boundObjectRef: spec.boundObjectRef ?? null },
        status: issued,
      },
    };
  }

  private decide(r: ResourceType, spec: Json, user: UserInfo): Json {
    const resource = spec.resourceAttributes as Json | undefined;
    const nonResource = spec.nonResourceAttributes as Json | undefined;
    if (!resource === !nonResource) throw invalid(r, 'spec.resourceAttributes', 'Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified');
    const attributes: RequestAttributes = resource
      ? { user, verb: str(resource.verb), resourceRequest: true, path: '', namespace: str(resource.namespace), apiGroup: str(resource.group), apiVersion: str(resource.version), resource: str(resource.resource), subresource: str(resource.subresource), name: str(resource.name) }
      : { user, verb: str(nonResource!.verb), resourceRequest: false, path: str(nonResource!.path), namespace: '', apiGroup: '', apiVersion: '', resource: '', subresource: '', name: '' };
    const decision = this.authorizer.authorize(attributes);
    return { allowed: decision.allowed, ...(decision.reason ? { reason: decision.reason } : {}) };
  }

  private rulesReview(user: UserInfo, namespace: string): Json {
    const { rules, errors } = this.authorizer.rulesFor(user, namespace);
    const resourceRules = rules.filter((p) => p.resources?.length).map((p) => ({ verbs: p.verbs, apiGroups: p.apiGroups ?? [], resources: p.resources, ...(p.resourceNames?.length ? { resourceNames: p.resourceNames } : {}) }));
    const nonResourceRules = rules.filter((p: PolicyRule) => p.nonResourceURLs?.length).map((p) => ({ verbs: p.verbs, nonResourceURLs: p.nonResourceURLs }));
    return { resourceRules, nonResourceRules, incomplete: false, ...(errors.length ? { evaluationError: errors.join(', ') } : {}) };
  }
}

function subjectOf(r: ResourceType, spec: Json): UserInfo {
  const groups = (spec.groups ?? []) as string[];
  if (!spec.user && !groups.length) throw invalid(r, 'spec.user', 'Invalid value: "": at least one of user or group must be specified');
  return { username: str(spec.user), groups, ...(spec.uid ? { uid: String(spec.uid) } : {}), ...(spec.extra ? { extra: spec.extra } : {}) };
}

function userInfoJson(user: UserInfo): Json {
  return { username: user.username, ...(user.uid ? { uid: user.uid } : {}), groups: user.groups, ...(user.extra ? { extra: user.extra } : {}) };
}

function objectBody(body: unknown): Json {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw ApiError.badRequest('the body of the request was empty or not a JSON object');
  return structuredClone(body) as Json;
}

/** The review registries' validation error: the decoded review carries no kind, so upstream's message starts with `.<group>`. */
function invalid(r: ResourceType, field: string, message: string): ApiError {
  return new ApiError(422, 'Invalid', `.${r.group} "" is invalid: ${field}: ${message}`, { group: r.group, causes: [{ reason: 'FieldValueInvalid', message, field }] });
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}
