import { goDuration } from '../../go-duration.js';
import { ApiError } from '../api-error.js';
import { protobufDescriptors, type FieldDescriptor, type MessageDescriptor } from './descriptors.js';

/**
 * Reads a request body in Kubernetes' protobuf encoding into the JSON object the API server
 * would have been sent as JSON: the `k8s\0` prefix, a runtime.Unknown envelope naming the
 * apiVersion and kind, and the object's message, read with the vendored descriptors
 * (`messages.json.gz`). Types with their own JSON form (Time, Quantity, IntOrString, raw JSON)
 * are turned into it, inlined structs are merged into their parent, and zero values Go's encoder
 * omits are left out, so the object reads as a JSON client's would.
 */
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);
const META = 'k8s.io.apimachinery.pkg.apis.meta.v1';
/** time.Time{}.Unix(): the seconds a zero metav1.Time is encoded with. */
const ZERO_TIME_SECONDS = -62135596800;

type Json = Record<string, unknown>;

export function isKubernetesProtobuf(body: Buffer): boolean {
  return body.length >= MAGIC.length && body.subarray(0, MAGIC.length).equals(MAGIC);
}

export function decodeKubernetesProtobuf(body: Buffer): Json {
  if (!isKubernetesProtobuf(body)) throw unrecognized('it does not start with the protobuf prefix k8s\\0');
  const envelope = readFields(new Reader(body.subarray(MAGIC.length)));
  const typeMeta = envelope.get(1)?.[0];
  const raw = envelope.get(2)?.[0];
  if (!(typeMeta instanceof Buffer) || !(raw instanceof Buffer)) throw unrecognized('its envelope has no type or no object');
  const meta = readFields(new Reader(typeMeta));
  const apiVersion = text(meta.get(1)?.[0]);
  const kind = text(meta.get(2)?.[0]);
  const message = messageFor(apiVersion, kind);
  if (!message) throw unrecognized(`no protobuf message is known for ${apiVersion} ${kind}`);
  const object = decodeMessage(raw, message);
  return { apiVersion, kind, ...(object as Json) };
}

function messageFor(apiVersion: string, kind: string): string | undefined {
  const { kinds } = protobufDescriptors();
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  // Options (DeleteOptions, CreateOptions…) are meta.k8s.io's, whichever group version names them.
  return kinds[`${group}/${version}/${kind}`] ?? kinds[`meta.k8s.io/v1/${kind}`];
}

function unrecognized(why: string): ApiError {
  return ApiError.badRequest(`the object provided is unrecognized: ${why}`);
}

/** A field's values as read off the wire: numbers (as bigint) for varints and fixed, bytes for the rest. */
type WireValue = bigint | Buffer;

class Reader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}

  get done(): boolean {
    return this.at >= this.buf.length;
  }

  varint(): bigint {
    let value = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.at >= this.buf.length) throw unrecognized('a varint runs past the end');
      const byte = this.buf[this.at++]!;
      value |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value;
    }
    throw unrecognized('a varint is longer than ten bytes');
  }

  bytes(n: number): Buffer {
    if (this.at + n > this.buf.length) throw unrecognized('a field runs past the end');
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  /** One field: its number and its value (wire types 0, 1, 2 and 5). */
  field(): [number, WireValue, number] {
    const key = Number(this.varint());
    const number = key >>> 3;
    const wire = key & 7;
    switch (wire) {
      case 0:
        return [number, this.varint(), wire];
      case 1:
        return [number, this.bytes(8).readBigUInt64LE(), wire];
      case 2:
        return [number, this.bytes(Number(this.varint())), wire];
      case 5:
        return [number, BigInt(this.bytes(4).readUInt32LE()), wire];
      default:
        throw unrecognized(`field ${number} has wire type ${wire}, which Kubernetes does not use`);
    }
  }
}

function readFields(reader: Reader): Map<number, WireValue[]> {
  const fields = new Map<number, WireValue[]>();
  while (!reader.done) {
    const [number, value] = reader.field();
    const values = fields.get(number);
    if (values) values.push(value);
    else fields.set(number, [value]);
  }
  return fields;
}

function text(value: WireValue | undefined): string {
  return value instanceof Buffer ? value.toString('utf8') : '';
}

function int(value: WireValue | undefined): number {
  return typeof value === 'bigint' ? Number(BigInt.asIntN(64, value)) : 0;
}

const byNumber = new Map<string, Map<number, FieldDescriptor>>();

function descriptorOf(name: string): { message: MessageDescriptor; fields: Map<number, FieldDescriptor> } {
  const message = protobufDescriptors().messages[name];
  if (!message) throw unrecognized(`no protobuf message is known for ${name}`);
  let fields = byNumber.get(name);
  if (!fields) byNumber.set(name, (fields = new Map(message.fields.map((f) => [f.number, f]))));
  return { message, fields };
}

/** Messages whose JSON is not an object of their fields. */
const SPECIAL: Record<string, (fields: Map<number, WireValue[]>) => unknown> = {
  [`${META}.Time`]: (f) => time(f, false),
  [`${META}.MicroTime`]: (f) => time(f, true),
  [`${META}.Duration`]: (f) => goDuration(int(f.get(1)?.[0])),
  [`${META}.FieldsV1`]: (f) => rawJson(f.get(1)?.[0]),
  'k8s.io.apimachinery.pkg.runtime.RawExtension': (f) => rawJson(f.get(1)?.[0]),
  'k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSON': (f) => rawJson(f.get(1)?.[0]),
  'k8s.io.apimachinery.pkg.api.resource.Quantity': (f) => text(f.get(1)?.[0]),
  'k8s.io.apimachinery.pkg.util.intstr.IntOrString': (f) => (int(f.get(1)?.[0]) === 1 ? text(f.get(3)?.[0]) : int(f.get(2)?.[0])),
};

function decodeMessage(buf: Buffer, name: string): unknown {
  const special = SPECIAL[name];
  if (special) return special(readFields(new Reader(buf)));
  const { message, fields } = descriptorOf(name);
  const out: Json = {};
  const reader = new Reader(buf);
  while (!reader.done) {
    const [number, value, wire] = reader.field();
    const field = fields.get(number);
    if (!field) continue;
    if (field.mapKey !== undefined) {
      const entry = readFields(new Reader(asBytes(value, field)));
      const map = (out[field.name] ??= {}) as Json;
      map[String(scalar(entry.get(1)?.[0], field.mapKey, field))] = valueOf(entry.get(2)?.[0], field.type, field);
    } else if (field.repeated) {
      const list = (out[field.name] ??= []) as unknown[];
      if (wire === 2 && isPackable(field.type)) list.push(...unpack(value as Buffer, field.type));
      else list.push(valueOf(value, field.type, field));
    } else out[field.name] = valueOf(value, field.type, field);
  }
  for (const field of message.fields) {
    if (!(field.name in out)) continue;
    const value = out[field.name];
    if (field.omitZero && isZero(value)) delete out[field.name];
    else if (field.inline && value !== null && typeof value === 'object' && !Array.isArray(value)) {
      delete out[field.name];
      Object.assign(out, value);
    }
  }
  return message.list ? (out.items ?? []) : out;
}

function asBytes(value: WireValue, field: FieldDescriptor): Buffer {
  if (!(value instanceof Buffer)) throw unrecognized(`field ${field.name} should be length-delimited`);
  return value;
}

/** A field's value in its JSON form; an absent map value is its type's zero. */
function valueOf(value: WireValue | undefined, type: string, field: FieldDescriptor): unknown {
  if (type.includes('.')) return decodeMessage(value === undefined ? Buffer.alloc(0) : asBytes(value, field), type);
  return scalar(value, type, field);
}

function scalar(value: WireValue | undefined, type: string, field: FieldDescriptor): unknown {
  switch (type) {
    case 'string':
      return value === undefined ? '' : asBytes(value, field).toString('utf8');
    case 'bytes':
      return value === undefined ? '' : asBytes(value, field).toString('base64');
    case 'bool':
      return value !== undefined && value !== 0n;
    case 'int32':
      return typeof value === 'bigint' ? Number(BigInt.asIntN(32, value)) : 0;
    case 'int64':
      return typeof value === 'bigint' ? Number(BigInt.asIntN(64, value)) : 0;
    case 'uint32':
    case 'uint64':
      return typeof value === 'bigint' ? Number(value) : 0;
    case 'double': {
      if (typeof value !== 'bigint') return 0;
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(value);
      return b.readDoubleLE();
    }
    case 'float': {
      if (typeof value !== 'bigint') return 0;
      const b = Buffer.alloc(4);
      b.writeUInt32LE(Number(value));
      return b.readFloatLE();
    }
    default:
      throw unrecognized(`field ${field.name} has a type this server cannot read (${type})`);
  }
}

const PACKABLE = new Set(['bool', 'int32', 'int64', 'uint32', 'uint64', 'double', 'float']);
function isPackable(type: string): boolean {
  return PACKABLE.has(type);
}

function unpack(buf: Buffer, type: string): unknown[] {
  const reader = new Reader(buf);
  const field: FieldDescriptor = { number: 0, name: 'packed', type };
  const out: unknown[] = [];
  while (!reader.done) {
    const value = type === 'double' ? reader.bytes(8).readBigUInt64LE() : type === 'float' ? BigInt(reader.bytes(4).readUInt32LE()) : reader.varint();
    out.push(scalar(value, type, field));
  }
  return out;
}

function isZero(value: unknown): boolean {
  if (value === '' || value === 0 || value === false || value === null) return true;
  if (Array.isArray(value)) return value.length === 0;
  return false;
}

/** metav1.Time as RFC 3339 in seconds (null when zero), MicroTime with microseconds. */
function time(fields: Map<number, WireValue[]>, micro: boolean): string | null {
  const seconds = int(fields.get(1)?.[0]);
  const nanos = int(fields.get(2)?.[0]);
  if (seconds === ZERO_TIME_SECONDS && nanos === 0) return null;
  const iso = new Date(seconds * 1000).toISOString().slice(0, 19);
  return micro ? `${iso}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z` : `${iso}Z`;
}

function rawJson(value: WireValue | undefined): unknown {
  if (!(value instanceof Buffer) || value.length === 0) return null;
  if (isKubernetesProtobuf(value)) return decodeKubernetesProtobuf(value);
  try {
    return JSON.parse(value.toString('utf8'));
  } catch {
    throw unrecognized('an embedded object is neither JSON nor protobuf');
  }
}
