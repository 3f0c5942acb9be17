import type { Duration } from '../../core/duration.js';

/**
 * Polls `check` until it returns true or the timeout passes; returns true, or the last thing
 * `check` said was still missing. Faults use it to verify effects that take a moment to show.
 */
export async function waitFor<T>(timeout: Duration, signal: AbortSignal, check: () => Promise<true | T>, intervalMs = 250): Promise<true | T> {
  const deadline = Date.now() + timeout.ms;
  for (;;) {
    const result = await check();
    if (result === true || Date.now() >= deadline || signal.aborted) return result;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
