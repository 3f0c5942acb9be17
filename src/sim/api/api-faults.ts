import type { IncomingMessage, ServerResponse } from 'node:http';
import { Duration } from '../../core/duration.js';
import { SeededRandom } from '../../core/rng.js';
import { statusObject, type Status } from './api-error.js';
import { sendStatus } from './http-exchange.js';

/**
 * A flaky API server on purpose: at a chosen rate, requests from API clients (gameday, kubectl)
 * are answered the ways a real kube-apiserver fails under load, restarts or a slow etcd. The
 * embedded cluster's own controllers and kubelets read and write the store directly, not over
 * HTTP, so they never meet these faults; neither do the service and pod proxies, exec, logs,
 * discovery and the node fault endpoint, so probes measure the workload and node access behaves
 * as on kind.
 */
export const API_FAULT_KINDS = ['500', '503', '429', 'timeout', 'reset', 'watch-end', '410'] as const;
export type ApiFaultKind = (typeof API_FAULT_KINDS)[number];

export interface ApiFaultSettings {
  /** The share of faultable requests that fail, from 0 to 1. */
  readonly rate: number;
  /** The kinds to choose from, uniformly among those that fit the request. @default every kind */
  readonly kinds: readonly ApiFaultKind[];
  /** Seeds the choices, so a run's faults replay from it. @default a new seed */
  readonly seed: number;
  /** How long a `timeout` holds the request before its 504 (the real server's --request-timeout is 60 s). @default 1s */
  readonly holdMs: number;
  /** The share of writes failing by `timeout`, `reset` or `500` that were applied first: the client cannot know. @default 0.5 */
  readonly appliedShare: number;
  /** How long a watch given `watch-end` lasts before the server ends it, in whole seconds. @default 1 */
  readonly watchEndSeconds: number;
}

/** Parses `rate=0.1,kinds=500,503,timeout,seed=7,hold=2s,applied=0.5` (the `--api-faults` text). */
export function parseApiFaults(text: string): ApiFaultSettings {
  const fields = new Map<string, string[]>();
  let key: string | undefined;
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq < 0) {
      // `kinds=500,503`: a bare word continues the previous key's list.
      if (key === undefined) throw new Error(`"${part}" is not key=value; write it like rate=0.1,kinds=500,503`);
      fields.get(key)!.push(part);
      continue;
    }
    key = part.slice(0, eq).trim();
    if (!SETTINGS_KEYS.includes(key)) throw new Error(`unknown setting "${key}"; give ${SETTINGS_KEYS.join(', ')}`);
    if (fields.has(key)) throw new Error(`"${key}" is given twice`);
    fields.set(key, [part.slice(eq + 1).trim()]);
  }
  const rateText = fields.get('rate')?.[0];
  if (rateText === undefined) throw new Error('rate is missing; give the share of requests that fail, like rate=0.1');
  const rate = shareOf('rate', rateText);
  const kinds = fields.get('kinds') ?? [...API_FAULT_KINDS];
  for (const kind of kinds) {
    if (!(API_FAULT_KINDS as readonly string[]).includes(kind)) throw new Error(`kinds: "${kind}" is not a fault kind; give some of ${API_FAULT_KINDS.join(', ')}`);
  }
  const seedText = fields.get('seed')?.[0];
  const seed = seedText === undefined ? SeededRandom.newSeed() : Number(seedText);
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`seed=${seedText}: give a whole number from 0`);
  const holdText = fields.get('hold')?.[0] ?? '1s';
  const hold = Duration.tryParse(holdText);
  if (!hold) throw new Error(`hold=${holdText}: give a duration like 500ms or 2s`);
  const watchEndText = fields.get('watchEnd')?.[0] ?? '1';
  const watchEndSeconds = Number(watchEndText);
  if (!Number.isInteger(watchEndSeconds) || watchEndSeconds < 1) throw new Error(`watchEnd=${watchEndText}: give whole seconds from 1`);
  return {
    rate,
    kinds: [...new Set(kinds)] as ApiFaultKind[],
    seed,
    holdMs: hold.ms,
    appliedShare: shareOf('applied', fields.get('applied')?.[0] ?? '0.5'),
    watchEndSeconds,
  };
}

const SETTINGS_KEYS = ['rate', 'kinds', 'seed', 'hold', 'applied', 'watchEnd'];

function shareOf(key: string, text: string): number {
  const value = Number(text);
  if (text === '' || !Number.isFinite(value) || value < 0 || value > 1) throw new Error(`${key}=${text}: give a share from 0 to 1, like 0.1`);
  return value;
}

/** What the server knows of a request when it decides whether to fail it. */
export interface FaultableRequest {
  readonly method: string;
  readonly watch: boolean;
  /** The resourceVersion a watch resumes from (absent, `0` or with sendInitialEvents: not a re-watch). */
  readonly resumesFrom?: string;
}

export interface ApiFault {
  readonly kind: ApiFaultKind;
  /** A write that is carried out before the failure is answered, so its outcome is unknown to the client. */
  readonly appliedFirst: boolean;
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const UNKNOWN_OUTCOME: ReadonlySet<ApiFaultKind> = new Set(['500', 'timeout', 'reset']);

/** Decides, per request and from one seeded sequence, which requests fail and how. */
export class ApiFaultInjector {
  private readonly rng: SeededRandom;
  /** How many of each kind were answered, for `sim serve`'s summary and the tests. */
  readonly counts: Record<ApiFaultKind, number> = Object.fromEntries(API_FAULT_KINDS.map((k) => [k, 0])) as Record<ApiFaultKind, number>;

  /** How many writes were carried out before their failure was answered. */
  appliedFirst = 0;

  constructor(readonly settings: ApiFaultSettings) {
    this.rng = new SeededRandom(settings.seed);
  }

  decide(req: FaultableRequest): ApiFault | undefined {
    if (this.rng.next() >= this.settings.rate) return undefined;
    const fitting = this.settings.kinds.filter((kind) => fits(kind, req));
    if (fitting.length === 0) return undefined;
    const kind = fitting[Math.floor(this.rng.next() * fitting.length)]!;
    const appliedFirst = WRITES.has(req.method) && UNKNOWN_OUTCOME.has(kind) && this.rng.next() < this.settings.appliedShare;
    this.counts[kind]++;
    if (appliedFirst) this.appliedFirst++;
    return { kind, appliedFirst };
  }
}

function fits(kind: ApiFaultKind, req: FaultableRequest): boolean {
  switch (kind) {
    // Long-running requests are exempt from the real server's request timeout.
    case 'timeout':
      return !req.watch;
    case 'watch-end':
      return req.watch;
    case '410':
      return req.watch && req.resumesFrom !== undefined;
    default:
      return true;
  }
}

/** The Status bodies as apimachinery's errors package writes them (k8s.io/apimachinery/pkg/api/errors). */
export function faultStatus(kind: '500' | '503' | '429' | 'timeout'): Status {
  switch (kind) {
    case '500':
      return statusObject(500, { message: 'Internal error occurred: etcdserver: request timed out', reason: 'InternalError', details: { causes: [{ message: 'etcdserver: request timed out' }] } });
    case '503':
      return statusObject(503, { message: 'the server is currently unable to handle the request', reason: 'ServiceUnavailable' });
    case '429':
      // The max-in-flight filter's answer, with its fixed Retry-After of one second.
      return statusObject(429, { message: 'Too many requests, please try again later.', reason: 'TooManyRequests', details: { retryAfterSeconds: 1 } });
    case 'timeout':
      // server/filters/timeout.go: NewTimeoutError("request did not complete within the allotted timeout", 0).
      return statusObject(504, { message: 'Timeout: request did not complete within the allotted timeout', reason: 'Timeout', details: {} });
  }
}

export interface FaultedExchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** The request's query, which the server reads when it serves the request. */
  readonly query: URLSearchParams;
  /** The server's current resourceVersion, for a 410's message. */
  readonly currentResourceVersion: () => number;
  /** Serves the request as if nothing were wrong, answering its own errors too. */
  readonly serve: () => Promise<void>;
}

/** Answers a request the way `fault` says, serving it first when the fault comes after the work. */
export async function inflict(fault: ApiFault, exchange: FaultedExchange, settings: ApiFaultSettings): Promise<void> {
  const { req, res } = exchange;
  switch (fault.kind) {
    case 'watch-end':
      // The real server ends a watch at its timeoutSeconds with a clean end of the stream.
      exchange.query.set('timeoutSeconds', String(settings.watchEndSeconds));
      return exchange.serve();
    case '410': {
      // The watch cache's answer to a resourceVersion older than it keeps: 200, then one ERROR event.
      const status = statusObject(410, { message: `too old resource version: ${exchange.query.get('resourceVersion')} (${exchange.currentResourceVersion()})`, reason: 'Expired' });
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
      res.end(JSON.stringify({ type: 'ERROR', object: status }) + '\n');
      return;
    }
    default:
  }
  if (fault.appliedFirst) await serveUnseen(res, exchange.serve);
  switch (fault.kind) {
    case 'reset':
      req.socket.destroy();
      return;
    case 'timeout':
      await holdFor(settings.holdMs, res);
      if (!res.destroyed) sendStatus(res, faultStatus('timeout'));
      return;
    case '500':
    case '503':
    case '429':
      sendStatus(res, faultStatus(fault.kind));
  }
}

/** Serves the request with its answer thrown away, so the work is done and the client never hears of it. */
async function serveUnseen(res: ServerResponse, serve: () => Promise<void>): Promise<void> {
  const swallowed = res as unknown as Record<string, unknown>;
  const names = ['writeHead', 'write', 'end', 'flushHeaders'];
  let ended!: () => void;
  const done = new Promise<void>((resolve) => (ended = resolve));
  swallowed.writeHead = () => res;
  swallowed.write = () => true;
  swallowed.flushHeaders = () => undefined;
  swallowed.end = () => {
    ended();
    return res;
  };
  try {
    await serve();
    await done;
  } finally {
    for (const name of names) delete swallowed[name];
    for (const header of res.getHeaderNames()) res.removeHeader(header);
  }
}

function holdFor(ms: number, res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(finish, ms);
    function finish(): void {
      clearTimeout(timer);
      res.off('close', finish);
      resolve();
    }
    res.on('close', finish);
  });
}
