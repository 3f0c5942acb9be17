import { AppsV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { isNotFound } from '../cluster/api-errors.js';
import { selectorMatches } from '../cluster/label-selector.js';
import type { ControlPlaneAccess } from '../cluster/target.js';
import { abortableSleep } from '../core/abortable-sleep.js';
import type { Sample } from '../core/sample.js';
import { implicitProbeName } from '../slo/functions.js';
import type { EtcdRestoreEvidence, EtcdSnapshotEvidence, RestoredObject, RestoredObjectDetail } from '../slo/restored.js';
import type { CheckSpec, StepSpec } from '../spec/model.js';
import type { DeleteParams, EtcdRestoreParams } from '../spec/step-schema.js';
import { deletableObject } from './deletable-object.js';
import { StepFailed, type StepResult } from './step-result.js';

const DEFAULT_RECONCILE_TIMEOUT_MS = 60_000;
const POLL_MS = 250;
/** A container's start time is written in whole seconds: one started in the restore's second counts as started after it. */
const START_TIME_SLACK_MS = 1000;

/** A step that ended, with what it journaled: a restore finds its snapshot and the disaster's deletes here. */
export interface EndedStep {
  readonly step: StepSpec;
  readonly evidence?: unknown;
}

export interface EtcdStepOptions {
  readonly kubeConfig: KubeConfig;
  readonly controlPlane: ControlPlaneAccess | undefined;
  readonly signal: AbortSignal;
  readonly checks: readonly CheckSpec[];
  readonly emitSample: (sample: Sample) => void;
}

/** etcdctl snapshot save, into the control plane's state directory. */
export async function etcdSnapshotStep(options: EtcdStepOptions, step: StepSpec): Promise<StepResult> {
  const controlPlane = reachable(options, step);
  const file = path.join(controlPlane.snapshotDir, `etcd-snapshot-${step.name}-${Date.now()}.db`);
  await controlPlane.saveEtcdSnapshot(file);
  const bytes = (await stat(file)).size;
  const evidence: EtcdSnapshotEvidence = { file, bytes };
  return { message: `etcd snapshot saved: ${file} (${bytes.toLocaleString('en-US')} bytes)`, evidence };
}

/**
 * The restore as etcd's and Kubernetes' guides give it (RealControlPlane.restoreEtcdSnapshot),
 * then what it brought back: each object the delete steps since the snapshot deleted is read once
 * (a read without resourceVersion goes to etcd, so it is what the restore holds), and the
 * Deployments and StatefulSets among those that came back are awaited until the controllers and
 * nodes serve them again from pods started after the restore. A `restored(step)` check gets one
 * sample per object.
 */
export async function etcdRestoreStep(options: EtcdStepOptions, step: StepSpec, ended: readonly EndedStep[]): Promise<StepResult> {
  const controlPlane = reachable(options, step);
  const p = step.params as EtcdRestoreParams;
  const snapshotAt = ended.findLastIndex((e) => e.step.kind === 'etcdSnapshot' && (p.snapshot === undefined || e.step.name === p.snapshot));
  if (snapshotAt < 0) throw new StepFailed(`no snapshot to restore: ${p.snapshot ? `step ${p.snapshot}` : 'no etcdSnapshot step'} saved one`, 'error');
  const snapshot = { step: ended[snapshotAt]!.step.name, ...(ended[snapshotAt]!.evidence as EtcdSnapshotEvidence) };
  const deletes = ended.slice(snapshotAt + 1).filter((e) => e.step.kind === 'delete');

  const restoreStarted = Date.now();
  await controlPlane.restoreEtcdSnapshot(snapshot.file);
  const apiServerReadyMs = Date.now() - restoreStarted;

  const checked = options.checks.some((c) => c.expr.fn === 'restored' && c.expr.arg === step.name);
  const read: { detail: RestoredObjectDetail; params: DeleteParams; cameBack: boolean }[] = [];
  for (const d of deletes) {
    const params = d.step.params as DeleteParams;
    const object = deletableObject(options.kubeConfig, params);
    const cameBack = await object.read().then(
      () => true,
      (err: unknown) => (isNotFound(err) ? false : Promise.reject(err as Error)),
    );
    const detail: RestoredObjectDetail = { object: object.what, deletedBy: d.step.name };
    read.push({ detail, params, cameBack });
    if (checked) options.emitSample({ t: Date.now(), probe: implicitProbeName('restored', step.name), ok: cameBack, detail: { ...detail } });
  }

  const deadline = restoreStarted + apiServerReadyMs + (p.timeout?.ms ?? DEFAULT_RECONCILE_TIMEOUT_MS);
  const objects = await Promise.all(
    read.map(async ({ detail, params, cameBack }): Promise<RestoredObject> => {
      if (!cameBack || (params.kind !== 'Deployment' && params.kind !== 'StatefulSet')) return { ...detail, cameBack };
      return { ...detail, cameBack, ...(await reconciled(options, params, restoreStarted, deadline)) };
    }),
  );
  const evidence: EtcdRestoreEvidence = { snapshot, apiServerReadyMs, objects };
  const back = objects.filter((o) => o.cameBack).length;
  const late = objects.filter((o) => o.state !== undefined);
  const summary = `snapshot of ${snapshot.step} restored, API server ready after ${apiServerReadyMs} ms; ${back} of ${objects.length} deleted object${objects.length === 1 ? '' : 's'} back`;
  if (options.signal.aborted) throw new StepFailed(`${summary}; the workloads not awaited: the run stopped`, 'error', evidence);
  if (late.length > 0) throw new StepFailed(`${summary}, but not reconciled within ${p.timeout?.toString() ?? '60s'}: ${late.map((o) => `${o.object} (${o.state})`).join('; ')}`, 'failed', evidence);
  const workloads = objects.filter((o) => o.reconciledMs !== undefined);
  return { message: `${summary}${workloads.length > 0 ? `; ${workloads.map((o) => `${o.object} ready again after ${o.reconciledMs} ms`).join(', ')}` : ''}`, evidence };
}

function reachable(options: EtcdStepOptions, step: StepSpec): ControlPlaneAccess {
  // The plan refuses these steps on such a cluster; this is for a runner driven some other way.
  if (!options.controlPlane) throw new StepFailed(`step ${step.name} (${step.kind}) needs the control plane's etcd, which only --control-plane real puts in gameday's hands`, 'error');
  return options.controlPlane;
}

/**
 * Waits until the workload has its replicas Ready in pods whose containers started after the
 * restore: the controllers saw it again and the nodes ran its pods anew. The pods the snapshot
 * holds were running when it was taken; what counts is that they serve now.
 */
async function reconciled(options: EtcdStepOptions, p: DeleteParams, since: number, deadline: number): Promise<Pick<RestoredObject, 'reconciledMs' | 'servedBy' | 'state'>> {
  const apps = options.kubeConfig.makeApiClient(AppsV1Api);
  const core = options.kubeConfig.makeApiClient(CoreV1Api);
  const ref = { name: p.name, namespace: p.namespace! };
  let state = 'not read';
  while (!options.signal.aborted) {
    const workload = await (p.kind === 'Deployment' ? apps.readNamespacedDeployment(ref) : apps.readNamespacedStatefulSet(ref)).catch(() => undefined);
    const want = workload?.spec?.replicas ?? 1;
    const readyReplicas = workload?.status?.readyReplicas ?? 0;
    const inNamespace = workload ? ((await core.listNamespacedPod({ namespace: ref.namespace }).catch(() => undefined))?.items ?? []) : [];
    const pods = inNamespace.filter((pod) => selectorMatches(workload?.spec?.selector, pod.metadata?.labels));
    const fresh = pods.filter(
      (pod) =>
        pod.metadata?.deletionTimestamp === undefined &&
        pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') &&
        (pod.status.containerStatuses ?? []).every((c) => (c.state?.running?.startedAt?.getTime() ?? 0) >= since - START_TIME_SLACK_MS),
    );
    state = `${readyReplicas}/${want} ready replicas, ${fresh.length} pods Ready and started after the restore`;
    if (readyReplicas >= want && fresh.length >= want) {
      const restarted = fresh.filter((pod) => (pod.metadata?.creationTimestamp?.getTime() ?? 0) < since).length;
      return { reconciledMs: Date.now() - since, servedBy: { restoredPods: restarted, newPods: fresh.length - restarted } };
    }
    if (Date.now() > deadline) break;
    await abortableSleep(POLL_MS, options.signal);
  }
  return { state };
}
