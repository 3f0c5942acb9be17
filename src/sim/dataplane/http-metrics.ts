/** client_golang's `prometheus.DefBuckets`, in seconds: what an instrumented Go service exposes by default. */
export const DURATION_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The media type of the Prometheus text exposition format that Prometheus asks for and parses. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

interface Series {
  readonly method: string;
  readonly code: string;
  count: number;
  sum: number;
  /** Per bucket (not cumulative): observations at most `DURATION_BUCKETS[i]` and above the one before. */
  readonly buckets: number[];
}

/**
 * One container process's HTTP instrumentation, as promhttp's `InstrumentHandlerCounter`,
 * `InstrumentHandlerDuration` and `InstrumentHandlerInFlight` record it: requests by status code
 * and lower-case method, their duration in a histogram, and requests being served. A restarted
 * container starts from zero, as a restarted process does; Prometheus's `rate()` reads that as a
 * counter reset.
 */
export class HttpMetrics {
  /** Made on the first request: most pods of a large cluster never serve one. */
  private series: Map<string, Series> | undefined;
  private inFlight = 0;

  constructor(private readonly startedAtMs: number = Date.now()) {}

  /**
   * A request began. Call the returned function once when it ends: with the status it was
   * answered with, or with undefined when it got no answer (the connection reset), which promhttp
   * never sees as a response and so does not count.
   */
  begin(method: string): (status: number | undefined) => void {
    const started = performance.now();
    this.inFlight++;
    let done = false;
    return (status) => {
      if (done) return;
      done = true;
      this.inFlight--;
      if (status !== undefined) this.observe(method, status, (performance.now() - started) / 1000);
    };
  }

  private observe(method: string, status: number, seconds: number): void {
    const m = sanitizeMethod(method);
    const code = String(status);
    const key = `${m} ${code}`;
    this.series ??= new Map();
    let s = this.series.get(key);
    if (!s) {
      s = { method: m, code, count: 0, sum: 0, buckets: new Array<number>(DURATION_BUCKETS.length).fill(0) };
      this.series.set(key, s);
    }
    s.count++;
    s.sum += seconds;
    const bucket = DURATION_BUCKETS.findIndex((le) => seconds <= le);
    if (bucket >= 0) s.buckets[bucket]!++;
  }

  /** The text exposition format, version 0.0.4, series sorted by their labels. */
  exposition(): string {
    const series = [...(this.series?.values() ?? [])].sort((a, b) => a.method.localeCompare(b.method) || a.code.localeCompare(b.code));
    const lines: string[] = [];
    const family = (name: string, type: string, help: string): void => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    };
    family('http_requests_total', 'counter', 'Total number of HTTP requests by status code and method.');
    for (const s of series) lines.push(`http_requests_total${labels({ code: s.code, method: s.method })} ${s.count}`);
    family('http_request_duration_seconds', 'histogram', 'A histogram of latencies for requests.');
    for (const s of series) {
      let cumulative = 0;
      DURATION_BUCKETS.forEach((le, i) => {
        cumulative += s.buckets[i]!;
        lines.push(`http_request_duration_seconds_bucket${labels({ code: s.code, method: s.method, le: formatFloat(le) })} ${cumulative}`);
      });
      lines.push(`http_request_duration_seconds_bucket${labels({ code: s.code, method: s.method, le: '+Inf' })} ${s.count}`);
      lines.push(`http_request_duration_seconds_sum${labels({ code: s.code, method: s.method })} ${formatFloat(s.sum)}`);
      lines.push(`http_request_duration_seconds_count${labels({ code: s.code, method: s.method })} ${s.count}`);
    }
    family('http_requests_in_flight', 'gauge', 'A gauge of requests currently being served.');
    lines.push(`http_requests_in_flight ${this.inFlight}`);
    family('process_start_time_seconds', 'gauge', 'Start time of the process since unix epoch in seconds.');
    lines.push(`process_start_time_seconds ${formatFloat(this.startedAtMs / 1000)}`);
    return lines.join('\n') + '\n';
  }
}

const KNOWN_METHODS = new Set(['get', 'put', 'head', 'post', 'delete', 'connect', 'options', 'notify', 'trace', 'patch']);

/** promhttp's `sanitizeMethod`: a known method lower-case, anything else `unknown`, so clients cannot grow the label set. */
function sanitizeMethod(method: string): string {
  const lower = method.toLowerCase();
  return KNOWN_METHODS.has(lower) ? lower : 'unknown';
}

function labels(pairs: Readonly<Record<string, string>>): string {
  return `{${Object.entries(pairs)
    .map(([k, v]) => `${k}="${escapeLabelValue(v)}"`)
    .join(',')}}`;
}

/** Label values escape backslash, double quote and line feed; nothing else. */
function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}
