import { ApiError } from './api-error.js';

/** RFC 6902 JSON Patch (`application/json-patch+json`), as `kubectl patch --type=json` sends it. */
interface Operation {
  op: string;
  path: string;
  value?: unknown;
  from?: string;
}

type Container = Record<string, unknown> | unknown[];

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw ApiError.badRequest(`the server rejected our request due to an error in our request: invalid JSON pointer "${pointer}"`);
  return pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function missing(path: string): ApiError {
  return new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: doc is missing path: "${path}": missing value`);
}

/** The container holding the pointer's last segment, and that segment. */
function locate(doc: unknown, pointer: string): { parent: Container; key: string } {
  const parts = parsePointer(pointer);
  if (parts.length === 0) throw ApiError.badRequest('the server rejected our request due to an error in our request: cannot patch the document root');
  let cur: unknown = doc;
  for (const p of parts.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(p)];
    else if (cur && typeof cur === 'object') cur = (cur as Record<string, unknown>)[p];
    else throw missing(pointer);
    if (cur === undefined) throw missing(pointer);
  }
  if (!cur || typeof cur !== 'object') throw missing(pointer);
  return { parent: cur as Container, key: parts[parts.length - 1]! };
}

function read(doc: unknown, pointer: string): unknown {
  const { parent, key } = locate(doc, pointer);
  const v = Array.isArray(parent) ? parent[Number(key)] : parent[key];
  if (v === undefined) throw missing(pointer);
  return v;
}

function index(parent: unknown[], key: string, forInsert: boolean, pointer: string): number {
  if (forInsert && key === '-') return parent.length;
  const i = Number(key);
  if (!Number.isInteger(i) || i < 0 || i > parent.length || (!forInsert && i === parent.length)) throw missing(pointer);
  return i;
}

function add(doc: unknown, pointer: string, value: unknown): void {
  const { parent, key } = locate(doc, pointer);
  if (Array.isArray(parent)) parent.splice(index(parent, key, true, pointer), 0, value);
  else parent[key] = value;
}

function remove(doc: unknown, pointer: string): unknown {
  const { parent, key } = locate(doc, pointer);
  if (Array.isArray(parent)) return parent.splice(index(parent, key, false, pointer), 1)[0];
  if (!(key in parent)) throw missing(pointer);
  const v = parent[key];
  delete parent[key];
  return v;
}

export function applyJsonPatch<T>(target: T, patch: unknown): T {
  if (!Array.isArray(patch)) throw ApiError.badRequest('the server rejected our request due to an error in our request: json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  const doc = structuredClone(target);
  for (const op of patch as Operation[]) {
    switch (op.op) {
      case 'add':
        add(doc, op.path, structuredClone(op.value));
        break;
      case 'remove':
        remove(doc, op.path);
        break;
      case 'replace':
        remove(doc, op.path);
        add(doc, op.path, structuredClone(op.value));
        break;
      case 'move':
        add(doc, op.path, remove(doc, op.from ?? ''));
        break;
      case 'copy':
        add(doc, op.path, structuredClone(read(doc, op.from ?? '')));
        break;
      case 'test':
        if (JSON.stringify(read(doc, op.path)) !== JSON.stringify(op.value)) {
          throw new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: testing value ${op.path} failed: test failed`);
        }
        break;
      default:
        throw ApiError.badRequest(`the server rejected our request due to an error in our request: Unexpected kind: ${String(op.op)}`);
    }
  }
  return doc;
}
