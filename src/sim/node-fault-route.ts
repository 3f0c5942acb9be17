import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody } from './dataplane/service-proxy.js';
import { NodeFaultError, type NodeFaults } from './node-faults.js';

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

function status(res: ServerResponse, code: number, reason: string, message: string): void {
  send(res, code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
}

/** Writes the answer and reports the route as handled. */
function reply(write: () => void): true {
  write();
  return true;
}

const FAULTS = /^\/gameday\/v1\/nodes\/([^/]+)\/faults\/?$/;
const FAULT = /^\/gameday\/v1\/nodes\/([^/]+)\/faults\/([^/]+)$/;
const FILESYSTEM = /^\/gameday\/v1\/nodes\/([^/]+)\/filesystem$/;

/**
 * The node fault endpoint (an ApiHooks.extraRoute):
 * `POST /gameday/v1/nodes/{node}/faults` → 201 the fault with its id;
 * `GET …/faults` → `{ items }`; `DELETE …/faults/{id}` → 200 `{ reverted, fault? }` (reverting
 * twice is not an error: the second answer says `reverted: false`);
 * `GET /gameday/v1/nodes/{node}/filesystem` → `{ capacityBytes, usedBytes, availableBytes }`.
 * Bad input → 400 and an unknown node → 404, both as Status objects.
 */
export function createNodeFaultRoute(faults: NodeFaults) {
  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> => {
    const path = url.pathname;
    const method = req.method ?? 'GET';
    let m: RegExpExecArray | null;
    try {
      if ((m = FAULTS.exec(path))) {
        const node = decodeURIComponent(m[1]!);
        if (method === 'GET') return reply(() => send(res, 200, { items: faults.list(node) }));
        if (method !== 'POST') return reply(() => status(res, 405, 'MethodNotAllowed', `${method} is not supported on ${path}`));
        const raw = (await readBody(req)).toString('utf8');
        let body: unknown;
        try {
          body = JSON.parse(raw);
        } catch {
          throw new NodeFaultError(400, 'BadRequest', `the body is not JSON: ${raw.slice(0, 80)}`);
        }
        send(res, 201, faults.inject(node, body));
        return true;
      }
      if ((m = FAULT.exec(path))) {
        const node = decodeURIComponent(m[1]!);
        const id = decodeURIComponent(m[2]!);
        if (method === 'DELETE') return reply(() => send(res, 200, faults.revert(node, id)));
        if (method === 'GET') {
          const f = faults.list(node).find((x) => x.id === id);
          if (!f) throw new NodeFaultError(404, 'NotFound', `fault "${id}" is not active on node "${node}"`);
          return reply(() => send(res, 200, f));
        }
        return reply(() => status(res, 405, 'MethodNotAllowed', `${method} is not supported on ${path}`));
      }
      if ((m = FILESYSTEM.exec(path))) {
        if (method !== 'GET') return reply(() => status(res, 405, 'MethodNotAllowed', `${method} is not supported on ${path}`));
        const node = decodeURIComponent(m[1]!);
        return reply(() => send(res, 200, faults.filesystem(node)));
      }
      return false;
    } catch (err) {
      if (err instanceof NodeFaultError) {
        status(res, err.code, err.reason, err.message);
        return true;
      }
      throw err;
    }
  };
}
