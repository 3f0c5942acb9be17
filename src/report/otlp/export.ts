import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { errorMessage } from '../../core/errors.js';
import type { ExportTraceServiceRequest } from './encode.js';

export interface OtlpTarget {
  /** The full URL spans are POSTed to, `…/v1/traces` (`tracesUrl`). */
  readonly url: string;
  /** Extra request headers, e.g. `authorization`. @default none */
  readonly headers?: Readonly<Record<string, string>>;
  /** How long one export may take, connecting included. @default 10 000 */
  readonly timeoutMs?: number;
}

/**
 * Where OTLP/HTTP wants traces for a collector at `endpoint`: the base URL plus `/v1/traces`, as the
 * OpenTelemetry exporters do with `OTEL_EXPORTER_OTLP_ENDPOINT`. A URL that already ends in
 * `/v1/traces` is taken as it is.
 */
export function tracesUrl(endpoint: string): string {
  const url = new URL(endpoint);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('an OTLP/HTTP endpoint is an http:// or https:// URL');
  if (!url.pathname.endsWith('/v1/traces')) url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/traces`;
  return url.toString();
}

/**
 * One POST of the request as OTLP/HTTP JSON. Rejects on a refused connection, a timeout, a
 * non-2xx answer, or spans the collector says it rejected (OTLP's partial success), each with a
 * message naming the URL.
 */
export async function exportTraces(target: OtlpTarget, body: ExportTraceServiceRequest): Promise<void> {
  const payload = Buffer.from(JSON.stringify(body));
  const url = new URL(target.url);
  const timeoutMs = target.timeoutMs ?? 10_000;
  let answer: { status: number; text: string };
  try {
    answer = await post(url, payload, target.headers ?? {}, timeoutMs);
  } catch (err) {
    throw new Error(`OTLP export to ${target.url} failed: ${errorMessage(err)}`);
  }
  if (answer.status < 200 || answer.status > 299) {
    throw new Error(`OTLP export to ${target.url} failed: HTTP ${answer.status}${answer.text ? `: ${answer.text.slice(0, 300)}` : ''}`);
  }
  const rejected = partialSuccess(answer.text);
  if (rejected) throw new Error(`OTLP export to ${target.url}: the collector rejected ${rejected}`);
}

function post(url: URL, payload: Buffer, headers: Readonly<Record<string, string>>, timeoutMs: number): Promise<{ status: number; text: string }> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'content-length': payload.length },
      // The export is the run's last act: a kept-alive socket would only hold the process open.
      agent: false,
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.end(payload);
  });
}

/** `"3 spans: <why>"` when a 2xx answer still carries rejected spans; undefined otherwise (an empty or non-JSON body means all were taken). */
function partialSuccess(text: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const partial = (parsed as { partialSuccess?: { rejectedSpans?: string | number; errorMessage?: string } } | null)?.partialSuccess;
  const count = Number(partial?.rejectedSpans ?? 0);
  if (!(count > 0)) return undefined;
  return `${count} span${count === 1 ? '' : 's'}${partial?.errorMessage ? `: ${partial.errorMessage}` : ''}`;
}
