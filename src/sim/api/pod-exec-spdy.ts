import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { acceptSpdyUpgrade, type SpdyServerSession, type SpdyStream } from './spdy-session.js';
import { ApiError } from './api-error.js';
import { errorChannelPayload, runSession, type ExecSession } from './remote-command.js';

/** The remotecommand protocols over SPDY, newest first (apimachinery's SupportedStreamingProtocols). */
export const SPDY_REMOTE_COMMAND_PROTOCOLS = ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'] as const;

/** The protocols with a resize stream for a terminal; v4 also ends with a JSON Status. */
const RESIZING = new Set<string>(['v4.channel.k8s.io', 'v3.channel.k8s.io']);
const STREAM_TYPES = new Set(['error', 'stdin', 'stdout', 'stderr', 'resize']);
/** remotecommand's DefaultStreamCreationTimeout. */
const STREAM_CREATION_TIMEOUT_MS = 30_000;

/**
 * The protocol of an upgrade to SPDY as httpstream.Handshake picks it (the client's first that
 * the server speaks); throws its refusal.
 */
export function negotiateSpdyRemoteCommand(req: IncomingMessage): string {
  const offered = String(req.headers['x-stream-protocol-version'] ?? '').split(',').map((p) => p.trim()).filter(Boolean);
  if (!offered.length) throw ApiError.badRequest('unable to upgrade: X-Stream-Protocol-Version is required');
  const protocol = offered.find((p) => (SPDY_REMOTE_COMMAND_PROTOCOLS as readonly string[]).includes(p));
  if (!protocol) {
    throw new ApiError(403, 'Forbidden', `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server accepts [${SPDY_REMOTE_COMMAND_PROTOCOLS.join(' ')}]`);
  }
  return protocol;
}

/**
 * An exec or attach over SPDY/3.1, as the kubelet serves it to kubectl ≤ 1.29 and to the API
 * server (remotecommand's createHTTPStreamStreams and ServeExec): the client opens one stream per
 * channel, named by its `streamtype` header (error, stdin, stdout, stderr, and resize for a
 * terminal from v3 on); once all it asked for are open the command runs, the error stream gets
 * the outcome, and the connection closes. Answers the upgrade and returns.
 */
export function serveSpdyRemoteCommand(socket: Duplex, head: Buffer, protocol: string, session: ExecSession, sessions: Set<SpdyServerSession>): void {
  // A terminal has no stderr stream: the kubelet drops it from the options.
  const expected = 1 + Number(session.stdin) + Number(session.stdout) + Number(session.stderr && !session.tty) + Number(session.tty && RESIZING.has(protocol));
  const streams = new Map<string, SpdyStream>();
  let opened: () => void = () => {};
  const allOpen = new Promise<void>((resolve) => (opened = resolve));
  const spdy = acceptSpdyUpgrade(socket, head, protocol, (stream) => {
    const type = stream.headers.streamtype ?? '';
    if (!STREAM_TYPES.has(type)) return;
    streams.set(type, stream);
    if (streams.size === expected) opened();
  });
  sessions.add(spdy);
  const aborted = new AbortController();
  socket.once('close', () => aborted.abort());
  const finish = (): void => {
    for (const s of streams.values()) s.end();
    spdy.close();
    sessions.delete(spdy);
  };
  // The kubelet gives up on a client that never opens its streams (it logs "timed out waiting for client to create streams").
  const timeout = setTimeout(finish, STREAM_CREATION_TIMEOUT_MS);
  aborted.signal.addEventListener('abort', () => {
    clearTimeout(timeout);
    sessions.delete(spdy);
  }, { once: true });
  void allOpen.then(async () => {
    clearTimeout(timeout);
    const result = await runSession(session, {
      stdout: (d) => streams.get('stdout')?.write(d),
      stderr: (d) => streams.get('stderr')?.write(d),
      stdin: streams.get('stdin'),
      signal: aborted.signal,
    });
    const payload = errorChannelPayload(result, session.command, protocol === 'v4.channel.k8s.io');
    if (payload) streams.get('error')?.write(payload);
    finish();
  });
}
