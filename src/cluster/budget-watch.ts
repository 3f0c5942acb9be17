import { PolicyV1Api, Watch, type KubeConfig, type V1PodDisruptionBudget } from '@kubernetes/client-node';
import { selectorMatches } from './label-selector.js';

export interface BudgetWatchOptions {
  /**
   * A waiter is woken after this long even without a watch event, so a missed event or a dropped
   * watch can slow a drain but never hang it. @default 5000 (kubectl's fixed retry interval)
   */
  readonly fallbackMs?: number;
}

/** Why a wait ended: the budget allows a disruption, the fallback interval passed, or the signal aborted. */
export type BudgetWake = 'allowed' | 'fallback' | 'aborted';

interface Waiter {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly resolve: (why: BudgetWake) => void;
}

interface NamespaceWatch {
  readonly budgets: Map<string, V1PodDisruptionBudget>;
  readonly ready: Promise<void>;
  stop?: AbortController;
}

/** Wait before re-opening a watch the server closed, so a failing server is not hammered. */
const REWATCH_DELAY_MS = 500;
/**
 * A waiter whose budget already shows room when it registers is woken after this pause: the cache
 * may not yet show the disruption the refused eviction's competitor just spent.
 */
const STALE_CACHE_PAUSE_MS = 100;

/**
 * Watches the PodDisruptionBudgets of the namespaces a drain touches and wakes blocked evictions
 * the moment a budget allows another disruption, instead of retrying on a fixed timer. Each
 * budget wakes at most `disruptionsAllowed` waiters per change, oldest first, so twenty pods
 * behind a budget that frees one slot cause one retry, not twenty.
 */
export class BudgetWatch {
  private readonly namespaces = new Map<string, NamespaceWatch>();
  private readonly waiters: Waiter[] = [];
  private readonly fallbackMs: number;
  private closed = false;

  constructor(
    private readonly kubeConfig: KubeConfig,
    options: BudgetWatchOptions = {},
  ) {
    this.fallbackMs = options.fallbackMs ?? 5000;
  }

  /** The budgets whose selector matches pods with these labels (listed once, then kept current by the watch). */
  async budgetsCovering(namespace: string, labels: Readonly<Record<string, string>>): Promise<V1PodDisruptionBudget[]> {
    const ns = this.watchNamespace(namespace);
    await ns.ready;
    return [...ns.budgets.values()].filter((b) => selectorMatches(b.spec?.selector, labels));
  }

  /** Resolves when a budget covering these labels has room for a disruption (or after the fallback, or on abort). */
  async waitForDisruption(namespace: string, labels: Readonly<Record<string, string>>, signal: AbortSignal): Promise<BudgetWake> {
    await this.watchNamespace(namespace).ready;
    if (signal.aborted) return 'aborted';
    return new Promise<BudgetWake>((resolve) => {
      const finish = (why: BudgetWake): void => {
        clearTimeout(fallback);
        signal.removeEventListener('abort', onAbort);
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        resolve(why);
      };
      const waiter: Waiter = { namespace, labels, resolve: finish };
      const onAbort = (): void => finish('aborted');
      const fallback = setTimeout(() => finish('fallback'), this.fallbackMs);
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
      setTimeout(() => this.wake(namespace), STALE_CACHE_PAUSE_MS);
    });
  }

  close(): void {
    this.closed = true;
    for (const ns of this.namespaces.values()) ns.stop?.abort();
    for (const w of this.waiters.slice()) w.resolve('aborted');
  }

  private watchNamespace(namespace: string): NamespaceWatch {
    let ns = this.namespaces.get(namespace);
    if (!ns) {
      const budgets = new Map<string, V1PodDisruptionBudget>();
      const entry: NamespaceWatch = { budgets, ready: this.listAndWatch(namespace, budgets, () => entry) };
      this.namespaces.set(namespace, (ns = entry));
    }
    return ns;
  }

  /** LIST for a consistent start, then WATCH from its resourceVersion; re-lists when the watch ends. */
  private async listAndWatch(namespace: string, budgets: Map<string, V1PodDisruptionBudget>, entry: () => NamespaceWatch): Promise<void> {
    const list = await this.kubeConfig.makeApiClient(PolicyV1Api).listNamespacedPodDisruptionBudget({ namespace });
    budgets.clear();
    for (const b of list.items) budgets.set(b.metadata?.name ?? '', b);
    if (this.closed) return;
    const path = `/apis/policy/v1/namespaces/${encodeURIComponent(namespace)}/poddisruptionbudgets`;
    const onEvent = (phase: string, obj: V1PodDisruptionBudget): void => {
      const name = obj?.metadata?.name;
      if (!name) return;
      if (phase === 'DELETED') budgets.delete(name);
      else if (phase === 'ADDED' || phase === 'MODIFIED') budgets.set(name, obj);
      this.wake(namespace);
    };
    const onDone = (): void => {
      if (this.closed) return;
      setTimeout(() => {
        if (!this.closed) this.listAndWatch(namespace, budgets, entry).catch(() => onDone());
      }, REWATCH_DELAY_MS);
    };
    entry().stop = await new Watch(this.kubeConfig).watch(path, { resourceVersion: list.metadata?.resourceVersion, allowWatchBookmarks: true }, onEvent, onDone);
    this.wake(namespace);
  }

  private wake(namespace: string): void {
    const ns = this.namespaces.get(namespace);
    if (!ns) return;
    const room = new Map<string, number>();
    for (const [name, b] of ns.budgets) room.set(name, disruptionsAllowed(b));
    for (const w of this.waiters.slice()) {
      if (w.namespace !== namespace) continue;
      const covering = [...ns.budgets.entries()].filter(([, b]) => selectorMatches(b.spec?.selector, w.labels));
      // No budget: nothing to wait for. Several: the eviction will fail with a clear 500; let it.
      if (covering.length !== 1) {
        w.resolve('allowed');
        continue;
      }
      const [name] = covering[0]!;
      const left = room.get(name) ?? 0;
      if (left > 0) {
        room.set(name, left - 1);
        w.resolve('allowed');
      }
    }
  }
}

/** Room for a disruption as the eviction subresource judges it: none while the controller has not caught up. */
function disruptionsAllowed(b: V1PodDisruptionBudget): number {
  const status = b.status;
  if (!status || (status.observedGeneration ?? 0) < (b.metadata?.generation ?? 0)) return 0;
  return status.disruptionsAllowed ?? 0;
}
