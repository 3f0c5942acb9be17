import path from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { inClusterNamespace } from '../../cluster/in-cluster.js';
import { parsePublishTarget, publishResult, type PublishTarget } from '../../cluster/publish-result.js';
import { acquireRunLock, DEFAULT_LOCK_LEASE_SECONDS, describeHolder, stopReason, type RunLock } from '../../cluster/run-lock.js';
import { Duration } from '../../core/duration.js';
import { UsageError } from '../../core/errors.js';
import { exitCodeFor, worstOutcome, type Outcome } from '../../core/outcome.js';
import { newRunId } from '../../engine/run-id.js';
import { runExperiment, type RunSummary } from '../../engine/runner.js';
import { planExperiment } from '../../plan/plan.js';
import { createReporters, DEFAULT_REPORTERS, ReporterMultiplexer } from '../../report/index.js';
import type { ExperimentSpec } from '../../spec/model.js';
import { loadTaggedExperiments } from '../../spec/load.js';
import { otlpSetup, withOtlpReporter, type OtlpFlags } from '../otlp-options.js';
import { loadPlugins } from '../plugins.js';
import { builtinRegistries } from '../registries.js';
import { openTarget } from '../target.js';
import { parseSeed } from './plan.js';

export interface RunCommandOptions extends OtlpFlags {
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
  /** Wait while another game day holds the cluster's run lock, instead of refusing (exit 5). */
  readonly waitLock?: boolean;
  /** How long the run lock outlives this run if it dies without releasing it, e.g. `30s`. */
  readonly lockLease?: string;
  /** `namespace/name` of a ConfigMap to write the result to (and an Event on the Job running gameday). */
  readonly publish?: string;
}

/**
 * `gameday run`: load and validate every experiment first (nothing runs if any file is bad), open
 * the cluster, take its run lock, then run the experiments one after another. SIGINT/SIGTERM and
 * `gameday stop` interrupt the current run, which reverts its faults before the process exits
 * 130; a second signal exits at once (the lock then expires by itself).
 */
export async function runCommand(paths: readonly string[], options: RunCommandOptions): Promise<number> {
  const seed = parseSeed(options.seed);
  const leaseSeconds = parseLockLease(options.lockLease);
  const otlp = otlpSetup(options);
  const registries = builtinRegistries();
  await loadPlugins(options.plugin ?? [], registries);
  const publishTo = options.publish !== undefined ? parsePublishTarget(options.publish) : undefined;
  const specs = await loadTaggedExperiments(paths, options.tags ?? [], registries);

  const interrupt = new AbortController();
  const stopListening = listenForSignals(interrupt);
  const outDir = path.resolve(options.out);
  const reporterNames = withOtlpReporter(options.reporter && options.reporter.length > 0 ? options.reporter : DEFAULT_REPORTERS, otlp);
  const mux = new ReporterMultiplexer(createReporters(reporterNames, { stream: options.json ? process.stderr : process.stdout, ...(otlp ? { otlp } : {}) }));
  const summaries: (RunSummary & { experiment: string })[] = [];
  const target = await openTarget({ ...options, log: (line) => process.stderr.write(`${line}\n`) });
  let lock: RunLock | undefined;
  let outcome: Outcome;
  try {
    // The first run id is taken now: the lock's holder names it, even after a wait for the lock.
    const firstRunId = newRunId(specs[0]!.name);
    lock = await takeRunLock(target.kubeConfig, firstRunId, specs, { ...options, leaseSeconds }, interrupt);
    await mux.begin({ runs: specs.length, outDir });
    for (const [i, spec] of specs.entries()) {
      if (interrupt.signal.aborted) break;
      const runId = i === 0 ? firstRunId : newRunId(spec.name);
      lock.nowRunning(runId);
      const runDir = path.join(outDir, runId);
      const summary = await runExperiment({
        spec,
        seed,
        makePlan: (snapshot) => planExperiment(spec, snapshot, { seed, cluster: target.ref, faults: registries.faults, probes: registries.probes, nodeAccess: target.nodeAccess?.provider, controlPlane: target.controlPlane !== undefined }),
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
    outcome = interrupt.signal.aborted ? 'interrupted' : worstOutcome(summaries.map((s) => s.outcome));
    if (publishTo) await publishRun(target.kubeConfig, publishTo, outcome, summaries);
  } finally {
    // What the last run reverted is left on the lease for a `gameday stop` that waits for it.
    await lock?.release(summaries.at(-1)?.reverted ?? []);
    stopListening();
    await target.close();
  }
  if (options.json) process.stdout.write(JSON.stringify({ outcome, exitCode: exitCodeFor(outcome), seed, runs: summaries }, null, 2) + '\n');
  return exitCodeFor(outcome);
}

/**
 * Takes the cluster's run lock (or waits for it with --wait-lock, saying so every 10 s) and
 * watches it: a `gameday stop` interrupts the run as SIGINT would, and so does losing the lock.
 */
async function takeRunLock(
  kubeConfig: KubeConfig,
  runId: string,
  specs: readonly ExperimentSpec[],
  options: { readonly waitLock?: boolean; readonly leaseSeconds: number },
  interrupt: AbortController,
): Promise<RunLock> {
  const say = (line: string): boolean => process.stderr.write(`${line}\n`);
  let saidAt = 0;
  let saidOf: string | undefined;
  const lock = await acquireRunLock({
    kubeConfig,
    runId,
    experiments: specs.map((s) => s.name),
    leaseSeconds: options.leaseSeconds,
    wait: options.waitLock === true,
    signal: interrupt.signal,
    log: (message) => say(`gameday: ${message}`),
    onWait: (holder) => {
      if (holder.identity === saidOf && Date.now() - saidAt < 10_000) return;
      say(`waiting for the run lock, held by ${describeHolder(holder)}…`);
      saidAt = Date.now();
      saidOf = holder.identity;
    },
  });
  lock.startWatching({
    onStopRequested: (request) => {
      say(`\n${stopReason(request)} at ${request.at}: reverting every fault before exiting…`);
      if (!interrupt.signal.aborted) interrupt.abort(stopReason(request));
    },
    onLost: (reason) => {
      say(`\ngameday: lost the run lock (${reason}): reverting every fault before exiting…`);
      if (!interrupt.signal.aborted) interrupt.abort('loss of the run lock');
    },
  });
  return lock;
}

/**
 * `--publish`: the result in a ConfigMap, and on the Job whose pod runs gameday (the pod is named
 * by `HOSTNAME`, in the service account's namespace); trouble is a warning, never the outcome.
 */
async function publishRun(kubeConfig: KubeConfig, to: PublishTarget, outcome: Outcome, summaries: readonly (RunSummary & { experiment: string })[]): Promise<void> {
  const podNamespace = inClusterNamespace();
  const ownPod = podNamespace && process.env.HOSTNAME ? { namespace: podNamespace, name: process.env.HOSTNAME } : undefined;
  const runs = summaries.map((s) => ({ experiment: s.experiment, outcome: s.outcome, reason: s.reason, runId: path.basename(s.runDir) }));
  await publishResult(kubeConfig, to, { outcome, exitCode: exitCodeFor(outcome), finishedAt: new Date().toISOString(), runs }, {
    ...(ownPod ? { ownPod } : {}),
    log: (warning) => process.stderr.write(`gameday: warning: ${warning}\n`),
  });
}

/** `--lock-lease 30s`: whole seconds, at least one (a Lease counts in seconds). */
function parseLockLease(text: string | undefined): number {
  if (text === undefined) return DEFAULT_LOCK_LEASE_SECONDS;
  const d = Duration.tryParse(text);
  if (!d || d.ms < 1000) throw new UsageError(`--lock-lease ${text}: give a duration of at least 1s, like 30s or 2m`);
  return Math.ceil(d.seconds);
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
