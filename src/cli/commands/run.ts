import path from 'node:path';
import { SpecError, UsageError } from '../../core/errors.js';
import { exitCodeFor, worstOutcome, type Outcome } from '../../core/outcome.js';
import { newRunId } from '../../engine/run-id.js';
import { runExperiment, type RunSummary } from '../../engine/runner.js';
import { planExperiment } from '../../plan/plan.js';
import { createReporters, DEFAULT_REPORTERS, ReporterMultiplexer } from '../../report/index.js';
import type { ExperimentSpec } from '../../spec/model.js';
import { collectExperimentFiles, loadExperiments } from '../../spec/load.js';
import { loadPlugins } from '../plugins.js';
import { builtinRegistries } from '../registries.js';
import { openTarget } from '../target.js';
import { parseSeed } from './plan.js';

export interface RunCommandOptions {
  readonly context?: string;
  readonly kubeconfig?: string;
  readonly allowContext?: string[];
  readonly allowlist?: string;
  readonly plugin?: string[];
  readonly out: string;
  readonly seed?: string;
  readonly tags?: string[];
  readonly reporter?: string[];
  readonly json?: boolean;
}

/**
 * `gameday run`: load and validate every experiment first (nothing runs if any file is bad), open
 * the cluster, then run the experiments one after another. SIGINT/SIGTERM interrupt the current
 * run, which reverts its faults before the process exits 130; a second signal exits at once.
 */
export async function runCommand(paths: readonly string[], options: RunCommandOptions): Promise<number> {
  const seed = parseSeed(options.seed);
  const registries = builtinRegistries();
  await loadPlugins(options.plugin ?? [], registries);
  const files = await collectExperimentFiles([...paths]);
  const { specs: loaded, issues } = await loadExperiments(files, registries);
  if (issues.length > 0) throw new SpecError(issues);
  const specs = loaded.filter((s) => matchesTags(s, options.tags ?? []));
  if (specs.length === 0) throw new UsageError(loaded.length === 0 ? `no experiment files in ${paths.join(', ')}` : `no experiment matches --tags ${options.tags?.join(',')}`);

  const interrupt = new AbortController();
  const stopListening = listenForSignals(interrupt);
  const outDir = path.resolve(options.out);
  const reporterNames = options.reporter && options.reporter.length > 0 ? options.reporter : [...DEFAULT_REPORTERS];
  const mux = new ReporterMultiplexer(createReporters(reporterNames, { stream: options.json ? process.stderr : process.stdout }));
  const summaries: (RunSummary & { experiment: string })[] = [];
  const target = await openTarget({ ...options, log: (line) => process.stderr.write(`${line}\n`) });
  try {
    await mux.begin({ runs: specs.length, outDir });
    for (const spec of specs) {
      if (interrupt.signal.aborted) break;
      const runId = newRunId(spec.name);
      const runDir = path.join(outDir, runId);
      const summary = await runExperiment({
        spec,
        seed,
        makePlan: (snapshot) => planExperiment(spec, snapshot, { seed, cluster: target.ref, faults: registries.faults, probes: registries.probes, nodeAccess: target.nodeAccess?.provider }),
        cluster: target,
        registries,
        runId,
        runDir,
        observer: mux.forRun(runDir),
        signal: interrupt.signal,
      });
      summaries.push({ ...summary, experiment: spec.name });
    }
    await mux.end();
  } finally {
    stopListening();
    await target.close();
  }
  const outcome: Outcome = interrupt.signal.aborted ? 'interrupted' : worstOutcome(summaries.map((s) => s.outcome));
  if (options.json) process.stdout.write(JSON.stringify({ outcome, exitCode: exitCodeFor(outcome), seed, runs: summaries }, null, 2) + '\n');
  return exitCodeFor(outcome);
}

/** `key=value` must equal that label; a bare word matches any label value (or key) equal to it. */
function matchesTags(spec: ExperimentSpec, tags: readonly string[]): boolean {
  return tags.every((tag) => {
    const eq = tag.indexOf('=');
    if (eq > 0) return spec.labels[tag.slice(0, eq)] === tag.slice(eq + 1);
    return Object.entries(spec.labels).some(([k, v]) => v === tag || k === tag);
  });
}

function listenForSignals(interrupt: AbortController): () => void {
  const onSignal = (signal: NodeJS.Signals): void => {
    if (!interrupt.signal.aborted) {
      process.stderr.write(`\n${signal}: reverting every fault before exiting (send it again to exit at once)…\n`);
      interrupt.abort(signal);
      return;
    }
    process.stderr.write(`\n${signal} again: exiting now; faults may still be applied — run \`gameday recover\`.\n`);
    process.exit(exitCodeFor('interrupted'));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
