import { type IncomingHttpHeaders, validateHeaderName, validateHeaderValue } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { KubeConfig } from '@kubernetes/client-node';
import { z } from 'zod';
import type { Permission } from '../cluster/rbac.js';
import { rawRequest, serviceProxyPath, serviceProxyPermission } from '../cluster/raw-request.js';
import { Duration } from '../core/duration.js';
import { durationSchema, rateSchema } from '../spec/value-schemas.js';
import { KeepAliveClient, type Exchange, type Settle } from './http/keep-alive-client.js';
import type { ResponseHead } from './http/response-parser.js';
import { errorKind } from './shared/error-kind.js';
import { LatencyHistogram, type LatencySummary } from './shared/latency-histogram.js';
import { LoadShape, loadShapeSchema } from './shared/load-shape.js';
import { OpenModelSchedule } from './shared/open-model-schedule.js';
import type { ProbeContext, ProbePlugin, RunningProbe } from './probe.js';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
const MAX_IN_FLIGHT_CEILING = 4096;

const params = z
  .strictObject({
    url: z.url({ error: 'write an absolute URL like http://localhost:30080/healthz' }).optional().describe('absolute URL to request (for example a NodePort on localhost)'),
    service: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9]*[a-z0-9])?:[A-Za-z0-9-]+$/, 'write the service as namespace/name:port, like shop/web:80')
      .optional()
      .describe("namespace/name:port, reached through the API server's service proxy (works on every cluster)"),
    path: z.string().startsWith('/', 'a path starts with /, like /healthz').optional().describe('request path with a service target. @default /'),
    method: z.enum(METHODS, { error: `the method is one of ${METHODS.join(', ')}` }).optional().describe('@default GET'),
    headers: z
      .record(z.string(), z.string(), { error: 'headers map names to strings, like { accept: text/html }' })
      .superRefine((headers, ctx) => {
        for (const [name, value] of Object.entries(headers)) {
          const problem = headerProblem(name, value);
          if (problem) ctx.addIssue({ code: 'custom', message: problem, path: [name] });
        }
      })
      .optional()
      .describe('request headers, like { authorization: Bearer … }'),
    body: z.string().optional().describe('request body, sent with every request (POST, PUT, PATCH)'),
    rate: z
      .union([rateSchema, loadShapeSchema], {
        // Say what is wrong with the form the value has, not that it is neither form.
        error: (iss) => {
          const branches = (iss as { errors?: { message: string }[][] }).errors;
          return iss.input === undefined ? undefined : branches?.[Array.isArray(iss.input) ? 1 : 0]?.[0]?.message;
        },
      })
      .optional()
      .describe(
        'arrival rate, like 50/s, or a load shape of steps and ramps, like [20/s, ramp 400/s over 60s, hold 2m, 20/s] (the last rate holds until the probe stops); requests start on schedule whether or not earlier ones returned. @default 10/s',
      ),
    timeout: durationSchema.optional().describe('per-request timeout, counted from the scheduled start. @default 1s'),
    expectStatus: z.array(z.number().int().min(100).max(599)).optional().describe('statuses that count as success. @default any 2xx or 3xx'),
    maxInFlight: z
      .number({ error: 'maxInFlight is a whole number of requests, like 500' })
      .int()
      .min(1)
      .max(MAX_IN_FLIGHT_CEILING)
      .optional()
      .describe(`safety cap on requests waiting for an answer; a request due beyond it is a failed sample (error overload), never queued. @default twice rate × timeout, at most ${MAX_IN_FLIGHT_CEILING}`),
    podHeader: z
      .string()
      .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'write a header name, like x-pod-name')
      .optional()
      .describe(
        "response header naming the pod that answered (its name or its IP), kept in each sample's detail.pod so readiness() can tell which pod failed a request. Many services send none: then readiness() attributes failures by time. @default x-pod-name",
      ),
  })
  .refine((p) => (p.url === undefined) !== (p.service === undefined), { message: 'give exactly one of url or service' })
  .refine((p) => p.url === undefined || p.path === undefined, { message: 'path goes with service; with url, put the path in the url', path: ['path'] })
  .refine((p) => p.body === undefined || !['GET', 'HEAD', undefined].includes(p.method), { message: 'a body needs a method that sends one: POST, PUT or PATCH', path: ['body'] });
export type HttpProbeParams = z.output<typeof params>;

/** What one request sends; `settle` hears once how it ended. */
interface Transport {
  send(settle: Settle): Exchange;
  /** The probe has stopped and nothing is in flight: let go of idle connections. */
  close(): void;
}

interface RequestOptions {
  readonly method: string;
  /** Lower-case name of the response header that names the serving pod. */
  readonly podHeader: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** A request waiting for its answer; deadlines grow with the schedule, so they form a queue. */
interface Pending {
  readonly at: number;
  readonly t: number;
  readonly deadline: number;
  exchange: Exchange | undefined;
  settled: boolean;
  timedOut: boolean;
}

export interface HttpProbeSummary {
  /** Requests the schedule called for (answered, failed and overloaded alike). */
  readonly scheduled: number;
  readonly ok: number;
  /** Failed samples by error kind: `timeout`, `refused`, `status-503`, `overload`… */
  readonly errors: Readonly<Record<string, number>>;
  /** Latency from the scheduled start of every request that was sent. */
  readonly latency: LatencySummary;
  /** How late each request left against its scheduled start: the harness's own lag. */
  readonly scheduleLag: LatencySummary;
}

export interface RunningHttpProbe extends RunningProbe {
  summary(): HttpProbeSummary;
}

/**
 * Open-model HTTP load: request i starts at start + i/rate, whatever happened to request i−1, and
 * its latency is measured from that scheduled moment, so a stalled service (or a stalled event
 * loop) shows up as latency and timeouts rather than as fewer samples (no coordinated omission).
 */
export const httpProbe = {
  kind: 'http',
  summary: 'open-model HTTP requests at a fixed rate or in a load shape (steps and ramps) to a URL or a service (through the API server proxy)',
  params,

  permissions(p: HttpProbeParams): Permission[] {
    if (p.service === undefined) return [];
    const { namespace, name, port } = parseService(p.service);
    return [serviceProxyPermission(`http probe: ${p.method ?? 'GET'} requests to ${p.service} through the service proxy`, namespace, name, port, p.method)];
  },

  async start(ctx: ProbeContext, p: HttpProbeParams): Promise<RunningHttpProbe> {
    const shape = p.rate instanceof LoadShape ? p.rate : LoadShape.constant(p.rate ?? 10);
    const timeoutMs = (p.timeout ?? Duration.seconds(1)).ms;
    const maxInFlight = p.maxInFlight ?? Math.min(MAX_IN_FLIGHT_CEILING, Math.max(16, Math.ceil((2 * shape.peakPerSecond * timeoutMs) / 1000)));
    const request: RequestOptions = { method: p.method ?? 'GET', podHeader: (p.podHeader ?? 'x-pod-name').toLowerCase(), headers: p.headers ?? {}, ...(p.body !== undefined ? { body: p.body } : {}) };
    const transport = p.url ? new KeepAliveClient(new URL(p.url), request) : serviceTransport(ctx.cluster.kubeConfig, p.service!, p.path ?? '/', request);
    return new OpenModelLoad(ctx, transport, { shape, shaped: p.rate instanceof LoadShape, timeoutMs, maxInFlight, ok: statusCheck(p.expectStatus) }).start();
  },
} satisfies ProbePlugin<HttpProbeParams>;

interface LoadOptions {
  readonly shape: LoadShape;
  /** Whether the rate changes over time: then each sample carries the offered rate (`detail.offeredRate`, per second), for the report to set beside replicas. */
  readonly shaped: boolean;
  readonly timeoutMs: number;
  readonly maxInFlight: number;
  readonly ok: (status: number) => boolean;
}

class OpenModelLoad {
  private readonly latency = new LatencyHistogram();
  private readonly lag = new LatencyHistogram();
  private readonly errors: Record<string, number> = {};
  private readonly pending: Pending[] = [];
  private head = 0;
  private inFlight = 0;
  private okCount = 0;
  private schedule!: OpenModelSchedule;
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  /** The summary once every request has settled: percentiles cost a walk of both histograms. */
  private final: HttpProbeSummary | undefined;
  private markDrained!: () => void;
  private readonly drained = new Promise<void>((resolve) => (this.markDrained = resolve));

  constructor(
    private readonly ctx: ProbeContext,
    private readonly transport: Transport,
    private readonly options: LoadOptions,
  ) {}

  start(): RunningHttpProbe {
    this.schedule = new OpenModelSchedule(this.options.shape);
    this.ctx.signal.addEventListener('abort', () => this.beginStop(), { once: true });
    this.loop();
    return {
      stop: () => this.stop(),
      summary: () => this.summary(),
    };
  }

  private async stop(): Promise<void> {
    this.beginStop();
    await this.drained;
    const s = (this.final = this.summary());
    const errors = Object.entries(s.errors).map(([kind, n]) => `${kind} ${n}`).join(', ');
    this.ctx.log(`${s.scheduled} requests, ${s.ok} ok${errors ? `, ${errors}` : ''}; latency ${this.latency.format()}; schedule lag p99 ${s.scheduleLag.p99}ms max ${s.scheduleLag.max}ms`);
  }

  private summary(): HttpProbeSummary {
    return this.final ?? { scheduled: this.schedule.taken, ok: this.okCount, errors: { ...this.errors }, latency: this.latency.summary(), scheduleLag: this.lag.summary() };
  }

  private beginStop(): void {
    if (this.stopping) return;
    // Requests already due were owed before the stop, even if a busy event loop kept them back.
    this.schedule.takeDue(performance.now(), (at, t) => this.fire(at, t));
    this.stopping = true;
    clearTimeout(this.timer);
    this.loop();
  }

  /**
   * One tick: fire every request whose time has come, time out the overdue ones, and sleep until
   * the next of either. Batching on the tick keeps 2,000 requests/s accurate with ~1 ms timers.
   */
  private loop(): void {
    this.timer = undefined;
    const now = performance.now();
    if (!this.stopping) this.schedule.takeDue(now, (at, t) => this.fire(at, t));
    this.expire(now);
    if (this.stopping && this.inFlight === 0) {
      this.transport.close();
      this.markDrained();
      return;
    }
    const oldest = this.pending[this.head];
    const wakeAt = Math.min(this.stopping ? Infinity : this.schedule.nextAt, oldest ? oldest.deadline : Infinity);
    if (wakeAt !== Infinity) this.timer = setTimeout(() => this.loop(), Math.max(0, wakeAt - performance.now()));
  }

  private fire(at: number, t: number): void {
    if (this.inFlight >= this.options.maxInFlight) {
      this.count('overload');
      this.ctx.emit({ t, ok: false, error: 'overload', detail: { inFlight: this.inFlight, ...this.offered(t) } });
      return;
    }
    const entry: Pending = { at, t, deadline: at + this.options.timeoutMs, exchange: undefined, settled: false, timedOut: false };
    this.pending.push(entry);
    this.inFlight++;
    this.lag.record(performance.now() - at);
    entry.exchange = this.transport.send((answer, err) => this.settle(entry, answer, err));
  }

  private settle(entry: Pending, answer: ResponseHead | undefined, err: unknown): void {
    entry.settled = true;
    entry.exchange = undefined;
    this.inFlight--;
    const t = entry.t;
    const latencyMs = Math.round((performance.now() - entry.at) * 1000) / 1000;
    this.latency.record(latencyMs);
    const detail = answer ? this.answerDetail(answer, t) : this.options.shaped ? this.offered(t) : undefined;
    if (answer !== undefined && !entry.timedOut && this.options.ok(answer.status)) {
      this.okCount++;
      this.ctx.emit({ t, ok: true, latencyMs, detail });
    } else {
      const error = entry.timedOut ? 'timeout' : answer !== undefined ? `status-${answer.status}` : errorKind(err);
      this.count(error);
      this.ctx.emit(detail ? { t, ok: false, latencyMs, error, detail } : { t, ok: false, latencyMs, error });
    }
    if (this.stopping && this.inFlight === 0) this.loop();
  }

  private answerDetail(answer: ResponseHead, t: number): Record<string, unknown> {
    const detail: { status: number; pod?: string; offeredRate?: number } = { status: answer.status };
    if (answer.pod !== undefined) detail.pod = answer.pod;
    if (this.options.shaped) detail.offeredRate = this.offeredRate(t);
    return detail;
  }

  /** Aborts requests past their deadline; answered ones are dropped from the front of the queue. */
  private expire(now: number): void {
    while (this.head < this.pending.length) {
      const entry = this.pending[this.head]!;
      if (!entry.settled) {
        if (entry.deadline > now) break;
        entry.timedOut = true;
        entry.exchange?.cancel();
      }
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.pending.length) {
      this.pending.splice(0, this.head);
      this.head = 0;
    }
  }

  private offered(t: number): { offeredRate?: number } {
    return this.options.shaped ? { offeredRate: this.offeredRate(t) } : {};
  }

  private offeredRate(t: number): number {
    return Math.round(this.schedule.offeredRateAt(t) * 100) / 100;
  }

  private count(error: string): void {
    this.errors[error] = (this.errors[error] ?? 0) + 1;
  }
}

function statusCheck(expect: readonly number[] | undefined): (status: number) => boolean {
  return expect ? (status) => expect.includes(status) : (status) => status >= 200 && status < 400;
}

/** `shop/web:80` → its parts (the schema has checked the form). */
function parseService(service: string): { namespace: string; name: string; port: string } {
  const [namespace, rest] = service.split('/') as [string, string];
  const [name, port] = rest.split(':') as [string, string];
  return { namespace, name, port };
}

/** Requests through the API server's service proxy, with the cluster's own credentials and client. */
function serviceTransport(kubeConfig: KubeConfig, service: string, path: string, options: RequestOptions): Transport {
  const { namespace, name, port } = parseService(service);
  const proxyPath = serviceProxyPath(namespace, name, port, path);
  const body = options.body !== undefined ? { body: options.body, contentType: options.headers['content-type'] ?? 'text/plain' } : {};
  return {
    send(settle) {
      const controller = new AbortController();
      rawRequest(kubeConfig, proxyPath, { method: options.method, headers: options.headers, ...body, signal: controller.signal }).then(
        (res) => settle(answerOf(res.status, res.headers, options.podHeader), undefined),
        (err: unknown) => settle(undefined, err as Error),
      );
      return { cancel: () => controller.abort() };
    },
    close: () => undefined,
  };
}

/** Why a header cannot be sent, in node:http's words, or undefined when it can. */
function headerProblem(name: string, value: string): string | undefined {
  try {
    validateHeaderName(name);
    validateHeaderValue(name, value);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

function answerOf(status: number, headers: IncomingHttpHeaders, podHeader: string): ResponseHead {
  const named = headers[podHeader];
  const pod = Array.isArray(named) ? named[0] : named;
  return pod ? { status, pod } : { status };
}
