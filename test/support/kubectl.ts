import { execa, execaSync } from 'execa';
import { realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { eventually } from './eventually.js';

/** The kubectl versions installed beside the default one (`kubectl.1.27` … `kubectl.1.33`). */
export const KUBECTL_VERSIONS = ['1.27', '1.28', '1.29', '1.30', '1.31', '1.32', '1.33'] as const;

/** Path of kubectl `version` ('default': the one on PATH), or undefined when it is not installed. */
export function kubectlBinary(version: string): string | undefined {
  try {
    const onPath = execaSync('sh', ['-c', 'command -v kubectl']).stdout.trim();
    if (!onPath) return undefined;
    return version === 'default' ? onPath : join(dirname(realpathSync(onPath)), `kubectl.${version}`);
  } catch {
    return undefined;
  }
}

/**
 * Runs `kubectl port-forward …` (`args` after `port-forward`) while `use` runs, from the moment it
 * says it is forwarding; `use` gets what kubectl has printed so far. Returns `use`'s answer and
 * kubectl's whole output.
 */
export async function whileForwarding<T>(bin: string, args: readonly string[], env: Record<string, string>, use: (log: () => string) => Promise<T>): Promise<{ result: T; log: string }> {
  const child = execa(bin, ['port-forward', ...args], { env, reject: false, all: true });
  let log = '';
  child.all!.on('data', (d: Buffer) => (log += d.toString()));
  try {
    await eventually('kubectl forwarding', () => log.includes('Forwarding from 127.0.0.1'), 15_000);
    return { result: await use(() => log), log };
  } finally {
    child.kill();
    await child;
  }
}
