import { consistencyOp, DUPLICATE, LOST, recordKey, STALE } from '../core/consistency-sample.js';
import type { RunEvent } from '../journal/events.js';

/** What one consistency probe found, for the report's data section. */
export interface ConsistencySummary {
  readonly probe: string;
  readonly writes: number;
  readonly acknowledged: number;
  /** Keys of acknowledged records that did not read back, in key order. */
  readonly lost: readonly string[];
  /** Keys the listing held more than once; undefined when the probe did not list. */
  readonly duplicated?: readonly string[];
  readonly staleReads: number;
  readonly verified: number;
  /** Replication lag percentiles over every record measured, in ms; undefined when none was. */
  readonly lag?: { readonly records: number; readonly p50: number; readonly p99: number; readonly max: number };
  /** The highest lag of the records written in each second of the run: [seconds since run start, ms]. */
  readonly lagOverTime: readonly (readonly [number, number])[];
}

interface Tally {
  writes: number;
  acknowledged: number;
  lost: string[];
  duplicated?: string[];
  staleReads: number;
  verified: number;
  lags: number[];
  lagPerSecond: Map<number, number>;
}

/**
 * Folds a run's events into a summary per consistency probe (src/core/consistency-sample.ts says
 * what its samples mean). Lag values are kept to compute exact percentiles: one number per record,
 * a few thousand in a long run.
 */
export class ConsistencyData {
  private readonly kinds = new Map<string, string>();
  private readonly tallies = new Map<string, Tally>();
  private startedAt = 0;

  add(event: RunEvent): void {
    if (event.type === 'run.start') this.startedAt = event.t;
    if (event.type === 'probe.start') this.kinds.set(event.probe, event.kind);
    if (event.type !== 'sample' || this.kinds.get(event.probe) !== 'consistency') return;
    const tally = this.tallyOf(event.probe);
    const key = recordKey(event);
    switch (consistencyOp(event)) {
      case 'write':
        tally.writes++;
        if (event.ok) tally.acknowledged++;
        break;
      case 'read':
        if (event.error === STALE) tally.staleReads++;
        break;
      case 'lag': {
        if (event.value === undefined) break;
        tally.lags.push(event.value);
        const second = Math.floor((event.t - this.startedAt) / 1000);
        tally.lagPerSecond.set(second, Math.max(tally.lagPerSecond.get(second) ?? 0, event.value));
        break;
      }
      case 'verify':
        if (event.error === LOST && key) tally.lost.push(key);
        else if (event.ok) tally.verified++;
        break;
      case 'list':
        tally.duplicated ??= [];
        if (event.error === DUPLICATE && key) tally.duplicated.push(key);
        break;
      case undefined:
        break;
    }
  }

  build(): ConsistencySummary[] {
    return [...this.tallies].map(([probe, t]) => {
      const lags = [...t.lags].sort((a, b) => a - b);
      const rank = (p: number): number => lags[Math.max(1, Math.ceil((p / 100) * lags.length)) - 1]!;
      return {
        probe,
        writes: t.writes,
        acknowledged: t.acknowledged,
        lost: [...t.lost].sort(),
        ...(t.duplicated ? { duplicated: [...t.duplicated].sort() } : {}),
        staleReads: t.staleReads,
        verified: t.verified,
        ...(lags.length ? { lag: { records: lags.length, p50: rank(50), p99: rank(99), max: lags.at(-1)! } } : {}),
        lagOverTime: [...t.lagPerSecond].sort(([a], [b]) => a - b),
      };
    });
  }

  private tallyOf(probe: string): Tally {
    let t = this.tallies.get(probe);
    if (!t) this.tallies.set(probe, (t = { writes: 0, acknowledged: 0, lost: [], staleReads: 0, verified: 0, lags: [], lagPerSecond: new Map() }));
    return t;
  }
}
