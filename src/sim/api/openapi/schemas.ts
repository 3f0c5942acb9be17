import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { ResourceType } from '../resources.js';

/**
 * Upstream's OpenAPI v3 component schemas for the group versions the embedded cluster serves
 * (vendored by `npm run openapi` from the Kubernetes release the real control plane is built from),
 * read once each and kept. A custom resource's schema is made from its CRD as the real API server
 * publishes it: named by the reversed group, with apiVersion, kind and ObjectMeta added.
 */
export type Schema = Record<string, unknown>;
export type Schemas = Readonly<Record<string, Schema>>;

export const gvPath = (r: Pick<ResourceType, 'group' | 'version'>): string => (r.group ? `apis/${r.group}/${r.version}` : `api/${r.version}`);
export const gvFileName = (gv: string): string => `${gv.replaceAll('/', '__')}.json.gz`;

const cache = new Map<string, Schemas | undefined>();

/** The vendored component schemas of a built-in group version (`api/v1`, `apis/apps/v1`), if any. */
export function builtinSchemas(gv: string): Schemas | undefined {
  if (!cache.has(gv)) {
    let schemas: Schemas | undefined;
    try {
      const file = new URL(`./schemas/${gvFileName(gv)}`, import.meta.url);
      schemas = (JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')) as { schemas: Schemas }).schemas;
    } catch {
      schemas = undefined;
    }
    cache.set(gv, schemas);
  }
  return cache.get(gv);
}

/** `gameday.dev` → `dev.gameday`: how upstream names a custom resource's schema. */
export function customSchemaName(r: Pick<ResourceType, 'group' | 'version' | 'kind'>): string {
  return `${r.group.split('.').reverse().join('.')}.${r.version}.${r.kind}`;
}

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1.';

/**
 * apiVersion, kind and metadata as upstream's builder sets them on a custom resource's schema,
 * over whatever the CRD declares for them (`addTypeMetaProperties`, and metadata as a reference to
 * ObjectMeta), with the descriptions upstream's own kinds carry (taken from ConfigMap's schema).
 */
function typeMetaProperties(core: Schemas): Record<string, Schema> {
  const props = ((core['io.k8s.api.core.v1.ConfigMap'] ?? {}) as { properties?: Record<string, Schema> }).properties ?? {};
  const described = (name: string) => (props[name]?.description ? { description: props[name].description } : {});
  return {
    apiVersion: { ...described('apiVersion'), type: 'string' },
    kind: { ...described('kind'), type: 'string' },
    metadata: { ...described('metadata'), allOf: [{ $ref: `#/components/schemas/${META}ObjectMeta` }] },
  };
}

/** The schemas a group version of custom resources publishes: theirs, and the meta types they refer to. */
export function customSchemas(resources: readonly ResourceType[]): Schemas {
  const out: Record<string, Schema> = {};
  const core = builtinSchemas('api/v1') ?? {};
  for (const [name, schema] of Object.entries(core)) if (name.startsWith(META)) out[name] = schema;
  const meta = typeMetaProperties(core);
  for (const r of resources) {
    const own = (r.openAPIV3Schema ?? { type: 'object' }) as Schema & { properties?: Schema };
    out[customSchemaName(r)] = {
      ...own,
      properties: { ...(own.properties ?? {}), ...meta },
      'x-kubernetes-group-version-kind': [{ group: r.group, version: r.version, kind: r.kind }],
    };
  }
  return out;
}

/** The schema that describes a kind, by its `x-kubernetes-group-version-kind`. */
export function schemaOfKind(schemas: Schemas, r: Pick<ResourceType, 'group' | 'version' | 'kind'>): Schema | undefined {
  for (const schema of Object.values(schemas)) {
    const gvks = schema['x-kubernetes-group-version-kind'] as { group: string; version: string; kind: string }[] | undefined;
    if (gvks?.some((g) => g.group === r.group && g.version === r.version && g.kind === r.kind)) return schema;
  }
  return undefined;
}

/** A content hash, as the `?hash=` of the v3 index, so clients cache each document until it changes. */
export function documentHash(doc: unknown): string {
  return createHash('sha512').update(JSON.stringify(doc)).digest('hex').slice(0, 128).toUpperCase();
}
