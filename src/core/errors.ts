import type { Outcome } from './outcome.js';

/** One problem in an input file, located so an editor can jump to it. */
export interface SourceIssue {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** Dotted path into the document, e.g. `spec.faults[0].at`. */
  readonly path: string;
  readonly message: string;
}

export function formatIssue(issue: SourceIssue): string {
  const where = `${issue.file}:${issue.line}:${issue.column}`;
  return issue.path ? `${where} ${issue.path}: ${issue.message}` : `${where} ${issue.message}`;
}

/** Base of the few named errors the CLI turns into exit codes (src/cli/exit.ts). */
export abstract class GamedayError extends Error {
  abstract readonly outcome: Outcome;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad experiment files: every problem found, not just the first. Exit 2. */
export class SpecError extends GamedayError {
  readonly outcome = 'invalid' as const;
  constructor(readonly issues: readonly SourceIssue[]) {
    super(issues.map(formatIssue).join('\n'));
  }
}

/** Bad command line or bad options. Exit 2. */
export class UsageError extends GamedayError {
  readonly outcome = 'invalid' as const;
}

/** The plan refuses: blast radius, a disallowed context, no targets. Exit 2. */
export class PlanError extends GamedayError {
  readonly outcome = 'invalid' as const;
}

/** A fault did not land, a preflight failed, or the steady state never held. Exit 3. */
export class InconclusiveError extends GamedayError {
  readonly outcome = 'inconclusive' as const;
}

/** gameday itself could not do its job (cluster unreachable, a revert failed…). Exit 4. */
export class HarnessError extends GamedayError {
  readonly outcome = 'error' as const;
}

/** SIGINT or SIGTERM arrived. Exit 130. */
export class InterruptedError extends GamedayError {
  readonly outcome = 'interrupted' as const;
  constructor(readonly signal: string) {
    super(`interrupted by ${signal}`);
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
