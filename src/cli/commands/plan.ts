import { applyWorkloads } from '../../cluster/workloads.js';
import { PlanError, UsageError } from '../../core/errors.js';
import { SeededRandom } from '../../core/rng.js';
import { controlPlaneStepRefusals } from '../../plan/control-plane-steps.js';
import { formatPlan } from '../../plan/format.js';
import { planExperiment } from '../../plan/plan.js';
import { experimentScope } from '../../plan/scope.js';
import { loadExperimentFile } from '../../spec/load.js';
import { builtinRegistries } from '../registries.js';
import { loadPlugins } from '../plugins.js';
import { openTarget } from '../target.js';

export interface PlanCommandOptions {
  readonly context?: string;
  readonly kubeconfig?: string;
  readonly allowContext?: string[];
  readonly allowlist?: string;
  readonly plugin?: string[];
  readonly seed?: string;
  readonly json?: boolean;
}

export function parseSeed(text: string | undefined): number {
  if (text === undefined) return SeededRandom.newSeed();
  const seed = Number(text);
  if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 32 - 1) throw new UsageError(`--seed ${text}: give a whole number from 0 to 4294967295`);
  return seed;
}

/**
 * `gameday plan <file>`: the concrete targets and timeline a run would use, and nothing changed.
 * On the embedded cluster the experiment's workloads are applied first (the cluster is thrown away
 * afterwards), so pod targets exist to be chosen; on a real cluster they must already be deployed.
 */
export async function planCommand(file: string, options: PlanCommandOptions): Promise<number> {
  const seed = parseSeed(options.seed);
  const registries = builtinRegistries();
  await loadPlugins(options.plugin ?? [], registries);
  const spec = await loadExperimentFile(file, registries);
  const target = await openTarget({ ...options, log: (line) => process.stderr.write(`${line}\n`) });
  try {
    const refused = controlPlaneStepRefusals(spec, { name: target.ref.name, controlPlane: target.controlPlane !== undefined });
    if (refused.length > 0) throw new PlanError(refused.join('\n'));
    if (target.ref.kind === 'embedded' && spec.workloads.length > 0) {
      await applyWorkloads(target.kubeConfig, spec.workloads, { signal: new AbortController().signal, log: (line) => process.stderr.write(`workloads: ${line}\n`) });
    }
    const snapshot = await target.snapshot(await experimentScope(spec, registries.probes));
    const plan = planExperiment(spec, snapshot, { seed, cluster: target.ref, faults: registries.faults, probes: registries.probes, nodeAccess: target.nodeAccess?.provider, controlPlane: target.controlPlane !== undefined });
    process.stdout.write(options.json ? JSON.stringify(plan, (k, v: unknown) => (k === 'spec' ? undefined : v), 2) + '\n' : formatPlan(plan) + '\n');
    return 0;
  } finally {
    await target.close();
  }
}
