import { COMPONENTS } from '../../control-plane/components.js';
import { buildControlPlane } from '../../control-plane/build.js';
import { locateControlPlane } from '../../control-plane/locate.js';

export interface ControlPlaneBuildOptions {
  readonly version?: string;
  readonly force?: boolean;
}

/** `gameday control-plane build`: compile the pinned Kubernetes and etcd into the cache. */
export async function controlPlaneBuildCommand(options: ControlPlaneBuildOptions): Promise<number> {
  const result = await buildControlPlane({ version: options.version, force: options.force, progress: (line) => process.stderr.write(`${line}\n`) });
  process.stdout.write(`${result.directory}\n`);
  return 0;
}

/** `gameday control-plane where`: which binaries a `--control-plane real` run would use. */
export async function controlPlaneWhereCommand(): Promise<number> {
  const found = locateControlPlane();
  process.stdout.write(`from ${found.source}:\n${COMPONENTS.map((c) => `  ${c.padEnd(24)} ${found.paths[c]}`).join('\n')}\n`);
  return 0;
}
