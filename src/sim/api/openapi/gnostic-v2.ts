import { Document, Scalar, visit } from 'yaml';
import { ProtobufWriter } from './protobuf-writer.js';

/**
 * An OpenAPI v2 document as gnostic's `openapi_v2.Document` protobuf (gnostic-models
 * `openapiv2/OpenAPIv2.proto`), which is what kube-apiserver serves for
 * `Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf` and what kubectl ≤ 1.28
 * reads for `explain`, validation and client-side apply. Upstream compiles the JSON with gnostic's
 * `ParseDocument` and marshals the result; this follows that compiler (`OpenAPIv2.go`, `New<Message>`):
 * objects keyed by name become lists of `Named<Message>` in document order, `x-` keys become
 * `NamedAny` vendor extensions whose value is the YAML of the JSON value, `type` is a `TypeItem`,
 * `items` an `ItemsItem`, `additionalProperties` a schema or a boolean, a parameter is a body
 * parameter or one of four non-body kinds by its `in`, and `{"$ref"}` parameters and responses are
 * `JsonReference`s. Fields are written in field-number order, as Go's protobuf marshals them.
 */
type Json = Record<string, unknown>;
type Encode = (w: ProtobufWriter, value: unknown, at: string) => void;

/** How a JSON value becomes a field. */
type Kind =
  | 'string'
  | 'strings'
  | 'bool'
  | 'double'
  | 'int64'
  | 'any'
  | 'anys'
  | { readonly message: Encode }
  | { readonly messages: Encode };

/** A message's fields by JSON key, and the field number of its vendor extensions (always its last field), if it has them. */
interface MessageShape {
  readonly fields: Readonly<Record<string, readonly [number, Kind]>>;
  readonly extensions?: number;
}

export class GnosticEncodingError extends Error {}

function objectAt(value: unknown, at: string): Json {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new GnosticEncodingError(`${at}: expected an object, got ${JSON.stringify(value)}`);
  return value as Json;
}

function arrayAt(value: unknown, at: string): unknown[] {
  if (!Array.isArray(value)) throw new GnosticEncodingError(`${at}: expected a list, got ${JSON.stringify(value)}`);
  return value;
}

function stringAt(value: unknown, at: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new GnosticEncodingError(`${at}: expected a string, got ${JSON.stringify(value)}`);
}

/** Plain scalars YAML 1.2's core schema reads as something other than a string (go-yaml's `resolve`). */
const NON_STRING_PLAIN = /^(?:|~|null|Null|NULL|true|True|TRUE|false|False|FALSE|[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;

/**
 * gnostic's `Any`: the value marshalled back to YAML (`compiler.Marshal`, go-yaml v3). go-yaml
 * indents four spaces from the enclosing collection's own indent, so a mapping inside a top-level
 * list item sits two spaces past the item's keys. A string that would read back as another type
 * (`""`, `"True"`, `"1"`) it double-quotes; one that cannot be plain for its characters (`'*'`)
 * it single-quotes.
 */
function yamlOf(value: unknown): string {
  const key = JSON.stringify(value);
  let text = yamlMemo.get(key);
  if (text === undefined) yamlMemo.set(key, (text = marshalYaml(value)));
  return text;
}

/** The YAML of each distinct extension value, for one encoding: most repeat (`atomic`, `get`, a kind's group-version-kind). */
const yamlMemo = new Map<string, string>();

function marshalYaml(value: unknown): string {
  const doc = new Document(value);
  visit(doc, {
    Scalar(_, node) {
      if (typeof node.value === 'string' && NON_STRING_PLAIN.test(node.value)) node.type = Scalar.QUOTE_DOUBLE;
    },
  });
  return doc.toString({ indent: Array.isArray(value) ? 2 : 4, indentSeq: true, singleQuote: true, lineWidth: 0, minContentWidth: 0 });
}

function writeAny(w: ProtobufWriter, field: number, value: unknown): void {
  w.message(field, (any) => any.string(2, yamlOf(value)));
}

function writeField(w: ProtobufWriter, field: number, kind: Kind, value: unknown, at: string): void {
  if (kind === 'string') return w.string(field, stringAt(value, at));
  if (kind === 'strings') {
    for (const [i, s] of arrayAt(value, at).entries()) w.repeatedString(field, stringAt(s, `${at}[${i}]`));
    return;
  }
  if (kind === 'bool') {
    if (typeof value !== 'boolean') throw new GnosticEncodingError(`${at}: expected a boolean, got ${JSON.stringify(value)}`);
    return w.bool(field, value);
  }
  if (kind === 'double' || kind === 'int64') {
    if (typeof value !== 'number') throw new GnosticEncodingError(`${at}: expected a number, got ${JSON.stringify(value)}`);
    return kind === 'double' ? w.double(field, value) : w.int64(field, value);
  }
  if (kind === 'any') return writeAny(w, field, value);
  if (kind === 'anys') {
    for (const item of arrayAt(value, at)) writeAny(w, field, item);
    return;
  }
  if ('message' in kind) return w.message(field, (m) => kind.message(m, value, at));
  for (const [i, item] of arrayAt(value, at).entries()) w.message(field, (m) => kind.messages(m, item, `${at}[${i}]`));
}

function vendorExtensions(w: ProtobufWriter, field: number, o: Json): void {
  for (const [key, value] of Object.entries(o)) {
    if (!key.startsWith('x-')) continue;
    w.message(field, (named) => {
      named.string(1, key);
      writeAny(named, 2, value);
    });
  }
}

/**
 * The encoder of a message with plain fields, which refuses keys upstream's compiler refuses. The
 * shape is a thunk, read once on first use, so that messages can refer to each other (and a schema
 * to itself).
 */
function message(shape: () => MessageShape): Encode {
  let s: MessageShape | undefined;
  let ordered: [string, number, Kind][] | undefined;
  return (w, value, at) => {
    s ??= shape();
    ordered ??= Object.entries(s.fields).map(([key, [n, kind]]) => [key, n, kind] as [string, number, Kind]).sort((a, b) => a[1] - b[1]);
    const o = objectAt(value, at);
    for (const key of Object.keys(o)) {
      if (!(key in s.fields) && !(s.extensions && key.startsWith('x-'))) throw new GnosticEncodingError(`${at}: has invalid property: ${key}`);
    }
    for (const [key, n, kind] of ordered) if (o[key] !== undefined && o[key] !== null) writeField(w, n, kind, o[key], `${at}.${key}`);
    if (s.extensions !== undefined) vendorExtensions(w, s.extensions, o);
  };
}

/** `{name: value, …}` as a message whose field 1 lists `Named<Value>{name = 1, value = 2}`; `accept` picks the keys. */
function namedList(value: Encode, accept: (key: string) => boolean = () => true): Encode {
  return (w, v, at) => {
    for (const [key, item] of Object.entries(objectAt(v, at))) {
      if (!accept(key)) continue;
      w.message(1, (named) => {
        named.string(1, key);
        named.message(2, (m) => value(m, item, `${at}.${key}`));
      });
    }
  };
}

const anyValue: Encode = (w, v) => w.string(2, yamlOf(v));
const jsonReference = message(() => ({ fields: { $ref: [1, 'string'], description: [2, 'string'] } }));
const externalDocs = message(() => ({ fields: { description: [1, 'string'], url: [2, 'string'] }, extensions: 3 }));
const xml = message(() => ({ fields: { name: [1, 'string'], namespace: [2, 'string'], prefix: [3, 'string'], attribute: [4, 'bool'], wrapped: [5, 'bool'] }, extensions: 6 }));

const typeItem: Encode = (w, v, at) => {
  for (const [i, t] of (Array.isArray(v) ? v : [v]).entries()) w.repeatedString(1, stringAt(t, `${at}[${i}]`));
};

const schema: Encode = message(() => ({
  fields: {
    $ref: [1, 'string'],
    format: [2, 'string'],
    title: [3, 'string'],
    description: [4, 'string'],
    default: [5, 'any'],
    multipleOf: [6, 'double'],
    maximum: [7, 'double'],
    exclusiveMaximum: [8, 'bool'],
    minimum: [9, 'double'],
    exclusiveMinimum: [10, 'bool'],
    maxLength: [11, 'int64'],
    minLength: [12, 'int64'],
    pattern: [13, 'string'],
    maxItems: [14, 'int64'],
    minItems: [15, 'int64'],
    uniqueItems: [16, 'bool'],
    maxProperties: [17, 'int64'],
    minProperties: [18, 'int64'],
    required: [19, 'strings'],
    enum: [20, 'anys'],
    additionalProperties: [21, { message: additionalProperties }],
    type: [22, { message: typeItem }],
    items: [23, { message: itemsItem }],
    allOf: [24, { messages: schema }],
    properties: [25, { message: namedList(schema) }],
    discriminator: [26, 'string'],
    readOnly: [27, 'bool'],
    xml: [28, { message: xml }],
    externalDocs: [29, { message: externalDocs }],
    example: [30, 'any'],
  },
  extensions: 31,
}));

function additionalProperties(w: ProtobufWriter, v: unknown, at: string): void {
  if (typeof v === 'boolean') w.bool(2, v, true);
  else w.message(1, (m) => schema(m, v, at));
}

function itemsItem(w: ProtobufWriter, v: unknown, at: string): void {
  const items = Array.isArray(v) ? v : [v];
  for (const [i, item] of items.entries()) w.message(1, (m) => schema(m, item, `${at}[${i}]`));
}

/** The fields every primitive parameter, header and items object shares, from `type` on, numbered from `first`. */
function primitiveFields(first: number): Record<string, [number, Kind]> {
  const names = ['type', 'format', 'items', 'collectionFormat', 'default', 'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum', 'maxLength', 'minLength', 'pattern', 'maxItems', 'minItems', 'uniqueItems', 'enum', 'multipleOf'] as const;
  const kinds: Record<(typeof names)[number], Kind> = {
    type: 'string', format: 'string', items: { message: primitivesItems }, collectionFormat: 'string', default: 'any',
    maximum: 'double', exclusiveMaximum: 'bool', minimum: 'double', exclusiveMinimum: 'bool', maxLength: 'int64', minLength: 'int64',
    pattern: 'string', maxItems: 'int64', minItems: 'int64', uniqueItems: 'bool', enum: 'anys', multipleOf: 'double',
  };
  return Object.fromEntries(names.map((name, i) => [name, [first + i, kinds[name]]]));
}

const primitivesItems: Encode = message(() => ({ fields: primitiveFields(1), extensions: 18 }));
const header = message(() => ({ fields: { ...primitiveFields(1), description: [18, 'string'] }, extensions: 19 }));
const parameterHead = { required: [1, 'bool'], in: [2, 'string'], description: [3, 'string'], name: [4, 'string'] } as const;
/** Header and path parameters: no `allowEmptyValue`. */
const simpleParameter = message(() => ({ fields: { ...parameterHead, ...primitiveFields(5) }, extensions: 22 }));
/** Query and form-data parameters. */
const valueParameter = message(() => ({ fields: { ...parameterHead, allowEmptyValue: [5, 'bool'], ...primitiveFields(6) }, extensions: 23 }));
const bodyParameter = message(() => ({
  fields: { description: [1, 'string'], name: [2, 'string'], in: [3, 'string'], required: [4, 'bool'], schema: [5, { message: schema }] },
  extensions: 6,
}));

/** `NonBodyParameter`'s oneof, by where the parameter goes. */
const NON_BODY: Readonly<Record<string, [number, Encode]>> = { header: [1, simpleParameter], formData: [2, valueParameter], query: [3, valueParameter], path: [4, simpleParameter] };

function parameter(w: ProtobufWriter, v: unknown, at: string): void {
  const where = objectAt(v, at).in;
  if (where === 'body') return w.message(1, (m) => bodyParameter(m, v, at));
  const nonBody = typeof where === 'string' ? NON_BODY[where] : undefined;
  if (!nonBody) throw new GnosticEncodingError(`${at}: has unexpected value for in: ${JSON.stringify(where)}`);
  w.message(2, (m) => m.message(nonBody[0], (sub) => nonBody[1](sub, v, at)));
}

function parametersItem(w: ProtobufWriter, v: unknown, at: string): void {
  if ('$ref' in objectAt(v, at)) w.message(2, (m) => jsonReference(m, v, at));
  else w.message(1, (m) => parameter(m, v, at));
}

const fileSchema = message(() => ({
  fields: {
    format: [1, 'string'], title: [2, 'string'], description: [3, 'string'], default: [4, 'any'], required: [5, 'strings'],
    type: [6, 'string'], readOnly: [7, 'bool'], externalDocs: [8, { message: externalDocs }], example: [9, 'any'],
  },
  extensions: 10,
}));

function schemaItem(w: ProtobufWriter, v: unknown, at: string): void {
  if (objectAt(v, at).type === 'file') w.message(2, (m) => fileSchema(m, v, at));
  else w.message(1, (m) => schema(m, v, at));
}

const response = message(() => ({
  fields: { description: [1, 'string'], schema: [2, { message: schemaItem }], headers: [3, { message: namedList(header) }], examples: [4, { message: namedList(anyValue) }] },
  extensions: 5,
}));

function responseValue(w: ProtobufWriter, v: unknown, at: string): void {
  if ('$ref' in objectAt(v, at)) w.message(2, (m) => jsonReference(m, v, at));
  else w.message(1, (m) => response(m, v, at));
}

const RESPONSE_CODE = /^([0-9]{3})$|^(default)$/;
function responses(w: ProtobufWriter, v: unknown, at: string): void {
  const o = objectAt(v, at);
  for (const [code, item] of Object.entries(o)) {
    if (!RESPONSE_CODE.test(code)) continue;
    w.message(1, (named) => {
      named.string(1, code);
      named.message(2, (m) => responseValue(m, item, `${at}.${code}`));
    });
  }
  vendorExtensions(w, 2, o);
}

const namedStringArrays: Encode = (w, v, at) => {
  for (const [name, values] of Object.entries(objectAt(v, at))) {
    w.message(1, (named) => {
      named.string(1, name);
      named.message(2, (list) => {
        for (const [i, s] of arrayAt(values, `${at}.${name}`).entries()) list.repeatedString(1, stringAt(s, `${at}.${name}[${i}]`));
      });
    });
  }
};

const operation = message(() => ({
  fields: {
    tags: [1, 'strings'], summary: [2, 'string'], description: [3, 'string'], externalDocs: [4, { message: externalDocs }], operationId: [5, 'string'],
    produces: [6, 'strings'], consumes: [7, 'strings'], parameters: [8, { messages: parametersItem }], responses: [9, { message: responses }],
    schemes: [10, 'strings'], deprecated: [11, 'bool'], security: [12, { messages: namedStringArrays }],
  },
  extensions: 13,
}));

const pathItem = message(() => ({
  fields: {
    $ref: [1, 'string'], get: [2, { message: operation }], put: [3, { message: operation }], post: [4, { message: operation }], delete: [5, { message: operation }],
    options: [6, { message: operation }], head: [7, { message: operation }], patch: [8, { message: operation }], parameters: [9, { messages: parametersItem }],
  },
  extensions: 10,
}));

function paths(w: ProtobufWriter, v: unknown, at: string): void {
  const o = objectAt(v, at);
  vendorExtensions(w, 1, o);
  for (const [path, item] of Object.entries(o)) {
    if (!path.startsWith('/')) continue;
    w.message(2, (named) => {
      named.string(1, path);
      named.message(2, (m) => pathItem(m, item, `${at}.${path}`));
    });
  }
}

const SECURITY_TYPES: Readonly<Record<string, number>> = { basic: 1, apiKey: 2, 'oauth2:implicit': 3, 'oauth2:password': 4, 'oauth2:application': 5, 'oauth2:accessCode': 6 };
const securityShapes: Readonly<Record<number, Encode>> = {
  1: message(() => ({ fields: { type: [1, 'string'], description: [2, 'string'] }, extensions: 3 })),
  2: message(() => ({ fields: { type: [1, 'string'], name: [2, 'string'], in: [3, 'string'], description: [4, 'string'] }, extensions: 5 })),
};

function securityDefinition(w: ProtobufWriter, v: unknown, at: string): void {
  const o = objectAt(v, at);
  const n = SECURITY_TYPES[o.type === 'oauth2' ? `oauth2:${String(o.flow)}` : String(o.type)];
  const encode = n === undefined ? undefined : securityShapes[n];
  if (n === undefined || !encode) throw new GnosticEncodingError(`${at}: the embedded cluster encodes basic and apiKey security definitions only, not ${JSON.stringify(o.type)}`);
  w.message(n, (m) => encode(m, v, at));
}

const contact = message(() => ({ fields: { name: [1, 'string'], url: [2, 'string'], email: [3, 'string'] }, extensions: 4 }));
const license = message(() => ({ fields: { name: [1, 'string'], url: [2, 'string'] }, extensions: 3 }));
const info = message(() => ({
  fields: { title: [1, 'string'], version: [2, 'string'], description: [3, 'string'], termsOfService: [4, 'string'], contact: [5, { message: contact }], license: [6, { message: license }] },
  extensions: 7,
}));
const tag = message(() => ({ fields: { name: [1, 'string'], description: [2, 'string'], externalDocs: [3, { message: externalDocs }] }, extensions: 4 }));

const document = message(() => ({
  fields: {
    swagger: [1, 'string'], info: [2, { message: info }], host: [3, 'string'], basePath: [4, 'string'], schemes: [5, 'strings'], consumes: [6, 'strings'],
    produces: [7, 'strings'], paths: [8, { message: paths }], definitions: [9, { message: namedList(schema) }],
    parameters: [10, { message: namedList(parameter) }], responses: [11, { message: namedList(response) }],
    security: [12, { messages: namedStringArrays }], securityDefinitions: [13, { message: namedList(securityDefinition) }],
    tags: [14, { messages: tag }], externalDocs: [15, { message: externalDocs }],
  },
  extensions: 16,
}));

/** The gnostic protobuf of an OpenAPI v2 (Swagger 2.0) document. */
export function encodeGnosticV2(doc: unknown): Buffer {
  const w = new ProtobufWriter();
  try {
    document(w, doc, '$root');
  } finally {
    yamlMemo.clear();
  }
  return w.finish();
}
