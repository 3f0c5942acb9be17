import {
  HttpMethod,
  IsomorphicFetchHttpLibrary,
  KubeConfig,
  RequestContext,
  ResponseContext,
  ServerConfiguration,
  createConfiguration,
  type HttpLibrary,
} from '@kubernetes/client-node';
import { from, type Observable } from '@kubernetes/client-node/dist/gen/rxjsStub.js';
import { HarnessError } from '../core/errors.js';
import { retryTally } from './api-retries.js';
import { answerText, classifyAnswer, withRetries, retryAfterMs, retryCauseOf, type Answer, type RetryOptions, type TryResult } from './retry-policy.js';
import { changesNothing, outcomeOf, resourceAddress, type LostWrite, type ResourceAddress } from './write-outcome.js';

/**
 * The one place every typed client-node call goes through (`makeApiClient` of a
 * RetryingKubeConfig, which `connect.ts` and the CLI hand to the whole run): each request is sent
 * under the retry policy (retry-policy.ts), and a write whose answer was lost is re-read before
 * it is sent again (write-outcome.ts).
 */
export class RetryingHttpLibrary implements HttpLibrary {
  constructor(
    private readonly inner: HttpLibrary = new IsomorphicFetchHttpLibrary(),
    private readonly options: RetryOptions = {},
  ) {}

  send(request: RequestContext): Observable<ResponseContext> {
    return from(this.sendWithRetries(request));
  }

  private async sendWithRetries(request: RequestContext): Promise<ResponseContext> {
    const method = request.getHttpMethod().toString();
    const url = new URL(request.getUrl());
    const address = resourceAddress(url.pathname);
    const safe = changesNothing(method, address);
    let lostDelete = false;
    let sameErrorText: string | undefined;
    let sameErrorCount = 0;
    return withRetries(`${method} ${url.pathname}`, async (): Promise<TryResult<ResponseContext>> => {
      const { answer, response, text } = await this.once(request);
      const kind = classifyAnswer(answer);
      // A server error that comes back word for word is the server's answer (the eviction of a pod
      // under two budgets is a 500), not a blip: the caller gets it.
      sameErrorCount = text !== undefined && text === sameErrorText ? sameErrorCount + 1 : 1;
      sameErrorText = text;
      if (kind === 'unknown' && sameErrorCount >= SAME_ERROR_IS_AN_ANSWER) return { kind: 'done', value: response! };
      if (kind === 'answered') {
        // A delete sent again after its answer was lost: a 404 now means the first one did it.
        if (lostDelete && response!.httpStatusCode === 404) return { kind: 'done', value: jsonResponse(200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 200 }) };
        return { kind: 'done', value: response! };
      }
      if (kind === 'broken') return { kind: 'fail', error: 'error' in answer ? answer.error : new Error(answerText(answer)) };
      const why = answerText(answer);
      if (kind === 'refused' || safe) return again(why, answer);
      if (!address) return { kind: 'fail', error: new HarnessError(`${method} ${url.pathname}: ${why}, and its outcome cannot be checked; not sent again`) };
      const write: LostWrite = { method, address, contentType: request.getHeaders()['Content-Type'] ?? '', body: parsedBody(request) };
      this.options.tally?.count('write re-read');
      const outcome = await outcomeOf(write, (path) => this.readBack(request, path));
      if (outcome.kind === 'applied') return { kind: 'done', value: appliedResponse(method, address, outcome.object) };
      if (outcome.kind === 'unknowable') {
        return { kind: 'fail', error: new HarnessError(`${method} ${url.pathname}: ${why}, and whether it was carried out cannot be told (${outcome.why}); not sent again, so as never to apply it twice`) };
      }
      lostDelete ||= method === 'DELETE';
      return { kind: 'again', why: `${why} (it was not carried out)`, cause: retryCauseOf(answer) };
    }, this.options);
  }

  private async once(request: RequestContext): Promise<{ answer: Answer; response?: ResponseContext; text?: string }> {
    let response: ResponseContext;
    try {
      response = await this.inner.send(request).toPromise();
    } catch (error) {
      return { answer: { error } };
    }
    const status = response.httpStatusCode;
    if (status < 500 && status !== 429) return { answer: { status }, response };
    // An error answer is read now, for its reason, and kept for the caller.
    const buffered = await bufferBody(response);
    const text = await buffered.body.text();
    const reason = statusReason(text);
    return { answer: { status, retryAfter: response.headers['retry-after'] ?? null, ...(reason ? { reason } : {}) }, response: buffered, text: `${status} ${text}` };
  }

  /** A GET of `path` with the request's credentials, itself under the retry policy. */
  private async readBack(original: RequestContext, path: string): Promise<{ status: number; object?: never }> {
    const url = new URL(original.getUrl());
    const read = new RequestContext(`${url.origin}${path}`, HttpMethod.GET);
    for (const [name, value] of Object.entries(original.getHeaders())) if (name.toLowerCase() !== 'content-type') read.setHeaderParam(name, value);
    read.setHeaderParam('Accept', 'application/json');
    const agent = original.getAgent();
    if (agent) read.setAgent(agent);
    const signal = original.getSignal();
    if (signal) read.setSignal(signal);
    const response = await this.sendWithRetries(read);
    const text = await response.body.text();
    return { status: response.httpStatusCode, ...(response.httpStatusCode === 200 ? { object: JSON.parse(text) as never } : {}) };
  }
}

/** Times the same server error in a row after which it is taken as the answer. */
const SAME_ERROR_IS_AN_ANSWER = 3;

function again(why: string, answer: Answer): TryResult<never> {
  const wait = 'status' in answer ? retryAfterMs(answer.retryAfter) : undefined;
  return { kind: 'again', why, cause: retryCauseOf(answer), ...(wait !== undefined ? { retryAfterMs: wait } : {}) };
}

function parsedBody(request: RequestContext): unknown {
  const body = request.getBody();
  if (typeof body !== 'string') return undefined;
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

async function bufferBody(response: ResponseContext): Promise<ResponseContext> {
  const data = await response.body.binary();
  return new ResponseContext(response.httpStatusCode, response.headers, { text: async () => data.toString('utf8'), binary: async () => data });
}

function statusReason(text: string): string | undefined {
  try {
    return (JSON.parse(text) as { reason?: string }).reason;
  } catch {
    return undefined;
  }
}

function jsonResponse(status: number, body: unknown): ResponseContext {
  const data = Buffer.from(JSON.stringify(body));
  return new ResponseContext(status, { 'content-type': 'application/json' }, { text: async () => data.toString('utf8'), binary: async () => data });
}

/** The answer the write would have had: the object as created or changed, or an eviction's Success. */
function appliedResponse(method: string, address: ResourceAddress, object: unknown): ResponseContext {
  if (address.subresource === 'eviction') return jsonResponse(201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
  return jsonResponse(method === 'POST' ? 201 : 200, object);
}

/**
 * A KubeConfig whose typed API clients send every request through RetryingHttpLibrary. Load it
 * as any KubeConfig; the rest of gameday never knows the difference.
 */
export class RetryingKubeConfig extends KubeConfig {
  override makeApiClient<T>(apiClientType: new (config: ReturnType<typeof createConfiguration>) => T): T {
    const cluster = this.getCurrentCluster();
    if (!cluster) throw new Error('No active cluster!');
    const config = createConfiguration({
      baseServer: new ServerConfiguration(cluster.server, {}),
      authMethods: { default: this },
      httpApi: new RetryingHttpLibrary(undefined, { tally: retryTally(this) }),
    });
    return new apiClientType(config);
  }
}
