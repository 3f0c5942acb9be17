import { PolicyV1Api, type KubeConfig, type V1PodDisruptionBudget } from '@kubernetes/client-node';
import { KubeWatch } from './kube-watch.js';
import { selectorMatches } from './label-selector.js';

export interface BudgetWatchOptions {
  /**
   * A waiter is looked at again after this long even without a watch event, so a missed event or
   * a dropped watch can slow a drain but never hang it: it is woken if a fresh read of its budget
   * shows room (or the watch gave up). @default 5000 (kubectl's fixed retry interval)
   */
  readonly fallbackMs?: number;
  /** How long a broken watch is retried before the budgets of its namespace are no longer trusted. @default 30000 (WATCH_RETRY) */
  readonly giveUpAfterMs?: number;
  /** Watch trouble, for the fault's log. */
  readonly log?: (message: string) => void;
}

/** Why a wait ended: the budget allows a disruption, the fallback interval passed, or the signal aborted. */
export type BudgetWake = 'allowed' | 'fallback' | 'aborted';

interface Waiter {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly resolve: (why: BudgetWake) => void;
}

interface NamespaceBudgets {
  readonly watch: KubeWatch<V1PodDisruptionBudget>;
  readonly ready: Promise<void>;
  /** The watch gave up: its cache may be stale, so only the fallback wakes this namespace's waiters. */
  blind: boolean;
}

/**
 * A waiter whose budget already shows room when it registers is woken after this pause: the cache
 * may not yet show the disruption the refused eviction's competitor just spent.
 */
const STALE_CACHE_PAUSE_MS = 100;

/** Fallback checks of one namespace within this long share one read of its budgets. */
const FRESH_READ_SHARED_MS = 1000;

/**
 * Watches the PodDisruptionBudgets of the namespaces a drain touches and wakes blocked evictions
 * the moment a budget allows another disruption, instead of retrying on a fixed timer. Each
 * budget wakes at most `disruptionsAllowed` waiters per version of its status, oldest first, so
 * twenty pods behind a budget that frees one slot cause one retry, not twenty, however often other
 * changes make the namespace's waiters look again before that retry's eviction shows. The watches keep to
 * WATCH_RETRY; one that gives up leaves its namespace to the fallback interval, as kubectl does.
 */
export class BudgetWatch {
  private readonly namespaces = new Map<string, NamespaceBudgets>();
  private readonly waiters: Waiter[] = [];
  /** Per budget: the status version whose room was handed out, and how much of it. */
  private readonly spent = new Map<string, { readonly resourceVersion: string | undefined; count: number }>();
  private readonly freshReads = new Map<string, { readonly at: number; readonly budgets: Promise<readonly V1PodDisruptionBudget[] | undefined> }>();
  private readonly fallbackMs: number;
  private closed = false;

  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly options: BudgetWatchOptions = {},
  ) {
    this.fallbackMs = options.fallbackMs ?? 5000;
  }

  /** Resolves when a budget covering these labels has room for a disruption (or after the fallback, or on abort). */
  async waitForDisruption(namespace: string, labels: Readonly<Record<string, string>>, signal: AbortSignal): Promise<BudgetWake> {
    await this.watchNamespace(namespace).ready;
    if (signal.aborted) return 'aborted';
    return new Promise<BudgetWake>((resolve) => {
      let settled = false;
      const finish = (why: BudgetWake): void => {
        if (settled) return;
        settled = true;
        clearTimeout(fallback);
        signal.removeEventListener('abort', onAbort);
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        resolve(why);
      };
      const waiter: Waiter = { namespace, labels, resolve: finish };
      const onAbort = (): void => finish('aborted');
      // Retrying on the timer alone would be kubectl's 5 s loop, a refused eviction per blocked pod
      // each time: retry only when a fresh read shows room the watch did not report.
      const onFallback = async (): Promise<void> => {
        if (this.namespaces.get(namespace)?.blind || (await this.freshRoom(namespace, labels))) finish('fallback');
        else if (!settled) fallback = setTimeout(() => void onFallback(), this.fallbackMs);
      };
      let fallback = setTimeout(() => void onFallback(), this.fallbackMs);
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
      setTimeout(() => this.wake(namespace), STALE_CACHE_PAUSE_MS);
    });
  }

  close(): void {
    this.closed = true;
    for (const ns of this.namespaces.values()) void ns.watch.stop();
    for (const w of this.waiters.slice()) w.resolve('aborted');
  }

  /** The namespace's budgets: listed once, then kept current by a watch. */
  private watchNamespace(namespace: string): NamespaceBudgets {
    let ns = this.namespaces.get(namespace);
    if (!ns) {
      const watch = new KubeWatch<V1PodDisruptionBudget>({
        kubeConfig: this.kubeConfig,
        path: `/apis/policy/v1/namespaces/${encodeURIComponent(namespace)}/poddisruptionbudgets`,
        ...(this.options.giveUpAfterMs !== undefined ? { giveUpAfterMs: this.options.giveUpAfterMs } : {}),
        onChange: () => this.wake(namespace),
        onRetry: (message) => this.options.log?.(`budget ${message}`),
        onGiveUp: (error) => {
          entry.blind = true;
          this.options.log?.(`budgets in ${namespace} are no longer watched, so blocked evictions there are retried every ${this.fallbackMs / 1000}s: ${error.message}`);
        },
      });
      const entry: NamespaceBudgets = { watch, ready: watch.start().then(() => this.wake(namespace)), blind: false };
      this.namespaces.set(namespace, (ns = entry));
    }
    return ns;
  }

  /** Whether the budget covering `labels` has room as the API server says now (true when it cannot be read). */
  private async freshRoom(namespace: string, labels: Readonly<Record<string, string>>): Promise<boolean> {
    let read = this.freshReads.get(namespace);
    if (!read || Date.now() - read.at > FRESH_READ_SHARED_MS) {
      const budgets = this.kubeConfig
        .makeApiClient(PolicyV1Api)
        .listNamespacedPodDisruptionBudget({ namespace })
        .then((list) => list.items, () => undefined);
      this.freshReads.set(namespace, (read = { at: Date.now(), budgets }));
    }
    const budgets = await read.budgets;
    if (!budgets) return true;
    const covering = budgets.filter((b) => selectorMatches(b.spec?.selector, labels));
    return covering.length !== 1 || disruptionsAllowed(covering[0]!) > 0;
  }

  /** Room of this version of the budget already handed to a waiter whose eviction it does not show yet. */
  private spentOf(b: V1PodDisruptionBudget): number {
    const spent = this.spent.get(budgetKey(b));
    return spent && spent.resourceVersion === b.metadata?.resourceVersion ? spent.count : 0;
  }

  private spend(b: V1PodDisruptionBudget): void {
    const key = budgetKey(b);
    const spent = this.spent.get(key);
    if (spent && spent.resourceVersion === b.metadata?.resourceVersion) spent.count++;
    else this.spent.set(key, { resourceVersion: b.metadata?.resourceVersion, count: 1 });
  }

  private wake(namespace: string): void {
    const ns = this.namespaces.get(namespace);
    if (!ns || ns.blind || this.closed) return;
    const budgets = ns.watch.list();
    const room = new Map<V1PodDisruptionBudget, number>(budgets.map((b) => [b, disruptionsAllowed(b) - this.spentOf(b)]));
    for (const w of this.waiters.slice()) {
      if (w.namespace !== namespace) continue;
      const covering = budgets.filter((b) => selectorMatches(b.spec?.selector, w.labels));
      // No budget: nothing to wait for. Several: the eviction will fail with a clear 500; let it.
      if (covering.length !== 1) {
        w.resolve('allowed');
        continue;
      }
      const budget = covering[0]!;
      const left = room.get(budget) ?? 0;
      if (left > 0) {
        room.set(budget, left - 1);
        this.spend(budget);
        w.resolve('allowed');
      }
    }
  }
}

function budgetKey(b: V1PodDisruptionBudget): string {
  return `${b.metadata?.namespace}/${b.metadata?.name}`;
}

/** Room for a disruption as the eviction subresource judges it: none while the controller has not caught up. */
function disruptionsAllowed(b: V1PodDisruptionBudget): number {
  const status = b.status;
  if (!status || (status.observedGeneration ?? 0) < (b.metadata?.generation ?? 0)) return 0;
  return status.disruptionsAllowed ?? 0;
}
