import type { FaultResult } from './result.js';

export type FaultProblemType = 'inject-failed' | 'not-landed' | 'revert-failed' | 'not-reverted' | 'interrupted';

export interface FaultProblem {
  readonly type: FaultProblemType;
  readonly message: string;
}

/**
 * What went wrong with a fault, worst first. A fault that did not land makes the run
 * inconclusive (docs/architecture.md, principle 3); one that may still be applied needs `gameday recover`.
 */
export function faultProblems(fault: FaultResult): FaultProblem[] {
  const problems: FaultProblem[] = [];
  const reverted = fault.revertedAtMs !== undefined;
  if (fault.revertError !== undefined && !reverted) {
    problems.push({ type: 'revert-failed', message: `revert failed: ${fault.revertError}; it may still be applied, run gameday recover` });
  } else if (fault.injectStartedAtMs !== undefined && !reverted) {
    problems.push({ type: 'not-reverted', message: 'never reverted; it may still be applied, run gameday recover' });
  }
  if (fault.injectError !== undefined) problems.push({ type: 'inject-failed', message: `inject failed: ${fault.injectError}` });
  if (fault.landed === false) problems.push({ type: 'not-landed', message: `did not land: ${fault.verifyMessage ?? 'verification found no effect'}` });
  if (fault.interrupted !== undefined) problems.push({ type: 'interrupted', message: `interrupted: ${fault.interrupted}` });
  return problems;
}

/** One word or two for a table cell: `reverted`, `not landed`, `not reached`… */
export function faultState(fault: FaultResult): string {
  const first = faultProblems(fault)[0];
  if (first) return first.type.replace('-', ' ');
  if (fault.revertedAtMs !== undefined) return fault.landed ? 'landed, reverted' : 'reverted';
  if (fault.landed) return 'landed';
  return fault.injectStartedAtMs === undefined ? 'not reached' : 'injected';
}
