import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import type { KubeConfig } from '@kubernetes/client-node';
import { z } from 'zod';
import type { Permission } from '../cluster/rbac.js';
import { rawRequest, serviceProxyPath, serviceProxyPermission } from '../cluster/raw-request.js';
import { Duration } from '../core/duration.js';
import { durationSchema, rateSchema } from '../spec/value-schemas.js';
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
    headers: z.record(z.string(), z.string(), { error: 'headers map names to strings, like { accept: text/html }' }).optional().describe('request headers, like { authorization: Bearer … }'),
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

/** What came back: the status, and the pod that answered when the response names it. */
interface Answer {
  readonly status: number;
  readonly pod?: string;
}

/** What one request sends; resolves with the answer, rejects with the transport's error. */
type Send = (signal: AbortSignal) => Promise<Answer>;

interface RequestOptions {
  readonly method: string;
  /** Lower-case name of the response header that names the serving pod. */
  readonly podHeader: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly maxSockets: number;
}

/** A request waiting for its answer; deadlines grow with the schedule, so they form a queue. */
interface Pending {
  readonly controller: AbortController;
  readonly deadline: number;
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
    const request: RequestOptions = { method: p.method ?? 'GET', podHeader: (p.podHeader ?? 'x-pod-name').toLowerCase(), headers: p.headers ?? {}, ...(p.body !== undefined ? { body: p.body } : {}), maxSockets: maxInFlight };
    const send = p.url ? urlSender(p.url, request) : serviceSender(ctx.cluster.kubeConfig, p.service!, p.path ?? '/', request);
    return new OpenModelLoad(ctx, send, { shape, shaped: p.rate instanceof LoadShape, timeoutMs, maxInFlight, ok: statusCheck(p.expectStatus) }).start();
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
  private markDrained!: () => void;
  private readonly drained = new Promise<void>((resolve) => (this.markDrained = resolve));

  constructor(
    private readonly ctx: ProbeContext,
    private readonly send: Send,
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
    const s = this.summary();
    const errors = Object.entries(s.errors).map(([kind, n]) => `${kind} ${n}`).join(', ');
    this.ctx.log(`${s.scheduled} requests, ${s.ok} ok${errors ? `, ${errors}` : ''}; latency ${this.latency.format()}; schedule lag p99 ${s.scheduleLag.p99}ms max ${s.scheduleLag.max}ms`);
  }

  private summary(): HttpProbeSummary {
    return { scheduled: this.schedule.taken, ok: this.okCount, errors: { ...this.errors }, latency: this.latency.summary(), scheduleLag: this.lag.summary() };
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
    this.lag.record(performance.now() - at);
    const entry: Pending = { controller: new AbortController(), deadline: at + this.options.timeoutMs, settled: false, timedOut: false };
    this.pending.push(entry);
    this.inFlight++;
    this.send(entry.controller.signal).then(
      (answer) => this.settle(entry, at, t, answer, undefined),
      (err: unknown) => this.settle(entry, at, t, undefined, err),
    );
  }

  private settle(entry: Pending, at: number, t: number, answer: Answer | undefined, err: unknown): void {
    entry.settled = true;
    this.inFlight--;
    const latencyMs = Math.round((performance.now() - at) * 1000) / 1000;
    this.latency.record(latencyMs);
    const status = answer?.status;
    const offered = this.offered(t);
    const detail = answer ? { status: answer.status, ...(answer.pod !== undefined ? { pod: answer.pod } : {}), ...offered } : this.options.shaped ? offered : undefined;
    if (status !== undefined && !entry.timedOut && this.options.ok(status)) {
      this.okCount++;
      this.ctx.emit({ t, ok: true, latencyMs, detail });
    } else {
      const error = entry.timedOut ? 'timeout' : status !== undefined ? `status-${status}` : errorKind(err);
      this.count(error);
      this.ctx.emit({ t, ok: false, latencyMs, error, ...(detail ? { detail } : {}) });
    }
    if (this.stopping && this.inFlight === 0) this.loop();
  }

  /** Aborts requests past their deadline; answered ones are dropped from the front of the queue. */
  private expire(now: number): void {
    while (this.head < this.pending.length) {
      const entry = this.pending[this.head]!;
      if (!entry.settled) {
        if (entry.deadline > now) break;
        entry.timedOut = true;
        entry.controller.abort();
      }
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.pending.length) {
      this.pending.splice(0, this.head);
      this.head = 0;
    }
  }

  private offered(t: number): { offeredRate?: number } {
    return this.options.shaped ? { offeredRate: Math.round(this.schedule.offeredRateAt(t) * 100) / 100 } : {};
  }

  private count(error: string): void {
    this.errors[error] = (this.errors[error] ?? 0) + 1;
  }
}

function statusCheck(expect: readonly number[] | undefined): (status: number) => boolean {
  return expect ? (status) => expect.includes(status) : (status) => status >= 200 && status < 400;
}

function urlSender(url: string, options: RequestOptions): Send {
  const target = new URL(url);
  const mod = target.protocol === 'https:' ? https : http;
  // As many sockets as requests may be in flight: the agent must never queue a request silently.
  // Free sockets are kept as many, or a burst's sockets would be closed and reconnected after it.
  const agent = new mod.Agent({ keepAlive: true, maxSockets: options.maxSockets, maxFreeSockets: options.maxSockets });
  const headers: http.OutgoingHttpHeaders = { ...options.headers };
  if (options.body !== undefined) headers['content-length'] = Buffer.byteLength(options.body);
  return (signal) =>
    new Promise<Answer>((resolve, reject) => {
      const req = mod.request(target, { method: options.method, headers, agent, signal }, (res) => {
        res.resume();
        res.on('end', () => resolve(answerOf(res.statusCode ?? 0, res.headers, options.podHeader)));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(options.body);
    });
}

/** `shop/web:80` → its parts (the schema has checked the form). */
function parseService(service: string): { namespace: string; name: string; port: string } {
  const [namespace, rest] = service.split('/') as [string, string];
  const [name, port] = rest.split(':') as [string, string];
  return { namespace, name, port };
}

function serviceSender(kubeConfig: KubeConfig, service: string, path: string, options: RequestOptions): Send {
  const { namespace, name, port } = parseService(service);
  const proxyPath = serviceProxyPath(namespace, name, port, path);
  return async (signal) => {
    const res = await rawRequest(kubeConfig, proxyPath, { method: options.method, headers: options.headers, ...(options.body !== undefined ? { body: options.body, contentType: options.headers['content-type'] ?? 'text/plain' } : {}), signal });
    return answerOf(res.status, res.headers, options.podHeader);
  };
}

function answerOf(status: number, headers: http.IncomingHttpHeaders, podHeader: string): Answer {
  const named = headers[podHeader];
  const pod = Array.isArray(named) ? named[0] : named;
  return pod ? { status, pod } : { status };
}
