import { evaluateCheck } from '../slo/evaluate.js';
import type { CheckOutcome } from '../slo/evaluate.js';
import type { SampleSource } from '../slo/sample-index.js';
import type { CheckSpec } from '../spec/model.js';
import type { RunRecorder } from './recorder.js';

export interface AbortWatchOptions {
  /** Conditions that describe the bad state: `availability(web) < 80% over 30s`. */
  readonly checks: readonly CheckSpec[];
  readonly tickMs: number;
  readonly samples: SampleSource;
  /** Start of the fault phase: the range for conditions without `over`. */
  readonly from: number;
  readonly recorder: RunRecorder;
  /** Called once, with the reason, when a condition comes true. */
  readonly onFire: (reason: string) => void;
}

export interface AbortWatch {
  /** Stops watching and journals a final verdict for each condition that never fired. */
  stop(): void;
}

/**
 * Evaluates the abort conditions every tick while the faults run. A condition that is *true*
 * fires: the check is journaled as failed (from the run's point of view), then the abort itself.
 * A condition with no data never fires: an abort must be earned by evidence.
 */
export function watchAbortConditions(options: AbortWatchOptions): AbortWatch {
  const last = new Map<CheckSpec, CheckOutcome>();
  let fired = false;
  const tick = (): void => {
    const now = Date.now();
    for (const check of options.checks) {
      const o = evaluateCheck(check.expr, options.samples, { from: options.from, to: now }, 'latest');
      last.set(check, o);
      if (o.verdict !== 'passed') continue;
      fired = true;
      clearInterval(timer);
      const message = `abort condition met: ${o.message}`;
      options.recorder.record({
        type: 'check',
        t: now,
        role: 'abort',
        check: check.expr.text,
        verdict: 'failed',
        ...(o.value !== undefined ? { value: o.value } : {}),
        message,
        evidence: o.evidence,
      });
      options.recorder.record({ type: 'abort', t: now, check: check.expr.text, message });
      options.onFire(`aborted: ${check.expr.text} came true (${o.message})`);
      return;
    }
  };
  const timer = setInterval(tick, options.tickMs);
  return {
    stop() {
      clearInterval(timer);
      if (fired) return;
      const now = Date.now();
      for (const check of options.checks) {
        const o = last.get(check);
        options.recorder.record({
          type: 'check',
          t: now,
          role: 'abort',
          check: check.expr.text,
          verdict: 'passed',
          message: o ? `never fired; last reading: ${o.message}` : 'never fired',
          evidence: o?.evidence ?? { from: options.from, to: now, samples: 0 },
        });
      }
    },
  };
}
