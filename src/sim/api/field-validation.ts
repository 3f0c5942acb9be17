import type { ServerResponse } from 'node:http';
import { ApiError } from './api-error.js';
import { childOf, type TypeNode } from './field-manager/types.js';
import type { ResourceType } from './resources.js';

/**
 * Server-side field validation (`?fieldValidation=`), as kube-apiserver decodes a request body:
 * fields its schema does not declare are refused (`Strict`), dropped with a warning each (`Warn`,
 * the default since 1.27), or dropped silently (`Ignore`). kubectl 1.27 and later send `Strict`
 * unless `--validate=false`, which is how a typo in a manifest becomes an error.
 */
export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

const DIRECTIVES: readonly string[] = ['Ignore', 'Strict', 'Warn'];

/** The request's directive; an unknown one is refused as upstream's options validation does. */
export function fieldValidationOf(query: URLSearchParams, options: 'CreateOptions' | 'UpdateOptions' | 'PatchOptions'): FieldValidation {
  const given = query.get('fieldValidation') ?? '';
  if (given === '') return 'Warn';
  if (DIRECTIVES.includes(given)) return given as FieldValidation;
  const message = `Unsupported value: "${given}": supported values: "", "Ignore", "Strict", "Warn"`;
  throw new ApiError(422, 'Invalid', `${options}.meta.k8s.io "" is invalid: fieldValidation: ${message}`, {
    group: 'meta.k8s.io',
    kind: options,
    causes: [{ reason: 'FieldValueNotSupported', message, field: 'fieldValidation' }],
  });
}

/**
 * Removes what `type` does not declare from `value`, in place, and returns the paths removed, in
 * the order a JSON decoder meets them: `colour`, `spec.template.spec.containers[0].imagex`.
 */
export function dropUnknownFields(type: TypeNode, value: unknown, path = ''): string[] {
  if (value === null || typeof value !== 'object') return [];
  if (Array.isArray(value)) {
    if (type.kind !== 'list') return [];
    return value.flatMap((item, i) => dropUnknownFields(type.element, item, `${path}[${i}]`));
  }
  if (type.kind !== 'map') return [];
  const unknown: string[] = [];
  const object = value as Record<string, unknown>;
  for (const [name, child] of Object.entries(object)) {
    const at = path ? `${path}.${name}` : name;
    if (type.field(name) === undefined && type.element === undefined) {
      unknown.push(at);
      delete object[name];
      continue;
    }
    unknown.push(...dropUnknownFields(childOf(type, name), child, at));
  }
  return unknown;
}

const quoted = (path: string): string => `unknown field "${path}"`;

/**
 * What a create or an update does with the body's undeclared fields: Strict refuses the body as
 * kube-apiserver's strict decoder does (400), Warn answers with a `Warning` header per field.
 * Either way the fields are not kept.
 */
export function validateBody(r: ResourceType, type: TypeNode, body: unknown, directive: FieldValidation, res: ServerResponse): void {
  const unknown = dropUnknownFields(type, body);
  if (unknown.length === 0) return;
  if (directive === 'Strict') {
    throw ApiError.badRequest(`${r.kind} in version "${r.version}" cannot be handled as a ${r.kind}: strict decoding error: ${unknown.map(quoted).join(', ')}`);
  }
  if (directive === 'Warn') warn(res, unknown);
}

/**
 * The same for a patch, judged on the patched object. Strict refuses it as upstream's patcher
 * does (422 on the field `patch`), quoting what it decoded: the patched object for JSON and merge
 * patches, the patch itself (as Go prints a map) for a strategic merge patch.
 */
export function validatePatched(type: TypeNode, patched: unknown, how: { readonly patch: unknown; readonly strategic: boolean }, directive: FieldValidation, res: ServerResponse): void {
  const original = directive === 'Strict' ? (how.strategic ? goValue(how.patch) : patchedJson(patched, how.patch)) : '';
  const unknown = dropUnknownFields(type, patched);
  if (unknown.length === 0) return;
  if (directive === 'Strict') {
    const message = `Invalid value: ${JSON.stringify(original)}: strict decoding error: ${unknown.map(quoted).join(', ')}`;
    throw new ApiError(422, 'Invalid', ` "" is invalid: patch: ${message}`, { causes: [{ reason: 'FieldValueInvalid', message, field: 'patch' }] });
  }
  if (directive === 'Warn') warn(res, unknown);
}

function warn(res: ServerResponse, unknown: readonly string[]): void {
  for (const path of unknown) res.appendHeader('Warning', `299 - ${JSON.stringify(quoted(path))}`);
}

/** A decoded JSON value as Go's fmt prints it (`%v`): `map[colour:blue data:map[b:2]]`, keys sorted. */
function goValue(value: unknown): string {
  if (value === null) return '<nil>';
  if (Array.isArray(value)) return `[${value.map(goValue).join(' ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `map[${entries.map(([k, v]) => `${k}:${goValue(v)}`).join(' ')}]`;
  }
  return String(value);
}

/**
 * A merge-patched object as upstream's strict decoder quotes it: json-patch re-encodes the
 * documents a patch touched (keys sorted, as Go marshals a map) and keeps the others as they were.
 */
function patchedJson(patched: unknown, patch: unknown): string {
  const touched = (value: unknown, by: unknown): unknown => {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || by === null || typeof by !== 'object' || Array.isArray(by)) return value;
    const keys = Object.keys(value).sort();
    return Object.fromEntries(keys.map((k) => [k, k in by ? touched((value as Record<string, unknown>)[k], (by as Record<string, unknown>)[k]) : (value as Record<string, unknown>)[k]]));
  };
  return JSON.stringify(touched(patched, patch));
}
