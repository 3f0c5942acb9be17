import { execaSync } from 'execa';

/** Whether a program runs here (`args` being a harmless invocation of it): tests that need it skip, naming its package, when not. */
export function installed(program: string, args: readonly string[]): boolean {
  try {
    execaSync(program, args);
    return true;
  } catch {
    return false;
  }
}
