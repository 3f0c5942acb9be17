import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { HarnessError, UsageError } from '../../core/errors.js';
import type { ClusterRef } from '../../journal/events.js';
import { readJournal } from '../../journal/reader.js';
import { recoverRun, type RecoverResult } from '../../engine/recover.js';
import { ApiException, CoreV1Api } from '@kubernetes/client-node';
import { connectKubeconfig } from '../../cluster/connect.js';
import { chooseNodeAccess } from '../../nodes/choose-node-access.js';
import { NODE_ACCESS_POD_SELECTOR } from '../../nodes/pod-node-access.js';
import { nodeAccessChoice } from '../target.js';
import type { ClusterTarget } from '../../cluster/target.js';
import { loadPlugins } from '../plugins.js';
import { builtinRegistries } from '../registries.js';

export interface RecoverCommandOptions {
  readonly out: string;
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly plugin?: string[];
  readonly json?: boolean;
  readonly nodeAccess?: string;
}

/**
 * `gameday recover [run-dir]`: reverts what a killed run left applied, reading only its journal.
 * Without a directory, every run under --out is checked; runs with nothing left are skipped.
 * Idempotent: a second call finds nothing to do.
 */
export async function recoverCommand(runDir: string | undefined, options: RecoverCommandOptions): Promise<number> {
  const registries = builtinRegistries();
  await loadPlugins(options.plugin ?? [], registries);
  const dirs = runDir ? [path.resolve(runDir)] : await runDirs(path.resolve(options.out));
  if (runDir && !existsSync(path.join(dirs[0]!, 'journal.ndjson'))) throw new UsageError(`${runDir}: no journal.ndjson there; give a run directory such as reports/<run-id>`);
  const results: RecoverResult[] = [];
  let failed = false;
  for (const dir of dirs) {
    const ref = await clusterOf(dir);
    const needsCluster = ref?.kind === 'kubeconfig';
    const cluster = needsCluster ? await connect(ref, options) : undefined;
    try {
      const result = await recoverRun(dir, { cluster, registries });
      if (cluster) await removeNodeAccessPods(cluster, options.json ? () => undefined : (line) => process.stdout.write(`${line}\n`));
      results.push(result);
      if (result.status === 'failed') failed = true;
      if (!options.json && (runDir || result.status !== 'clean')) process.stdout.write(`${path.relative(process.cwd(), dir) || dir}: ${result.message}\n`);
    } finally {
      await cluster?.close();
    }
  }
  if (options.json) process.stdout.write(JSON.stringify(results, null, 2) + '\n');
  else if (!runDir && results.every((r) => r.status === 'clean' || r.status === 'embedded')) process.stdout.write(`nothing to recover in ${dirs.length} run${dirs.length === 1 ? '' : 's'} under ${options.out}\n`);
  if (failed) throw new HarnessError('some faults could not be reverted; see above, fix the cause and run gameday recover again');
  return 0;
}

/** The pod provider's privileged helper pods outlive a killed run; they are labelled so they can be found. */
async function removeNodeAccessPods(cluster: ClusterTarget, log: (line: string) => void): Promise<void> {
  const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
  const pods = await core.listPodForAllNamespaces({ labelSelector: NODE_ACCESS_POD_SELECTOR });
  for (const pod of pods.items) {
    const { namespace, name } = pod.metadata ?? {};
    if (!namespace || !name) continue;
    await core.deleteNamespacedPod({ namespace, name, gracePeriodSeconds: 0 }).catch((err: unknown) => {
      if (!(err instanceof ApiException && err.code === 404)) throw err;
    });
    log(`deleted leftover node-access pod ${namespace}/${name}`);
  }
}

async function runDirs(outDir: string): Promise<string[]> {
  if (!existsSync(outDir)) return [];
  const entries = await readdir(outDir, { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory() && existsSync(path.join(outDir, e.name, 'journal.ndjson')))
    .map((e) => path.join(outDir, e.name))
    .sort();
}

async function clusterOf(dir: string): Promise<ClusterRef | undefined> {
  for await (const event of readJournal(path.join(dir, 'journal.ndjson'))) {
    if (event.type === 'run.start') return event.cluster;
  }
  return undefined;
}

/** The cluster the run recorded, unless the command line names another way to reach it. */
function connect(ref: ClusterRef, options: RecoverCommandOptions): Promise<ClusterTarget> {
  return connectKubeconfig({
    kubeconfig: options.kubeconfig ?? ref.kubeconfig,
    context: options.context ?? ref.context,
    // Node faults (partitions, netem, disk fill) are reverted through the same node access the run chose.
    nodeAccessFor: (r, kubeConfig) => chooseNodeAccess(r, kubeConfig, { choice: nodeAccessChoice(options.nodeAccess) }),
  });
}
