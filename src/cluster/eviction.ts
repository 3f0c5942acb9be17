import { ApiException, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { errorMessage, HarnessError } from '../core/errors.js';
import { apiStatusOf, isNotFound, isTooManyRequests } from './api-errors.js';
import type { BudgetWatch } from './budget-watch.js';

/** One refused eviction, kept as evidence: when, which pod, and what the API server said. */
export interface EvictionRefusal {
  readonly t: number;
  readonly pod: string;
  readonly code: number;
  readonly reason: string;
  readonly message: string;
  /** The `DisruptionBudget` cause: which budget, how many healthy pods it needs and has. */
  readonly budget?: string;
}

export type EvictionAttempt = { readonly result: 'evicted' | 'gone' } | { readonly result: 'refused'; readonly refusal: EvictionRefusal };

export interface EvictionTarget {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * One POST to the Eviction API (policy/v1). A 429 is an answer, not an error: the budget said no
 * for now. A 500 about several budgets is a cluster misconfiguration the drain cannot work around,
 * so it is thrown with what to fix.
 */
export async function requestEviction(kubeConfig: KubeConfig, pod: EvictionTarget, gracePeriodSeconds?: number): Promise<EvictionAttempt> {
  const api = kubeConfig.makeApiClient(CoreV1Api);
  const body = {
    apiVersion: 'policy/v1',
    kind: 'Eviction',
    metadata: { name: pod.name, namespace: pod.namespace },
    ...(gracePeriodSeconds !== undefined ? { deleteOptions: { gracePeriodSeconds } } : {}),
  };
  try {
    await api.createNamespacedPodEviction({ name: pod.name, namespace: pod.namespace, body });
    return { result: 'evicted' };
  } catch (err) {
    if (isNotFound(err)) return { result: 'gone' };
    if (!(err instanceof ApiException)) throw err;
    const status = apiStatusOf(err);
    const message = status.message ?? errorMessage(err);
    if (isTooManyRequests(err)) {
      const cause = status.details?.causes?.find((c) => c.reason === 'DisruptionBudget');
      return {
        result: 'refused',
        refusal: { t: Date.now(), pod: `${pod.namespace}/${pod.name}`, code: 429, reason: status.reason ?? 'TooManyRequests', message, ...(cause?.message ? { budget: cause.message } : {}) },
      };
    }
    if (err.code === 500 && /more than one PodDisruptionBudget/i.test(message)) {
      throw new HarnessError(
        `cannot evict pod ${pod.namespace}/${pod.name}: ${message} Make sure at most one PodDisruptionBudget selects each pod (kubectl get pdb -n ${pod.namespace}).`,
      );
    }
    throw new HarnessError(`evicting pod ${pod.namespace}/${pod.name} failed: HTTP ${err.code} ${status.reason ?? ''} ${message}`.replace(/\s+/g, ' ').trim());
  }
}

export interface EvictWithBudgetOptions {
  readonly kubeConfig: KubeConfig;
  readonly budgets: BudgetWatch;
  readonly gracePeriodSeconds?: number;
  /** Stops retrying: the drain's timeout, an interrupt, or a blocked drain that has waited long enough. */
  readonly signal: AbortSignal;
  /** Every refusal, as it happens. */
  readonly onRefused: (refusal: EvictionRefusal) => void;
}

/**
 * Evicts one pod, retrying each refusal as soon as its budget has room again.
 * kubectl retries a blocked eviction after a fixed 5 s; we wait for the budget to change instead.
 */
export async function evictWithBudget(pod: EvictionTarget, options: EvictWithBudgetOptions): Promise<'evicted' | 'gone' | 'stopped'> {
  for (;;) {
    if (options.signal.aborted) return 'stopped';
    const attempt = await requestEviction(options.kubeConfig, pod, options.gracePeriodSeconds);
    if (attempt.result !== 'refused') return attempt.result;
    options.onRefused(attempt.refusal);
    if ((await options.budgets.waitForDisruption(pod.namespace, pod.labels, options.signal)) === 'aborted') return 'stopped';
  }
}
