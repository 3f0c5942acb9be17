import { existsSync } from 'node:fs';
import path from 'node:path';
import { HarnessError, UsageError } from '../../core/errors.js';
import { findRunDirs, recoverRuns } from '../../engine/recover.js';
import { loadPlugins } from '../plugins.js';
import { builtinRegistries } from '../registries.js';
import { assertContextOptionAllowed, connectAllowed } from '../target.js';

export interface RecoverCommandOptions {
  readonly out: string;
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly allowContext?: string[];
  readonly allowlist?: string;
  readonly plugin?: string[];
  readonly json?: boolean;
  readonly nodeAccess?: string;
}

/**
 * `gameday recover [run-dir]`: reverts what a killed run left applied, reading only its journal.
 * Without a directory, every run under --out is checked; runs with nothing left are skipped.
 * Idempotent: a second call finds nothing to do. A context must be allowed, as for `run`.
 */
export async function recoverCommand(runDir: string | undefined, options: RecoverCommandOptions): Promise<number> {
  await assertContextOptionAllowed(options);
  const registries = builtinRegistries();
  await loadPlugins(options.plugin ?? [], registries);
  const dirs = runDir ? [path.resolve(runDir)] : await findRunDirs(path.resolve(options.out));
  if (runDir && !existsSync(path.join(dirs[0]!, 'journal.ndjson'))) throw new UsageError(`${runDir}: no journal.ndjson there; give a run directory such as reports/<run-id>`);
  const say = options.json ? () => undefined : (line: string) => process.stdout.write(`${line}\n`);
  const results = await recoverRuns(dirs, {
    registries,
    // The cluster the run recorded, unless the command line names another way to reach it. Node
    // faults (partitions, netem, disk fill) are reverted through the same node access the run chose.
    connect: (ref) => connectAllowed({ ...options, kubeconfig: options.kubeconfig ?? ref.kubeconfig, context: options.context ?? ref.context }),
    onRecovered: (dir, result) => {
      if (runDir || result.status !== 'clean') say(`${path.relative(process.cwd(), dir) || dir}: ${result.message}`);
    },
    log: say,
  });
  if (options.json) process.stdout.write(JSON.stringify(results, null, 2) + '\n');
  else if (!runDir && results.every((r) => r.status === 'clean' || r.status === 'embedded')) say(`nothing to recover in ${dirs.length} run${dirs.length === 1 ? '' : 's'} under ${options.out}`);
  if (results.some((r) => r.status === 'failed')) throw new HarnessError('some faults could not be reverted; see above, fix the cause and run gameday recover again');
  return 0;
}
