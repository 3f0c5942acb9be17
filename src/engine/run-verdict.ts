import type { Outcome } from '../core/outcome.js';
import { worstOutcome } from '../core/outcome.js';

/**
 * Collects what decides a run's outcome as the run goes. The worst outcome wins (an interrupt
 * over a harness error over an inconclusive fault over a failed check); among equals the first
 * reason stays, because it is the cause and the later ones its consequences.
 */
export class RunVerdict {
  private current: Outcome = 'passed';
  private why = 'the steady state held and every SLO passed';

  conclude(outcome: Outcome, reason: string): void {
    if (outcome === this.current && this.current !== 'passed') return;
    if (worstOutcome([this.current, outcome]) !== outcome) return;
    this.current = outcome;
    this.why = reason;
  }

  get outcome(): Outcome {
    return this.current;
  }

  get reason(): string {
    return this.why;
  }
}
