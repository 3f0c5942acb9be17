import type { Sample } from '../core/sample.js';

/**
 * Read access to a run's samples, per probe and in time order, for check evaluation.
 * Slices are views found by binary search, so evaluating a window over a million samples copies
 * nothing but the window itself.
 */
export interface SampleSource {
  /** The probe's samples, sorted by `t`; do not mutate. */
  samples(probe: string): readonly Sample[];
  /** Index of the first sample with `t >= time`. */
  lowerBound(probe: string, time: number): number;
  /** Index of the first sample with `t > time`. */
  upperBound(probe: string, time: number): number;
  /** Number of not-ok samples in `[start, end)` (indices), in O(1) after the first query. */
  failuresBetween(probe: string, start: number, end: number): number;
}

interface ProbeSeries {
  readonly samples: Sample[];
  /** `failures[i]` = not-ok samples among `samples[0..i)`; valid up to `validUpTo`. */
  failures: Uint32Array;
  validUpTo: number;
}

/** The engine's sample store: probes append as they observe; checks read. */
export class SampleIndex implements SampleSource {
  private readonly series = new Map<string, ProbeSeries>();

  add(sample: Sample): void {
    let s = this.series.get(sample.probe);
    if (!s) {
      s = { samples: [], failures: new Uint32Array(1), validUpTo: 0 };
      this.series.set(sample.probe, s);
    }
    const list = s.samples;
    // Open-model probes report a request when it finishes but stamp it when it started, so a slow
    // request lands behind faster later ones: insert from the end, where it almost always belongs.
    let at = list.length;
    while (at > 0 && list[at - 1]!.t > sample.t) at--;
    if (at === list.length) list.push(sample);
    else list.splice(at, 0, sample);
    s.validUpTo = Math.min(s.validUpTo, at);
  }

  probes(): string[] {
    return [...this.series.keys()];
  }

  samples(probe: string): readonly Sample[] {
    return this.series.get(probe)?.samples ?? [];
  }

  lowerBound(probe: string, time: number): number {
    return search(this.samples(probe), (t) => t < time);
  }

  upperBound(probe: string, time: number): number {
    return search(this.samples(probe), (t) => t <= time);
  }

  failuresBetween(probe: string, start: number, end: number): number {
    const s = this.series.get(probe);
    if (!s || end <= start) return 0;
    const prefix = this.prefix(s);
    return prefix[end]! - prefix[start]!;
  }

  private prefix(s: ProbeSeries): Uint32Array {
    const n = s.samples.length;
    if (s.failures.length < n + 1) {
      const grown = new Uint32Array(Math.max(n + 1, s.failures.length * 2));
      grown.set(s.failures.subarray(0, s.validUpTo + 1));
      s.failures = grown;
    }
    for (let i = s.validUpTo; i < n; i++) s.failures[i + 1] = s.failures[i]! + (s.samples[i]!.ok ? 0 : 1);
    s.validUpTo = n;
    return s.failures;
  }
}

/** First index whose sample time does not satisfy `before` (which must be monotone). */
function search(list: readonly Sample[], before: (t: number) => boolean): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (before(list[mid]!.t)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
