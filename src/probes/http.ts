import http from 'node:http';
import https from 'node:https';
import { z } from 'zod';
import { Duration } from '../core/duration.js';
import { rawRequest, serviceProxyPath } from '../cluster/raw-request.js';
import { durationSchema, rateSchema } from '../spec/value-schemas.js';
import type { ProbePlugin } from './probe.js';

const params = z
  .strictObject({
    url: z.url().optional().describe('absolute URL to request (for example a NodePort on localhost)'),
    service: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9]*[a-z0-9])?:[A-Za-z0-9-]+$/, 'write the service as namespace/name:port, like shop/web:80')
      .optional()
      .describe("namespace/name:port, reached through the API server's service proxy (works on every cluster)"),
    path: z.string().startsWith('/').optional().describe('request path with a service target. @default /'),
    method: z.enum(['GET', 'HEAD', 'POST']).optional().describe('@default GET'),
    rate: rateSchema.optional().describe('arrival rate, like 50/s; requests start on schedule whether or not earlier ones returned. @default 10/s'),
    timeout: durationSchema.optional().describe('per-request timeout. @default 1s'),
    expectStatus: z.array(z.number().int().min(100).max(599)).optional().describe('statuses that count as success. @default any 2xx or 3xx'),
  })
  .refine((p) => (p.url === undefined) !== (p.service === undefined), { message: 'give exactly one of url or service' });
type Params = z.output<typeof params>;

type Send = (signal: AbortSignal) => Promise<number>;

/**
 * Open-model HTTP load: request i starts at start + i/rate, whatever happened to request i−1, and
 * its latency is measured from that scheduled moment, so a stalled service shows up as latency
 * and timeouts rather than as fewer samples (no coordinated omission).
 */
export const httpProbe: ProbePlugin<Params> = {
  kind: 'http',
  summary: 'open-model HTTP requests at a fixed rate to a URL or a service (through the API server proxy)',
  params,

  async start(ctx, p) {
    const perSecond = p.rate ?? 10;
    const timeout = p.timeout ?? Duration.seconds(1);
    const send = p.url ? urlSender(p.url, p.method ?? 'GET') : serviceSender(ctx.cluster.kubeConfig, p.service!, p.path ?? '/', p.method ?? 'GET');
    const ok = (status: number): boolean => (p.expectStatus ? p.expectStatus.includes(status) : status >= 200 && status < 400);
    const intervalMs = 1000 / perSecond;
    const startedAt = Date.now();
    const inFlight = new Set<Promise<void>>();
    let issued = 0;
    let stopped = false;

    const fire = (scheduled: number): void => {
      const signal = AbortSignal.timeout(timeout.ms);
      const request = send(signal).then(
        (status) => {
          const latencyMs = Date.now() - scheduled;
          ctx.emit(ok(status) ? { t: scheduled, ok: true, latencyMs, detail: { status } } : { t: scheduled, ok: false, latencyMs, error: `status-${status}`, detail: { status } });
        },
        (err: unknown) => ctx.emit({ t: scheduled, ok: false, latencyMs: Date.now() - scheduled, error: errorKind(err, signal) }),
      );
      const tracked = request.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
    };

    let timer: NodeJS.Timeout | undefined;
    const tick = (): void => {
      if (stopped) return;
      const now = Date.now();
      while (startedAt + issued * intervalMs <= now) fire(startedAt + issued++ * intervalMs);
      timer = setTimeout(tick, Math.max(1, Math.min(intervalMs, startedAt + issued * intervalMs - Date.now())));
    };
    tick();

    return {
      async stop() {
        stopped = true;
        clearTimeout(timer);
        await Promise.allSettled([...inFlight]);
      },
    };
  },
};

function urlSender(url: string, method: string): Send {
  const target = new URL(url);
  const mod = target.protocol === 'https:' ? https : http;
  const agent = new mod.Agent({ keepAlive: true, maxSockets: 1024 });
  return (signal) =>
    new Promise<number>((resolve, reject) => {
      const req = mod.request(target, { method, agent, signal }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
}

function serviceSender(kubeConfig: Parameters<typeof rawRequest>[0], service: string, path: string, method: string): Send {
  const [namespace, rest] = service.split('/') as [string, string];
  const [name, port] = rest.split(':') as [string, string];
  const proxyPath = serviceProxyPath(namespace, name, port, path);
  return async (signal) => (await rawRequest(kubeConfig, proxyPath, { method, signal })).status;
}

function errorKind(err: unknown, signal: AbortSignal): string {
  if (signal.aborted) return 'timeout';
  const code = (err as { code?: string }).code;
  if (code === 'ECONNREFUSED') return 'refused';
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'reset';
  return code ? code.toLowerCase() : 'error';
}
