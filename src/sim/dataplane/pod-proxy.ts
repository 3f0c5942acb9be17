import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ObjectStore } from '../store.js';
import type { DataPlane } from './data-plane.js';
import { forwardableHeaders, readBody, writeVirtualResponse } from './service-proxy.js';
import { ConnectionError } from './traffic.js';

export interface PodProxyTarget {
  readonly namespace: string;
  /** `[scheme:]name[:port]` as it appears in the URL. */
  readonly name: string;
  /** Path after `/proxy`, starting with `/`, with the query string. */
  readonly path: string;
}

function writeStatus(res: ServerResponse, code: number, reason: string, message: string, details?: object): void {
  const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code });
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}

/** `web-0`, `web-0:8080`, `http:web-0:8080`, `https:web-0:` → pod name and port text. */
function splitTarget(text: string): { pod: string; port: string } {
  const parts = text.split(':');
  if (parts.length === 3) return { pod: parts[1]!, port: parts[2]! };
  if (parts.length === 2 && (parts[0] === 'http' || parts[0] === 'https')) return { pod: parts[1]!, port: '' };
  return { pod: parts[0]!, port: parts[1] ?? '' };
}

/**
 * The API server's `pods/<name>[:<port>]/proxy/<path>`: straight to the pod's IP, as traffic from
 * the control plane's host (so NetworkPolicy and partitions apply as they do on a real cluster).
 * Without a port it uses the first container's first port, as the real server does.
 */
export function createPodProxy(store: ObjectStore, dataPlane: DataPlane) {
  return (req: IncomingMessage, res: ServerResponse, target: PodProxyTarget): void => {
    void (async () => {
      const { pod: name, port: portText } = splitTarget(target.name);
      const pod = store.get('pods', target.namespace, name);
      if (!pod) return writeStatus(res, 404, 'NotFound', `pods "${name}" not found`, { name, kind: 'pods' });
      const containers = (pod.spec as { containers?: { ports?: { name?: string; containerPort: number }[] }[] }).containers ?? [];
      const named = containers.flatMap((c) => c.ports ?? []).find((p) => p.name === portText)?.containerPort;
      const port = portText === '' ? (containers[0]?.ports?.[0]?.containerPort ?? 80) : (named ?? Number(portText));
      if (!Number.isInteger(port) || port <= 0 || port > 65535) return writeStatus(res, 400, 'BadRequest', `invalid port "${portText}" for pod ${name}`);
      const ip = (pod.status as { podIP?: string } | undefined)?.podIP;
      if (!ip) return writeStatus(res, 503, 'ServiceUnavailable', `error trying to reach service: pod ${name} has no IP address`);
      const body = await readBody(req);
      const aborted = new AbortController();
      res.on('close', () => aborted.abort());
      try {
        const r = await dataPlane.send({ kind: 'host', node: dataPlane.controlPlaneNode }, ip, port, { method: req.method ?? 'GET', path: target.path, headers: forwardableHeaders(req.headers), body }, aborted.signal);
        if (!res.destroyed) writeVirtualResponse(res, r);
      } catch (err) {
        if (!(err instanceof ConnectionError)) throw err;
        if (!res.headersSent && !res.destroyed) writeStatus(res, 503, 'ServiceUnavailable', `error trying to reach service: ${err.message}`);
      }
    })().catch((err: Error) => {
      if (!res.headersSent) writeStatus(res, 500, 'InternalError', `pod proxy failed: ${err.message}`);
      else res.destroy();
    });
  };
}
