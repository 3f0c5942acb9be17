import net from 'node:net';
import tls from 'node:tls';
import { ResponseParser, type ResponseHead } from './response-parser.js';

/** The request an http probe sends again and again. */
export interface RepeatedRequest {
  readonly method: string;
  /** Sent as given (the probe's schema has checked names and values). */
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Lower-case name of the response header that names the serving pod. */
  readonly podHeader: string;
}

/** Called once per request: with the response's head, or with the error that ended it. */
export type Settle = (answer: ResponseHead | undefined, error: Error | undefined) => void;

/**
 * A request under way, until its settle comes (then its connection may carry the next request).
 * `cancel` closes the connection; the settle still comes, with an error.
 */
export interface Exchange {
  cancel(): void;
}

/**
 * An HTTP/1.1 client for one URL and one request, built for open-model load: each request in
 * flight has a connection of its own (none waits behind another: no pipelining, no queue), and a
 * connection whose response ended cleanly is kept for the next request, newest first.
 *
 * It does what node:http's Agent and ClientRequest do for the probe with a fraction of their cost
 * per request (measured in test/bench/http-probe-bench.ts): the request's bytes are built once,
 * each socket's listeners are installed once, and the response is read only for its status, the
 * pod header and where it ends.
 */
export class KeepAliveClient {
  private readonly message: Buffer;
  private readonly isHead: boolean;
  private readonly free: Connection[] = [];
  private readonly open = new Set<Connection>();
  /** Where plain sockets read into, in turn: each response is read as it arrives, never kept. */
  private readonly readBuffer = Buffer.allocUnsafe(64 * 1024);

  constructor(
    private readonly url: URL,
    private readonly request: RepeatedRequest,
  ) {
    this.message = requestBytes(url, request);
    this.isHead = request.method === 'HEAD';
  }

  send(settle: Settle): Exchange {
    const connection = this.free.pop() ?? this.connect();
    connection.start(settle, this.message, this.isHead);
    return connection;
  }

  /** Closes every connection; requests still in flight settle with an error. */
  close(): void {
    for (const connection of this.open) connection.cancel();
  }

  /** A connection whose response ended cleanly is ready for the next request. */
  release(connection: Connection): void {
    this.free.push(connection);
  }

  forget(connection: Connection): void {
    this.open.delete(connection);
    const i = this.free.lastIndexOf(connection);
    if (i >= 0) this.free.splice(i, 1);
  }

  private connect(): Connection {
    const host = this.url.hostname.replace(/^\[(.*)\]$/, '$1');
    const secure = this.url.protocol === 'https:';
    const port = Number(this.url.port) || (secure ? 443 : 80);
    const parser = new ResponseParser(this.request.podHeader);
    let connection: Connection;
    if (secure) {
      // As https.request does: verify the certificate, and name the host (SNI) unless it is an IP.
      const socket = tls.connect({ host, port, ...(net.isIP(host) ? {} : { servername: host }) });
      connection = new Connection(this, socket, parser);
      socket.on('data', (chunk: Buffer) => connection.read(chunk));
    } else {
      // `onread` hands each read to us straight from the socket, without a stream's buffering.
      const buffer = this.readBuffer;
      const onread = { buffer, callback: (n: number): boolean => connection.read(buffer.subarray(0, n)) };
      const socket = net.connect({ host, port, onread });
      connection = new Connection(this, socket, parser);
    }
    this.open.add(connection);
    return connection;
  }
}

class Connection implements Exchange {
  private settle: Settle | undefined;
  private error: Error | undefined;

  constructor(
    private readonly client: KeepAliveClient,
    private readonly socket: net.Socket,
    private readonly parser: ResponseParser,
  ) {
    socket.setNoDelay(true);
    socket.on('end', () => this.ended());
    socket.on('error', (err) => (this.error ??= err));
    socket.on('close', () => this.closed());
  }

  start(settle: Settle, message: Buffer, isHead: boolean): void {
    this.settle = settle;
    this.parser.begin(isHead);
    this.socket.ref();
    this.socket.write(message);
  }

  cancel(): void {
    this.socket.destroy();
  }

  /** Reads what arrived; always true: keep reading (`onread`'s way to say so). */
  read(chunk: Buffer): boolean {
    if (this.settle === undefined) {
      // Bytes nobody asked for: the connection can no longer be trusted to frame a response.
      this.socket.destroy();
      return true;
    }
    let used: number;
    try {
      used = this.parser.feed(chunk);
    } catch (err) {
      this.error ??= err as Error;
      this.socket.destroy();
      return true;
    }
    if (used >= 0) this.finish(this.parser.keepAlive && used === chunk.length);
    return true;
  }

  private ended(): void {
    if (this.settle !== undefined && this.parser.end()) this.finish(false);
  }

  private finish(reuse: boolean): void {
    const settle = this.settle!;
    this.settle = undefined;
    if (reuse) {
      // An idle connection must not keep the process alive, as node:http's agent does.
      this.socket.unref();
      this.client.release(this);
    } else this.socket.destroy();
    settle(this.parser.response, undefined);
  }

  private closed(): void {
    this.client.forget(this);
    const settle = this.settle;
    if (settle === undefined) return;
    this.settle = undefined;
    settle(undefined, this.error ?? Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
  }
}

/** The request line, headers and body, as node:http would send them with a keep-alive agent. */
function requestBytes(url: URL, request: RepeatedRequest): Buffer {
  const given = new Set(Object.keys(request.headers).map((name) => name.toLowerCase()));
  const lines = [`${request.method} ${url.pathname}${url.search} HTTP/1.1`];
  if (!given.has('host')) lines.push(`Host: ${url.host}`);
  if (!given.has('authorization') && (url.username || url.password)) {
    lines.push(`Authorization: Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`);
  }
  for (const [name, value] of Object.entries(request.headers)) lines.push(`${name}: ${value}`);
  if (!given.has('connection')) lines.push('Connection: keep-alive');
  if (request.body !== undefined && !given.has('content-length')) lines.push(`Content-Length: ${Buffer.byteLength(request.body)}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), Buffer.from(request.body ?? '')]);
}
