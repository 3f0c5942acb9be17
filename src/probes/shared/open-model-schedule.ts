import { performance } from 'node:perf_hooks';
import { LoadShape } from './load-shape.js';

/**
 * The arrival times of an open-model load: slot i is due at start + i/rate (or where a load
 * shape's integral reaches i), however the earlier slots went. Times are computed from the index,
 * never accumulated, so a long run does not drift;
 * `at` is on the monotonic clock (for latencies), `t` on the wall clock samples and fault events
 * share.
 */
export class OpenModelSchedule {
  private readonly shape: LoadShape;
  private readonly startMono: number;
  private readonly startEpoch: number;
  private next = 0;
  private nextOffset: number;

  constructor(rate: number | LoadShape, startMono = performance.now(), startEpoch = Date.now()) {
    this.shape = typeof rate === 'number' ? LoadShape.constant(rate) : rate;
    this.startMono = startMono;
    this.startEpoch = startEpoch;
    this.nextOffset = this.shape.arrivalOffsetMs(0);
  }

  /** Monotonic time the next slot is due; Infinity when the shape has ended at 0/s. */
  get nextAt(): number {
    return this.startMono + this.nextOffset;
  }

  /** The offered rate (per second) at wall-clock time `t`. */
  offeredRateAt(t: number): number {
    return this.shape.rateAt(t - this.startEpoch);
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
      const offset = this.nextOffset;
      this.nextOffset = this.shape.arrivalOffsetMs(++this.next);
      fire(this.startMono + offset, this.startEpoch + offset);
    }
  }
}
