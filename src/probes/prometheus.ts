import { z } from 'zod';
import { Duration } from '../core/duration.js';
import type { Sample } from '../core/sample.js';
import { positiveDurationSchema } from '../spec/value-schemas.js';
import type { ProbePlugin } from './probe.js';
import { repeatEvery } from './shared/repeat-every.js';

const params = z.strictObject({
  url: z
    .url({ protocol: /^https?$/, error: 'write the Prometheus server as an http(s) URL, like http://127.0.0.1:9090' })
    .describe("the Prometheus server's base URL (its HTTP API is under /api/v1), like http://127.0.0.1:9090"),
  query: z.string({ error: 'write the PromQL query as text' }).trim().min(1, { error: 'the query is empty' }).describe('a PromQL instant query that returns one number: a scalar, or a vector of one series (aggregate with sum(), max()…)'),
  every: positiveDurationSchema.optional().describe('how often to run the query; a query still running delays the next. @default 5s'),
  timeout: positiveDurationSchema.optional().describe('a query taking longer is abandoned and counts as failed (error "timeout"). @default 5s'),
  headers: z.record(z.string(), z.string(), { error: 'headers map names to strings, like { authorization: Bearer … }' }).optional().describe('request headers, like { authorization: Bearer … }'),
});
export type PrometheusProbeParams = z.output<typeof params>;

/** How one query went: its value, or the short error kind and what Prometheus or the transport said. */
type QueryOutcome = { readonly value: number; readonly labels?: Readonly<Record<string, string>> } | { readonly error: string; readonly message: string };

/**
 * Runs a PromQL instant query (`GET /api/v1/query`) on a schedule; each answer is a sample whose
 * `value` is the query's number at that instant, for `prom(<probe>)` checks. Anything else is a
 * failed sample and never a value: Prometheus refusing the query (`bad_data`, `execution`… as its
 * `errorType` says), a server that does not answer (`unreachable`, `timeout`), and a query with
 * nothing to measure (`no-data` for an empty vector, `not-a-number` for NaN, `many-series`).
 */
export const prometheusProbe: ProbePlugin<PrometheusProbeParams> = {
  kind: 'prometheus',
  summary: 'run a PromQL query on a schedule; its value becomes a sample for prom() checks',
  params,

  async start(ctx, p) {
    const every = (p.every ?? Duration.seconds(5)).ms;
    const timeoutMs = (p.timeout ?? Duration.seconds(5)).ms;
    const endpoint = new URL('api/v1/query', p.url.endsWith('/') ? p.url : `${p.url}/`);
    let lastError: string | undefined;

    const once = async (): Promise<void> => {
      const t = Date.now();
      const outcome = await instantQuery(endpoint, p.query, t, timeoutMs, p.headers ?? {}, ctx.signal);
      // How long the query took is evidence, not a latency to chart: the report charts the value.
      const queryMs = Date.now() - t;
      let sample: Omit<Sample, 'probe'>;
      if ('error' in outcome) {
        sample = { t, ok: false, error: outcome.error, detail: { message: outcome.message, queryMs } };
        // Say it once when it starts, not at every query: a bad query fails the same way each time.
        if (outcome.message !== lastError) ctx.log(`query failed (${outcome.error}): ${outcome.message}`);
        lastError = outcome.message;
      } else {
        sample = { t, ok: true, value: outcome.value, detail: { queryMs, ...(outcome.labels ? { labels: outcome.labels } : {}) } };
        lastError = undefined;
      }
      ctx.emit(sample);
    };
    return repeatEvery(every, once, (err) => ctx.fail?.(err));
  },
};

/** Prometheus's answer envelope (https://prometheus.io/docs/prometheus/latest/querying/api/#format-overview). */
interface ApiResponse {
  readonly status?: string;
  readonly errorType?: string;
  readonly error?: string;
  readonly data?: { readonly resultType?: string; readonly result?: unknown };
}

type SeriesSample = { readonly metric?: Record<string, string>; readonly value?: [number, string] };

async function instantQuery(endpoint: URL, query: string, t: number, timeoutMs: number, headers: Readonly<Record<string, string>>, stop: AbortSignal): Promise<QueryOutcome> {
  const url = new URL(endpoint);
  url.searchParams.set('query', query);
  url.searchParams.set('time', (t / 1000).toFixed(3));
  const deadline = AbortSignal.timeout(timeoutMs);
  let status: number;
  let text: string;
  try {
    const res = await fetch(url, { headers: { accept: 'application/json', ...headers }, signal: AbortSignal.any([deadline, stop]) });
    status = res.status;
    text = await res.text();
  } catch (err) {
    if (deadline.aborted) return { error: 'timeout', message: `no answer from ${endpoint.origin} within ${timeoutMs} ms` };
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return { error: 'unreachable', message: `cannot reach ${endpoint.origin}: ${cause?.code ?? cause?.message ?? (err as Error).message}` };
  }
  let body: ApiResponse;
  try {
    body = JSON.parse(text) as ApiResponse;
  } catch {
    return { error: `status-${status}`, message: `${endpoint.href} answered ${status} with something other than Prometheus's JSON: ${text.slice(0, 200)}` };
  }
  if (body.status !== 'success') {
    return { error: body.errorType ?? `status-${status}`, message: body.error ?? `${endpoint.href} answered ${status}` };
  }
  return valueOf(body.data?.resultType, body.data?.result);
}

function valueOf(resultType: string | undefined, result: unknown): QueryOutcome {
  if (resultType === 'scalar') return numberOf((result as [number, string])[1]);
  if (resultType !== 'vector') {
    return { error: 'not-a-number', message: `the query returned a ${resultType ?? 'result of no type'}; write an instant query that returns a number (a range selector like [5m] needs rate() or similar around it)` };
  }
  const series = result as SeriesSample[];
  if (series.length === 0) return { error: 'no-data', message: 'the query returned no series (nothing scraped yet, or no series matches its selectors)' };
  if (series.length > 1) {
    return { error: 'many-series', message: `the query returned ${series.length} series; aggregate it to one, like max(…) or sum(…)` };
  }
  const outcome = numberOf(series[0]!.value?.[1]);
  const labels = series[0]!.metric ?? {};
  return 'value' in outcome && Object.keys(labels).length > 0 ? { ...outcome, labels } : outcome;
}

/** Prometheus writes sample values as strings: `"0.25"`, `"NaN"`, `"+Inf"`. */
function numberOf(text: string | undefined): QueryOutcome {
  const value = text === '+Inf' ? Infinity : text === '-Inf' ? -Infinity : Number(text);
  if (text === undefined || Number.isNaN(value)) return { error: 'not-a-number', message: `the query's value is ${text ?? 'missing'} (a ratio over no requests is NaN)` };
  return { value };
}
