import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { acceptSpdyUpgrade, type SpdyStream } from './spdy-session.js';
import type { ForwardedConnection, PortForwardCheck } from '../dataplane/pod-port-forward.js';
import { ApiError } from './api-error.js';

/** What serves the forwarded ports: the data plane's side of pods/portforward. */
export interface PortForwarder {
  readonly check: PortForwardCheck;
  forward(namespace: string, name: string, port: number, connection: ForwardedConnection): void;
}

const PROTOCOL = 'portforward.k8s.io';

/**
 * pods/portforward upgraded to SPDY/3.1 (`portforward.k8s.io`), as the kubelet serves it: for each
 * forwarded connection the client opens an error stream and a data stream with the same
 * `requestID` and `port`; the data stream carries the connection, and a failure is written to the
 * error stream. Answers the upgrade and returns; the session runs until the client closes it.
 */
export function upgradePortForward(req: IncomingMessage, socket: Duplex, head: Buffer, namespace: string, name: string, forwarder: PortForwarder): void {
  const offered = String(req.headers['x-stream-protocol-version'] ?? '').split(',').map((p) => p.trim());
  if (!offered.includes(PROTOCOL)) throw ApiError.badRequest(`unable to upgrade: none of the requested protocols [${offered.join(', ')}] is supported; supported: ${PROTOCOL}`);
  const pairs = new Map<string, { error?: SpdyStream; data?: SpdyStream }>();
  acceptSpdyUpgrade(socket, head, PROTOCOL, (stream) => {
    const id = stream.headers.requestid ?? '';
    const pair = pairs.get(id) ?? {};
    pairs.set(id, pair);
    if (stream.headers.streamtype === 'error') pair.error = stream;
    else if (stream.headers.streamtype === 'data') pair.data = stream;
    if (!pair.error || !pair.data) return;
    pairs.delete(id);
    const port = Number(stream.headers.port);
    const problem = forwarder.check(namespace, name, port);
    if (problem) {
      pair.error.write(Buffer.from(`error forwarding port ${stream.headers.port} to pod ${name}: ${problem}`));
      pair.error.end();
      pair.data.end();
      return;
    }
    const { data, error } = pair;
    let ended = false;
    const end = (message?: string): void => {
      if (ended) return;
      ended = true;
      if (message) error.write(Buffer.from(`error forwarding port ${port} to pod ${name}: ${message}`));
      error.end();
      data.end();
    };
    forwarder.forward(namespace, name, port, { read: () => data.read(), write: (d) => data.write(d), end: () => end(), fail: (m) => end(m) });
  });
}
