import type { UserInfo } from './user-info.js';

/**
 * What an authorizer decides on (k8s.io/apiserver's authorizer.Attributes): a resource request
 * (verb, group, resource, subresource, namespace, name) or a non-resource one (verb and path).
 */
export interface RequestAttributes {
  readonly user: UserInfo;
  readonly verb: string;
  readonly resourceRequest: boolean;
  readonly path: string;
  readonly namespace: string;
  readonly apiGroup: string;
  readonly apiVersion: string;
  readonly resource: string;
  readonly subresource: string;
  readonly name: string;
}

const HTTP_VERBS: Record<string, string> = { POST: 'create', GET: 'get', HEAD: 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };
/** Subresources of a namespace, which stay the namespace's own (not a resource named after the namespace). */
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);
/** Pod subresources whose WebSocket upgrade needs `create`, not `get` (AuthorizePodWebsocketUpgradeCreatePermission, on since 1.31). */
const STREAMING_SUBRESOURCES = new Set(['exec', 'attach', 'portforward']);

/**
 * The request's attributes, resolved as upstream's RequestInfoFactory does: `GET` without a name
 * is `list` (or `watch` with `?watch=true`), `DELETE` without a name is `deletecollection`, a
 * `metadata.name` field selector names the object, and a namespace's own URL puts the request in
 * that namespace.
 */
export function requestAttributes(user: UserInfo, method: string, path: string, query: URLSearchParams, websocket = false): RequestAttributes {
  const nonResource: RequestAttributes = { user, verb: method.toLowerCase(), resourceRequest: false, path, namespace: '', apiGroup: '', apiVersion: '', resource: '', subresource: '', name: '' };
  let parts = path.split('/').filter(Boolean);
  if (parts.length < 3 || (parts[0] !== 'api' && parts[0] !== 'apis')) return nonResource;
  let apiGroup = '';
  if (parts[0] === 'apis') {
    if (parts.length < 4) return nonResource;
    apiGroup = parts[1]!;
    parts = parts.slice(2);
  } else {
    parts = parts.slice(1);
  }
  const apiVersion = parts[0]!;
  parts = parts.slice(1);
  let verb: string;
  const special = parts[0] === 'watch' || parts[0] === 'proxy';
  if (special) {
    verb = parts[0]!;
    parts = parts.slice(1);
  } else {
    verb = HTTP_VERBS[method] ?? '';
  }
  let namespace = '';
  if (parts[0] === 'namespaces' && parts.length > 1) {
    namespace = parts[1]!;
    if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2]!)) parts = parts.slice(2);
  }
  const resource = parts[0] ?? '';
  let name = parts[1] ?? '';
  const subresource = parts.length >= 3 && verb !== 'proxy' ? parts[2]! : '';
  if (!name && verb === 'get') {
    verb = ['true', '1'].includes(query.get('watch') ?? '') ? 'watch' : 'list';
    name = metadataNameSelected(query.get('fieldSelector')) ?? '';
  }
  if (!name && verb === 'delete') verb = 'deletecollection';
  if (websocket && verb === 'get' && resource === 'pods' && STREAMING_SUBRESOURCES.has(subresource)) verb = 'create';
  return { user, verb, resourceRequest: true, path, namespace, apiGroup, apiVersion, resource, subresource, name };
}

function metadataNameSelected(selector: string | null): string | undefined {
  for (const term of (selector ?? '').split(',')) {
    const m = /^\s*metadata\.name\s*(?:==?)\s*(.*?)\s*$/.exec(term);
    if (m) return m[1];
  }
  return undefined;
}

/** The sentence the real server's Forbidden responses and `kubectl auth can-i` explanations use. */
export function forbiddenMessage(a: RequestAttributes): string {
  if (!a.resourceRequest) return `User ${quote(a.user.username)} cannot ${a.verb} path ${quote(a.path)}`;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const scope = a.namespace ? `in the namespace ${quote(a.namespace)}` : 'at the cluster scope';
  return `User ${quote(a.user.username)} cannot ${a.verb} resource ${quote(resource)} in API group ${quote(a.apiGroup)} ${scope}`;
}

/** Go's %q for the strings names are made of. */
export function quote(s: string): string {
  return JSON.stringify(s);
}
