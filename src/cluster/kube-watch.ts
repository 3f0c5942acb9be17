import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { errorMessage } from '../core/errors.js';
import { retryTally } from './api-retries.js';
import type { Permission } from './rbac.js';
import { rawGetWithRetries } from './raw-request.js';
import { backoffMs } from './retry-policy.js';

export interface KubeWatchOptions {
  readonly kubeConfig: KubeConfig;
  /** The collection's API path, like `/api/v1/namespaces/shop/pods`. */
  readonly path: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** Called after every added, changed or deleted object, once the cache holds the change. */
  readonly onChange: () => void;
  /** A broken watch that is being re-established (for the run's log). */
  readonly onRetry: (message: string) => void;
  /** The watch stayed broken for `giveUpAfterMs`; it is stopped. */
  readonly onGiveUp: (error: Error) => void;
  /** @default 30000 (WATCH_RETRY.giveUpAfterMs) */
  readonly giveUpAfterMs?: number;
}

/**
 * What a KubeWatch of the collection at `path` needs: list and watch there, limited to one object
 * when the watch selects `metadata.name=<name>` (RBAC authorizes such a list by that name).
 */
export function watchPermission(why: string, path: string, name?: string): Permission {
  const core = /^\/api\/v1\/(?:namespaces\/([^/]+)\/)?([^/]+)$/.exec(path);
  const grouped = /^\/apis\/([^/]+)\/[^/]+\/(?:namespaces\/([^/]+)\/)?([^/]+)$/.exec(path);
  if (!core && !grouped) throw new Error(`not the API path of a collection: ${path}`);
  const [group, namespace, resource] = core ? ['', core[1], core[2]!] : [grouped![1]!, grouped![2], grouped![3]!];
  return {
    why,
    verbs: ['list', 'watch'],
    resource,
    ...(group ? { group } : {}),
    ...(namespace !== undefined ? { namespace: decodeURIComponent(namespace) } : {}),
    ...(name !== undefined ? { names: [name] } : {}),
  };
}

/**
 * The one way gameday keeps a list-then-watch alive, for probes, the cluster watch and the
 * drain's budget watch alike (client-go's reflector does much the same):
 * - The server ends the watch (its request timeout, a restart behind a load balancer): re-watch at
 *   once from the last resourceVersion. That is routine, not trouble, and nothing is re-listed.
 * - 410 Expired, in the stream or as the answer: the server no longer keeps history back to our
 *   resourceVersion, so list again; the list replaces the cache, deletions missed included.
 * - Anything else (a refused connection, a 5xx, a failed re-list): try again after a pause drawn
 *   with full jitter under a ceiling that doubles from `firstMs` to `maxMs` (retry-policy.ts), resuming from the last resourceVersion while the server
 *   still has it, so a restarting API server is found again within seconds without being hammered.
 * - Broken with no good connection for `giveUpAfterMs`: give up and say so. What giving up means
 *   is the caller's: a probe fails (its samples would no longer be true), the budget watch leaves
 *   a blocked drain to kubectl's fixed retry interval.
 */
export const WATCH_RETRY = { attempts: Number.POSITIVE_INFINITY, firstMs: 500, maxMs: 5000, giveUpAfterMs: 30_000 } as const;

/**
 * A list-then-watch cache of one collection (client-node's ListWatch), kept alive across broken
 * connections by WATCH_RETRY. ListWatch itself re-watches after a server-side close and re-lists
 * after a 410, but stops for good on any other error; this restarts it after the backoff.
 */
export class KubeWatch<T extends KubernetesObject> {
  private readonly informer: ListWatch<T>;
  private stopped = false;
  private brokenSince: number | undefined;
  private lastError: unknown;
  private listError: unknown;
  private retries = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private starting = false;

  constructor(private readonly options: KubeWatchOptions) {
    const query = new URLSearchParams();
    if (options.labelSelector) query.set('labelSelector', options.labelSelector);
    if (options.fieldSelector) query.set('fieldSelector', options.fieldSelector);
    const listPath = query.size > 0 ? `${options.path}?${query}` : options.path;
    const tally = retryTally(options.kubeConfig);
    let listed = false;
    // Raw JSON for the list, as the watch delivers it: typed clients would turn timestamps into Dates
    // in listed objects only.
    const list = async (): Promise<KubernetesListObject<T>> => {
      // ListWatch lists again only when it has no resourceVersion to resume from: after a 410.
      if (listed) tally.count('re-list after 410');
      try {
        const res = await rawGetWithRetries(options.kubeConfig, listPath);
        if (res.status !== 200) throw new Error(`GET ${listPath}: HTTP ${res.status} ${statusMessage(res.body)}`);
        listed = true;
        return JSON.parse(res.body) as KubernetesListObject<T>;
      } catch (err) {
        this.listError = err;
        throw err;
      }
    };
    this.informer = new ListWatch<T>(options.path, new Watch(options.kubeConfig), list, false, options.labelSelector, options.fieldSelector);
    this.informer.on('change', () => {
      this.healthy();
      if (!this.stopped) options.onChange();
    });
    this.informer.on('error', (err: unknown) => this.broken(err));
  }

  /**
   * Lists and starts watching; rejects when the first list fails (no such resource, forbidden…,
   * or still failing after the retry policy). A first watch that breaks at once is retried like
   * any broken watch.
   */
  async start(): Promise<void> {
    this.lastError = undefined;
    this.listError = undefined;
    this.starting = true;
    try {
      await this.informer.start();
    } finally {
      this.starting = false;
    }
    if (this.listError !== undefined) {
      this.stopped = true;
      throw new Error(`cannot watch ${this.options.path}: ${errorMessage(this.listError)}`);
    }
    // Stopped while the first list was in flight: ListWatch opened the watch regardless.
    if (this.stopped) await this.informer.stop();
    else if (this.lastError !== undefined) this.broken(this.lastError);
    else this.healthy();
  }

  list(): readonly T[] {
    return this.informer.list();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.informer.stop();
  }

  private broken(err: unknown): void {
    this.lastError = err;
    if (this.starting || this.stopped || this.retryTimer) return;
    const now = Date.now();
    this.brokenSince ??= now;
    if (now - this.brokenSince > (this.options.giveUpAfterMs ?? WATCH_RETRY.giveUpAfterMs)) {
      this.stopped = true;
      this.options.onGiveUp(new Error(`the watch on ${this.options.path} stayed broken for ${Math.round((now - this.brokenSince) / 1000)}s: ${errorMessage(err)}`));
      return;
    }
    const delayMs = backoffMs(WATCH_RETRY, this.retries++);
    retryTally(this.options.kubeConfig).count('broken watch');
    this.options.onRetry(`watch on ${this.options.path} broke (${errorMessage(err)}); re-watching in ${(delayMs / 1000).toFixed(1)}s`);
    this.retryTimer = setTimeout(() => void this.restart(), delayMs);
  }

  private healthy(): void {
    this.brokenSince = undefined;
    this.retries = 0;
  }

  private async restart(): Promise<void> {
    this.retryTimer = undefined;
    if (this.stopped) return;
    this.lastError = undefined;
    await this.informer.start();
    if (this.lastError === undefined) this.healthy();
  }
}

function statusMessage(body: string): string {
  try {
    return (JSON.parse(body) as { message?: string }).message ?? body.slice(0, 200);
  } catch {
    return body.slice(0, 200);
  }
}

/** Starts every watch together; if any fails to start, stops them all before rethrowing. */
export async function startWatches(watches: readonly KubeWatch<KubernetesObject>[]): Promise<void> {
  try {
    await Promise.all(watches.map((w) => w.start()));
  } catch (err) {
    await Promise.all(watches.map((w) => w.stop()));
    throw err;
  }
}
