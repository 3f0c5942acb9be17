import type { ResourceType } from '../resources.js';

/**
 * The part of upstream's OpenAPI v2 document (`api/openapi-spec/swagger.json`) that describes what
 * the embedded cluster serves: the paths of its resources and their subresources (the `/watch/`
 * ones too, which it serves), the discovery paths of its groups, the shared parameters those paths
 * name and every definition they reach through `$ref`: what kube-apiserver 1.34 serves for them,
 * once `enum-values.ts` has added its enum values. Used by `npm run openapi` when vendoring.
 */
export interface SwaggerDocument {
  readonly info: Record<string, unknown>;
  readonly paths: Record<string, unknown>;
  readonly definitions: Record<string, unknown>;
  readonly parameters: Record<string, unknown>;
  readonly securityDefinitions?: Record<string, unknown>;
  readonly security?: unknown[];
}

type Served = Pick<ResourceType, 'group' | 'version' | 'plural' | 'namespaced' | 'subresources'>;

/** Whether the embedded cluster serves an upstream path template (`/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale`). */
export function servesPath(path: string, resources: readonly Served[]): boolean {
  if (path === '/api/' || path === '/apis/' || path === '/version/') return true;
  const segments = path.split('/').filter(Boolean);
  const [root, ...after] = segments;
  let group = '';
  let rest: string[];
  if (root === 'api') rest = after;
  else if (root === 'apis' && after.length) [group, ...rest] = after as [string, ...string[]];
  else return false;
  const inGroup = resources.filter((r) => r.group === group);
  if (!rest.length) return inGroup.length > 0;
  const [version, ...tail] = rest as [string, ...string[]];
  const inVersion = inGroup.filter((r) => r.version === version);
  if (!tail.length) return inVersion.length > 0;
  const unwatched = tail[0] === 'watch' ? tail.slice(1) : tail;
  const namespaced = unwatched[0] === 'namespaces' && unwatched[1] === '{namespace}' && unwatched.length > 2;
  const [plural, name, subresource] = namespaced ? unwatched.slice(2) : unwatched;
  const resource = inVersion.find((r) => r.plural === plural);
  if (!resource || (namespaced && !resource.namespaced)) return false;
  if (subresource === undefined) return name === undefined || name === '{name}';
  return name === '{name}' && resource.subresources.some((s) => s.name === subresource);
}

/** Every `$ref` target under a value, as `[kind, name]` (`['definitions', 'io.k8s.api.apps.v1.Deployment']`). */
function refsOf(value: unknown, found: Set<string>): void {
  if (Array.isArray(value)) {
    for (const v of value) refsOf(v, found);
  } else if (value && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (key === '$ref' && typeof v === 'string') found.add(v);
      else refsOf(v, found);
    }
  }
}

/**
 * The operations without CBOR among the media types they consume and produce: the published spec
 * lists them, but kube-apiserver serves CBOR only behind an alpha gate (`CBORServingAndStorage`),
 * so its served document leaves them out, and the embedded cluster does not serve CBOR at all.
 */
function withoutCbor(pathItem: unknown): unknown {
  return JSON.parse(JSON.stringify(pathItem, (key, value: unknown) => ((key === 'consumes' || key === 'produces') && Array.isArray(value) ? value.filter((m) => !String(m).includes('cbor')) : value)));
}

export function swaggerSubset(upstream: SwaggerDocument, resources: readonly Served[]): SwaggerDocument {
  const paths = Object.fromEntries(Object.entries(upstream.paths).filter(([path]) => servesPath(path, resources)).map(([path, item]) => [path, withoutCbor(item)]));
  const refs = new Set<string>();
  refsOf(paths, refs);
  const parameters: Record<string, unknown> = {};
  const definitions: Record<string, unknown> = {};
  const pending = [...refs];
  while (pending.length) {
    const ref = pending.pop()!;
    const [, section, name] = /^#\/(definitions|parameters)\/(.+)$/.exec(ref) ?? [];
    const into = section === 'definitions' ? definitions : section === 'parameters' ? parameters : undefined;
    const source = section === 'definitions' ? upstream.definitions : upstream.parameters;
    if (!into || !name) throw new Error(`swagger.json: unexpected reference ${ref}`);
    if (name in into) continue;
    if (!(name in source)) throw new Error(`swagger.json: ${ref} names nothing`);
    into[name] = source[name];
    const inner = new Set<string>();
    refsOf(source[name], inner);
    pending.push(...inner);
  }
  const sorted = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return {
    info: upstream.info,
    paths,
    definitions: sorted(definitions),
    parameters: sorted(parameters),
    ...(upstream.securityDefinitions ? { securityDefinitions: upstream.securityDefinitions } : {}),
    ...(upstream.security ? { security: upstream.security } : {}),
  };
}
