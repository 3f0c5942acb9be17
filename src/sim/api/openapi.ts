import { RESOURCES, type ResourceType } from './resources.js';
import { builtinSchemas, customSchemas, documentHash, gvPath, type Schemas } from './openapi/schemas.js';

/**
 * The OpenAPI v3 documents (`/openapi/v3` and one per group version). Their schemas are upstream's
 * own (vendored, see openapi/schemas.ts) and, for custom resources, made from their CRDs: that is
 * what `kubectl explain`, client-side validation and server-side apply's list semantics read. The
 * paths hold one PATCH operation per kind declaring the `fieldValidation` query parameter, which is
 * what kubectl looks for before it leaves validation to the server.
 */
interface CustomTypes {
  resources(group: string, version: string): ResourceType[];
  groupVersions(): { group: string; version: string }[];
}

const VERSION_INFO = { title: 'Kubernetes', version: 'unversioned' };

function pathsOf(rs: readonly ResourceType[]): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const r of rs) {
    const item = r.namespaced ? `/${gvPath(r)}/namespaces/{namespace}/${r.plural}/{name}` : `/${gvPath(r)}/${r.plural}/{name}`;
    paths[item] = {
      patch: {
        operationId: `patch${r.kind}`,
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': { group: r.group, version: r.version, kind: r.kind },
        parameters: [
          { name: 'dryRun', in: 'query', schema: { type: 'string', uniqueItems: true } },
          { name: 'fieldManager', in: 'query', schema: { type: 'string', uniqueItems: true } },
          { name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } },
          { name: 'force', in: 'query', schema: { type: 'boolean', uniqueItems: true } },
        ],
        responses: { '200': { description: 'OK' } },
      },
    };
  }
  return paths;
}

/** The component schemas of one group version (`api/v1`, `apis/apps/v1`), built-in or custom. */
export function schemasOf(path: string, custom?: Pick<CustomTypes, 'resources'>): Schemas | undefined {
  const builtin = builtinSchemas(path);
  if (builtin) return builtin;
  const [, group = '', version = ''] = path.startsWith('apis/') ? path.split('/') : [];
  const rs = custom?.resources(group, version) ?? [];
  return rs.length ? customSchemas(rs) : undefined;
}

/** The document of one group version, or undefined when none is served. */
export function openApiV3GroupVersion(path: string, custom?: Pick<CustomTypes, 'resources'>): unknown | undefined {
  const [, group = '', version = ''] = path.startsWith('apis/') ? path.split('/') : [];
  const rs = [...RESOURCES.filter((r) => gvPath(r) === path), ...(custom?.resources(group, version) ?? [])];
  if (!rs.length) return undefined;
  return { openapi: '3.0.0', info: VERSION_INFO, paths: pathsOf(rs), components: { schemas: schemasOf(path, custom) ?? {} } };
}

const BUILTIN_GROUP_VERSIONS = [...new Set(RESOURCES.map(gvPath))];
/** Built-in documents change only with gameday, so their hashes are computed once. */
const builtinHashes = new Map<string, string>();

export function openApiV3Root(custom?: CustomTypes): unknown {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  const customGvs = (custom?.groupVersions() ?? []).map(gvPath).filter((gv) => !BUILTIN_GROUP_VERSIONS.includes(gv));
  for (const gv of BUILTIN_GROUP_VERSIONS) {
    if (!builtinHashes.has(gv)) builtinHashes.set(gv, documentHash(openApiV3GroupVersion(gv)));
    paths[gv] = { serverRelativeURL: `/openapi/v3/${gv}?hash=${builtinHashes.get(gv)!}` };
  }
  for (const gv of customGvs) paths[gv] = { serverRelativeURL: `/openapi/v3/${gv}?hash=${documentHash(openApiV3GroupVersion(gv, custom))}` };
  return { paths };
}
