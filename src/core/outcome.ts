/**
 * The four outcomes of a run, plus the two ways a run can end without one, and the one table
 * that maps them to process exit codes (docs/architecture.md, principle 4). Nothing else picks exit codes:
 * the CLI's exit, the reports' "(exit N)" and the `--help` text all read this table.
 */
export const OUTCOMES = [
  { outcome: 'passed', exitCode: 0, meaning: 'passed' },
  { outcome: 'failed', exitCode: 1, meaning: 'failed: an SLO, an abort condition or the steady state after the faults was violated' },
  { outcome: 'invalid', exitCode: 2, meaning: 'invalid input or usage' },
  { outcome: 'inconclusive', exitCode: 3, meaning: 'inconclusive: a fault did not land, or the steady state never held before the faults' },
  { outcome: 'error', exitCode: 4, meaning: 'harness error' },
  { outcome: 'busy', exitCode: 5, meaning: 'busy: another game day holds the cluster\'s run lock (wait for it with --wait-lock)' },
  { outcome: 'interrupted', exitCode: 130, meaning: 'interrupted (SIGINT/SIGTERM or gameday stop); faults were reverted' },
] as const;

export type Outcome = (typeof OUTCOMES)[number]['outcome'];

/**
 * When several experiments run, the worst outcome decides the exit code. No experiment ends
 * `busy`: the run lock is taken before the first one starts.
 */
const SEVERITY: readonly Outcome[] = ['passed', 'failed', 'inconclusive', 'invalid', 'error', 'busy', 'interrupted'];

export function worstOutcome(outcomes: Iterable<Outcome>): Outcome {
  let worst: Outcome = 'passed';
  for (const o of outcomes) if (SEVERITY.indexOf(o) > SEVERITY.indexOf(worst)) worst = o;
  return worst;
}

export function exitCodeFor(outcome: Outcome): number {
  return OUTCOMES.find((o) => o.outcome === outcome)!.exitCode;
}
