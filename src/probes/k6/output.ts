import type { Sample } from '../../core/sample.js';

type Observation = Omit<Sample, 'probe'>;

interface K6Point {
  readonly type?: string;
  readonly metric?: string;
  readonly data?: { readonly time?: string; readonly value?: number; readonly tags?: Readonly<Record<string, string>> };
}

interface PendingRequest {
  readonly end: number;
  readonly latencyMs: number;
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * Turns the lines k6 writes with `--out json` into samples: one per HTTP request (latency from
 * `http_req_duration`, success from `http_req_failed`, which k6 emits for the same request with
 * the same time and tags) and one per `check()`. k6 stamps request metrics when the request
 * ended; a sample is stamped when it started, like the http probe's. Anything else — other
 * metrics, metric declarations, log lines mixed into a pod's log — is skipped.
 */
export class K6OutputParser {
  private readonly pending = new Map<string, PendingRequest>();

  /** The samples this line completes (usually none or one). */
  feed(line: string): Observation[] {
    const point = parsePoint(line);
    if (!point) return [];
    const { metric, data } = point;
    const end = timeOf(data.time);
    if (end === undefined) return [];
    const tags = data.tags ?? {};
    switch (metric) {
      case 'http_req_duration':
        this.pending.set(requestKey(data.time!, tags), { end, latencyMs: data.value ?? 0, tags });
        return [];
      case 'http_req_failed': {
        const key = requestKey(data.time!, tags);
        const request = this.pending.get(key) ?? { end, latencyMs: 0, tags };
        this.pending.delete(key);
        return [requestSample(request, data.value === 0)];
      }
      case 'checks': {
        const ok = data.value === 1;
        const detail = { kind: 'check', check: tags.check ?? '', ...(tags.group ? { group: tags.group } : {}) };
        return [ok ? { t: end, ok, detail } : { t: end, ok, error: 'check-failed', detail }];
      }
      default:
        return [];
    }
  }

  /** Requests whose `http_req_failed` never came (k6 before v0.31 has no such metric): judged by status. */
  flush(): Observation[] {
    const out = [...this.pending.values()].map((r) => requestSample(r, r.tags.expected_response ? r.tags.expected_response === 'true' : okStatus(r.tags.status)));
    this.pending.clear();
    return out;
  }
}

function parsePoint(line: string): (K6Point & { metric: string; data: NonNullable<K6Point['data']> }) | undefined {
  const text = line.trim();
  if (!text.startsWith('{')) return undefined;
  let parsed: K6Point;
  try {
    parsed = JSON.parse(text) as K6Point;
  } catch {
    return undefined;
  }
  if (parsed.type !== 'Point' || typeof parsed.metric !== 'string' || !parsed.data) return undefined;
  return parsed as K6Point & { metric: string; data: NonNullable<K6Point['data']> };
}

/** k6 writes RFC 3339 with nanoseconds; Date.parse keeps the milliseconds. */
function timeOf(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const t = Date.parse(text);
  return Number.isFinite(t) ? t : undefined;
}

function requestKey(time: string, tags: Readonly<Record<string, string>>): string {
  return `${time}|${tags.method ?? ''}|${tags.url ?? tags.name ?? ''}|${tags.scenario ?? ''}|${tags.vu ?? ''}`;
}

function okStatus(status: string | undefined): boolean {
  const n = Number(status);
  return n >= 200 && n < 400;
}

function requestSample(r: PendingRequest, ok: boolean): Observation {
  const status = Number(r.tags.status ?? 0);
  const detail = { kind: 'request', method: r.tags.method ?? '', name: r.tags.name ?? r.tags.url ?? '', status, ...(r.tags.scenario ? { scenario: r.tags.scenario } : {}) };
  const t = Math.round(r.end - r.latencyMs);
  if (ok) return { t, ok, latencyMs: r.latencyMs, detail };
  const error = status === 0 ? (r.tags.error_code ? `k6-error-${r.tags.error_code}` : 'error') : `status-${status}`;
  return { t, ok, latencyMs: r.latencyMs, error, detail };
}
