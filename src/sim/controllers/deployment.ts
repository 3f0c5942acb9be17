import { objectKey } from '../informer.js';
import type { LabelSelector } from '../label-selector.js';
import { isDeleting, isTerminal, nowIso, setCondition, type Condition } from '../pod-state.js';
import { byControllerUid, INDEX } from '../standard-indexes.js';
import type { StoredObject } from '../store.js';
import type { ControllerContext, RunningController } from './controller-context.js';
import { controllerRef, type PodTemplate } from './pod-factory.js';
import { resolveIntOrPercent, templateHash } from './template-hash.js';
import { enqueueOwnersAndDependents } from './owner-queue.js';
import { WorkQueue } from './work-queue.js';

const SOURCE = { component: 'deployment-controller' };
const REVISION = 'deployment.kubernetes.io/revision';

interface DeploymentSpec {
  replicas?: number;
  selector?: LabelSelector;
  template?: PodTemplate;
  minReadySeconds?: number;
  revisionHistoryLimit?: number;
  paused?: boolean;
  progressDeadlineSeconds?: number;
  strategy?: { type?: string; rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string } };
}

interface RsStatus {
  replicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  observedGeneration?: number;
}

const specReplicas = (rs: StoredObject): number => (rs.spec as { replicas?: number }).replicas ?? 0;
const rsStatus = (rs: StoredObject): RsStatus => (rs.status as RsStatus | undefined) ?? {};
const revisionOf = (o: StoredObject): number => Number(o.metadata.annotations?.[REVISION] ?? 0);
const hashOf = (o: StoredObject): string | undefined => o.metadata.labels?.['pod-template-hash'];
/** RS status describes its current spec; before that, its counts cannot be trusted for scaling down. */
const rsSynced = (rs: StoredObject): boolean => (rsStatus(rs).observedGeneration ?? 0) >= (rs.metadata.generation ?? 1);

export function startDeploymentController(ctx: ControllerContext): RunningController {
  const { store, informers, recorder } = ctx;
  const deployments = informers.for('deployments.apps');
  const rsets = informers.for('replicasets.apps').addIndex(INDEX.controller, byControllerUid);
  const pods = informers.for('pods').addIndex(INDEX.controller, byControllerUid);
  const queue = new WorkQueue('deployment-controller', (key) => sync(key));

  function scale(d: StoredObject, rs: StoredObject, to: number): void {
    const from = specReplicas(rs);
    if (from === to) return;
    store.mutate('replicasets.apps', rs.metadata.namespace, rs.metadata.name, (o) => {
      (o.spec as { replicas?: number }).replicas = to;
    });
    const verb = to > from ? 'up' : 'down';
    recorder.record(d, 'Normal', 'ScalingReplicaSet', `Scaled ${verb} replica set ${rs.metadata.name} from ${from} to ${to}`, SOURCE);
  }

  function createNewRs(d: StoredObject, spec: DeploymentSpec, hash: string, revision: number, replicas: number): StoredObject {
    const template = structuredClone(spec.template ?? {});
    template.metadata = { ...template.metadata, labels: { ...(template.metadata?.labels ?? {}), 'pod-template-hash': hash } };
    const selector = structuredClone(spec.selector ?? {});
    const rs = store.create('replicasets.apps', {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${d.metadata.name}-${hash}`,
        namespace: d.metadata.namespace,
        uid: '',
        resourceVersion: '',
        creationTimestamp: '',
        labels: { ...(template.metadata.labels ?? {}) },
        annotations: { [REVISION]: String(revision) },
        ownerReferences: [controllerRef(d)],
      },
      spec: {
        replicas,
        minReadySeconds: spec.minReadySeconds ?? 0,
        selector: { ...selector, matchLabels: { ...(selector.matchLabels ?? {}), 'pod-template-hash': hash } },
        template,
      },
    });
    recorder.record(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${rs.metadata.name} from 0 to ${replicas}`, SOURCE);
    return rs;
  }

  function sync(key: string): void {
    const d = deployments.getByKey(key);
    if (!d || isDeleting(d)) return;
    const spec = d.spec as DeploymentSpec;
    const replicas = spec.replicas ?? 1;
    const hash = templateHash(spec.template ?? {});
    const owned = rsets.byIndex(INDEX.controller, d.metadata.uid).filter((rs) => !isDeleting(rs));
    let newRs = owned.find((rs) => hashOf(rs) === hash);
    const oldRss = owned.filter((rs) => rs !== newRs).sort((a, b) => revisionOf(a) - revisionOf(b));
    const maxOldRevision = Math.max(0, ...oldRss.map(revisionOf));
    const rolling = (spec.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
    let maxSurge = resolveIntOrPercent(spec.strategy?.rollingUpdate?.maxSurge, '25%', replicas, true);
    let maxUnavailable = resolveIntOrPercent(spec.strategy?.rollingUpdate?.maxUnavailable, '25%', replicas, false);
    if (!rolling) [maxSurge, maxUnavailable] = [0, replicas];
    else if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
    let progressed = false;

    if (!spec.paused) {
      if (!newRs) {
        const initial = rolling ? Math.max(0, Math.min(replicas, replicas + maxSurge - oldRss.reduce((n, rs) => n + specReplicas(rs), 0))) : 0;
        newRs = createNewRs(d, spec, hash, maxOldRevision + 1, oldRss.length === 0 ? replicas : initial);
        progressed = true;
      } else if (revisionOf(newRs) <= maxOldRevision) {
        // A rollback to an older template makes its ReplicaSet the newest revision again.
        store.mutate('replicasets.apps', newRs.metadata.namespace, newRs.metadata.name, (o) => {
          o.metadata.annotations = { ...(o.metadata.annotations ?? {}), [REVISION]: String(maxOldRevision + 1) };
        });
        newRs = rsets.getByKey(objectKey(newRs))!;
      }
      progressed = (rolling ? rollOut(d, newRs, oldRss, replicas, maxSurge, maxUnavailable) : recreate(d, newRs, oldRss, replicas)) || progressed;
      cleanupHistory(oldRss, spec.revisionHistoryLimit ?? 10);
    }
    writeStatus(d, spec, newRs, oldRss, replicas, maxUnavailable, progressed);
  }

  function rollOut(d: StoredObject, newRs: StoredObject, oldRss: StoredObject[], replicas: number, maxSurge: number, maxUnavailable: number): boolean {
    const before = [newRs, ...oldRss].map(specReplicas).join();
    const current = (rs: StoredObject): StoredObject => rsets.getByKey(objectKey(rs)) ?? rs;
    const newSpec = specReplicas(newRs);
    if (newSpec > replicas) scale(d, newRs, replicas);
    else if (newSpec < replicas) {
      const total = [newRs, ...oldRss].reduce((n, rs) => n + specReplicas(rs), 0);
      const room = replicas + maxSurge - total;
      if (room > 0) scale(d, newRs, newSpec + Math.min(room, replicas - newSpec));
    }
    const all = [current(newRs), ...oldRss.map(current)];
    if (all.every(rsSynced)) {
      const minAvailable = replicas - maxUnavailable;
      const fresh = all[0]!;
      const newUnavailable = specReplicas(fresh) - (rsStatus(fresh).availableReplicas ?? 0);
      let maxScaledDown = all.reduce((n, rs) => n + specReplicas(rs), 0) - minAvailable - newUnavailable;
      const olds = all.slice(1);
      const remaining = new Map(olds.map((rs) => [rs, specReplicas(rs)] as const));
      for (const rs of olds) {
        if (maxScaledDown <= 0) break;
        const unhealthy = remaining.get(rs)! - (rsStatus(rs).availableReplicas ?? 0);
        if (unhealthy <= 0) continue;
        const cut = Math.min(maxScaledDown, unhealthy);
        remaining.set(rs, remaining.get(rs)! - cut);
        maxScaledDown -= cut;
      }
      let scaleDown = all.reduce((n, rs) => n + Math.min(rsStatus(rs).availableReplicas ?? 0, specReplicas(rs)), 0) - minAvailable;
      for (const rs of olds) {
        if (scaleDown <= 0) break;
        const cut = Math.min(remaining.get(rs)!, scaleDown);
        remaining.set(rs, remaining.get(rs)! - cut);
        scaleDown -= cut;
      }
      for (const rs of olds) scale(d, rs, remaining.get(rs)!);
    }
    return [newRs, ...oldRss].map((rs) => specReplicas(current(rs))).join() !== before;
  }

  function recreate(d: StoredObject, newRs: StoredObject, oldRss: StoredObject[], replicas: number): boolean {
    let changed = false;
    for (const rs of oldRss) if (specReplicas(rs) > 0) {
      scale(d, rs, 0);
      changed = true;
    }
    const oldPodsLeft = oldRss.some((rs) => pods.byIndex(INDEX.controller, rs.metadata.uid).some((p) => !isTerminal(p)));
    if (oldPodsLeft) {
      // Terminating pods do not change any ReplicaSet's status, so look again shortly.
      queue.addAfter(objectKey(d), 200);
      return changed;
    }
    if (specReplicas(newRs) !== replicas) {
      scale(d, newRs, replicas);
      changed = true;
    }
    return changed;
  }

  function cleanupHistory(oldRss: StoredObject[], limit: number): void {
    const idle = oldRss.filter((rs) => specReplicas(rs) === 0 && (rsStatus(rs).replicas ?? 0) === 0 && rsSynced(rs));
    for (const rs of idle.slice(0, Math.max(0, idle.length - limit))) store.remove('replicasets.apps', rs.metadata.namespace, rs.metadata.name);
  }

  function writeStatus(d: StoredObject, spec: DeploymentSpec, newRs: StoredObject | undefined, oldRss: StoredObject[], replicas: number, maxUnavailable: number, progressed: boolean): void {
    const all = [...(newRs ? [newRs] : []), ...oldRss].map((rs) => rsets.getByKey(objectKey(rs)) ?? rs);
    const sum = (f: (s: RsStatus) => number | undefined): number => all.reduce((n, rs) => n + (f(rsStatus(rs)) ?? 0), 0);
    const statusReplicas = sum((s) => s.replicas);
    const ready = sum((s) => s.readyReplicas);
    const available = sum((s) => s.availableReplicas);
    const updated = newRs ? (rsStatus(rsets.getByKey(objectKey(newRs)) ?? newRs).replicas ?? 0) : 0;
    const specTotal = all.reduce((n, rs) => n + specReplicas(rs), 0);
    const deadlineMs = (spec.progressDeadlineSeconds ?? 600) * 1000;
    const rsName = newRs?.metadata.name ?? d.metadata.name;
    const complete = updated === replicas && statusReplicas === replicas && available === replicas;
    const now = nowIso();
    store.mutate('deployments.apps', d.metadata.namespace, d.metadata.name, (o) => {
      const prev = (o.status ?? {}) as Record<string, unknown>;
      const conditions = ((prev.conditions as Condition[] | undefined) ?? []).map((c) => ({ ...c }));
      const next = {
        observedGeneration: o.metadata.generation ?? 1,
        replicas: statusReplicas,
        updatedReplicas: updated,
        readyReplicas: ready,
        availableReplicas: available,
        unavailableReplicas: Math.max(0, specTotal - available),
      };
      const countsChanged = (['replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas'] as const).some((k) => prev[k] !== next[k]);
      const availableCond: Condition = available >= replicas - maxUnavailable
        ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }
        : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' };
      const keepUpdate = (type: string, status: string, reason: string): string | undefined => {
        const c = conditions.find((x) => x.type === type);
        return c && c.status === status && c.reason === reason ? c.lastUpdateTime : undefined;
      };
      setCondition(conditions, { ...availableCond, lastUpdateTime: keepUpdate('Available', availableCond.status, availableCond.reason!) ?? now }, now);
      const progressing = conditions.find((c) => c.type === 'Progressing');
      if (spec.paused) {
        setCondition(conditions, { type: 'Progressing', status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused', lastUpdateTime: keepUpdate('Progressing', 'Unknown', 'DeploymentPaused') ?? now }, now);
      } else if (complete) {
        setCondition(conditions, { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${rsName}" has successfully progressed.`, lastUpdateTime: keepUpdate('Progressing', 'True', 'NewReplicaSetAvailable') ?? now }, now);
      } else if (progressed || countsChanged || !progressing || progressing.reason === 'NewReplicaSetAvailable' || progressing.reason === 'DeploymentPaused') {
        setCondition(conditions, { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${rsName}" is progressing.`, lastUpdateTime: now }, now);
        queue.addAfter(objectKey(d), deadlineMs + 10);
      } else if (progressing.reason === 'ReplicaSetUpdated' && Date.now() - Date.parse(progressing.lastUpdateTime ?? now) > deadlineMs) {
        setCondition(conditions, { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: `ReplicaSet "${rsName}" has timed out progressing.`, lastUpdateTime: now }, now);
      }
      o.status = { ...next, conditions };
      if (newRs) o.metadata.annotations = { ...(o.metadata.annotations ?? {}), [REVISION]: String(revisionOf(rsets.getByKey(objectKey(newRs)) ?? newRs)) };
    });
  }

  const stopWiring = enqueueOwnersAndDependents(deployments, rsets, 'Deployment', queue);
  return {
    stop() {
      stopWiring();
      queue.stop();
    },
  };
}
