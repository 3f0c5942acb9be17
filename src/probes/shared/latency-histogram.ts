import { build, type Histogram } from 'hdr-histogram-js';

/** Percentiles of a latency histogram, in milliseconds. */
export interface LatencySummary {
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

/**
 * Latencies in an HDR histogram: constant memory and cost per value at any rate, three significant
 * digits. Values are kept in microseconds so sub-millisecond answers from a local service still
 * have their own buckets.
 */
export class LatencyHistogram {
  private readonly histogram: Histogram = build({ bitBucketSize: 32, numberOfSignificantValueDigits: 3, autoResize: true, lowestDiscernibleValue: 1 });

  record(ms: number): void {
    this.histogram.recordValue(Math.max(0, Math.round(ms * 1000)));
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  summary(): LatencySummary {
    const h = this.histogram;
    const ms = (us: number): number => Math.round(us) / 1000;
    if (h.totalCount === 0) return { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };
    return {
      count: h.totalCount,
      mean: ms(h.mean),
      p50: ms(h.getValueAtPercentile(50)),
      p90: ms(h.getValueAtPercentile(90)),
      p99: ms(h.getValueAtPercentile(99)),
      p999: ms(h.getValueAtPercentile(99.9)),
      max: ms(h.maxValue),
    };
  }

  /** `p50 1.2ms p90 … max …`, for log lines. */
  format(): string {
    const s = this.summary();
    return `p50 ${s.p50}ms p90 ${s.p90}ms p99 ${s.p99}ms p99.9 ${s.p999}ms max ${s.max}ms`;
  }
}
