import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/** One field of a Kubernetes protobuf message, with what its JSON form is (`vendor.ts` writes these). */
export interface FieldDescriptor {
  readonly number: number;
  /** The JSON name (the Go field's json tag). */
  readonly name: string;
  /** A scalar (`string`, `int64`…) or a message's full name (`k8s.io.api.core.v1.PodSpec`). */
  readonly type: string;
  readonly repeated?: boolean;
  /** A map: the key's scalar type; `type` is the value's. */
  readonly mapKey?: string;
  /** Embedded in its parent's JSON object (`json:",inline"`), as a Volume's VolumeSource is. */
  readonly inline?: boolean;
  /** Go's encoder leaves a zero value out (omitempty, not a pointer). */
  readonly omitZero?: boolean;
}

export interface MessageDescriptor {
  readonly fields: readonly FieldDescriptor[];
  /** A Go slice type wrapped in a message (`+protobuf.nullable=true`, like ExtraValue): its JSON is the items' array. */
  readonly list?: boolean;
}

export interface ProtobufDescriptors {
  /** The release the descriptors were read from. */
  readonly kubernetes: string;
  /** `group/version/Name` (core's group is empty) → that message, for every message of an API group's package: a request body's kind is looked up here. */
  readonly kinds: Record<string, string>;
  readonly messages: Record<string, MessageDescriptor>;
}

let loaded: ProtobufDescriptors | undefined;

/** The vendored descriptors, read once on first use. */
export function protobufDescriptors(): ProtobufDescriptors {
  loaded ??= JSON.parse(gunzipSync(readFileSync(new URL('./messages.json.gz', import.meta.url))).toString('utf8')) as ProtobufDescriptors;
  return loaded;
}
