import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { retryTally, type ApiRetryTally } from '../cluster/api-retries.js';
import type { NamespaceScope } from '../cluster/namespace-scope.js';
import type { ClusterSnapshot } from '../cluster/snapshot.js';
import type { ClusterTarget } from '../cluster/target.js';
import { applyWorkloads } from '../cluster/workloads.js';
import { GamedayError, errorMessage } from '../core/errors.js';
import type { Phase } from '../journal/events.js';
import { JOURNAL_VERSION } from '../journal/events.js';
import type { RunObserver } from '../journal/observer.js';
import type { Outcome } from '../core/outcome.js';
import type { Registry } from '../core/registry.js';
import type { FaultPlugin } from '../faults/fault.js';
import { controlPlaneStepRefusals } from '../plan/control-plane-steps.js';
import type { Plan } from '../plan/model.js';
import { experimentScope } from '../plan/scope.js';
import type { ProbePlugin } from '../probes/probe.js';
import { evaluateCheck } from '../slo/evaluate.js';
import { SampleIndex } from '../slo/sample-index.js';
import type { ExperimentSpec } from '../spec/model.js';
import { watchAbortConditions } from './abort-watch.js';
import { ChaosEvents } from './chaos-events.js';
import { ClusterWatch } from './cluster-watch.js';
import { runDrillSteps } from './drill-steps.js';
import { runFaultTimeline } from './fault-timeline.js';
import { Journal } from '../journal/writer.js';
import { startProbes } from './probe-set.js';
import { RunRecorder } from './recorder.js';
import { RunVerdict } from './run-verdict.js';
import type { SteadyStateResult } from './steady-state.js';
import { awaitSteadyState } from './steady-state.js';
import { TeardownStack } from './teardown-stack.js';

export interface RunOptions {
  readonly spec: ExperimentSpec;
  /** Seed of the target choice, journaled at the start so `--seed` can replay the run. */
  readonly seed: number;
  /**
   * Chooses the targets once the workloads exist (src/plan, usually `planExperiment`); a
   * PlanError here ends the run as invalid, after tearing the workloads down again.
   */
  readonly makePlan: (snapshot: ClusterSnapshot) => Plan;
  readonly cluster: ClusterTarget;
  readonly registries: { readonly faults: Registry<FaultPlugin>; readonly probes: Registry<ProbePlugin> };
  readonly runId: string;
  /** Created if missing; the journal (`journal.ndjson`) and probe artifacts go here. */
  readonly runDir: string;
  /** Gets every event, in journal order. */
  readonly observer: RunObserver;
  /** Aborting it interrupts the run (reverting first); its reason (`SIGINT`, `SIGTERM`) is journaled. */
  readonly signal?: AbortSignal;
  /** How often steady-state and abort checks are evaluated. @default 1000 */
  readonly tickMs?: number;
  /** How long workloads may take to become available. @default 120000 */
  readonly workloadTimeoutMs?: number;
}

export interface RunSummary {
  readonly outcome: Outcome;
  readonly reason: string;
  readonly runDir: string;
  readonly journalPath: string;
  /** Each revert the run made, in order: `f0 nodeCordon: cordon node worker-2`, or why it failed. */
  readonly reverted: readonly string[];
}

const GAMEDAY_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/**
 * Runs one experiment the way the method reads (docs/architecture.md, data flow):
 * setup → probes → steady state before → faults ∥ abort watch → revert all → recovery →
 * probes stop → SLO evaluation. Every setup pushes its undo on a teardown stack that is unwound
 * whatever happens, so faults are reverted (newest first) on a normal end, an abort, an error
 * and an interrupt alike. Failures are recorded as data and decide the outcome; this only
 * throws when the run directory or journal cannot be written.
 */
export async function runExperiment(options: RunOptions): Promise<RunSummary> {
  mkdirSync(options.runDir, { recursive: true });
  const journalPath = join(options.runDir, 'journal.ndjson');
  const journal = Journal.open(journalPath);
  const run = new Run(options, new RunRecorder(journal, options.observer));
  try {
    await run.execute();
  } finally {
    journal.close();
  }
  try {
    await options.observer.onRunEnd?.();
  } catch {
    // Reporters report their own failures; the run's outcome is already on disk.
  }
  return { outcome: run.verdict.outcome, reason: run.verdict.reason, runDir: options.runDir, journalPath, reverted: run.reverted };
}

class Run {
  readonly verdict = new RunVerdict();
  readonly reverted: string[] = [];
  private readonly samples = new SampleIndex();
  private readonly teardown = new TeardownStack();
  /** Aborted when the run must wind down early: interrupt, abort condition, a fault or probe that failed. */
  private readonly halt = new AbortController();
  /** Aborted only on interrupt: what probes and injects get, so an abort still lets them finish cleanly. */
  private readonly interrupt = new AbortController();
  private readonly tickMs: number;
  private readonly startedAt = Date.now();
  private plan: Plan | undefined;
  private readonly chaosEvents: ChaosEvents;
  private readonly retries: ApiRetryTally;
  private currentPhase: Phase | undefined;

  constructor(
    private readonly options: RunOptions,
    private readonly recorder: RunRecorder,
  ) {
    this.tickMs = options.tickMs ?? 1000;
    this.chaosEvents = new ChaosEvents(options.cluster.kubeConfig, options.runId, recorder);
    this.retries = retryTally(options.cluster.kubeConfig);
    // Retries before the run (connecting, an earlier run on the same connection) are not this run's.
    this.retries.take();
  }

  async execute(): Promise<void> {
    const { spec, seed, runId } = this.options;
    this.recorder.record({
      type: 'run.start',
      t: this.startedAt,
      journalVersion: JOURNAL_VERSION,
      runId,
      experiment: spec.name,
      file: spec.file,
      seed,
      cluster: this.options.cluster.ref,
      durationMs: spec.duration.ms,
      gamedayVersion: GAMEDAY_VERSION,
    });
    const stopListening = this.listenForSignal();
    try {
      await this.method();
    } catch (err) {
      this.recorder.log('error', `harness error: ${errorMessage(err)}`);
      this.stop('error', `harness error: ${errorMessage(err)}`);
    } finally {
      this.phase('teardown');
      await this.unwind(0);
      stopListening();
    }
    this.recordRetries();
    this.recorder.record({ type: 'run.end', t: Date.now(), outcome: this.verdict.outcome, reason: this.verdict.reason });
  }

  /** The method, step by step; each step that cannot go on has already said why (see `stop`). */
  private async method(): Promise<void> {
    this.phase('setup');
    if (!this.clusterTakesSteps()) return;
    await this.applyWorkloads();
    const scope = await this.planTargets();
    if (!scope) return;
    const probesMark = this.teardown.depth;
    const probesFrom = Date.now();
    await this.watchCluster(scope);
    if (!(await this.startProbes())) return;

    this.phase('steady-state-before');
    if (!(await this.steadyStateBefore(probesFrom))) return;

    this.phase('faults');
    const faultsFrom = Date.now();
    const { aborted } = await this.faultPhase(faultsFrom);
    if (this.halted && !aborted) return;

    // After an abort the run has failed already; waiting for the steady state would add nothing.
    if (!aborted) {
      this.phase('recovery');
      await this.recovery();
      if (this.halted) return;
    }
    const sloTo = Date.now();
    await this.unwind(probesMark);
    this.phase('evaluation');
    this.evaluateSlos(faultsFrom, sloTo);
  }

  private async applyWorkloads(): Promise<void> {
    if (this.options.spec.workloads.length === 0) return;
    const applied = await applyWorkloads(this.options.cluster.kubeConfig, this.options.spec.workloads, {
      signal: this.interrupt.signal,
      ...(this.options.workloadTimeoutMs !== undefined ? { timeoutMs: this.options.workloadTimeoutMs } : {}),
      log: (message) => this.recorder.log('info', `workloads: ${message}`),
    });
    this.teardown.push('remove workloads', () => applied.remove());
  }

  /** Steps the cluster cannot take (etcd's, outside `--control-plane real`) make the run invalid before anything is applied to it. */
  private clusterTakesSteps(): boolean {
    const { spec, cluster } = this.options;
    const refused = controlPlaneStepRefusals(spec, { name: cluster.ref.name, controlPlane: cluster.controlPlane !== undefined });
    if (refused.length > 0) this.stop('invalid', refused.join('\n'));
    return refused.length === 0;
  }

  /**
   * Targets are chosen from the cluster as it is now, with the workloads in place, read within
   * the experiment's namespace scope; returns that scope, which the cluster watch keeps to
   * (both are what `gameday rbac` grants).
   */
  private async planTargets(): Promise<NamespaceScope | undefined> {
    if (this.halted) return undefined;
    let scope: NamespaceScope;
    try {
      scope = await experimentScope(this.options.spec, this.options.registries.probes);
      this.plan = this.options.makePlan(await this.options.cluster.snapshot(scope));
    } catch (err) {
      if (!(err instanceof GamedayError)) throw err;
      this.stop(err.outcome, errorMessage(err));
      return undefined;
    }
    this.recorder.record({ type: 'plan', t: Date.now(), plan: this.plan });
    return scope;
  }

  /** Node conditions and Warning events are journaled beside the probes, and stop with them. */
  private async watchCluster(scope: NamespaceScope): Promise<void> {
    const watch = await ClusterWatch.start({
      kubeConfig: this.options.cluster.kubeConfig,
      scope,
      since: this.startedAt,
      record: (event) => this.recorder.record(event),
      log: (level, message) => this.recorder.log(level, message),
    });
    this.teardown.push('stop cluster watch', () => watch.stop());
  }

  private async startProbes(): Promise<boolean> {
    if (this.halted) return false;
    const started = await startProbes({
      probes: this.plan!.probes,
      registry: this.options.registries.probes,
      cluster: this.options.cluster,
      experimentDir: this.options.spec.dir,
      runDir: this.options.runDir,
      runId: this.options.runId,
      samples: this.samples,
      recorder: this.recorder,
      teardown: this.teardown,
      signal: this.interrupt.signal,
      onFailure: (reason) => this.stop('error', reason),
    });
    return started && !this.halted;
  }

  private async steadyStateBefore(probesFrom: number): Promise<boolean> {
    const timeout = this.options.spec.steadyState.timeout;
    const before = await this.steadyState('steady-state-before', timeout.ms, probesFrom);
    if (!before.held && !before.halted) this.stop('inconclusive', `the steady state never held within ${timeout}: ${before.firstFailure}`);
    return before.held;
  }

  /** The fault timeline with the abort watch beside it; whatever is still applied at the end is reverted, newest first. */
  private async faultPhase(from: number): Promise<{ aborted: boolean }> {
    const faultsMark = this.teardown.depth;
    let aborted = false;
    const abortWatch = watchAbortConditions({
      checks: this.options.spec.abort,
      tickMs: this.tickMs,
      samples: this.samples,
      from,
      recorder: this.recorder,
      onFire: (reason) => {
        aborted = true;
        this.stop('failed', reason);
      },
    });
    try {
      const steps = runDrillSteps({
        steps: this.options.spec.steps,
        cluster: this.options.cluster,
        experimentDir: this.options.spec.dir,
        samples: this.samples,
        recorder: this.recorder,
        signal: this.halt.signal,
        checks: this.options.spec.slos,
        emitSample: (sample) => {
          this.samples.add(sample);
          this.recorder.record({ type: 'sample', ...sample });
        },
        onStop: (outcome, reason) => this.stop(outcome, reason),
      });
      await runFaultTimeline({
        faults: this.plan!.faults,
        durationMs: this.plan!.durationMs,
        registry: this.options.registries.faults,
        cluster: this.options.cluster,
        recorder: this.recorder,
        teardown: this.teardown,
        signal: this.halt.signal,
        onStop: (outcome, reason) => this.stop(outcome, reason),
        witness: {
          injected: (fault) => this.chaosEvents.injected(fault),
          reverted: (fault, failure) => {
            this.reverted.push(`${fault.id} ${fault.kind}: ${failure ? `revert failed: ${failure}` : fault.description}`);
            if (!failure) this.chaosEvents.reverted(fault);
          },
        },
      });
      await steps;
    } finally {
      abortWatch.stop();
      await this.unwind(faultsMark);
      await this.chaosEvents.flush();
    }
    return { aborted };
  }

  private async recovery(): Promise<void> {
    const within = this.options.spec.steadyState.recoverWithin;
    const after = await this.steadyState('steady-state-after', within.ms, Date.now());
    if (!after.held && !after.halted) this.verdict.conclude('failed', `the steady state did not return within ${within}: ${after.firstFailure}`);
  }

  private steadyState(role: 'steady-state-before' | 'steady-state-after', withinMs: number, from: number): Promise<SteadyStateResult> {
    return awaitSteadyState({
      checks: this.options.spec.steadyState.checks,
      role,
      withinMs,
      tickMs: this.tickMs,
      samples: this.samples,
      from,
      recorder: this.recorder,
      signal: this.halt.signal,
    });
  }

  /** SLOs judge the whole fault phase and the recovery, window by window, each on its worst moment. */
  private evaluateSlos(from: number, to: number): void {
    const failures: string[] = [];
    for (const slo of this.options.spec.slos) {
      const o = evaluateCheck(slo.expr, this.samples, { from, to }, 'worst-window');
      this.recorder.record({
        type: 'check',
        t: Date.now(),
        role: 'slo',
        check: slo.expr.text,
        verdict: o.verdict,
        ...(o.value !== undefined ? { value: o.value } : {}),
        message: o.message,
        evidence: o.evidence,
      });
      if (o.verdict !== 'passed') failures.push(o.message);
    }
    if (failures.length === 1) this.verdict.conclude('failed', `SLO not met: ${failures[0]}`);
    if (failures.length > 1) this.verdict.conclude('failed', `${failures.length} of ${this.options.spec.slos.length} SLOs not met; first: ${failures[0]}`);
  }

  /** Runs the teardowns pushed since `depth`; a failing one makes the run an error, the rest still run. */
  private async unwind(depth: number): Promise<void> {
    for (const failure of await this.teardown.unwind(depth)) {
      this.recorder.log('error', `${failure.label} failed: ${errorMessage(failure.error)}`);
      this.stop('error', `${failure.label} failed: ${errorMessage(failure.error)}`);
    }
  }

  /** Records what decides the outcome and winds the run down: the remaining steps are skipped, the teardowns still run. */
  private stop(outcome: Outcome, reason: string): void {
    this.verdict.conclude(outcome, reason);
    if (!this.halted) this.halt.abort(reason);
  }

  private get halted(): boolean {
    return this.halt.signal.aborted;
  }

  private phase(phase: Phase): void {
    this.recordRetries();
    this.currentPhase = phase;
    this.recorder.record({ type: 'phase', t: Date.now(), phase });
  }

  /** The API retries of the phase that ends now, if there were any. */
  private recordRetries(): void {
    const counts = this.retries.take();
    if (this.currentPhase === undefined || Object.keys(counts).length === 0) return;
    this.recorder.record({ type: 'api.retries', t: Date.now(), phase: this.currentPhase, counts });
  }

  private listenForSignal(): () => void {
    const signal = this.options.signal;
    if (!signal) return () => undefined;
    const onAbort = (): void => {
      const name = typeof signal.reason === 'string' ? signal.reason : 'abort';
      this.recorder.record({ type: 'signal', t: Date.now(), signal: name });
      this.interrupt.abort(name);
      this.stop('interrupted', `interrupted by ${name}`);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    return () => signal.removeEventListener('abort', onAbort);
  }
}
