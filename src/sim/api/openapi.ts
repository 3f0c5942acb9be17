import { RESOURCES, type ResourceType } from './resources.js';

/**
 * A skeleton of the OpenAPI v3 documents: no schemas, only one PATCH operation per kind that
 * declares the `fieldValidation` query parameter. That is what kubectl looks for before it leaves
 * validation to the server; without it, `kubectl apply`/`create` fail with "failed to download
 * openapi" unless given `--validate=false`. Without schemas kubectl computes apply patches from
 * its built-in types, as it does for any server whose spec it cannot use.
 */
function gvPath(r: Pick<ResourceType, 'group' | 'version'>): string {
  return r.group ? `apis/${r.group}/${r.version}` : `api/${r.version}`;
}

export function openApiV3Root(custom: readonly { group: string; version: string }[] = []): unknown {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const r of [...RESOURCES, ...custom]) paths[gvPath(r)] = { serverRelativeURL: `/openapi/v3/${gvPath(r)}` };
  return { paths };
}

/** The document of one group version (`api/v1`, `apis/apps/v1`), or undefined when none is served. */
export function openApiV3GroupVersion(path: string, custom?: { resources(group: string, version: string): ResourceType[] }): unknown | undefined {
  const [, group = '', version = ''] = path.startsWith('apis/') ? path.split('/') : [];
  const rs = [...RESOURCES.filter((r) => gvPath(r) === path), ...(custom?.resources(group, version) ?? [])];
  if (!rs.length) return undefined;
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
        ],
        responses: { '200': { description: 'OK' } },
      },
    };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.31.4' }, paths, components: {} };
}
