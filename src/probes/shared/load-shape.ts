import { z } from 'zod';
import { Duration } from '../../core/duration.js';

/**
 * A load shape: the offered rate over time, as steps and linear ramps, for open-model probes.
 * `[20/s, ramp 400/s over 60s, hold 2m, 20/s]` starts at 20/s, climbs to 400/s over a minute,
 * holds it two minutes, drops to 20/s and stays there until the probe stops.
 *
 * Arrival i is due when the integral of the rate reaches i. Each arrival time is computed from
 * its index (never by adding intervals), so a long run does not drift.
 */
export type LoadStep =
  | { readonly kind: 'rate'; readonly perSecond: number; readonly forMs?: number }
  | { readonly kind: 'ramp'; readonly perSecond: number; readonly overMs: number }
  | { readonly kind: 'hold'; readonly forMs: number };

interface Segment {
  readonly startMs: number;
  readonly durationMs: number;
  /** Rates per millisecond at the segment's start and end. */
  readonly from: number;
  readonly to: number;
  /** Arrivals before the segment starts. */
  readonly before: number;
}

const RATE = String.raw`(\d+(?:\.\d+)?)\s*/\s*(s|m)`;
const DURATION = String.raw`((?:\d+(?:\.\d+)?(?:ms|s|m|h))+)`;
const STEP_FORMS: readonly [RegExp, (m: RegExpExecArray) => LoadStep][] = [
  [new RegExp(`^${RATE}$`), (m) => ({ kind: 'rate', perSecond: perSecond(m[1]!, m[2]!) })],
  [new RegExp(`^${RATE}\\s+for\\s+${DURATION}$`), (m) => ({ kind: 'rate', perSecond: perSecond(m[1]!, m[2]!), forMs: Duration.parse(m[3]!).ms })],
  [new RegExp(`^ramp\\s+(?:to\\s+)?${RATE}\\s+over\\s+${DURATION}$`), (m) => ({ kind: 'ramp', perSecond: perSecond(m[1]!, m[2]!), overMs: Duration.parse(m[3]!).ms })],
  [new RegExp(`^hold\\s+${DURATION}$`), (m) => ({ kind: 'hold', forMs: Duration.parse(m[1]!).ms })],
];

function perSecond(count: string, unit: string): number {
  return unit === 'm' ? Number(count) / 60 : Number(count);
}

/** One step's text → the step, or undefined when it has none of the forms. */
export function parseLoadStep(text: string): LoadStep | undefined {
  const t = text.trim();
  for (const [re, build] of STEP_FORMS) {
    const m = re.exec(t);
    if (m) return build(m);
  }
  return undefined;
}

export class LoadShape {
  private readonly segments: Segment[] = [];

  constructor(readonly steps: readonly LoadStep[]) {
    let at = 0;
    let rate = 0;
    let arrivals = 0;
    const push = (durationMs: number, to: number): void => {
      const from = rate;
      this.segments.push({ startMs: at, durationMs, from, to, before: arrivals });
      if (durationMs !== Infinity) arrivals += ((from + to) / 2) * durationMs;
      at += durationMs;
      rate = to;
    };
    for (const step of steps) {
      if (step.kind === 'rate') {
        rate = step.perSecond / 1000;
        if (step.forMs) push(step.forMs, rate);
      } else if (step.kind === 'ramp') {
        push(step.overMs, step.perSecond / 1000);
      } else {
        push(step.forMs, rate);
      }
    }
    // The last rate stays until the probe stops.
    push(Infinity, rate);
  }

  /** A constant rate: the shape of `rate: 50/s`. */
  static constant(perSecond: number): LoadShape {
    return new LoadShape([{ kind: 'rate', perSecond }]);
  }

  /** The highest rate the shape reaches, per second. */
  get peakPerSecond(): number {
    return Math.max(...this.segments.map((s) => Math.max(s.from, s.to))) * 1000;
  }

  /** The offered rate `offsetMs` after the start, per second. */
  rateAt(offsetMs: number): number {
    const s = this.segmentAtTime(offsetMs);
    if (s.durationMs === Infinity || s.durationMs === 0) return s.to * 1000;
    return (s.from + ((s.to - s.from) * (offsetMs - s.startMs)) / s.durationMs) * 1000;
  }

  /** When arrival `index` is due, in ms after the start; Infinity when the shape never gets there (it ends at 0/s). */
  arrivalOffsetMs(index: number): number {
    for (let k = 0; k < this.segments.length; k++) {
      const s = this.segments[k]!;
      const next = this.segments[k + 1];
      if (next && next.before <= index) continue;
      const n = index - s.before;
      if (s.durationMs === Infinity) return s.to > 0 ? s.startMs + n / s.to : Infinity;
      // Solve from·τ + (to − from)·τ²/(2D) = n in the stable form τ = 2n / (from + √(from² + 4an)).
      const a = (s.to - s.from) / (2 * s.durationMs);
      const root = Math.sqrt(Math.max(0, s.from * s.from + 4 * a * n));
      const tau = n === 0 ? 0 : (2 * n) / (s.from + root);
      return s.startMs + Math.min(tau, s.durationMs);
    }
    return Infinity;
  }

  private segmentAtTime(offsetMs: number): Segment {
    let found = this.segments[0]!;
    for (const s of this.segments) if (s.startMs <= offsetMs) found = s;
    return found;
  }
}

const STEP_HELP = 'write each step as a rate (20/s), a rate held for a while (20/s for 30s), a ramp (ramp 400/s over 60s) or a hold (hold 2m)';

/** `rate: [20/s, ramp 400/s over 60s, hold 2m, 20/s]` → LoadShape. */
export const loadShapeSchema = z
  .array(
    z.string({ error: (iss) => `a load step is text: ${STEP_HELP}, not ${JSON.stringify(iss.input)}` }).transform((text, ctx) => {
      const step = parseLoadStep(text);
      if (!step) {
        ctx.addIssue({ code: 'custom', message: `"${text}" is not a load step; ${STEP_HELP}` });
        return z.NEVER;
      }
      return step;
    }),
  )
  .min(1, { error: `a load shape needs at least one step; ${STEP_HELP}` })
  .transform((steps) => new LoadShape(steps))
  .refine((shape) => shape.peakPerSecond > 0, { error: 'a load shape must reach a rate above 0/s' });
