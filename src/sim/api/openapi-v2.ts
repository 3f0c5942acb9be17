import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { encodeGnosticV2 } from './openapi/gnostic-v2.js';
import { swaggerBytes, swaggerDocument } from './openapi/swagger.js';
import type { ResourceType } from './resources.js';

/**
 * `/openapi/v2` as kube-openapi's handler serves it: JSON, or gnostic's protobuf for kubectl ≤ 1.28
 * (`Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf`), chosen by the first
 * clause of the Accept header that matches, 406 when none does; one ETag for both (the response
 * varies by Accept), a 304 for a matching If-None-Match, gzip when the client takes it. The
 * document is built on the first request and again only after the custom resources change, so
 * neither start-up nor later requests pay for it; without custom resources it is the same for every
 * cluster in the process, and built once.
 */
interface CustomTypes {
  resources(group: string, version: string): ResourceType[];
  groupVersions(): { group: string; version: string }[];
}

interface Representation {
  readonly contentType: string;
  readonly bytes: () => Buffer;
}

const PROTOBUF = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';
/** kube-openapi's accepted media types, in its order, each with the type it answers with. */
const ACCEPTED: readonly { type: string; subtype: string; answer: 'json' | 'protobuf' }[] = [
  { type: 'application', subtype: 'json', answer: 'json' },
  { type: 'application', subtype: 'com.github.proto-openapi.spec.v2@v1.0+protobuf', answer: 'protobuf' },
  { type: 'application', subtype: 'com.github.proto-openapi.spec.v2.v1.0+protobuf', answer: 'protobuf' },
];
/** gziphandler's default: smaller bodies go out as they are. */
const GZIP_MIN_SIZE = 1400;

interface Built {
  readonly custom: readonly ResourceType[];
  readonly etag: string;
  readonly lastModified: string;
  readonly json: Buffer;
  proto?: Buffer;
  readonly gzipped: Map<string, Buffer>;
}

/** goautoneg's ParseAccept: clauses by quality, then the more specific first, stable otherwise. */
function acceptClauses(header: string): { type: string; subtype: string }[] {
  const clauses = header.split(',').flatMap((raw, index) => {
    const [range = '', ...params] = raw.split(';').map((p) => p.trim());
    if (!range) return [];
    const [type = '', subtype = '*'] = range.split('/');
    let q = 1;
    for (const p of params) {
      const [k, v] = p.split('=').map((s) => s.trim());
      if (k === 'q') q = Number(v);
    }
    return [{ type, subtype, q, index }];
  });
  const specificity = (c: { type: string; subtype: string }) => (c.type === '*' ? 0 : c.subtype === '*' ? 1 : 2);
  return clauses.sort((a, b) => b.q - a.q || specificity(b) - specificity(a) || a.index - b.index).filter((c) => c.q > 0);
}

export class OpenApiV2 {
  private built?: Built;

  constructor(private readonly custom: CustomTypes) {}

  serve(req: IncomingMessage, res: ServerResponse): true {
    res.setHeader('Vary', 'Accept');
    const representation = this.negotiate(String(req.headers.accept ?? '') || '*/*');
    if (!representation) {
      res.writeHead(406);
      res.end();
      return true;
    }
    const built = this.current();
    const headers: Record<string, string> = { 'Content-Type': representation.contentType, Etag: built.etag, 'Last-Modified': built.lastModified, 'Cache-Control': 'no-cache, private' };
    if (ifNoneMatch(req, built.etag)) {
      res.writeHead(304, { Etag: built.etag, 'Last-Modified': built.lastModified, 'Cache-Control': 'no-cache, private' });
      res.end();
      return true;
    }
    let body = representation.bytes();
    if (/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? '')) && body.length >= GZIP_MIN_SIZE) {
      let gz = built.gzipped.get(representation.contentType);
      if (!gz) built.gzipped.set(representation.contentType, (gz = gzipSync(body)));
      body = gz;
      headers['Content-Encoding'] = 'gzip';
      headers.Vary = 'Accept, Accept-Encoding';
    }
    res.writeHead(200, { ...headers, 'Content-Length': String(body.length) });
    res.end(body);
    return true;
  }

  private negotiate(accept: string): Representation | undefined {
    for (const clause of acceptClauses(accept)) {
      const match = ACCEPTED.find((a) => (clause.type === a.type || clause.type === '*') && (clause.subtype === a.subtype || clause.subtype === '*'));
      if (!match) continue;
      if (match.answer === 'json') return { contentType: 'application/json', bytes: () => this.current().json };
      return {
        contentType: PROTOBUF,
        bytes: () => {
          const built = this.current();
          built.proto ??= encodeGnosticV2(JSON.parse(built.json.toString('utf8')));
          return built.proto;
        },
      };
    }
    return undefined;
  }

  /** The document for the custom resources served now; rebuilt only when they are other objects than last time. */
  private current(): Built {
    const custom = this.custom.groupVersions().flatMap((gv) => this.custom.resources(gv.group, gv.version));
    const built = this.built;
    if (built && built.custom.length === custom.length && built.custom.every((r, i) => r === custom[i])) return built;
    this.built = custom.length ? build(custom) : (builtinOnly ??= build([]));
    return this.built;
  }
}

/** Without custom resources every embedded cluster serves the same document: built once per process. */
let builtinOnly: Built | undefined;

function build(custom: readonly ResourceType[]): Built {
  const { json, etag } = swaggerBytes(swaggerDocument(custom));
  return { custom, json, etag, lastModified: new Date().toUTCString(), gzipped: new Map() };
}

function ifNoneMatch(req: IncomingMessage, etag: string): boolean {
  const header = req.headers['if-none-match'];
  if (!header) return false;
  return header.split(',').some((tag) => {
    const t = tag.trim().replace(/^W\//, '');
    return t === '*' || t === etag;
  });
}
