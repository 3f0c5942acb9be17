import type { Duration } from '../core/duration.js';

/**
 * A parsed check: `availability(web) >= 99.5% over 30s`, `pdb(shop/web) holds`,
 * `failover(statefulset/shop/db) < 20s`. One language for steady state, SLOs and abort conditions.
 */
export type Comparator = '>=' | '>' | '<=' | '<' | '==' | '!=';

/** Thresholds are normalized: percentages to a ratio in 0..1, durations to milliseconds, true and false to 1 and 0. */
export type ThresholdUnit = 'ratio' | 'ms' | 'number' | 'per-second' | 'boolean';

export interface Threshold {
  readonly value: number;
  readonly unit: ThresholdUnit;
  /** As written, for messages: `99.5%`, `300ms`. */
  readonly text: string;
}

export type CheckExpr =
  | {
      readonly text: string;
      readonly fn: string;
      /** A probe name (`web`) or a target (`shop/web`, `statefulset/shop/db`); several arguments joined by `, `. */
      readonly arg: string;
      /** A series function the outer one reads instead of the probe's latencies: `lag` in `p99(lag(orders))`. */
      readonly series?: string;
      /** One field of a function that measures several things: `secrets` in `blastRadius(shop/frontend).secrets`. */
      readonly field?: string;
      readonly op: Comparator;
      readonly threshold: Threshold;
      readonly window?: Duration;
    }
  | {
      readonly text: string;
      readonly fn: string;
      readonly arg: string;
      readonly op: 'holds';
      readonly window?: Duration;
    };

/** The call as written, for messages: `p99(web)`, `p99(lag(orders))`, `blastRadius(shop/frontend).secrets`. */
export function callText(expr: CheckExpr): string {
  const series = 'series' in expr ? expr.series : undefined;
  const field = 'field' in expr && expr.field !== undefined ? `.${expr.field}` : '';
  return `${expr.fn}(${series ? `${series}(${expr.arg})` : expr.arg})${field}`;
}
