import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { HttpParseError, MAX_HEAD_BYTES, ResponseParser, type ResponseHead } from '../../src/probes/http/response-parser.js';

interface Read {
  readonly used: number;
  readonly response: ResponseHead | undefined;
  readonly keepAlive: boolean;
}

/** Feeds `text` in the given pieces; returns what the parser made of it. */
function read(text: string, pieces: readonly number[], options: { head?: boolean; closed?: boolean } = {}): Read {
  const bytes = Buffer.from(text, 'latin1');
  const parser = new ResponseParser('x-pod-name');
  parser.begin(options.head ?? false);
  let from = 0;
  let used = -1;
  for (const end of [...pieces, bytes.length]) {
    if (end <= from) continue;
    const n = parser.feed(bytes.subarray(from, end));
    if (n >= 0) {
      used = from + n;
      break;
    }
    from = end;
  }
  if (used < 0 && options.closed && parser.end()) used = bytes.length;
  return { used, response: parser.response, keepAlive: parser.keepAlive };
}

/** Every way to cut `text` in two, and byte by byte. */
function splits(text: string): number[][] {
  return [[], ...Array.from({ length: text.length - 1 }, (_, i) => [i + 1]), Array.from({ length: text.length }, (_, i) => i + 1)];
}

const CASES: readonly { name: string; text: string; head?: boolean; closed?: boolean; response: ResponseHead; keepAlive: boolean }[] = [
  { name: 'a Content-Length body', text: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Pod-Name: web-1\r\n\r\nhello', response: { status: 200, pod: 'web-1' }, keepAlive: true },
  {
    name: 'a chunked body with an extension and trailers',
    text: 'HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n4;name=x\r\ndown\r\nA\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n',
    response: { status: 503 },
    keepAlive: true,
  },
  { name: 'a 100 Continue before the answer', text: 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nx-pod-name:  web-2 \r\ncontent-length: 2\r\n\r\nok', response: { status: 201, pod: 'web-2' }, keepAlive: true },
  { name: 'a 204 without a length', text: 'HTTP/1.1 204 No Content\r\n\r\n', response: { status: 204 }, keepAlive: true },
  { name: 'the answer to HEAD, whose length is not sent', text: 'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n', head: true, response: { status: 200 }, keepAlive: true },
  { name: 'Connection: close', text: 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok', response: { status: 200 }, keepAlive: false },
  { name: 'HTTP/1.0 with keep-alive', text: 'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok', response: { status: 200 }, keepAlive: true },
  { name: 'HTTP/1.0 without keep-alive', text: 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok', response: { status: 200 }, keepAlive: false },
  { name: 'a body that ends when the server closes', text: 'HTTP/1.1 200 OK\r\n\r\nuntil the end', closed: true, response: { status: 200 }, keepAlive: false },
];

describe('http probe: reading responses', () => {
  for (const c of CASES) {
    it(`reads ${c.name}, however its bytes are split`, () => {
      for (const pieces of splits(c.text)) {
        const r = read(c.text, pieces, c);
        expect(r, `split at ${pieces.join(',') || 'nothing'}`).to.deep.equal({ used: c.text.length, response: c.response, keepAlive: c.keepAlive });
      }
    });
  }

  it('leaves bytes past the end of the response to the caller', () => {
    const parser = new ResponseParser('x-pod-name');
    parser.begin(false);
    expect(parser.feed(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n'))).to.equal(40);
  });

  it('refuses a head longer than node:http allows', () => {
    const parser = new ResponseParser('x-pod-name');
    parser.begin(false);
    const head = `HTTP/1.1 200 OK\r\nx-big: ${'a'.repeat(MAX_HEAD_BYTES)}`;
    expect(() => parser.feed(Buffer.from(head))).to.throw(HttpParseError).with.property('code', 'HPE_HEADER_OVERFLOW');
  });

  describe('names a malformed response as node:http does', () => {
    let server: net.Server;
    let port: number;
    let reply = '';
    before(async () => {
      server = net.createServer((socket) => socket.once('data', () => socket.end(reply)));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      port = (server.address() as AddressInfo).port;
    });
    after(() => server.close());

    /** The error code node:http reports for these response bytes. */
    async function nodeHttpCode(text: string): Promise<string | undefined> {
      reply = text;
      return new Promise((resolve) => {
        const req = http.request({ host: '127.0.0.1', port, agent: false }, (res) => {
          res.resume();
          res.on('end', () => resolve(undefined));
        });
        req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code));
        req.end();
      });
    }

    const MALFORMED: Readonly<Record<string, string>> = {
      'a status line that is not HTTP': 'HTTX/1.1 200 OK\r\ncontent-length: 0\r\n\r\n',
      'a header without a name': 'HTTP/1.1 200 OK\r\nno colon here\r\ncontent-length: 0\r\n\r\n',
      'a space before the colon': 'HTTP/1.1 200 OK\r\nx-pod-name : a\r\ncontent-length: 0\r\n\r\n',
      'a header folded onto a second line': 'HTTP/1.1 200 OK\r\nx-pod-name: a\r\n  b\r\ncontent-length: 0\r\n\r\n',
      'a Content-Length that is not a number': 'HTTP/1.1 200 OK\r\ncontent-length: 3x\r\n\r\nabc',
      'two Content-Lengths': 'HTTP/1.1 200 OK\r\ncontent-length: 3\r\ncontent-length: 3\r\n\r\nabc',
      'Content-Length beside Transfer-Encoding': 'HTTP/1.1 200 OK\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
      'a chunk size that is not hex': 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n',
      'chunk data longer than its size': 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabcXX\r\n0\r\n\r\n',
    };
    for (const [name, text] of Object.entries(MALFORMED)) {
      it(name, async () => {
        const expected = await nodeHttpCode(text);
        expect(expected, 'node:http refuses it').to.match(/^HPE_/);
        const parser = new ResponseParser('x-pod-name');
        parser.begin(false);
        expect(() => parser.feed(Buffer.from(text, 'latin1')))
          .to.throw(HttpParseError)
          .with.property('code', expected);
      });
    }
  });
});
