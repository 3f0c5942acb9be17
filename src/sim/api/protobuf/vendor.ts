/**
 * `npm run protobuf`: writes `messages.json.gz`, what the embedded API server needs to read a
 * request body in Kubernetes' protobuf encoding (`application/vnd.kubernetes.protobuf`), as typed
 * clients send it (kubectl ≥ 1.32's `create`, `auth can-i`, `autoscale`…; client-go's clientsets).
 *
 * It reads the published modules the real control plane is built from (`control-plane/go.mod`;
 * `go mod download` fetches them): each package's `generated.proto` gives its messages, field
 * numbers and types, and the Go structs beside it give what the JSON form of each field is: its
 * JSON name, whether it is inlined (`json:",inline"`), and whether a zero value is left out
 * (`omitempty` on a field that is not a pointer) as Go's encoder leaves it out.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FieldDescriptor, MessageDescriptor, ProtobufDescriptors } from './descriptors.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const controlPlane = path.resolve(here, '../../../../control-plane');
const kubernetes = /k8s\.io\/kubernetes (v[\d.]+)/.exec(readFileSync(path.join(controlPlane, 'go.mod'), 'utf8'))?.[1];
if (!kubernetes) throw new Error('control-plane/go.mod does not require k8s.io/kubernetes');
const staging = kubernetes.replace(/^v1\./, 'v0.');

function moduleDir(module: string): string {
  const json = execFileSync('go', ['mod', 'download', '-json', `${module}@${staging}`], { cwd: controlPlane, encoding: 'utf8' });
  return (JSON.parse(json) as { Dir: string }).Dir;
}

const api = moduleDir('k8s.io/api');
const apimachinery = moduleDir('k8s.io/apimachinery');
const apiextensions = moduleDir('k8s.io/apiextensions-apiserver');

/** Every package with a generated.proto: the API groups' versions and apimachinery's shared types. */
function packageDirs(): string[] {
  const dirs: string[] = [];
  for (const group of readdirSync(api, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (!group.isDirectory()) continue;
    for (const version of readdirSync(path.join(api, group.name), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const dir = path.join(api, group.name, version.name);
      if (version.isDirectory() && readdirSync(dir).includes('generated.proto')) dirs.push(dir);
    }
  }
  dirs.push(...['pkg/apis/meta/v1', 'pkg/api/resource', 'pkg/util/intstr', 'pkg/runtime'].map((p) => path.join(apimachinery, p)));
  dirs.push(path.join(apiextensions, 'pkg/apis/apiextensions/v1'));
  return dirs;
}

interface GoField {
  readonly json: string;
  readonly inline: boolean;
  /** A zero value is left out of the JSON form: omitempty on a field that is not a pointer. */
  readonly omitZero: boolean;
}

/** The Go structs of a package: struct name → protobuf field name → what its JSON form is. */
function goStructs(dir: string): Map<string, Map<string, GoField>> {
  const structs = new Map<string, Map<string, GoField>>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.go') && !f.endsWith('_test.go') && !f.startsWith('zz_generated')).sort()) {
    let current: Map<string, GoField> | undefined;
    for (const line of readFileSync(path.join(dir, file), 'utf8').split('\n')) {
      const start = /^type (\w+) struct \{/.exec(line);
      if (start) {
        current = new Map();
        structs.set(start[1]!, current);
        continue;
      }
      if (line.startsWith('}')) current = undefined;
      if (!current) continue;
      const field = /^\s+(?:\w+\s+)?(\*?)[\w.[\]*]+\s+`json:"([^"]*)"[^`]*protobuf:"[^"]*name=(\w+)/.exec(line);
      if (!field) continue;
      const [json = '', ...options] = field[2]!.split(',');
      current.set(field[3]!, { json, inline: options.includes('inline'), omitZero: options.includes('omitempty') && field[1] !== '*' });
    }
  }
  return structs;
}

/** `const GroupName = "apps"` of an API package (none for apimachinery's). */
function groupOf(dir: string): string | undefined {
  try {
    return /const GroupName = "([^"]*)"/.exec(readFileSync(path.join(dir, 'register.go'), 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

const SCALARS = new Set(['string', 'bytes', 'bool', 'int32', 'int64', 'uint32', 'uint64', 'double', 'float']);

function qualified(type: string, pkg: string): string {
  if (SCALARS.has(type)) return type;
  return type.startsWith('.') ? type.slice(1) : `${pkg}.${type}`;
}

const descriptors: ProtobufDescriptors = { kubernetes, kinds: {}, messages: {} };
for (const dir of packageDirs()) {
  const proto = readFileSync(path.join(dir, 'generated.proto'), 'utf8');
  const pkg = /^package ([\w.]+);/m.exec(proto)![1]!;
  const structs = goStructs(dir);
  const group = groupOf(dir);
  let comment: string[] = [];
  let message: { name: string; fields: FieldDescriptor[]; nullable: boolean } | undefined;
  const finish = (): void => {
    if (!message) return;
    const full = `${pkg}.${message.name}`;
    const entry: MessageDescriptor = message.nullable ? { fields: message.fields, list: true } : { fields: message.fields };
    descriptors.messages[full] = entry;
    if (group !== undefined) descriptors.kinds[`${group}/${path.basename(dir)}/${message.name}`] = full;
    message = undefined;
  };
  for (const line of proto.split('\n')) {
    const trimmed = line.trim();
    if (trimmed.startsWith('//')) {
      comment.push(trimmed);
      continue;
    }
    const start = /^message (\w+) \{/.exec(trimmed);
    if (start) {
      message = { name: start[1]!, fields: [], nullable: comment.includes('// +protobuf.nullable=true') };
      comment = [];
      continue;
    }
    if (trimmed === '}') finish();
    comment = [];
    if (!message) continue;
    const go = structs.get(message.name);
    const map = /^map<(\S+), (\S+)> (\w+) = (\d+);/.exec(trimmed);
    const plain = /^(optional|repeated) (\S+) (\w+) = (\d+);/.exec(trimmed);
    if (!map && !plain) continue;
    const protoName = (map ?? plain)![3]!;
    const number = Number((map ?? plain)![4]);
    const json = go?.get(protoName);
    const field: FieldDescriptor = {
      number,
      name: json?.json || protoName,
      type: map ? qualified(map[2]!, pkg) : qualified(plain![2]!, pkg),
      ...(map ? { mapKey: map[1]! } : plain![1] === 'repeated' ? { repeated: true } : {}),
      ...(json?.inline ? { inline: true } : {}),
      ...(json?.omitZero ? { omitZero: true } : {}),
    };
    message.fields.push(field);
  }
}

const out = path.join(here, 'messages.json.gz');
writeFileSync(out, gzipSync(JSON.stringify(descriptors), { level: 9 }));
console.log(`wrote ${path.relative(process.cwd(), out)}: ${Object.keys(descriptors.messages).length} messages, ${Object.keys(descriptors.kinds).length} kinds, from ${kubernetes}`);
