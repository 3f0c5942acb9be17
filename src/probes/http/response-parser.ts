/**
 * Reads HTTP/1.x responses off one keep-alive connection, as much as the http probe needs: the
 * status, one header (the pod that answered), and where the message ends (RFC 9112 §6.3), so the
 * connection can carry the next request. Bodies are skipped, never copied.
 *
 * Malformed responses fail with the error codes of Node's own parser (llhttp), so a probe sample
 * names them as it did when node:http read them (`hpe_invalid_chunk_size`…).
 */

/** Node's default limit on a response head (`--max-http-header-size`). */
export const MAX_HEAD_BYTES = 16 * 1024;
const MAX_CHUNK_SIZE_LINE = 1024;
const CR = 13;
const LF = 10;
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: |\r\n|$)/;
/** A header line that does not start with a name (RFC 9110 §5.6.2 token) and a colon. */
const BAD_HEADER_LINE = /\r\n(?![!#$%&'*+\-.^_`|~0-9A-Za-z]+:)/;
const DIGITS = /^\d+$/;
const FINAL_CHUNKED = /(?:^|,)\s*chunked\s*$/i;
const CLOSE_TOKEN = /(?:^|,)\s*close\s*(?:,|$)/i;
const KEEP_ALIVE_TOKEN = /(?:^|,)\s*keep-alive\s*(?:,|$)/i;

export interface ResponseHead {
  readonly status: number;
  /** The named header's first value, when the response has one. */
  readonly pod?: string;
}

/** A response that breaks HTTP/1.1, with llhttp's code for it. */
export class HttpParseError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'HttpParseError';
  }
}

type Body =
  | { readonly kind: 'none' }
  | { readonly kind: 'length'; remaining: number }
  | { readonly kind: 'chunked'; state: 'size' | 'data' | 'data-end' | 'trailers'; line: string; remaining: number }
  | { readonly kind: 'until-close' };

export class ResponseParser {
  private head: Buffer | undefined;
  private answer: ResponseHead | undefined;
  private body: Body | undefined;
  private noBody = false;
  private reusable = false;

  /** @param podHeader lower-case name of the header whose value `ResponseHead.pod` carries. */
  constructor(private readonly podHeader: string) {}

  /** Starts on the response to the next request; a HEAD request's response has no body. */
  begin(isHead: boolean): void {
    this.head = undefined;
    this.answer = undefined;
    this.body = undefined;
    this.noBody = isHead;
    this.reusable = false;
  }

  /** The response once it is complete. */
  get response(): ResponseHead | undefined {
    return this.isComplete() ? this.answer : undefined;
  }

  /** Whether the connection may carry another request after this response. */
  get keepAlive(): boolean {
    return this.reusable;
  }

  /**
   * Reads `chunk`; returns how many of its bytes belong to this response, or -1 while it needs
   * more. Bytes past the end are the caller's (for a client that never pipelines, a protocol error).
   */
  feed(chunk: Buffer): number {
    let at = 0;
    while (this.body === undefined) {
      const end = this.readHead(chunk, at);
      if (end < 0) return -1;
      at = end;
    }
    at = this.readBody(chunk, at);
    return this.isComplete() ? at : -1;
  }

  /** The server closed the connection: completes a body read until close; otherwise false. */
  end(): boolean {
    if (this.body?.kind !== 'until-close') return false;
    this.body = { kind: 'none' };
    return true;
  }

  private isComplete(): boolean {
    const b = this.body;
    return b !== undefined && (b.kind === 'none' || (b.kind === 'length' && b.remaining === 0));
  }

  /** Gathers the head up to its blank line and reads it; returns the offset after it, or -1. */
  private readHead(chunk: Buffer, from: number): number {
    const held = this.head?.length ?? 0;
    const joined = held > 0 ? Buffer.concat([this.head!, chunk.subarray(from)]) : chunk.subarray(from);
    // Look from a little before the new bytes: the blank line may straddle two chunks.
    const blank = joined.indexOf('\r\n\r\n', Math.max(0, held - 3), 'latin1');
    if (blank < 0) {
      if (joined.length > MAX_HEAD_BYTES) throw new HttpParseError('HPE_HEADER_OVERFLOW', 'Header overflow');
      this.head = Buffer.from(joined);
      return -1;
    }
    if (blank > MAX_HEAD_BYTES) throw new HttpParseError('HPE_HEADER_OVERFLOW', 'Header overflow');
    this.head = undefined;
    this.readHeadText(joined.toString('latin1', 0, blank));
    return from + blank + 4 - held;
  }

  private readHeadText(text: string): void {
    const statusLine = STATUS_LINE.exec(text);
    if (!statusLine) throw new HttpParseError('HPE_INVALID_CONSTANT', 'Expected HTTP/, RTSP/ or ICE/');
    if (BAD_HEADER_LINE.test(text)) throw new HttpParseError('HPE_INVALID_HEADER_TOKEN', 'Invalid header token');
    const status = Number(statusLine[2]);
    let pod: string | undefined;
    let contentLength: number | undefined;
    let chunked = false;
    let transferEncoding = false;
    let close = false;
    let keepAlive = false;
    // One pass over the lines; only names as long as one the probe reads are compared.
    for (let at = text.indexOf('\r\n'); at >= 0; ) {
      const start = at + 2;
      at = text.indexOf('\r\n', start);
      const colon = text.indexOf(':', start);
      const length = colon - start;
      if (length !== this.podHeader.length && length !== 14 && length !== 17 && length !== 10) continue;
      const name = text.slice(start, colon).toLowerCase();
      const value = text.slice(colon + 1, at < 0 ? text.length : at).trim();
      if (name === this.podHeader) pod ??= value;
      else if (name === 'content-length') {
        if (!DIGITS.test(value)) throw new HttpParseError('HPE_INVALID_CONTENT_LENGTH', 'Invalid character in Content-Length');
        if (contentLength !== undefined) throw new HttpParseError('HPE_UNEXPECTED_CONTENT_LENGTH', 'Duplicate Content-Length');
        contentLength = Number(value);
      } else if (name === 'transfer-encoding') {
        transferEncoding = true;
        // Only a final chunked coding frames the body (RFC 9112 §6.3).
        chunked = FINAL_CHUNKED.test(value);
      } else if (name === 'connection') {
        close ||= CLOSE_TOKEN.test(value);
        keepAlive ||= KEEP_ALIVE_TOKEN.test(value);
      }
    }
    if (transferEncoding && contentLength !== undefined) throw new HttpParseError('HPE_INVALID_TRANSFER_ENCODING', "Transfer-Encoding can't be present with Content-Length");
    // 1xx answers are interim (100 Continue, 103 Early Hints): the real response follows.
    if (status >= 100 && status < 200 && status !== 101) return;
    this.answer = pod ? { status, pod } : { status };
    this.reusable = status !== 101 && (statusLine[1] === '1' ? !close : keepAlive);
    if (this.noBody || status === 204 || status === 304 || status === 101) this.body = { kind: 'none' };
    else if (chunked) this.body = { kind: 'chunked', state: 'size', line: '', remaining: 0 };
    else if (transferEncoding || contentLength === undefined) {
      this.body = { kind: 'until-close' };
      this.reusable = false;
    } else this.body = { kind: 'length', remaining: contentLength };
  }

  /** Skips body bytes; returns the offset after the last one that belongs to this response. */
  private readBody(chunk: Buffer, from: number): number {
    const b = this.body!;
    if (b.kind === 'none') return from;
    if (b.kind === 'until-close') return chunk.length;
    if (b.kind === 'length') {
      const take = Math.min(b.remaining, chunk.length - from);
      b.remaining -= take;
      return from + take;
    }
    let at = from;
    while (at < chunk.length) {
      if (b.state === 'data') {
        const take = Math.min(b.remaining, chunk.length - at);
        b.remaining -= take;
        at += take;
        if (b.remaining === 0) b.state = 'data-end';
        continue;
      }
      const lf = chunk.indexOf(LF, at);
      const end = lf < 0 ? chunk.length : lf + 1;
      b.line += chunk.toString('latin1', at, end);
      at = end;
      if (b.line.length > MAX_CHUNK_SIZE_LINE) throw new HttpParseError('HPE_INVALID_CHUNK_SIZE', 'Chunk size line too long');
      if (lf < 0) break;
      const line = b.line.charCodeAt(b.line.length - 2) === CR ? b.line.slice(0, -2) : b.line.slice(0, -1);
      b.line = '';
      if (b.state === 'data-end') {
        if (line !== '') throw new HttpParseError('HPE_STRICT', 'Expected LF after chunk data');
        b.state = 'size';
      } else if (b.state === 'size') {
        const size = /^([0-9a-fA-F]{1,12})[ \t]*(?:;.*)?$/.exec(line);
        if (!size) throw new HttpParseError('HPE_INVALID_CHUNK_SIZE', 'Invalid character in chunk size');
        b.remaining = parseInt(size[1]!, 16);
        b.state = b.remaining === 0 ? 'trailers' : 'data';
      } else if (line === '') {
        // The blank line after the trailers ends the message.
        this.body = { kind: 'none' };
        return at;
      }
    }
    return at;
  }
}
