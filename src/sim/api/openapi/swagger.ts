import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { ResourceType } from '../resources.js';
import { customSchemaName, type Schema } from './schemas.js';
import type { SwaggerDocument } from './swagger-subset.js';

/**
 * The OpenAPI v2 document (`/openapi/v2`): upstream's own paths, parameters and definitions for
 * what the embedded cluster serves (vendored by `npm run openapi`), and for each custom resource
 * the definitions and paths apiextensions-apiserver publishes in v2 (`controller/openapi/builder`
 * with `V2: true`, `v2/conversion.go`). kubectl 1.27 and 1.28 need it for `explain` and `apply`:
 * the `fieldValidation` parameter of each PATCH tells them the server validates fields itself, and
 * kubectl up to 1.32 computes a re-apply's strategic merge patch from its definitions.
 */
export const SWAGGER_FILE = 'swagger.json.gz';

let vendored: SwaggerDocument | undefined;
function builtin(): SwaggerDocument {
  vendored ??= (JSON.parse(gunzipSync(readFileSync(new URL(`./schemas/${SWAGGER_FILE}`, import.meta.url))).toString('utf8')) as { swagger: SwaggerDocument }).swagger;
  return vendored;
}

/** The keys gnostic's v2 `Schema` accepts but allOf, which v2 conversion drops; a CRD's schema keeps only these (and `x-` extensions). */
const V2_SCHEMA_KEYS = new Set([
  '$ref', 'additionalProperties', 'description', 'discriminator', 'enum', 'example', 'exclusiveMaximum', 'exclusiveMinimum',
  'externalDocs', 'format', 'items', 'maxItems', 'maxLength', 'maxProperties', 'maximum', 'minItems', 'minLength', 'minProperties',
  'minimum', 'multipleOf', 'pattern', 'properties', 'readOnly', 'required', 'title', 'type', 'uniqueItems', 'xml',
]);

const isObject = (v: unknown): v is Schema => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * `ToStructuralOpenAPIV2` and the builder's `PruneDefaults`: v2 has no nullable and no anyOf, oneOf
 * or not, so a nullable field loses its type and shape (and is no longer required), and a field
 * that keeps unknown fields loses its properties; defaults are dropped.
 */
function toV2(s: Schema): Schema {
  const preserve = s['x-kubernetes-preserve-unknown-fields'] === true;
  const out: Schema = {};
  for (const [key, value] of Object.entries(s)) {
    if (key.startsWith('x-') || V2_SCHEMA_KEYS.has(key)) out[key] = value;
  }
  if (s.nullable === true) for (const key of ['type', 'items', 'properties']) delete out[key];
  if (preserve) for (const key of ['items', 'properties']) delete out[key];
  if (out.type === 'array' && out.items === undefined) delete out.type;
  if (preserve && out.type === 'object') delete out.type;
  if (isObject(out.properties)) {
    const properties = out.properties;
    const nullable = Object.keys(properties).filter((f) => isObject(properties[f]) && properties[f].nullable === true);
    if (nullable.length && Array.isArray(out.required)) {
      const required = (out.required as string[]).filter((f) => !nullable.includes(f));
      if (required.length) out.required = required;
      else delete out.required;
    }
    out.properties = Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, isObject(v) ? toV2(v) : v]));
  }
  if (isObject(out.additionalProperties)) {
    if (out.additionalProperties.nullable === true) delete out.required;
    out.additionalProperties = toV2(out.additionalProperties);
  }
  if (isObject(out.items)) out.items = toV2(out.items);
  return out;
}

const sortedKeys = <T>(o: Record<string, T>): Record<string, T> => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
const LIST_METADATA_DESCRIPTION = 'Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds';

/** apiVersion, kind and metadata as upstream's own kinds describe them (taken from ConfigMap's definition). */
function typeMetaProperties(): Record<string, Schema> {
  const props = (builtin().definitions['io.k8s.api.core.v1.ConfigMap'] as { properties: Record<string, Schema> }).properties;
  return { apiVersion: props.apiVersion!, kind: props.kind!, metadata: props.metadata! };
}

/** `addEmbeddedProperties`: an embedded resource gets apiVersion, kind and metadata (in words of their own), unless it keeps unknown fields. */
function withEmbeddedProperties(s: Schema, meta: Record<string, Schema>): Schema {
  const out = { ...s };
  if (isObject(out.properties)) out.properties = Object.fromEntries(Object.entries(out.properties).map(([k, v]) => [k, isObject(v) ? withEmbeddedProperties(v, meta) : v]));
  if (isObject(out.items)) out.items = withEmbeddedProperties(out.items, meta);
  if (isObject(out.additionalProperties)) out.additionalProperties = withEmbeddedProperties(out.additionalProperties, meta);
  if (out['x-kubernetes-preserve-unknown-fields'] === true || out['x-kubernetes-embedded-resource'] !== true) return out;
  const embedded = {
    apiVersion: { ...meta.apiVersion, description: 'apiVersion defines the versioned schema of this representation of an object. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources' },
    kind: { ...meta.kind, description: 'kind is a string value representing the type of this object. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds' },
    metadata: meta.metadata!,
  };
  out.properties = sortedKeys({ ...(isObject(out.properties) ? out.properties : {}), ...embedded });
  const required = Array.isArray(out.required) ? [...(out.required as string[])] : [];
  for (const field of ['kind', 'apiVersion']) if (!required.includes(field)) required.push(field);
  out.required = required;
  return out;
}

type CustomResource = Pick<ResourceType, 'group' | 'version' | 'kind' | 'plural' | 'namespaced' | 'subresources' | 'openAPIV3Schema'>;

/** A custom resource's definitions: its kind (`buildKubeNative`) and its list (`buildListSchema`). */
function customDefinitions(r: CustomResource): Record<string, Schema> {
  const name = customSchemaName(r);
  const gvk = (kind: string) => ({ 'x-kubernetes-group-version-kind': [{ group: r.group, kind, version: r.version }] });
  const meta = typeMetaProperties();
  const schema = r.openAPIV3Schema as Schema | undefined;
  // Without a schema, or keeping unknown fields at its root, kubectl must not see any property:
  // it would refuse every field not listed.
  const kind = !schema || schema['x-kubernetes-preserve-unknown-fields'] === true
    ? { type: 'object', ...gvk(r.kind) }
    : (() => {
        const v2 = withEmbeddedProperties(toV2(schema), meta);
        return { ...v2, properties: sortedKeys({ ...(isObject(v2.properties) ? v2.properties : {}), ...meta }), ...gvk(r.kind) };
      })();
  const list = {
    description: `${r.kind}List is a list of ${r.kind}`,
    type: 'object',
    required: ['items'],
    properties: {
      apiVersion: meta.apiVersion,
      items: { description: `List of ${r.plural}. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md`, type: 'array', items: { $ref: `#/definitions/${name}` } },
      kind: meta.kind,
      metadata: { description: LIST_METADATA_DESCRIPTION, $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta' },
    },
    ...gvk(`${r.kind}List`),
  };
  return { [name]: kind, [`${name}List`]: list };
}

/** `k6.io` → `K6Io`, as upstream's operation ids and tags spell a group. */
function camelGroup(group: string): string {
  return group.split('.').map((part) => part.charAt(0).toUpperCase() + part.slice(1)).join('');
}

type Operation = Record<string, unknown> & { parameters?: { $ref?: string }[]; responses?: Record<string, unknown> };

/**
 * A built-in kind's operation as apiextensions-apiserver's `buildRoute` writes it for a custom
 * resource: JSON and YAML in and out (and no strategic merge patch), lists that only "list", a
 * delete collection with the list options, a read that takes a resourceVersion, a delete that
 * answers with a Status and a patch that never answers 201.
 */
function customOperation(method: string, op: Operation, list: Operation | undefined, at: string): Operation {
  const out: Operation = { ...op, produces: ['application/json', 'application/yaml'] };
  out.consumes = method === 'patch' ? (op.consumes as string[]).filter((m) => m !== 'application/strategic-merge-patch+json') : ['application/json', 'application/yaml'];
  const action = op['x-kubernetes-action'];
  if (action === 'list') out.description = String(op.description).replace('list or watch objects', 'list objects');
  if (action === 'deletecollection') {
    if (!list?.parameters) throw new Error(`${at}: no list operation to take the delete collection's parameters from`);
    out.parameters = list.parameters;
  }
  if (action === 'get') {
    const resourceVersion = list?.parameters?.find((p) => p.$ref?.startsWith('#/parameters/resourceVersion-'));
    if (!resourceVersion) throw new Error(`${at}: no resourceVersion parameter to read with`);
    out.parameters = [resourceVersion];
  }
  if (action === 'delete') {
    const status = { $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Status' };
    out.responses = { '200': { description: 'OK', schema: status }, '202': { description: 'Accepted', schema: status }, '401': { description: 'Unauthorized' } };
  }
  if (action === 'patch') out.responses = Object.fromEntries(Object.entries(op.responses ?? {}).filter(([code]) => code !== '201'));
  return out;
}

/**
 * A custom resource's paths. Upstream builds them with the same route installer as its own
 * kinds, so they start as a built-in kind's paths (PersistentVolumeClaim's, or PersistentVolume's
 * for a cluster-scoped resource: both have a status subresource) with the names changed, without
 * the `/watch/` paths and the subresources a CRD does not have; `customOperation` then makes each
 * operation what the CRD builder writes.
 */
function customPaths(r: CustomResource): Record<string, unknown> {
  const template = r.namespaced ? { plural: 'persistentvolumeclaims', kind: 'PersistentVolumeClaim' } : { plural: 'persistentvolumes', kind: 'PersistentVolume' };
  const name = customSchemaName(r);
  const hasStatus = r.subresources.some((s) => s.name === 'status');
  const renamed = new Map<string, Record<string, Operation>>();
  for (const [path, item] of Object.entries(builtin().paths)) {
    const at = /^\/api\/v1\/(namespaces\/\{namespace\}\/)?([a-z]+)(\/.*)?$/.exec(path);
    if (!at || at[2] !== template.plural || (at[3] === '/{name}/status' && !hasStatus)) continue;
    const text = JSON.stringify(item)
      .replaceAll(`"#/definitions/io.k8s.api.core.v1.${template.kind}List"`, `"#/definitions/${name}List"`)
      .replaceAll(`"#/definitions/io.k8s.api.core.v1.${template.kind}"`, `"#/definitions/${name}"`)
      .replaceAll(`{"group":"","kind":"${template.kind}","version":"v1"}`, JSON.stringify({ group: r.group, kind: r.kind, version: r.version }))
      .replaceAll('"core_v1"', JSON.stringify(`${camelGroup(r.group).charAt(0).toLowerCase()}${camelGroup(r.group).slice(1)}_${r.version}`))
      .replaceAll('CoreV1', `${camelGroup(r.group)}${r.version.charAt(0).toUpperCase()}${r.version.slice(1)}`)
      .replaceAll(template.kind, r.kind);
    renamed.set(`/apis/${r.group}/${r.version}/${at[1] ?? ''}${r.plural}${at[3] ?? ''}`, JSON.parse(text) as Record<string, Operation>);
  }
  const collection = `/apis/${r.group}/${r.version}/${r.namespaced ? 'namespaces/{namespace}/' : ''}${r.plural}`;
  const list = renamed.get(collection)?.get;
  const paths: Record<string, unknown> = {};
  for (const [path, item] of renamed) {
    paths[path] = Object.fromEntries(Object.entries(item).map(([method, op]) => [method, method === 'parameters' ? op : customOperation(method, op, list, `${path} ${method}`)]));
  }
  return paths;
}

export interface SwaggerBytes {
  readonly json: Buffer;
  /** The `ETag` upstream sends: the SHA-512 of the JSON, in upper-case hex, quoted. */
  readonly etag: string;
}

/** The whole document, as kube-apiserver orders its top-level keys. */
export function swaggerDocument(custom: readonly CustomResource[]): Record<string, unknown> {
  const base = builtin();
  const definitions: Record<string, unknown> = { ...base.definitions };
  const paths: Record<string, unknown> = { ...base.paths };
  for (const r of custom) {
    Object.assign(definitions, customDefinitions(r));
    Object.assign(paths, customPaths(r));
  }
  return {
    swagger: '2.0',
    info: base.info,
    paths: sortedKeys(paths),
    definitions: sortedKeys(definitions),
    parameters: base.parameters,
    ...(base.securityDefinitions ? { securityDefinitions: base.securityDefinitions } : {}),
    ...(base.security ? { security: base.security } : {}),
  };
}

export function swaggerBytes(doc: unknown): SwaggerBytes {
  const json = Buffer.from(JSON.stringify(doc));
  return { json, etag: `"${createHash('sha512').update(json).digest('hex').toUpperCase()}"` };
}
