import { createServer } from 'node:http';
import { Duplex } from 'node:stream';
import type { ObjectStore } from '../store.js';
import type { DataPlane } from './data-plane.js';
import { forwardableHeaders, readBody, writeVirtualResponse } from './service-proxy.js';

/**
 * The far end of `kubectl port-forward`: bytes a client forwards to a pod's port. The embedded
 * containers speak HTTP to the data plane, so the forwarded bytes are read as HTTP/1.1 and each
 * request goes to the pod's port through the data plane, from the control-plane node (as the
 * real API server's connection to the kubelet would), NetworkPolicy and all.
 */
export interface ForwardedConnection {
  /** Bytes from the client, undefined once it closed its side. */
  read(): Promise<Buffer | undefined>;
  write(data: Buffer): void;
  /** Closes the connection: the client's error stream ends with it. */
  end(): void;
  /** Closes the connection with an error the client prints. */
  fail(message: string): void;
}

/** Why a port cannot be forwarded, as the kubelet words it; undefined when it can. */
export type PortForwardCheck = (namespace: string, name: string, port: number) => string | undefined;

export function createPodPortForward(store: ObjectStore, dataPlane: DataPlane) {
  const podIp = (namespace: string, name: string): string | undefined => (store.get('pods', namespace, name)?.status as { podIP?: string } | undefined)?.podIP;
  const check: PortForwardCheck = (namespace, name, port) => {
    const pod = store.get('pods', namespace, name);
    if (!pod) return `pod ${namespace}/${name} not found`;
    if ((pod.status as { phase?: string } | undefined)?.phase !== 'Running') return `pod ${name} is not running`;
    if (!podIp(namespace, name)) return `pod ${name} has no IP address`;
    if (!Number.isInteger(port) || port <= 0 || port > 65535) return `invalid port ${port}`;
    return undefined;
  };
  const forward = (namespace: string, name: string, port: number, connection: ForwardedConnection): void => {
    const server = createServer((req, res) => {
      void (async () => {
        const ip = podIp(namespace, name);
        const body = await readBody(req);
        const aborted = new AbortController();
        res.on('close', () => aborted.abort());
        try {
          if (!ip) throw new Error('the pod has no address');
          const r = await dataPlane.send({ kind: 'host', node: dataPlane.controlPlaneNode }, ip, port, { method: req.method ?? 'GET', path: req.url ?? '/', headers: forwardableHeaders(req.headers), body }, aborted.signal);
          if (!res.destroyed) writeVirtualResponse(res, r);
        } catch (err) {
          // What a client of a forwarded port sees when the pod refuses or resets: the connection goes, with the reason.
          connection.fail(`failed to connect to localhost:${port} inside namespace of pod ${name}: ${(err as Error).message}`);
          res.destroy();
        }
      })();
    });
    server.emit('connection', asSocket(connection));
  };
  return { check, forward };
}

/** A forwarded connection as the socket Node's HTTP server reads requests from. */
function asSocket(connection: ForwardedConnection): Duplex {
  const socket = new Duplex({
    read() {
      void connection.read().then((chunk) => this.push(chunk ?? null));
    },
    write(chunk: Buffer, _encoding, callback) {
      connection.write(chunk);
      callback();
    },
    final(callback) {
      connection.end();
      callback();
    },
    destroy(_err, callback) {
      connection.end();
      callback(null);
    },
  });
  return Object.assign(socket, {
    remoteAddress: '127.0.0.1',
    remotePort: 0,
    setTimeout: () => socket,
    setNoDelay: () => socket,
    setKeepAlive: () => socket,
  });
}
