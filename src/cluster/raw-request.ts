import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Permission, Verb } from './rbac.js';
import { retryTally } from './api-retries.js';
import { classifyAnswer, withRetries, answerText, retryAfterMs, retryCauseOf, type Answer, type TryResult } from './retry-policy.js';

/**
 * Plain HTTP(S) requests to the API server with the kubeconfig's credentials, for the paths the
 * typed client does not cover well: the service proxy (probes) and gameday's own endpoints.
 * One keep-alive agent per kubeconfig so a probe at 2,000 requests/s reuses connections.
 */
export interface RawResponse {
  readonly status: number;
  readonly body: string;
  readonly headers: http.IncomingHttpHeaders;
}

export interface RawRequestOptions {
  readonly method?: string;
  readonly body?: string;
  readonly contentType?: string;
  /** Extra request headers; they win over the defaults (`accept`, `content-type`). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
}

interface Prepared {
  readonly base: URL;
  readonly options: https.RequestOptions;
}

const prepared = new WeakMap<KubeConfig, Promise<Prepared>>();

async function prepare(kubeConfig: KubeConfig): Promise<Prepared> {
  const server = kubeConfig.getCurrentCluster()?.server;
  if (!server) throw new Error('the kubeconfig has no current cluster');
  const base = new URL(server);
  const options: https.RequestOptions = { headers: {} };
  await kubeConfig.applyToHTTPSOptions(options);
  const agentOptions = { keepAlive: true, maxSockets: 512, ca: options.ca, cert: options.cert, key: options.key, rejectUnauthorized: options.rejectUnauthorized };
  options.agent = base.protocol === 'https:' ? new https.Agent(agentOptions) : new http.Agent({ keepAlive: true, maxSockets: 512 });
  return { base, options };
}

export async function rawRequest(kubeConfig: KubeConfig, path: string, options: RawRequestOptions = {}): Promise<RawResponse> {
  let p = prepared.get(kubeConfig);
  if (!p) prepared.set(kubeConfig, (p = prepare(kubeConfig)));
  const { base, options: baseOptions } = await p;
  const url = new URL(base.pathname.replace(/\/$/, '') + path, base);
  const mod = url.protocol === 'https:' ? https : http;
  const headers: http.OutgoingHttpHeaders = { ...(baseOptions.headers as http.OutgoingHttpHeaders), accept: 'application/json, */*' };
  if (options.body !== undefined) {
    headers['content-type'] = options.contentType ?? 'application/json';
    // Node sends a DELETE's body neither chunked nor with a length unless told: the server would
    // then read it as the start of the next request on the connection.
    headers['content-length'] = String(Buffer.byteLength(options.body));
  }
  for (const [name, value] of Object.entries(options.headers ?? {})) headers[name.toLowerCase()] = value;
  return new Promise<RawResponse>((resolve, reject) => {
    const req = mod.request(url, { ...baseOptions, method: options.method ?? 'GET', headers, signal: options.signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/**
 * A GET of the API (a list, a read) under the retry policy: the answer once it is not a refusal
 * or a lost answer. Never used for the service proxy, whose failures a probe must see.
 */
export async function rawGetWithRetries(kubeConfig: KubeConfig, path: string, options: Pick<RawRequestOptions, 'signal' | 'headers'> = {}): Promise<RawResponse> {
  return withRetries(`GET ${path}`, async (): Promise<TryResult<RawResponse>> => {
    let answer: Answer;
    let response: RawResponse | undefined;
    try {
      response = await rawRequest(kubeConfig, path, options);
      answer = { status: response.status, retryAfter: firstHeader(response.headers['retry-after']) };
    } catch (error) {
      answer = { error };
    }
    const kind = classifyAnswer(answer);
    if (kind === 'answered') return { kind: 'done', value: response! };
    if (kind === 'broken') return { kind: 'fail', error: 'error' in answer ? answer.error : new Error(answerText(answer)) };
    const wait = 'status' in answer ? retryAfterMs(answer.retryAfter) : undefined;
    return { kind: 'again', why: answerText(answer), cause: retryCauseOf(answer), ...(wait !== undefined ? { retryAfterMs: wait } : {}) };
  }, { tally: retryTally(kubeConfig), ...(options.signal ? { signal: options.signal } : {}) });
}

function firstHeader(value: string | string[] | undefined): string | null {
  return (Array.isArray(value) ? value[0] : value) ?? null;
}

/**
 * What a request through the service proxy needs: the API server authorizes it by its method
 * (GET and HEAD as get, POST as create, PUT as update…) on `services/proxy`, named
 * `<service>:<port>` as the path names it.
 */
export function serviceProxyPermission(why: string, namespace: string, service: string, port: string, method = 'GET'): Permission {
  return { why, verbs: [PROXY_VERBS[method.toUpperCase()] ?? '*'], resource: 'services/proxy', namespace, names: [`${service}:${port}`] };
}

const PROXY_VERBS: Readonly<Record<string, Verb>> = { GET: 'get', HEAD: 'get', POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };

/** The service-proxy path for `ns/name:port` — works on every cluster, embedded one included. */
export function serviceProxyPath(namespace: string, service: string, port: string, path: string): string {
  const rest = path.startsWith('/') ? path : `/${path}`;
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}/services/${encodeURIComponent(service)}:${encodeURIComponent(port)}/proxy${rest}`;
}
