import { execaSync } from 'execa';
import { realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';

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
