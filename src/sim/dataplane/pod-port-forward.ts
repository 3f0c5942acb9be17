import { createServer } from 'node:http';
import { connect } from 'node:net';
import { Duplex } from 'node:stream';
import type { ObjectStore } from '../store.js';
import type { DataPlane } from './data-plane.js';
import { forwardableHeaders, readBody, writeVirtualResponse } from './service-proxy.js';

/** Node's `headersTimeout`: how long the forwarding server waits for a first request. */
const SILENT_CLIENT_TIMEOUT_MS = 60_000;

/**
 * The far end of `kubectl port-forward`: bytes a client forwards to a pod's port. Every embedded
 * container port is an HTTP server (the data plane carries requests and responses, never a byte
 * stream: there is no other kind of listener to reach), so the forwarded bytes are read as
 * HTTP/1.1 and each request goes to the pod's port through the data plane, from the control-plane
 * node (as the real API server's connection to the kubelet would), NetworkPolicy and all. Bytes
 * that are not HTTP get what an HTTP server answers them: `400 Bad Request` and a close.
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

const podIpOf = (store: ObjectStore, namespace: string, name: string): string | undefined => (store.get('pods', namespace, name)?.status as { podIP?: string } | undefined)?.podIP;

/** What a client of a forwarded port reads when the pod refuses or resets: the connection goes, with the reason. */
const connectFailure = (port: number, name: string, err: Error): string => `failed to connect to localhost:${port} inside namespace of pod ${name}: ${err.message}`;

function portForwardCheck(store: ObjectStore): PortForwardCheck {
  return (namespace, name, port) => {
    const pod = store.get('pods', namespace, name);
    if (!pod) return `pod ${namespace}/${name} not found`;
    if ((pod.status as { phase?: string } | undefined)?.phase !== 'Running') return `pod ${name} is not running`;
    if (!podIpOf(store, namespace, name)) return `pod ${name} has no IP address`;
    if (!Number.isInteger(port) || port <= 0 || port > 65535) return `invalid port ${port}`;
    return undefined;
  };
}

/**
 * Port-forward where pods listen on real sockets (the node side, on the real control plane): the
 * forwarded bytes go as they are to a TCP connection to the pod's IP and port, whatever they speak.
 */
export function createSocketPortForward(store: ObjectStore) {
  const forward = (namespace: string, name: string, port: number, connection: ForwardedConnection): void => {
    const socket = connect(port, podIpOf(store, namespace, name) ?? '');
    socket.once('connect', () => {
      void (async () => {
        for (let chunk = await connection.read(); chunk && socket.writable; chunk = await connection.read()) socket.write(chunk);
        socket.end();
      })();
    });
    socket.on('data', (d: Buffer) => connection.write(d));
    socket.on('error', (err) => connection.fail(connectFailure(port, name, err)));
    socket.once('close', () => connection.end());
  };
  return { check: portForwardCheck(store), forward };
}

export function createPodPortForward(store: ObjectStore, dataPlane: DataPlane) {
  const podIp = (namespace: string, name: string): string | undefined => podIpOf(store, namespace, name);
  const check = portForwardCheck(store);
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
          connection.fail(connectFailure(port, name, err as Error));
          res.destroy();
        }
      })();
    });
    // A client that never sends a request (one whose protocol has the server speak first) is let go as Node's servers let go of one that never finishes its headers.
    server.timeout = SILENT_CLIENT_TIMEOUT_MS;
    server.emit('connection', asSocket(connection));
  };
  return { check, forward };
}

/**
 * A forwarded connection as the socket Node's HTTP server reads requests from, with the idle
 * timer the server sets (`server.timeout` until the first response, `keepAliveTimeout` after
 * each): on expiry the server closes the connection, as a listening process would.
 */
function asSocket(connection: ForwardedConnection): Duplex {
  let idleMs = 0;
  let idle: NodeJS.Timeout | undefined;
  const touch = (): void => {
    clearTimeout(idle);
    if (idleMs > 0) idle = setTimeout(() => socket.emit('timeout'), idleMs).unref();
  };
  const socket = new Duplex({
    read() {
      void connection.read().then((chunk) => {
        touch();
        this.push(chunk ?? null);
      });
    },
    write(chunk: Buffer, _encoding, callback) {
      touch();
      connection.write(chunk);
      callback();
    },
    final(callback) {
      connection.end();
      callback();
    },
    destroy(_err, callback) {
      clearTimeout(idle);
      connection.end();
      callback(null);
    },
  });
  const setIdleTimeout = (ms: number, onTimeout?: () => void): Duplex => {
    idleMs = ms;
    if (onTimeout) socket.once('timeout', onTimeout);
    touch();
    return socket;
  };
  return Object.assign(socket, {
    remoteAddress: '127.0.0.1',
    remotePort: 0,
    setTimeout: setIdleTimeout,
    setNoDelay: () => socket,
    setKeepAlive: () => socket,
  });
}
