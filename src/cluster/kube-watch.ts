import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { errorMessage } from '../core/errors.js';
import { rawRequest } from './raw-request.js';

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
  /** The watch stayed broken for `giveUpAfterMs`: the probe cannot go on. */
  readonly onGiveUp: (error: Error) => void;
  /** @default 30000 */
  readonly giveUpAfterMs?: number;
}

const RETRY_MS = 1000;

/**
 * A list-then-watch cache of one collection (client-node's ListWatch), kept alive across broken
 * connections. ListWatch re-watches on its own after a server-side close or a 410, but stops for
 * good on any other error; a probe must outlast an API server hiccup, so this restarts it from
 * the last resourceVersion and gives up only when the watch stays broken.
 */
export class KubeWatch<T extends KubernetesObject> {
  private readonly informer: ListWatch<T>;
  private stopped = false;
  private brokenSince: number | undefined;
  private lastError: unknown;
  private retryTimer: NodeJS.Timeout | undefined;
  private starting = false;

  constructor(private readonly options: KubeWatchOptions) {
    const query = new URLSearchParams();
    if (options.labelSelector) query.set('labelSelector', options.labelSelector);
    if (options.fieldSelector) query.set('fieldSelector', options.fieldSelector);
    const listPath = query.size > 0 ? `${options.path}?${query}` : options.path;
    // Raw JSON for the list, as the watch delivers it: typed clients would turn timestamps into Dates
    // in listed objects only.
    const list = async (): Promise<KubernetesListObject<T>> => {
      const res = await rawRequest(options.kubeConfig, listPath);
      if (res.status !== 200) throw new Error(`GET ${listPath}: HTTP ${res.status} ${statusMessage(res.body)}`);
      return JSON.parse(res.body) as KubernetesListObject<T>;
    };
    this.informer = new ListWatch<T>(options.path, new Watch(options.kubeConfig), list, false, options.labelSelector, options.fieldSelector);
    this.informer.on('change', () => {
      this.brokenSince = undefined;
      if (!this.stopped) options.onChange();
    });
    this.informer.on('error', (err: unknown) => this.broken(err));
  }

  /** Lists and starts watching; rejects when the first list fails (no such resource, forbidden…). */
  async start(): Promise<void> {
    this.lastError = undefined;
    this.starting = true;
    try {
      await this.informer.start();
    } finally {
      this.starting = false;
    }
    if (this.lastError !== undefined) {
      this.stopped = true;
      throw new Error(`cannot watch ${this.options.path}: ${errorMessage(this.lastError)}`);
    }
    this.brokenSince = undefined;
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
    if (now - this.brokenSince > (this.options.giveUpAfterMs ?? 30_000)) {
      this.stopped = true;
      this.options.onGiveUp(new Error(`the watch on ${this.options.path} stayed broken for ${Math.round((now - this.brokenSince) / 1000)}s: ${errorMessage(err)}`));
      return;
    }
    this.options.onRetry(`watch on ${this.options.path} broke (${errorMessage(err)}); re-watching in ${RETRY_MS / 1000}s`);
    this.retryTimer = setTimeout(() => void this.restart(), RETRY_MS);
  }

  private async restart(): Promise<void> {
    this.retryTimer = undefined;
    if (this.stopped) return;
    this.lastError = undefined;
    await this.informer.start();
    if (this.lastError === undefined) this.brokenSince = undefined;
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
