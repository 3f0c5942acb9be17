import { constants, createDeflate, createInflate, type Deflate, type Inflate } from 'node:zlib';
import type { Duplex } from 'node:stream';
import { ChunkQueue } from './pod-exec.js';

/**
 * SPDY/3's header compression dictionary (draft 3, section 2.6.10.1), as github.com/moby/spdystream
 * (the SPDY the API server speaks to kubelets) uses it.
 */
export const DICTIONARY = Buffer.from(
  'AAAAB29wdGlvbnMAAAAEaGVhZAAAAARwb3N0AAAAA3B1dAAAAAZkZWxldGUAAAAFdHJhY2UAAAAGYWNjZXB0AAAADmFjY2Vw' +
  'dC1jaGFyc2V0AAAAD2FjY2VwdC1lbmNvZGluZwAAAA9hY2NlcHQtbGFuZ3VhZ2UAAAANYWNjZXB0LXJhbmdlcwAAAANhZ2UA' +
  'AAAFYWxsb3cAAAANYXV0aG9yaXphdGlvbgAAAA1jYWNoZS1jb250cm9sAAAACmNvbm5lY3Rpb24AAAAMY29udGVudC1iYXNl' +
  'AAAAEGNvbnRlbnQtZW5jb2RpbmcAAAAQY29udGVudC1sYW5ndWFnZQAAAA5jb250ZW50LWxlbmd0aAAAABBjb250ZW50LWxv' +
  'Y2F0aW9uAAAAC2NvbnRlbnQtbWQ1AAAADWNvbnRlbnQtcmFuZ2UAAAAMY29udGVudC10eXBlAAAABGRhdGUAAAAEZXRhZwAA' +
  'AAZleHBlY3QAAAAHZXhwaXJlcwAAAARmcm9tAAAABGhvc3QAAAAIaWYtbWF0Y2gAAAARaWYtbW9kaWZpZWQtc2luY2UAAAAN' +
  'aWYtbm9uZS1tYXRjaAAAAAhpZi1yYW5nZQAAABNpZi11bm1vZGlmaWVkLXNpbmNlAAAADWxhc3QtbW9kaWZpZWQAAAAIbG9j' +
  'YXRpb24AAAAMbWF4LWZvcndhcmRzAAAABnByYWdtYQAAABJwcm94eS1hdXRoZW50aWNhdGUAAAATcHJveHktYXV0aG9yaXph' +
  'dGlvbgAAAAVyYW5nZQAAAAdyZWZlcmVyAAAAC3JldHJ5LWFmdGVyAAAABnNlcnZlcgAAAAJ0ZQAAAAd0cmFpbGVyAAAAEXRy' +
  'YW5zZmVyLWVuY29kaW5nAAAAB3VwZ3JhZGUAAAAKdXNlci1hZ2VudAAAAAR2YXJ5AAAAA3ZpYQAAAAd3YXJuaW5nAAAAEHd3' +
  'dy1hdXRoZW50aWNhdGUAAAAGbWV0aG9kAAAAA2dldAAAAAZzdGF0dXMAAAAGMjAwIE9LAAAAB3ZlcnNpb24AAAAISFRUUC8x' +
  'LjEAAAADdXJsAAAABnB1YmxpYwAAAApzZXQtY29va2llAAAACmtlZXAtYWxpdmUAAAAGb3JpZ2luMTAwMTAxMjAxMjAyMjA1' +
  'MjA2MzAwMzAyMzAzMzA0MzA1MzA2MzA3NDAyNDA1NDA2NDA3NDA4NDA5NDEwNDExNDEyNDEzNDE0NDE1NDE2NDE3NTAyNTA0' +
  'NTA1MjAzIE5vbi1BdXRob3JpdGF0aXZlIEluZm9ybWF0aW9uMjA0IE5vIENvbnRlbnQzMDEgTW92ZWQgUGVybWFuZW50bHk0' +
  'MDAgQmFkIFJlcXVlc3Q0MDEgVW5hdXRob3JpemVkNDAzIEZvcmJpZGRlbjQwNCBOb3QgRm91bmQ1MDAgSW50ZXJuYWwgU2Vy' +
  'dmVyIEVycm9yNTAxIE5vdCBJbXBsZW1lbnRlZDUwMyBTZXJ2aWNlIFVuYXZhaWxhYmxlSmFuIEZlYiBNYXIgQXByIE1heSBK' +
  'dW4gSnVsIEF1ZyBTZXB0IE9jdCBOb3YgRGVjIDAwOjAwOjAwIE1vbiwgVHVlLCBXZWQsIFRodSwgRnJpLCBTYXQsIFN1biwg' +
  'R01UY2h1bmtlZCx0ZXh0L2h0bWwsaW1hZ2UvcG5nLGltYWdlL2pwZyxpbWFnZS9naWYsYXBwbGljYXRpb24veG1sLGFwcGxp' +
  'Y2F0aW9uL3hodG1sK3htbCx0ZXh0L3BsYWluLHRleHQvamF2YXNjcmlwdCxwdWJsaWNwcml2YXRlbWF4LWFnZT1nemlwLGRl' +
  'ZmxhdGUsc2RjaGNoYXJzZXQ9dXRmLThjaGFyc2V0PWlzby04ODU5LTEsdXRmLSwqLGVucT0wLg==',
  'base64',
);

const CONTROL = 0x80;
const SPDY_VERSION = 3;
const SYN_STREAM = 1;
const SYN_REPLY = 2;
const RST_STREAM = 3;
const PING = 6;
const GOAWAY = 7;
const FLAG_FIN = 0x01;
const MAX_DATA = 32 * 1024;

/** One stream a client opened: its headers, what it sends, and a way to answer on it. */
export class SpdyStream {
  private readonly incoming = new ChunkQueue();
  private localEnded = false;

  constructor(
    readonly id: number,
    readonly headers: Readonly<Record<string, string>>,
    private readonly session: SpdyServerSession,
  ) {}

  /** The next chunk the client sent, or undefined once it half-closed the stream. */
  read(): Promise<Buffer | undefined> {
    return this.incoming.read();
  }

  write(data: Buffer): void {
    if (this.localEnded) return;
    for (let at = 0; at < data.length; at += MAX_DATA) this.session.sendData(this.id, data.subarray(at, at + MAX_DATA), false);
  }

  end(): void {
    if (this.localEnded) return;
    this.localEnded = true;
    this.session.sendData(this.id, Buffer.alloc(0), true);
  }

  /** @internal */
  received(data: Buffer, fin: boolean): void {
    this.incoming.push(data);
    if (fin) this.incoming.end();
  }

  /** @internal */
  remoteEnd(): void {
    this.incoming.end();
  }
}

/**
 * Answers an HTTP upgrade to SPDY/3.1 with the negotiated `X-Stream-Protocol-Version`, as
 * apimachinery's `httpstream.Handshake` and the SPDY response upgrader do, and serves the
 * connection: `onStream` gets each stream the client opens.
 */
export function acceptSpdyUpgrade(socket: Duplex, head: Buffer, protocol: string, onStream: (stream: SpdyStream) => void): SpdyServerSession {
  socket.write(['HTTP/1.1 101 Switching Protocols', 'Connection: Upgrade', 'Upgrade: SPDY/3.1', `X-Stream-Protocol-Version: ${protocol}`, '', ''].join('\r\n'));
  if (head.length) socket.unshift(head);
  return new SpdyServerSession(socket, onStream);
}

/**
 * The server side of a SPDY/3.1 connection after an HTTP upgrade, as much of it as Kubernetes'
 * remotecommand and port-forward use (kubectl to the API server, the API server to a kubelet):
 * the client opens streams (SYN_STREAM with a `streamtype` header), the server accepts each
 * (SYN_REPLY) and both send DATA until FIN.
 * PINGs are answered; flow control is not enforced (the peer, spdystream, does not either).
 */
export class SpdyServerSession {
  private buffered = Buffer.alloc(0);
  private readonly streams = new Map<number, SpdyStream>();
  private readonly inflate = new HeaderCompression(createInflate({ dictionary: DICTIONARY }));
  private readonly deflate = new HeaderCompression(createDeflate({ dictionary: DICTIONARY }));
  /** Header blocks share one compression context per direction: frames are handled in order. */
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly socket: Duplex,
    private readonly onStream: (stream: SpdyStream) => void,
  ) {
    // A corrupt header block: the connection cannot go on.
    for (const z of [this.inflate, this.deflate]) z.onError(() => socket.destroy());
    socket.on('data', (d: Buffer) => this.receive(d));
    socket.on('close', () => this.shutdown());
    socket.on('error', () => this.shutdown());
  }

  /** Ends the connection (after what was written has been sent). */
  close(): void {
    if (this.closed) return;
    this.queue = this.queue.then(() => {
      const goaway = Buffer.alloc(16);
      goaway.writeUInt16BE((CONTROL << 8) | SPDY_VERSION, 0);
      goaway.writeUInt16BE(GOAWAY, 2);
      goaway.writeUInt32BE(8, 4);
      this.socket.write(goaway);
      this.socket.end();
      this.shutdown();
    });
  }

  /** @internal */
  sendData(id: number, data: Buffer, fin: boolean): void {
    // Queued behind the replies: a stream's DATA must not overtake its SYN_REPLY.
    this.queue = this.queue.then(() => {
      if (this.closed) return;
      const head = Buffer.alloc(8);
      head.writeUInt32BE(id & 0x7fffffff, 0);
      head.writeUInt32BE(((fin ? FLAG_FIN : 0) << 24) | data.length, 4);
      this.socket.write(Buffer.concat([head, data]));
    });
  }

  private shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.streams.values()) s.remoteEnd();
    this.inflate.destroy();
    this.deflate.destroy();
  }

  private receive(data: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, data]);
    while (this.buffered.length >= 8) {
      const length = this.buffered.readUInt32BE(4) & 0xffffff;
      if (this.buffered.length < 8 + length) return;
      const frame = this.buffered.subarray(0, 8 + length);
      this.buffered = this.buffered.subarray(8 + length);
      this.queue = this.queue.then(() => this.frame(frame)).catch(() => {
        this.socket.destroy();
      });
    }
  }

  private async frame(frame: Buffer): Promise<void> {
    if (this.closed) return;
    const flags = frame[4]!;
    const body = frame.subarray(8);
    if (!(frame[0]! & CONTROL)) {
      const id = frame.readUInt32BE(0) & 0x7fffffff;
      this.streams.get(id)?.received(Buffer.from(body), (flags & FLAG_FIN) !== 0);
      return;
    }
    const type = frame.readUInt16BE(2);
    if (type === SYN_STREAM) {
      const id = body.readUInt32BE(0) & 0x7fffffff;
      const headers = parseHeaderBlock(await this.inflate.run(body.subarray(10)));
      const stream = new SpdyStream(id, headers, this);
      this.streams.set(id, stream);
      await this.reply(id);
      this.onStream(stream);
      if (flags & FLAG_FIN) stream.remoteEnd();
    } else if (type === RST_STREAM) {
      this.streams.get(body.readUInt32BE(0) & 0x7fffffff)?.remoteEnd();
    } else if (type === PING) {
      this.socket.write(frame);
    } else if (type === GOAWAY) {
      this.shutdown();
    }
    // SETTINGS, WINDOW_UPDATE and HEADERS change nothing this server does.
  }

  /** SYN_REPLY with no headers, as the kubelet's spdystream sends to accept a stream. */
  private async reply(id: number): Promise<void> {
    const block = await this.deflate.run(Buffer.alloc(4));
    const head = Buffer.alloc(12);
    head.writeUInt16BE((CONTROL << 8) | SPDY_VERSION, 0);
    head.writeUInt16BE(SYN_REPLY, 2);
    head.writeUInt32BE(4 + block.length, 4);
    head.writeUInt32BE(id, 8);
    this.socket.write(Buffer.concat([head, block]));
  }
}

/** One direction's header compression: one zlib context for the whole connection, flushed per block. */
class HeaderCompression {
  private output: Buffer[] = [];

  constructor(private readonly z: Inflate | Deflate) {
    z.on('data', (d: Buffer) => this.output.push(d));
  }

  onError(handler: () => void): void {
    this.z.on('error', handler);
  }

  /** Runs `input` through the context up to a sync flush and returns what came out. */
  run(input: Buffer): Promise<Buffer> {
    return new Promise((resolve) => {
      this.z.write(input);
      this.z.flush(constants.Z_SYNC_FLUSH, () => {
        setImmediate(() => {
          const out = Buffer.concat(this.output);
          this.output = [];
          resolve(out);
        });
      });
    });
  }

  destroy(): void {
    this.z.destroy();
  }
}

/** An uncompressed SPDY/3 name/value block; several values of one name are joined by NUL. */
function parseHeaderBlock(block: Buffer): Record<string, string> {
  const headers: Record<string, string> = {};
  let at = 0;
  const count = block.readUInt32BE(at);
  at += 4;
  for (let i = 0; i < count; i++) {
    const nameLength = block.readUInt32BE(at);
    const name = block.subarray(at + 4, at + 4 + nameLength).toString('utf8');
    at += 4 + nameLength;
    const valueLength = block.readUInt32BE(at);
    headers[name.toLowerCase()] = block.subarray(at + 4, at + 4 + valueLength).toString('utf8');
    at += 4 + valueLength;
  }
  return headers;
}
