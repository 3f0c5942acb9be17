import type { LooseJson } from './loose-json.js';

/**
 * What apiextensions-apiserver does with a custom object and its version's structural schema:
 * prunes the fields the schema does not declare (unless `x-kubernetes-preserve-unknown-fields`),
 * then validates types, `required`, `enum`, `minimum`/`maximum`, `minLength`/`maxLength`,
 * `minItems`/`maxItems` and `pattern`, with the messages of its OpenAPI validator. CEL rules
 * (`x-kubernetes-validations`) and `format` are not checked.
 */
type Json = LooseJson;
export type SchemaCause = { field: string; message: string; reason: string };

const ROOT_FIELDS = new Set(['apiVersion', 'kind', 'metadata']);

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function shown(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : typeof v === 'object' ? `"${typeOf(v)}"` : String(v);
}

function typeMatches(type: string, v: unknown, schema: Json): boolean {
  if (schema['x-kubernetes-int-or-string']) return typeof v === 'string' || Number.isInteger(v);
  const actual = typeOf(v);
  return type === actual || (type === 'number' && actual === 'integer');
}

function check(schema: Json, v: unknown, path: string, causes: SchemaCause[]): void {
  const invalid = (message: string) => causes.push({ field: path, message: `Invalid value: ${shown(v)}: ${message}`, reason: 'FieldValueInvalid' });
  if (v === null) {
    if (!schema.nullable) causes.push({ field: path, message: `Invalid value: "null": ${path} in body must be of type ${String(schema.type ?? 'object')}: "null"`, reason: 'FieldValueTypeInvalid' });
    return;
  }
  if (schema.type && !typeMatches(String(schema.type), v, schema)) {
    // The OpenAPI validator reports the value's type as the invalid value.
    causes.push({ field: path, message: `Invalid value: "${typeOf(v)}": ${path} in body must be of type ${String(schema.type)}: "${typeOf(v)}"`, reason: 'FieldValueTypeInvalid' });
    return;
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((e: unknown) => JSON.stringify(e) === JSON.stringify(v))) {
    causes.push({ field: path, message: `Unsupported value: ${JSON.stringify(v)}: supported values: ${schema.enum.map((e: unknown) => JSON.stringify(e)).join(', ')}`, reason: 'FieldValueNotSupported' });
  }
  if (typeof v === 'number') {
    if (typeof schema.minimum === 'number' && v < schema.minimum) invalid(`${path} in body should be greater than or equal to ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && v > schema.maximum) invalid(`${path} in body should be less than or equal to ${schema.maximum}`);
  }
  if (typeof v === 'string') {
    if (typeof schema.minLength === 'number' && v.length < schema.minLength) invalid(`${path} in body should be at least ${schema.minLength} chars long`);
    if (typeof schema.maxLength === 'number' && v.length > schema.maxLength) causes.push({ field: path, message: `Too long: may not be more than ${schema.maxLength} bytes`, reason: 'FieldValueTooLong' });
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(v)) invalid(`${path} in body should match '${schema.pattern}'`);
  }
  if (Array.isArray(v)) {
    if (typeof schema.minItems === 'number' && v.length < schema.minItems) invalid(`${path} in body should have at least ${schema.minItems} items`);
    if (typeof schema.maxItems === 'number' && v.length > schema.maxItems) causes.push({ field: path, message: `Too many: ${v.length}: must have at most ${schema.maxItems} items`, reason: 'FieldValueTooMany' });
    if (schema.items) v.forEach((item, i) => check(schema.items, item, `${path}[${i}]`, causes));
  }
  if (typeOf(v) === 'object') checkObject(schema, v as Json, path, causes, false);
}

function checkObject(schema: Json, o: Json, path: string, causes: SchemaCause[], root: boolean): void {
  const properties = (schema.properties ?? {}) as Record<string, Json>;
  const prefix = path ? `${path}.` : '';
  const additional = schema.additionalProperties as Json | boolean | undefined;
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true || schema['x-kubernetes-embedded-resource'] === true;
  for (const key of Object.keys(o)) {
    if ((root && ROOT_FIELDS.has(key)) || o[key] === undefined) continue;
    const sub = properties[key] ?? (typeof additional === 'object' ? additional : undefined);
    if (sub) check(sub, o[key], `${prefix}${key}`, causes);
    else if (!preserve && additional !== true) delete o[key];
  }
  // The validator reports missing fields after the properties' own errors.
  for (const name of (schema.required ?? []) as string[]) {
    if (o[name] === undefined) causes.push({ field: `${prefix}${name}`, message: 'Required value', reason: 'FieldValueRequired' });
  }
}

/** Prunes `o` in place and returns what its schema refuses. */
export function pruneAndValidate(schema: Json | undefined, o: Json): SchemaCause[] {
  if (!schema) return [];
  const causes: SchemaCause[] = [];
  checkObject(schema, o, '', causes, true);
  return causes;
}
