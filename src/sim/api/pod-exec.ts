import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { ObjectStore } from '../store.js';
import { ApiError } from './api-error.js';
import { podOrNotFound, resolveContainer } from './pod-container.js';
import { queryFlag } from './query-flag.js';
import type { ByteSource, ExecResult, ExecTarget, PodRuntime } from './pod-runtime.js';

/** The remotecommand subprotocols served, most preferred first. */
const PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'channel.k8s.io', 'base64.channel.k8s.io'] as const;
type Protocol = (typeof PROTOCOLS)[number];

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;
/** v5: "no more data on this channel", sent by the client to half-close stdin. */
const CLOSE = 255;

/** A validated exec: what the client asked for and the container that will run it. */
export interface ExecSession {
  readonly command: readonly string[];
  readonly stdin: boolean;
  readonly stdout: boolean;
  readonly stderr: boolean;
  readonly tty: boolean;
  readonly target: ExecTarget;
}

/** The kubelet's status for the error channel (v4+), as kubectl and client-node parse it. */
export function execStatus(result: ExecResult, command: readonly string[]): Record<string, unknown> {
  if (result.kind === 'start-failed') {
    const message = `Internal error occurred: error executing command in container: failed to exec in container: OCI runtime exec failed: exec failed: unable to start container process: ${result.message}: unknown`;
    return { metadata: {}, status: 'Failure', message, reason: 'InternalError', details: { causes: [{ message }] }, code: 500 };
  }
  if (result.code === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${result.code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(result.code) }] },
  };
}

/**
 * pods/exec over WebSocket, the remotecommand protocol kubectl (1.30+) and client-node speak:
 * one binary frame per chunk, its first byte the channel (0 stdin, 1 stdout, 2 stderr, 3 the
 * error channel carrying the final Status, 4 terminal resize), the connection closed once the
 * Status is sent. Everything that can be refused is refused before the upgrade, with a Status,
 * as the real API server and kubelet do.
 */
export class PodExecEndpoint {
  private readonly wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => PROTOCOLS.find((p) => offered.has(p)) ?? false,
  });

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
   * pods/attach: the container's own output from now on, over the same channels as an exec,
   * until the container stops or the client goes. The embedded containers read no stdin, so
   * what a client types is taken and dropped, as by a container started without `stdin: true`.
   */
  openAttach(namespace: string, name: string, query: URLSearchParams): ExecSession {
    const pod = podOrNotFound((ns, n) => this.store.get('pods', ns, n), namespace, name);
    const container = resolveContainer(pod, query.get('container'));
    const session = { command: [] as string[], stdin: queryFlag(query, 'stdin'), stdout: queryFlag(query, 'stdout'), stderr: queryFlag(query, 'stderr'), tty: queryFlag(query, 'tty') };
    if (!session.stdin && !session.stdout && !session.stderr) throw ApiError.badRequest('you must specify at least one of stdin, stdout, stderr');
    if (!this.runtime) throw new ApiError(503, 'ServiceUnavailable', 'no kubelet serves attach in this cluster');
    const log = this.runtime.logs(pod, container, false);
    const target: ExecTarget = {
      run: (_command, streams) =>
        new Promise((resolve) => {
          const done = (): void => {
            unsubscribe();
            resolve({ kind: 'exited', code: 0 });
          };
          const unsubscribe = log.follow((line) => (line ? streams.stdout(Buffer.from(`${line.text}\n`)) : done()));
          streams.signal.addEventListener('abort', done, { once: true });
        }),
    };
    return { ...session, target };
  }

  /** A WebSocket upgrade: switch protocols, run the command, send its Status, close. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, session: ExecSession): void {
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
    let result: ExecResult;
    try {
      result = await session.target.run(session.command, {
        tty: session.tty,
        stdout: (d) => session.stdout && send(STDOUT, d),
        stderr: (d) => session.stderr && send(STDERR, d),
        ...(session.stdin ? { stdin } : {}),
        signal: aborted.signal,
      });
    } catch (err) {
      result = { kind: 'start-failed', message: (err as Error).message };
    }
    if (ws.readyState !== ws.OPEN) return;
    if (protocol === 'v5.channel.k8s.io' || protocol === 'v4.channel.k8s.io') {
      send(ERROR, Buffer.from(JSON.stringify(execStatus(result, session.command))));
    } else if (result.kind === 'start-failed' || result.code !== 0) {
      // v1 and base64: the error channel carries the message alone; silence means success.
      send(ERROR, Buffer.from(String(execStatus(result, session.command).message)));
    }
    ws.close(1000);
  }

  /** Drops every open exec (the API server is stopping). */
  stop(): void {
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
