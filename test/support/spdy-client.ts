import { request } from 'node:http';
import type { Duplex } from 'node:stream';
import { constants, createDeflate } from 'node:zlib';
import { DICTIONARY } from '../../src/sim/api/spdy-session.js';

/** What a remotecommand server sent on each stream, by `streamtype`, once it closed the connection. */
export type StreamsReceived = Record<string, string>;

/**
 * A bare SPDY/3.1 client, as client-go's spdystream speaks it, for the protocol versions no
 * installed kubectl asks for first: upgrades `url`, opens one stream per `streamtype` (in order,
 * with stdin half-closed at once after `stdin` is sent), and collects what comes back until the
 * server closes the connection.
 */
export function spdyRemoteCommand(url: string, protocol: string, streamTypes: readonly string[], stdin = ''): Promise<{ protocol: string; received: StreamsReceived }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { connection: 'Upgrade', upgrade: 'SPDY/3.1', 'x-stream-protocol-version': protocol } });
    req.on('response', (res) => reject(new Error(`no upgrade: HTTP ${res.statusCode}`)));
    req.on('error', reject);
    req.on('upgrade', (res, socket: Duplex) => {
      const received: StreamsReceived = {};
      const typeOf = new Map<number, string>();
      let buffered = Buffer.alloc(0);
      socket.on('data', (d: Buffer) => {
        buffered = Buffer.concat([buffered, d]);
        while (buffered.length >= 8 && buffered.length >= 8 + (buffered.readUInt32BE(4) & 0xffffff)) {
          const length = buffered.readUInt32BE(4) & 0xffffff;
          const type = typeOf.get(buffered.readUInt32BE(0));
          if (!(buffered[0]! & 0x80) && type && length) received[type] = (received[type] ?? '') + buffered.subarray(8, 8 + length).toString('utf8');
          buffered = buffered.subarray(8 + length);
        }
      });
      socket.on('close', () => resolve({ protocol: String(res.headers['x-stream-protocol-version']), received }));
      // One compression context for the connection's header blocks, each flushed on its own.
      const deflate = createDeflate({ dictionary: DICTIONARY });
      void (async () => {
        for (const [i, type] of streamTypes.entries()) {
          const id = 2 * i + 1;
          typeOf.set(id, type);
          const block = nameValueBlock({ streamtype: type });
          const compressed = await new Promise<Buffer>((done) => {
            const out: Buffer[] = [];
            const onData = (c: Buffer): number => out.push(c);
            deflate.on('data', onData);
            deflate.write(block);
            deflate.flush(constants.Z_SYNC_FLUSH, () => setImmediate(() => {
              deflate.off('data', onData);
              done(Buffer.concat(out));
            }));
          });
          const payload = compressed;
          const frame = Buffer.alloc(18);
          frame.writeUInt16BE(0x8003, 0);
          frame.writeUInt16BE(1, 2);
          frame.writeUInt32BE(10 + payload.length, 4);
          frame.writeUInt32BE(id, 8);
          socket.write(Buffer.concat([frame, payload]));
          if (type === 'stdin') socket.write(dataFrame(id, Buffer.from(stdin), true));
        }
      })();
    });
    req.end();
  });
}

function nameValueBlock(headers: Record<string, string>): Buffer {
  const parts: Buffer[] = [u32(Object.keys(headers).length)];
  for (const [name, value] of Object.entries(headers)) parts.push(u32(name.length), Buffer.from(name), u32(Buffer.byteLength(value)), Buffer.from(value));
  return Buffer.concat(parts);
}

function dataFrame(id: number, data: Buffer, fin: boolean): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(id, 0);
  head.writeUInt32BE(((fin ? 1 : 0) << 24) | data.length, 4);
  return Buffer.concat([head, data]);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}
