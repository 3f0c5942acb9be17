import { errorMessage, GamedayError, SpecError } from '../core/errors.js';
import { exitCodeFor } from '../core/outcome.js';

/**
 * The one place that turns errors into messages and exit codes (docs/architecture.md, principle 4).
 * Expected errors print their message only; anything else is a harness error, with the stack
 * only when GAMEDAY_DEBUG is set.
 */
export function reportError(err: unknown, stderr: NodeJS.WritableStream = process.stderr): number {
  if (err instanceof SpecError) {
    const n = err.issues.length;
    stderr.write(`${err.message}\n${n} problem${n === 1 ? '' : 's'} found.\n`);
    return exitCodeFor('invalid');
  }
  if (err instanceof GamedayError) {
    stderr.write(`gameday: ${err.message}\n`);
    return exitCodeFor(err.outcome);
  }
  const detail = process.env.GAMEDAY_DEBUG && err instanceof Error && err.stack ? err.stack : errorMessage(err);
  stderr.write(`gameday: internal error: ${detail}\n(set GAMEDAY_DEBUG=1 for the stack trace; please report it)\n`);
  return exitCodeFor('error');
}
