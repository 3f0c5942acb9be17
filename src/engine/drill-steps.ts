import { AppsV1Api, CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { resolve } from 'node:path';
import { execa } from 'execa';
import { isNotFound } from '../cluster/api-errors.js';
import { applyManifests, workloadNeeds } from '../cluster/workloads.js';
import type { Permission } from '../cluster/rbac.js';
import { abortableSleep } from '../core/abortable-sleep.js';
import { errorMessage } from '../core/errors.js';
import type { ClusterTarget } from '../cluster/target.js';
import { execInPod, podExecPermissions } from '../nodes/pod-exec.js';
import type { Sample } from '../core/sample.js';
import { evaluateCheck } from '../slo/evaluate.js';
import { implicitProbeName, PROBE_AND_STEP, STEP_PAIR } from '../slo/functions.js';
import type { SampleSource } from '../slo/sample-index.js';
import type { CheckSpec, StepSpec } from '../spec/model.js';
import { describeStep, type ApplyParams, type CommandParams, type DeleteParams, type ExecParams, type RolloutRestartParams, type ScaleParams, type WaitForParams } from '../spec/step-schema.js';
import { deletableObject } from './deletable-object.js';
import { etcdRestoreStep, etcdSnapshotStep, type EndedStep } from './etcd-steps.js';
import type { RunRecorder } from './recorder.js';
import { StepFailed, type StepResult } from './step-result.js';

const DEFAULT_EXEC_TIMEOUT_MS = 60_000;
const DEFAULT_DELETE_TIMEOUT_MS = 60_000;
const POLL_MS = 200;

export interface DrillStepOptions {
  readonly steps: readonly StepSpec[];
  readonly cluster: ClusterTarget;
  /** Where `command` steps run: the experiment file's folder. */
  readonly experimentDir: string;
  readonly samples: SampleSource;
  readonly recorder: RunRecorder;
  /** Aborted when the run stops early; the step under way gives up and is journaled as failed. */
  readonly signal: AbortSignal;
  /** Checks that may read the steps' times: each `rto(a, b)` among them gets its sample when b ends. */
  readonly checks: readonly CheckSpec[];
  /** Adds a sample to the run's samples and journal, as a probe's would be. */
  readonly emitSample: (sample: Sample) => void;
  /** A step failed: the run ends with this outcome (a waitFor that never came true: failed; anything else: error). */
  readonly onStop: (outcome: 'failed' | 'error', reason: string) => void;
}

const PLURAL: Readonly<Record<string, { resource: string; group?: string }>> = {
  Pod: { resource: 'pods' },
  PersistentVolumeClaim: { resource: 'persistentvolumeclaims' },
  Service: { resource: 'services' },
  ConfigMap: { resource: 'configmaps' },
  Secret: { resource: 'secrets' },
  Namespace: { resource: 'namespaces' },
  Deployment: { resource: 'deployments', group: 'apps' },
  StatefulSet: { resource: 'statefulsets', group: 'apps' },
  ReplicaSet: { resource: 'replicasets', group: 'apps' },
  DaemonSet: { resource: 'daemonsets', group: 'apps' },
};

/** What a step does through the API, as RBAC grants it (`gameday rbac`); waitFor's checks bring their probes' own. */
export function stepPermissions(step: StepSpec): Permission[] {
  const why = `step ${step.name} (${step.kind})`;
  const on = (kind: string, verbs: Permission['verbs'], namespace?: string): Permission => ({ why, verbs, ...PLURAL[kind]!, ...(namespace ? { namespace } : {}) });
  switch (step.kind) {
    case 'exec': {
      const p = step.params as ExecParams;
      return [{ ...on('Pod', ['list'], p.pod.namespace) }, ...podExecPermissions(why, p.pod.namespace)];
    }
    case 'scale': {
      const p = step.params as ScaleParams;
      return [on(p.kind, ['patch'], p.namespace)];
    }
    case 'rolloutRestart': {
      const p = step.params as RolloutRestartParams;
      return [on(p.kind, ['patch'], p.namespace)];
    }
    case 'delete': {
      const p = step.params as DeleteParams;
      return [on(p.kind, ['delete', 'get'], p.namespace)];
    }
    case 'apply':
    case 'command':
    case 'waitFor':
      return [];
    // They run only in a control plane gameday runs itself, as its admin: nothing for a Role to grant.
    case 'etcdSnapshot':
    case 'etcdRestore':
      return [];
  }
}

/** What an apply step does with the objects of its file (read from disk, so not in stepPermissions). */
export async function applyStepPermissions(step: StepSpec, experimentDir: string): Promise<Permission[]> {
  if (step.kind !== 'apply') return [];
  const needs = await workloadNeeds([resolve(experimentDir, (step.params as ApplyParams).file)]);
  const why = `step ${step.name} (apply)`;
  // Unlike an experiment's workloads, a drill may apply a Namespace an earlier step deleted.
  const namespaces = needs.namespaces.map((ns): Permission => ({ why: `${why}: create Namespace ${ns.metadata!.name!} (a disaster may have deleted it)`, verbs: ['create'], resource: 'namespaces' }));
  return [...needs.permissions.map((p) => ({ ...p, why: `${why}: ${p.why.replace(/^workloads: /, '')}` })), ...namespaces];
}

/**
 * Runs the drill steps in file order, each at its `at` (from the start of the fault phase) and
 * never before the one before it ended. A step runs once: it is journaled (`start`) before it
 * acts, never reverted, and never retried, since a half-done delete or backup repeated blindly
 * may do harm; the first failure stops the remaining steps and the run.
 */
export async function runDrillSteps(options: DrillStepOptions): Promise<void> {
  const start = Date.now();
  const started = new Map<string, number>();
  const ended: EndedStep[] = [];
  for (const step of options.steps) {
    await abortableSleep(start + step.at.ms - Date.now(), options.signal);
    if (options.signal.aborted) return;
    const record = (phase: 'start' | 'done' | 'failed', extra: { message?: string; evidence?: unknown } = {}): void =>
      options.recorder.record({ type: 'step', t: Date.now(), step: step.id, name: step.name, kind: step.kind, phase, ...extra });
    const startedAt = Date.now();
    started.set(step.name, startedAt);
    record('start', { message: describeStep(step) });
    markDisaster(options, step, startedAt);
    try {
      const result = await runStep(options, step, ended);
      const endedAt = Date.now();
      record('done', { message: result.message, ...(result.evidence !== undefined ? { evidence: result.evidence } : {}) });
      ended.push({ step, evidence: result.evidence });
      emitRecoveryTimes(options, step, started, endedAt);
    } catch (err) {
      const failed = err instanceof StepFailed ? err : new StepFailed(errorMessage(err), 'error');
      record('failed', { message: failed.message, ...(failed.evidence !== undefined ? { evidence: failed.evidence } : {}) });
      if (!options.signal.aborted) options.onStop(failed.outcome, `step ${step.name} (${step.kind}) failed: ${failed.message}`);
      return;
    }
  }
}

/**
 * RTO as `rto(a, b)` defines it: from the moment step a started (the disaster began) to the moment
 * step b ended (the waitFor saw the service serve again). One sample, at b's end, under the
 * check's implicit name, so the check reads it like any other target function's gauge.
 */
function emitRecoveryTimes(options: DrillStepOptions, ended: StepSpec, started: ReadonlyMap<string, number>, endedAt: number): void {
  for (const check of options.checks) {
    const pair = check.expr.fn === 'rto' ? STEP_PAIR.exec(check.expr.arg) : null;
    if (!pair || pair[2] !== ended.name) continue;
    const from = started.get(pair[1]!);
    if (from === undefined) continue;
    options.emitSample({ t: endedAt, probe: implicitProbeName('rto', check.expr.arg), ok: true, value: endedAt - from, detail: { from: pair[1], to: pair[2] } });
  }
}

/**
 * The disaster moment `rpo(p, step)` measures the recovery point from: one sample, when the step
 * starts, under the check's implicit name; the check pairs it with the probe's verified writes.
 */
function markDisaster(options: DrillStepOptions, step: StepSpec, startedAt: number): void {
  for (const check of options.checks) {
    const named = check.expr.fn === 'rpo' ? PROBE_AND_STEP.exec(check.expr.arg) : null;
    if (named?.[2] === step.name) options.emitSample({ t: startedAt, probe: implicitProbeName('rpo', check.expr.arg), ok: true, detail: { step: step.name, probe: named[1] } });
  }
}

function runStep(options: DrillStepOptions, step: StepSpec, ended: readonly EndedStep[]): Promise<StepResult> {
  const kc = options.cluster.kubeConfig;
  const etcd = { kubeConfig: kc, controlPlane: options.cluster.controlPlane, signal: options.signal, checks: options.checks, emitSample: options.emitSample };
  switch (step.kind) {
    case 'exec':
      return execStep(kc, step.params as ExecParams);
    case 'command':
      return commandStep(options.experimentDir, step.params as CommandParams);
    case 'scale':
      return scaleStep(kc, step.params as ScaleParams);
    case 'rolloutRestart':
      return rolloutRestartStep(kc, step.params as RolloutRestartParams);
    case 'apply':
      return applyStep(kc, options.experimentDir, step.params as ApplyParams);
    case 'delete':
      return deleteStep(kc, step.params as DeleteParams, options.signal);
    case 'waitFor':
      return waitForStep(options, step.params as WaitForParams);
    case 'etcdSnapshot':
      return etcdSnapshotStep(etcd, step);
    case 'etcdRestore':
      return etcdRestoreStep(etcd, step, ended);
  }
}

async function execStep(kc: KubeConfig, p: ExecParams): Promise<StepResult> {
  const labelSelector = Object.entries(p.pod.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
  const pods = (await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: p.pod.namespace, ...(labelSelector ? { labelSelector } : {}) })).items;
  const running = pods
    .filter((pod) => pod.status?.phase === 'Running' && (p.pod.names === undefined || p.pod.names.includes(pod.metadata!.name!)))
    .map((pod) => pod.metadata!.name!)
    .sort();
  const pod = running[0];
  if (!pod) throw new StepFailed(`no running pod in namespace ${p.pod.namespace} matches (${pods.length} pods there)`, 'error');
  const result = await execInPod(kc, { namespace: p.pod.namespace, pod, ...(p.container ? { container: p.container } : {}), argv: p.command, timeoutMs: p.timeout?.ms ?? DEFAULT_EXEC_TIMEOUT_MS });
  const evidence = { pod: `${p.pod.namespace}/${pod}`, exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr };
  if (result.exitCode !== 0) throw new StepFailed(`exit code ${result.exitCode} in ${p.pod.namespace}/${pod}${result.stderr ? `: ${result.stderr.trim()}` : ''}`, 'error', evidence);
  return { message: `exit code 0 in ${p.pod.namespace}/${pod}`, evidence };
}

async function commandStep(cwd: string, p: CommandParams): Promise<StepResult> {
  const result = await execa(p.run[0]!, p.run.slice(1), { cwd, timeout: p.timeout?.ms ?? DEFAULT_EXEC_TIMEOUT_MS, reject: false, stdin: 'ignore', forceKillAfterDelay: 2000 });
  const evidence = { exitCode: result.exitCode ?? null, stdout: result.stdout, stderr: result.stderr };
  if (result.failed) throw new StepFailed(`${p.run.join(' ')}: ${result.timedOut ? `still running after ${p.timeout?.toString() ?? '60s'}` : result.exitCode !== undefined ? `exit code ${result.exitCode}` : result.shortMessage}`, 'error', evidence);
  return { message: `exit code 0: ${p.run.join(' ')}`, evidence };
}

const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** Sets spec.replicas, which is what kubectl scale's scale subresource writes. */
async function scaleStep(kc: KubeConfig, p: ScaleParams): Promise<StepResult> {
  const apps = kc.makeApiClient(AppsV1Api);
  const args = { name: p.name, namespace: p.namespace, body: { spec: { replicas: p.replicas } } };
  const before =
    p.kind === 'Deployment' ? await apps.patchNamespacedDeployment(args, MERGE)
    : p.kind === 'StatefulSet' ? await apps.patchNamespacedStatefulSet(args, MERGE)
    : await apps.patchNamespacedReplicaSet(args, MERGE);
  return { message: `${p.kind} ${p.namespace}/${p.name} scaled to ${p.replicas}`, evidence: { generation: before.metadata?.generation } };
}

/** What kubectl rollout restart patches: the pod template's restartedAt annotation, in RFC 3339 (seconds). */
async function rolloutRestartStep(kc: KubeConfig, p: RolloutRestartParams): Promise<StepResult> {
  const apps = kc.makeApiClient(AppsV1Api);
  const restartedAt = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const body = { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': restartedAt } } } } };
  const args = { name: p.name, namespace: p.namespace, body };
  if (p.kind === 'Deployment') await apps.patchNamespacedDeployment(args, MERGE);
  else if (p.kind === 'StatefulSet') await apps.patchNamespacedStatefulSet(args, MERGE);
  else await apps.patchNamespacedDaemonSet(args, MERGE);
  return { message: `${p.kind} ${p.namespace}/${p.name} restarted (restartedAt ${restartedAt})`, evidence: { restartedAt } };
}

/** Creates or replaces each object of the file, as kubectl apply does; the evidence lists what happened to each. */
async function applyStep(kc: KubeConfig, experimentDir: string, p: ApplyParams): Promise<StepResult> {
  const applied = await applyManifests(kc, [resolve(experimentDir, p.file)]);
  const lines = applied.map((a) => `${a.object} ${a.action === 'kept' ? 'unchanged (exists)' : a.action}`);
  return { message: `${p.file}: ${applied.length} object${applied.length === 1 ? '' : 's'} applied`, evidence: { file: p.file, objects: lines } };
}

async function deleteStep(kc: KubeConfig, p: DeleteParams, signal: AbortSignal): Promise<StepResult> {
  const call = deletableObject(kc, p);
  const what = call.what;
  try {
    await call.del();
  } catch (err) {
    if (isNotFound(err)) throw new StepFailed(`${what} does not exist`, 'error');
    throw err;
  }
  if (p.wait === false) return { message: `${what} deleted (not waited for)` };
  const deadline = Date.now() + (p.timeout?.ms ?? DEFAULT_DELETE_TIMEOUT_MS);
  for (;;) {
    try {
      await call.read();
    } catch (err) {
      if (isNotFound(err)) return { message: `${what} deleted and gone` };
      throw err;
    }
    if (Date.now() > deadline) throw new StepFailed(`${what} is still there after ${p.timeout?.toString() ?? '60s'} (finalizers?)`, 'error');
    await abortableSleep(POLL_MS, signal);
    if (signal.aborted) throw new StepFailed(`${what} deletion not awaited: the run stopped`, 'error');
  }
}

/** Polls the check on the latest samples (from the step's start) until it is true or the timeout passes. */
async function waitForStep(options: DrillStepOptions, p: WaitForParams): Promise<StepResult> {
  const from = Date.now();
  const deadline = from + p.timeout.ms;
  for (;;) {
    const now = Date.now();
    const outcome = evaluateCheck(p.check, options.samples, { from, to: now }, 'latest');
    if (outcome.verdict === 'passed') return { message: `${p.check.text} true after ${now - from} ms: ${outcome.message}`, evidence: outcome.evidence };
    if (now > deadline) throw new StepFailed(`${p.check.text} not true within ${p.timeout}: ${outcome.message}`, 'failed', outcome.evidence);
    await abortableSleep(POLL_MS, options.signal);
    if (options.signal.aborted) throw new StepFailed(`${p.check.text} not awaited to the end: the run stopped`, 'error');
  }
}
