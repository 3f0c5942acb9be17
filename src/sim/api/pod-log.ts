import type { ServerResponse } from 'node:http';
import type { ObjectStore } from '../store.js';
import { ApiError } from './api-error.js';
import { podOrNotFound, resolveContainer } from './pod-container.js';
import type { LogEntry, PodRuntime } from './pod-runtime.js';
import { queryFlag } from './query-flag.js';

function nonNegativeInt(query: URLSearchParams, name: string): number | undefined {
  const text = query.get(name);
  if (text === null) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw ApiError.badRequest(`invalid ${name}: ${JSON.stringify(text)} must be a non-negative integer`);
  return n;
}

/** RFC 3339 with nanoseconds, as the container runtime stamps each line. */
function stamp(time: Date): string {
  return time.toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

/**
 * GET pods/{name}/log: the container's lines as text/plain, with tailLines, timestamps,
 * sinceSeconds, sinceTime, limitBytes, previous and follow (streamed until the container stops
 * or the client goes away).
 */
export function servePodLog(store: ObjectStore, runtime: PodRuntime | undefined, namespace: string, name: string, query: URLSearchParams, res: ServerResponse): void {
  const pod = podOrNotFound((ns, n) => store.get('pods', ns, n), namespace, name);
  const container = resolveContainer(pod, query.get('container'));
  const tailLines = nonNegativeInt(query, 'tailLines');
  const limitBytes = nonNegativeInt(query, 'limitBytes');
  const sinceSeconds = nonNegativeInt(query, 'sinceSeconds');
  const sinceTimeText = query.get('sinceTime');
  const sinceTime = sinceTimeText ? Date.parse(sinceTimeText) : undefined;
  if (sinceTime !== undefined && Number.isNaN(sinceTime)) throw ApiError.badRequest(`invalid sinceTime: ${JSON.stringify(sinceTimeText)} is not an RFC 3339 time`);
  if (!runtime) throw new ApiError(503, 'ServiceUnavailable', 'no kubelet serves logs in this cluster');
  const source = runtime.logs(pod, container, queryFlag(query, 'previous'));
  const since = sinceSeconds !== undefined ? Date.now() - sinceSeconds * 1000 : sinceTime;
  const timestamps = queryFlag(query, 'timestamps');
  const format = (l: LogEntry): string => `${timestamps ? `${stamp(l.time)} ` : ''}${l.text}\n`;
  let lines = source.lines.filter((l) => since === undefined || l.time.getTime() >= since);
  if (tailLines !== undefined) lines = tailLines === 0 ? [] : lines.slice(-tailLines);
  let budget = limitBytes ?? Infinity;
  const write = (text: string): boolean => {
    if (budget <= 0) return false;
    const bytes = Buffer.from(text);
    const part = bytes.length > budget ? bytes.subarray(0, budget) : bytes;
    budget -= part.length;
    res.write(part);
    return budget > 0;
  };
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private' });
  for (const l of lines) if (!write(format(l))) return void res.end();
  if (!queryFlag(query, 'follow')) return void res.end();
  let finished = false;
  const unsubscribe = source.follow((line) => {
    if (finished || (line && write(format(line)))) return;
    finished = true;
    res.end();
  });
  if (finished) unsubscribe();
  res.on('close', unsubscribe);
  res.on('finish', unsubscribe);
}
