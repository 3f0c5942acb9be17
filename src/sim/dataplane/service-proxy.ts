import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServicePort } from '../controllers/endpoints.js';
import type { ObjectStore, StoredObject } from '../store.js';
import type { DataPlane } from './data-plane.js';
import type { ServiceRouter } from './service-router.js';
import { ConnectionError, type VirtualResponse } from './traffic.js';

/** Hop-by-hop headers a proxy must not forward. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host', 'content-length']);

/** A Service port named by its name or its number; empty means the only (or first) port. */
export function findServicePort(svc: StoredObject, portText: string): ServicePort | undefined {
  const ports = ((svc.spec as { ports?: ServicePort[] } | undefined)?.ports) ?? [];
  if (!portText) return ports[0];
  return ports.find((p) => p.name === portText) ?? ports.find((p) => String(p.port) === portText);
}

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function forwardableHeaders(headers: IncomingMessage['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

export function writeVirtualResponse(res: ServerResponse, r: VirtualResponse): void {
  const body = typeof r.body === 'string' ? Buffer.from(r.body) : r.body;
  res.writeHead(r.status, { ...r.headers, 'content-length': String(body.length) });
  res.end(body);
}

function writeStatus(res: ServerResponse, code: number, reason: string, message: string, details?: object): void {
  const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code });
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}

export interface ServiceProxyTarget {
  readonly namespace: string;
  readonly service: string;
  readonly port: string;
  readonly path: string;
}

/**
 * The API server's `services/<name>:<port>/proxy/<path>`: one ready endpoint, round-robin, with
 * the real server's errors (503 `no endpoints available for service "web"`; 503 `error trying to
 * reach service: …` when the pod refuses, resets or cannot be reached).
 */
export function createServiceProxy(store: ObjectStore, router: ServiceRouter, dataPlane: DataPlane) {
  return (req: IncomingMessage, res: ServerResponse, target: ServiceProxyTarget): void => {
    void (async () => {
      const svc = store.get('services', target.namespace, target.service);
      if (!svc) return writeStatus(res, 404, 'NotFound', `services "${target.service}" not found`, { name: target.service, kind: 'services' });
      const port = findServicePort(svc, target.port.replace(/^https?:/, ''));
      if (!port) return writeStatus(res, 503, 'ServiceUnavailable', `no endpoints available for service "${target.service}"`);
      const backend = router.pick(target.namespace, target.service, port.name ?? '');
      if (!backend) return writeStatus(res, 503, 'ServiceUnavailable', `no endpoints available for service "${target.service}"`);
      const body = await readBody(req);
      const path = target.path.startsWith('/') ? target.path : `/${target.path}`;
      const aborted = new AbortController();
      res.on('close', () => aborted.abort());
      try {
        const r = await dataPlane.send({ kind: 'host', node: dataPlane.controlPlaneNode }, backend.ip, backend.port, { method: req.method ?? 'GET', path, headers: forwardableHeaders(req.headers), body }, aborted.signal);
        if (!res.destroyed) writeVirtualResponse(res, r);
      } catch (err) {
        if (!(err instanceof ConnectionError)) throw err;
        if (!res.headersSent && !res.destroyed) writeStatus(res, 503, 'ServiceUnavailable', `error trying to reach service: ${err.message}`);
      }
    })().catch((err: Error) => {
      if (!res.headersSent) writeStatus(res, 500, 'InternalError', `service proxy failed: ${err.message}`);
      else res.destroy();
    });
  };
}
