import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { SpdyServerSession } from './spdy-session.js';
import type { ObjectStore } from '../store.js';
import { ApiError } from './api-error.js';
import { negotiateSpdyRemoteCommand, serveSpdyRemoteCommand } from './pod-exec-spdy.js';
import { podOrNotFound, resolveContainer } from './pod-container.js';
import { queryFlag } from './query-flag.js';
import type { ByteSource, PodRuntime } from './pod-runtime.js';
import { errorChannelPayload, runSession, type ExecSession } from './remote-command.js';

/** The remotecommand subprotocols served, most preferred first. */
const PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'channel.k8s.io', 'base64.channel.k8s.io'] as const;
type Protocol = (typeof PROTOCOLS)[number];

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;
/** v5: "no more data on this channel", sent by the client to half-close stdin. */
const CLOSE = 255;

/**
 * pods/exec and pods/attach, as the kubelet serves them. Over WebSocket, the remotecommand
 * protocol kubectl (1.30+) and client-node speak: one binary frame per chunk, its first byte the
 * channel (0 stdin, 1 stdout, 2 stderr, 3 the error channel carrying the final Status, 4 terminal
 * resize), the connection closed once the Status is sent; over SPDY (`pod-exec-spdy.ts`), one
 * stream per channel. Everything that can be refused is refused before the upgrade, with a
 * Status, as the real API server and kubelet do.
 */
export class PodExecEndpoint {
  private readonly wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => PROTOCOLS.find((p) => offered.has(p)) ?? false,
  });
  private readonly spdySessions = new Set<SpdyServerSession>();

  constructor(
    private readonly store: ObjectStore,
    private readonly runtime: PodRuntime | undefined,
  ) {}

  /** Checks the request and finds the container; throws the ApiError the real server answers with. */
  open(namespace: string, name: string, query: URLSearchParams): ExecSession {
    const pod = podOrNotFound((ns, n) => this.store.get('pods', ns, n), namespace, name);
    const container = resolveContainer(pod, query.get('container'));
    const command = query.getAll('command');
    if (!command.length) throw ApiError.badRequest('you must specify at least one command for the container');
    const session = { command, stdin: queryFlag(query, 'stdin'), stdout: queryFlag(query, 'stdout'), stderr: queryFlag(query, 'stderr'), tty: queryFlag(query, 'tty') };
    if (!session.stdin && !session.stdout && !session.stderr) throw ApiError.badRequest('you must specify at least one of stdin, stdout, stderr');
    if (!this.runtime) throw new ApiError(503, 'ServiceUnavailable', 'no kubelet serves exec in this cluster');
    return { ...session, target: this.runtime.exec(pod, container) };
  }

  /**
   * pods/attach: the streams of the container's first process from now on, until it stops or
   * the client goes; the container runtime decides what becomes of the client's stdin.
   */
  openAttach(namespace: string, name: string, query: URLSearchParams): ExecSession {
    const pod = podOrNotFound((ns, n) => this.store.get('pods', ns, n), namespace, name);
    const container = resolveContainer(pod, query.get('container'));
    const session = { command: [] as string[], stdin: queryFlag(query, 'stdin'), stdout: queryFlag(query, 'stdout'), stderr: queryFlag(query, 'stderr'), tty: queryFlag(query, 'tty') };
    if (!session.stdin && !session.stdout && !session.stderr) throw ApiError.badRequest('you must specify at least one of stdin, stdout, stderr');
    if (!this.runtime) throw new ApiError(503, 'ServiceUnavailable', 'no kubelet serves attach in this cluster');
    return { ...session, target: this.runtime.attach(pod, container) };
  }

  /**
   * Switches protocols and serves the session: over WebSocket (kubectl 1.30+, client-node) or
   * SPDY/3.1 (kubectl up to 1.29, and the API server's own connection to a kubelet).
   */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, session: ExecSession): void {
    const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
    if (upgrade === 'spdy/3.1') return serveSpdyRemoteCommand(socket, head, negotiateSpdyRemoteCommand(req), session, this.spdySessions);
    if (upgrade !== 'websocket') throw ApiError.badRequest(`unable to upgrade: the remotecommand protocols are served over WebSocket and SPDY/3.1, not ${String(req.headers.upgrade ?? 'nothing')}`);
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim());
    if (!PROTOCOLS.some((p) => offered.includes(p))) {
      throw ApiError.badRequest(`unable to upgrade: none of the requested subprotocols [${offered.join(', ')}] is supported; supported: ${PROTOCOLS.join(', ')}`);
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => void this.serve(ws, ws.protocol as Protocol, session));
  }

  private async serve(ws: WebSocket, protocol: Protocol, session: ExecSession): Promise<void> {
    const aborted = new AbortController();
    const stdin = new ChunkQueue();
    const base64 = protocol === 'base64.channel.k8s.io';
    const send = (channel: number, data: Buffer): void => {
      if (ws.readyState !== ws.OPEN) return;
      if (base64) ws.send(`${channel}${data.toString('base64')}`);
      else ws.send(Buffer.concat([Buffer.from([channel]), data]));
    };
    ws.on('message', (raw: RawData, isBinary: boolean) => {
      const frame = base64 && !isBinary ? decodeText(raw) : bufferOf(raw);
      if (!frame.length) return;
      const channel = frame[0]!;
      if (channel === STDIN) stdin.push(frame.subarray(1));
      else if (channel === CLOSE && protocol === 'v5.channel.k8s.io' && frame[1] === STDIN) stdin.end();
    });
    ws.on('close', () => {
      stdin.end();
      aborted.abort();
    });
    ws.on('error', () => aborted.abort());
    const result = await runSession(session, { stdout: (d) => send(STDOUT, d), stderr: (d) => send(STDERR, d), stdin, signal: aborted.signal });
    if (ws.readyState !== ws.OPEN) return;
    const payload = errorChannelPayload(result, session.command, protocol === 'v5.channel.k8s.io' || protocol === 'v4.channel.k8s.io');
    if (payload) send(ERROR, payload);
    ws.close(1000);
  }

  /** Drops every open exec (the API server is stopping). */
  stop(): void {
    for (const spdy of this.spdySessions) spdy.close();
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
  }
}

/** A base64.channel.k8s.io frame: the channel as an ASCII digit, then base64 data. */
function decodeText(raw: RawData): Buffer {
  const text = bufferOf(raw).toString('utf8');
  if (!text.length) return Buffer.alloc(0);
  return Buffer.concat([Buffer.from([Number(text[0])]), Buffer.from(text.slice(1), 'base64')]);
}

function bufferOf(raw: RawData): Buffer {
  if (Buffer.isBuffer(raw)) return raw;
  return Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw);
}

/** Stdin frames as they arrive, handed out one read at a time. */
export class ChunkQueue implements ByteSource {
  private readonly chunks: Buffer[] = [];
  private waiting: ((chunk: Buffer | undefined) => void) | undefined;
  private ended = false;

  push(chunk: Buffer): void {
    if (this.ended || !chunk.length) return;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = undefined;
      w(chunk);
    } else {
      this.chunks.push(chunk);
    }
  }

  end(): void {
    this.ended = true;
    const w = this.waiting;
    this.waiting = undefined;
    w?.(undefined);
  }

  read(): Promise<Buffer | undefined> {
    const next = this.chunks.shift();
    if (next || this.ended) return Promise.resolve(next);
    return new Promise((resolve) => (this.waiting = resolve));
  }
}
