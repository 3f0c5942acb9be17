import { abortableSleep } from '../core/abortable-sleep.js';
import type { CheckRole } from '../journal/events.js';
import type { CheckOutcome } from '../slo/evaluate.js';
import { evaluateCheck } from '../slo/evaluate.js';
import type { SampleSource } from '../slo/sample-index.js';
import type { CheckSpec } from '../spec/model.js';
import type { RunRecorder } from './recorder.js';

export interface AwaitSteadyStateOptions {
  readonly checks: readonly CheckSpec[];
  readonly role: Extract<CheckRole, 'steady-state-before' | 'steady-state-after'>;
  /** How long the checks may take to all pass at once. */
  readonly withinMs: number;
  readonly tickMs: number;
  readonly samples: SampleSource;
  /** Start of the evaluated range for checks without `over`. */
  readonly from: number;
  readonly recorder: RunRecorder;
  readonly signal: AbortSignal;
}

export type SteadyStateResult =
  | { readonly held: true }
  | { readonly held: false; readonly halted: boolean; readonly firstFailure?: string };

/**
 * Polls the steady-state checks every tick until all pass at the same moment, or time runs out.
 * Only the final verdict of each check is journaled: polling would otherwise flood the journal.
 */
export async function awaitSteadyState(options: AwaitSteadyStateOptions): Promise<SteadyStateResult> {
  if (options.checks.length === 0) return { held: true };
  const deadline = Date.now() + options.withinMs;
  for (;;) {
    const now = Date.now();
    const outcomes = options.checks.map((c) => evaluateCheck(c.expr, options.samples, { from: options.from, to: now }, 'latest'));
    const allPassed = outcomes.every((o) => o.verdict === 'passed');
    if (allPassed || now >= deadline || options.signal.aborted) {
      if (options.signal.aborted && !allPassed) return { held: false, halted: true };
      journal(options, outcomes, now);
      if (allPassed) return { held: true };
      const firstFailure = outcomes.find((o) => o.verdict !== 'passed')!.message;
      return { held: false, halted: false, firstFailure };
    }
    await abortableSleep(Math.min(options.tickMs, deadline - now), options.signal);
  }
}

function journal(options: AwaitSteadyStateOptions, outcomes: readonly CheckOutcome[], t: number): void {
  options.checks.forEach((check, i) => {
    const o = outcomes[i]!;
    options.recorder.record({
      type: 'check',
      t,
      role: options.role,
      check: check.expr.text,
      verdict: o.verdict,
      ...(o.value !== undefined ? { value: o.value } : {}),
      message: o.message,
      evidence: o.evidence,
    });
  });
}
