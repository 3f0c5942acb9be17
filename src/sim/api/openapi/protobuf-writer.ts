/**
 * The protobuf wire format, as much of it as gnostic's OpenAPI v2 messages use: varints, 64-bit
 * doubles and length-delimited strings and messages, with proto3's rule that a scalar holding its
 * default value is left out. One growing buffer: a nested message is written in place and moved
 * up by the size of its length once that is known.
 */
const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH = 2;

export class ProtobufWriter {
  private buf = Buffer.allocUnsafe(64 * 1024);
  private used = 0;

  /** A string field; proto3 leaves out the empty string. */
  string(field: number, value: string): void {
    if (value !== '') this.repeatedString(field, value);
  }

  /** One element of a repeated string field, written even when empty. */
  repeatedString(field: number, value: string): void {
    this.tag(field, WIRE_LENGTH);
    const length = Buffer.byteLength(value, 'utf8');
    this.varint(length);
    this.reserve(length);
    this.used += this.buf.write(value, this.used, 'utf8');
  }

  /** A bool field; `always` for a oneof member, which is written even when false. */
  bool(field: number, value: boolean, always = false): void {
    if (!value && !always) return;
    this.tag(field, WIRE_VARINT);
    this.varint(value ? 1 : 0);
  }

  int64(field: number, value: number): void {
    if (value === 0) return;
    this.tag(field, WIRE_VARINT);
    if (value > 0) this.varint(Math.trunc(value));
    else this.negativeVarint(BigInt.asUintN(64, BigInt(Math.trunc(value))));
  }

  double(field: number, value: number): void {
    if (value === 0 && !Object.is(value, -0)) return;
    this.tag(field, WIRE_FIXED64);
    this.reserve(8);
    this.used = this.buf.writeDoubleLE(value, this.used);
  }

  /** A message field, written even when empty (a set submessage is present in proto3). */
  message(field: number, write: (w: ProtobufWriter) => void): void {
    this.tag(field, WIRE_LENGTH);
    const start = this.used;
    write(this);
    const length = this.used - start;
    const prefix = varintSize(length);
    this.reserve(prefix);
    this.buf.copyWithin(start + prefix, start, this.used);
    this.used = start;
    this.unreservedVarint(length);
    this.used += length;
  }

  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.used));
  }

  private tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  private varint(value: number): void {
    this.reserve(10);
    this.unreservedVarint(value);
  }

  private unreservedVarint(value: number): void {
    let v = value;
    while (v > 0x7f) {
      this.buf[this.used++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.used++] = v;
  }

  private negativeVarint(value: bigint): void {
    this.reserve(10);
    let v = value;
    while (v > 0x7fn) {
      this.buf[this.used++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.used++] = Number(v);
  }

  private reserve(n: number): void {
    if (this.used + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.used + n));
    this.buf.copy(grown, 0, 0, this.used);
    this.buf = grown;
  }
}

function varintSize(value: number): number {
  let size = 1;
  for (let v = value; v > 0x7f; v = Math.floor(v / 0x80)) size++;
  return size;
}
