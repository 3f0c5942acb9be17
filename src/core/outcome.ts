/**
 * The four outcomes of a run, plus the two ways a run can end without one, and the one table
 * that maps them to process exit codes (DESIGN.md principle 4). Nothing else picks exit codes.
 */
export type Outcome = 'passed' | 'failed' | 'invalid' | 'inconclusive' | 'error' | 'interrupted';

export const EXIT_CODES: Readonly<Record<Outcome, number>> = Object.freeze({
  passed: 0,
  failed: 1,
  invalid: 2,
  inconclusive: 3,
  error: 4,
  interrupted: 130,
});

/** When several experiments run, the worst outcome decides the exit code. */
const SEVERITY: readonly Outcome[] = ['passed', 'failed', 'inconclusive', 'invalid', 'error', 'interrupted'];

export function worstOutcome(outcomes: Iterable<Outcome>): Outcome {
  let worst: Outcome = 'passed';
  for (const o of outcomes) if (SEVERITY.indexOf(o) > SEVERITY.indexOf(worst)) worst = o;
  return worst;
}

export function exitCodeFor(outcome: Outcome): number {
  return EXIT_CODES[outcome];
}
