import { execa } from 'execa';
import type { ExecResult } from './node-access.js';

export interface RunOptions {
  /** Kills the command after this long; the result then has exit code 124, as `timeout` reports. */
  readonly timeoutMs?: number;
}

/**
 * Runs a local command (`docker exec …`, `ip netns exec …`, `kind …`) and returns its exit code and
 * output; never throws for a non-zero exit. Injected into the providers so tests can check the
 * exact argv a provider would run on a machine without a container engine.
 */
export type CommandRunner = (argv: readonly string[], options?: RunOptions) => Promise<ExecResult>;

/** A command that cannot start (not on PATH) answers exit code 127, as a shell would. */
export const runCommand: CommandRunner = async (argv, options = {}) => {
  const [file, ...args] = argv;
  if (!file) throw new Error('runCommand needs a command');
  const result = await execa(file, args, { reject: false, timeout: options.timeoutMs, stdin: 'ignore', encoding: 'utf8' });
  const stdout = result.stdout ?? '';
  const stderr = result.stderr ?? '';
  if (result.timedOut) return { exitCode: 124, stdout, stderr: `${stderr}\n${file}: timed out after ${options.timeoutMs}ms`.trim() };
  if (result.exitCode === undefined) {
    const why = result.code === 'ENOENT' ? `${file}: command not found` : (result.message ?? `${file}: could not start`);
    return { exitCode: 127, stdout, stderr: why };
  }
  return { exitCode: result.exitCode, stdout, stderr };
};
