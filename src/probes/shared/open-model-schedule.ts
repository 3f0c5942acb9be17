import { performance } from 'node:perf_hooks';

/**
 * The arrival times of an open-model load: slot i is due at start + i/rate, however the earlier
 * slots went. Times are computed from the index, never accumulated, so a long run does not drift;
 * `at` is on the monotonic clock (for latencies), `t` on the wall clock samples and fault events
 * share.
 */
export class OpenModelSchedule {
  private readonly intervalMs: number;
  private readonly startMono: number;
  private readonly startEpoch: number;
  private next = 0;

  constructor(perSecond: number, startMono = performance.now(), startEpoch = Date.now()) {
    this.intervalMs = 1000 / perSecond;
    this.startMono = startMono;
    this.startEpoch = startEpoch;
  }

  /** Monotonic time the next slot is due. */
  get nextAt(): number {
    return this.startMono + this.next * this.intervalMs;
  }

  /** How many slots have been taken. */
  get taken(): number {
    return this.next;
  }

  /**
   * Hands every slot due by `now` to `fire`, oldest first: a late tick fires all the slots it
   * missed at once rather than dropping them, and each keeps its own scheduled time.
   */
  takeDue(now: number, fire: (at: number, t: number) => void): void {
    while (this.nextAt <= now) {
      const offset = this.next++ * this.intervalMs;
      fire(this.startMono + offset, this.startEpoch + offset);
    }
  }
}
