import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { parse as parseYaml } from 'yaml';
import { ApiError, type Status } from './api-error.js';
import { decodeKubernetesProtobuf } from './protobuf/decode.js';
import type { IncludeObject } from './table.js';

/** Reading requests and writing responses the way the real API server frames them. */
const MAX_BODY_BYTES = 3 * 1024 * 1024;

export async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new ApiError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728');
    chunks.push(chunk as Buffer);
  }
  const body = Buffer.concat(chunks);
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  // Typed clients (client-go's clientsets, kubectl ≥ 1.32's create and auth commands) send built-in kinds as protobuf.
  if (type.startsWith('application/vnd.kubernetes.protobuf') && body.length > 0) return decodeKubernetesProtobuf(body);
  const text = body.toString('utf8');
  if (!text.trim()) return undefined;
  if (type.includes('protobuf')) throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`);
  try {
    return type.includes('yaml') ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw ApiError.badRequest(`the object provided is unrecognized: ${(err as Error).message}`);
  }
}

export function sendJson(res: ServerResponse, code: number, body: unknown, contentType = 'application/json'): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private' });
  res.end(text);
}

/** Refuses a connection upgrade with a Status, as the API server (and a kubelet) does before switching protocols. */
export function rejectUpgrade(socket: Duplex, status: Status): void {
  const body = JSON.stringify(status);
  socket.end(`HTTP/1.1 ${status.code} ${STATUS_CODES[status.code] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-cache, private\r\nConnection: close\r\n\r\n${body}`);
}

export function sendStatus(res: ServerResponse, status: Status): void {
  const headers: Record<string, string> = {};
  if (status.details?.retryAfterSeconds) headers['Retry-After'] = String(status.details.retryAfterSeconds);
  const text = JSON.stringify(status);
  res.writeHead(status.code, { ...headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private' });
  res.end(text);
}

export interface Negotiated {
  /** The Table apiVersion asked for (meta.k8s.io/v1 or v1beta1), when the client asked for a Table. */
  readonly table?: string;
  /** The client asked for PartialObjectMetadata(List) (the garbage collector's and some kubectl calls). */
  readonly metadataOnly?: string;
  readonly contentType: string;
}

/** Picks the first media type of the Accept header this server can produce. */
export function negotiate(accept: string | undefined): Negotiated {
  for (const part of (accept ?? '').split(',')) {
    const params = new Map<string, string>();
    const [type, ...rest] = part.split(';').map((s) => s.trim());
    for (const p of rest) {
      const [k, v] = p.split('=');
      if (k && v) params.set(k.trim(), v.trim());
    }
    if (type !== 'application/json' && type !== '*/*' && type !== 'application/*') continue;
    const as = params.get('as');
    const g = params.get('g');
    const v = params.get('v');
    if (as === 'Table' && g === 'meta.k8s.io' && (v === 'v1' || v === 'v1beta1')) {
      return { table: `meta.k8s.io/${v}`, contentType: `application/json;as=Table;v=${v};g=meta.k8s.io` };
    }
    if ((as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') && g === 'meta.k8s.io' && (v === 'v1' || v === 'v1beta1')) {
      return { metadataOnly: `meta.k8s.io/${v}`, contentType: `application/json;as=${as};v=${v};g=meta.k8s.io` };
    }
    if (!as) return { contentType: 'application/json' };
  }
  return { contentType: 'application/json' };
}

export function includeObjectOf(query: URLSearchParams): IncludeObject {
  const v = query.get('includeObject');
  if (v === 'None' || v === 'Object') return v;
  return 'Metadata';
}

/** Resolves once a full response buffer has drained, or the client went away. */
export function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
