import type { Sample } from '../../core/sample.js';

/** One second of one probe, folded: counts and the figures the charts draw. */
export interface SecondBucket {
  /** Whole seconds since the run started. */
  readonly second: number;
  n: number;
  ok: number;
  p50?: number;
  p90?: number;
  p99?: number;
  max?: number;
  valueMin?: number;
  valueMax?: number;
  /** The value the second ended on, and when it was read: where a watch probe settled. */
  valueLast?: number;
  valueLastT?: number;
  /** A floor the value must stay at or above (`detail.desiredHealthy` of a budget sample). */
  floor?: number;
  /** The rate a load shape offered over the second, per second: the mean of its samples' `detail.offeredRate`. */
  offered?: number;
  offeredSamples?: number;
}

/**
 * Samples can arrive a little out of order (probes of different kinds report at their own pace),
 * so a second stays open for this many seconds after the newest sample before its latencies are
 * reduced to percentiles and dropped.
 */
const OPEN_SECONDS = 3;

/**
 * Folds one probe's samples into per-second buckets as they stream by. Memory grows with the
 * length of the run in seconds, never with the number of samples: only the few open seconds
 * keep their raw latencies.
 */
export class ProbeBuckets {
  kind = 'unknown';
  samples = 0;
  failed = 0;
  hasLatency = false;
  hasValue = false;
  hasFloor = false;
  hasOffered = false;
  private readonly closed = new Map<number, SecondBucket>();
  private readonly open = new Map<number, { bucket: SecondBucket; latencies: number[] }>();
  private newest = Number.NEGATIVE_INFINITY;

  constructor(
    readonly name: string,
    private readonly startMs: number,
  ) {}

  add(sample: Sample): void {
    this.samples++;
    if (!sample.ok) this.failed++;
    const second = Math.floor((sample.t - this.startMs) / 1000);
    const slot = this.slot(second);
    const bucket = slot ? slot.bucket : this.closed.get(second)!;
    bucket.n++;
    if (sample.ok) bucket.ok++;
    if (typeof sample.latencyMs === 'number' && Number.isFinite(sample.latencyMs)) {
      this.hasLatency = true;
      // A sample for a second already closed still counts and can still be the slowest.
      if (slot) slot.latencies.push(sample.latencyMs);
      else bucket.max = Math.max(bucket.max ?? sample.latencyMs, sample.latencyMs);
    }
    if (typeof sample.value === 'number' && Number.isFinite(sample.value)) {
      this.hasValue = true;
      bucket.valueMin = Math.min(bucket.valueMin ?? sample.value, sample.value);
      bucket.valueMax = Math.max(bucket.valueMax ?? sample.value, sample.value);
      if (sample.t >= (bucket.valueLastT ?? Number.NEGATIVE_INFINITY)) {
        bucket.valueLast = sample.value;
        bucket.valueLastT = sample.t;
      }
    }
    const floor = sample.detail?.desiredHealthy;
    if (typeof floor === 'number' && Number.isFinite(floor)) {
      this.hasFloor = true;
      bucket.floor = floor;
    }
    const offered = sample.detail?.offeredRate;
    if (typeof offered === 'number' && Number.isFinite(offered)) {
      this.hasOffered = true;
      const before = bucket.offeredSamples ?? 0;
      bucket.offeredSamples = before + 1;
      bucket.offered = ((bucket.offered ?? 0) * before + offered) / (before + 1);
    }
    if (second > this.newest) {
      this.newest = second;
      this.closeBefore(second - OPEN_SECONDS);
    }
  }

  /** Every second that had samples, in order; closes the open ones. */
  seconds(): SecondBucket[] {
    this.closeBefore(Number.POSITIVE_INFINITY);
    return [...this.closed.values()].sort((a, b) => a.second - b.second);
  }

  private slot(second: number): { bucket: SecondBucket; latencies: number[] } | undefined {
    let slot = this.open.get(second);
    if (slot) return slot;
    if (this.closed.has(second)) return undefined;
    slot = { bucket: { second, n: 0, ok: 0 }, latencies: [] };
    this.open.set(second, slot);
    return slot;
  }

  private closeBefore(limit: number): void {
    for (const [second, { bucket, latencies }] of this.open) {
      if (second >= limit) continue;
      if (latencies.length > 0) {
        latencies.sort((a, b) => a - b);
        bucket.p50 = quantile(latencies, 0.5);
        bucket.p90 = quantile(latencies, 0.9);
        bucket.p99 = quantile(latencies, 0.99);
        bucket.max = latencies[latencies.length - 1];
      }
      this.closed.set(second, bucket);
      this.open.delete(second);
    }
  }
}

/** Nearest-rank quantile, the definition the SLO checks use for whole windows. */
function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
