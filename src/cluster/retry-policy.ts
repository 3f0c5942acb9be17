import { abortableSleep } from '../core/abortable-sleep.js';
import { HarnessError } from '../core/errors.js';
import type { ApiRetryTally } from './api-retries.js';

/**
 * **The** retry policy for gameday's requests to the API server: exponential backoff with full
 * jitter, a cap on tries and on the whole time, and the server's `Retry-After` obeyed. What may
 * be retried is decided by `classifyAnswer` below, after client-go's rest client (rest/request.go,
 * rest/with_retry.go): any request answered 429, or 5xx with a Retry-After, was refused before
 * the server did anything; a reset connection is retried for reads only, because a write's
 * outcome is then unknown.
 */
export interface RetryPolicy {
  /** Tries in all, the first included. */
  readonly attempts: number;
  /** The first backoff's ceiling; it doubles per retry up to `maxMs`. */
  readonly firstMs: number;
  readonly maxMs: number;
  /** No retry starts later than this after the first try. */
  readonly giveUpAfterMs: number;
}

export const API_RETRY: RetryPolicy = { attempts: 8, firstMs: 250, maxMs: 4000, giveUpAfterMs: 30_000 };

/**
 * Full jitter: a wait drawn uniformly from [0, min(maxMs, firstMs·2^retry)), so clients failed
 * together do not come back together. `retry` counts from 0.
 */
export function backoffMs(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(policy.maxMs, policy.firstMs * 2 ** retry));
}

/** A Retry-After header in whole seconds, as client-go reads it (an HTTP date is ignored, as there). */
export function retryAfterMs(header: string | null | undefined): number | undefined {
  if (header === null || header === undefined || !/^\d+$/.test(header.trim())) return undefined;
  return Number(header.trim()) * 1000;
}

/** One try's result: done (whatever the answer), safe to try again, or a failure to report as it is. */
export type TryResult<T> =
  | { readonly kind: 'done'; readonly value: T }
  | { readonly kind: 'again'; readonly why: string; readonly cause: RetryCause; readonly retryAfterMs?: number }
  | { readonly kind: 'fail'; readonly error: unknown };

export interface RetryOptions {
  readonly policy?: RetryPolicy;
  readonly signal?: AbortSignal;
  readonly random?: () => number;
  /** Called before each wait, for logs and tests. */
  readonly onRetry?: (why: string, waitMs: number, tries: number) => void;
  /** Counts each retry by its cause, for the run's journal. */
  readonly tally?: ApiRetryTally;
}

/**
 * Runs `attempt` until it is done, fails, or the policy is spent; then throws a HarnessError that
 * says what failed, after how many tries and how long, and the last reason.
 */
export async function withRetries<T>(what: string, attempt: (tries: number) => Promise<TryResult<T>>, options: RetryOptions = {}): Promise<T> {
  const policy = options.policy ?? API_RETRY;
  const started = Date.now();
  for (let tries = 1; ; tries++) {
    const result = await attempt(tries);
    if (result.kind === 'done') return result.value;
    if (result.kind === 'fail') throw result.error;
    const waitMs = result.retryAfterMs ?? backoffMs(policy, tries - 1, options.random);
    const elapsed = Date.now() - started;
    if (tries >= policy.attempts || elapsed + waitMs > policy.giveUpAfterMs || options.signal?.aborted) {
      throw new HarnessError(`${what}: still failing after ${tries} ${tries === 1 ? 'try' : 'tries'} in ${(elapsed / 1000).toFixed(1)}s: ${result.why}`);
    }
    options.tally?.count(result.cause);
    options.onRetry?.(result.why, waitMs, tries);
    await abortableSleep(waitMs, options.signal ?? NEVER);
  }
}

const NEVER = new AbortController().signal;

/** What came back from one HTTP exchange, whichever client made it. */
export type Answer = { readonly status: number; readonly retryAfter?: string | null; readonly reason?: string } | { readonly error: unknown };

/**
 * - `answered`: keep this answer (a success, or an error the caller must see: 404, 409, 422…);
 * - `refused`: the server did not act on it (429, 503, 5xx with Retry-After, connection refused):
 *   any request may be sent again;
 * - `unknown`: it may or may not have been carried out (500, 502, 504, a reset or cut-off
 *   connection): a read may be sent again, a write must be re-read first;
 * - `broken`: not an answer from the server at all (an abort, a TLS or DNS failure): give up.
 */
export type AnswerClass = 'answered' | 'refused' | 'unknown' | 'broken';

export function classifyAnswer(answer: Answer): AnswerClass {
  if ('error' in answer) {
    const code = errorCode(answer.error);
    if (code === 'ECONNREFUSED') return 'refused';
    if (code !== undefined && UNKNOWN_ERROR_CODES.has(code)) return 'unknown';
    return /socket hang up|premature close|ECONNRESET|EPIPE/i.test(String((answer.error as Error)?.message)) ? 'unknown' : 'broken';
  }
  const { status } = answer;
  if (status === 429 || status === 503) return 'refused';
  if (status >= 500 && retryAfterMs(answer.retryAfter) !== undefined) return 'refused';
  if (status === 500 || status === 502 || status === 504) return 'unknown';
  return 'answered';
}

/**
 * Why gameday tried something against the API server again, as a run's journal counts it:
 * - `HTTP 429`, `HTTP 503`, `HTTP 500`…: the answer that was refused or lost;
 * - `connection refused`, `connection reset`, `timeout`: no answer at all;
 * - `write re-read`: a write whose answer was lost was read back to see whether it was carried out
 *   (write-outcome.ts), besides the retry its lost answer counts as;
 * - `re-list after 410`: a watch fell behind the server's history and listed again (kube-watch.ts);
 * - `broken watch`: a watch that broke with an error was opened again; one the server simply
 *   ended is re-opened as routine, and not counted.
 */
export type RetryCause = `HTTP ${number}` | 'connection refused' | 'connection reset' | 'timeout' | 'write re-read' | 're-list after 410' | 'broken watch';

/** The cause to count for a retry after `answer`, one that `classifyAnswer` found worth trying again. */
export function retryCauseOf(answer: Answer): RetryCause {
  if ('status' in answer) return `HTTP ${answer.status}`;
  const code = errorCode(answer.error);
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ETIMEDOUT' || /timed? ?out/i.test(String((answer.error as Error)?.message))) return 'timeout';
  return 'connection reset';
}

/** Connection errors after which the request may have reached the server. */
const UNKNOWN_ERROR_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ERR_STREAM_PREMATURE_CLOSE', 'UND_ERR_SOCKET']);

function errorCode(err: unknown): string | undefined {
  if (!err || typeof err !== 'object') return undefined;
  const e = err as { code?: unknown; errno?: unknown; cause?: unknown };
  if (typeof e.code === 'string') return e.code;
  if (typeof e.errno === 'string') return e.errno;
  return e.cause ? errorCode(e.cause) : undefined;
}

/** How an answer reads in a log line or an error: `HTTP 503 ServiceUnavailable` or the connection error. */
export function answerText(answer: Answer): string {
  if ('error' in answer) return (answer.error as Error)?.message ?? String(answer.error);
  return `HTTP ${answer.status}${answer.reason ? ` ${answer.reason}` : ''}`;
}
