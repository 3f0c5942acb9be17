import type { KubeConfig } from '@kubernetes/client-node';
import type { RetryCause } from './retry-policy.js';

/**
 * The retries of every request made with one KubeConfig, counted by cause. The engine takes the
 * counts phase by phase and journals them, so a run that survived a flaky API server does not
 * look like a clean one. Counting, not logging: a storm of thousands of retries is one number.
 */
export class ApiRetryTally {
  private counts = new Map<RetryCause, number>();

  count(cause: RetryCause): void {
    this.counts.set(cause, (this.counts.get(cause) ?? 0) + 1);
  }

  /** What was counted since the last take, by cause; counting starts again from zero. */
  take(): Readonly<Record<string, number>> {
    const taken = Object.fromEntries(this.counts);
    this.counts = new Map();
    return taken;
  }
}

const tallies = new WeakMap<KubeConfig, ApiRetryTally>();

/** The tally of the requests made with `kubeConfig`: every client and watch made from it counts there. */
export function retryTally(kubeConfig: KubeConfig): ApiRetryTally {
  let tally = tallies.get(kubeConfig);
  if (!tally) tallies.set(kubeConfig, (tally = new ApiRetryTally()));
  return tally;
}
