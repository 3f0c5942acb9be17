import { objectKey } from '../informer.js';
import { admitClaim } from '../persistent-volume.js';
import { availability, isDeleting, isPodReady, isTerminal, podPhase } from '../pod-state.js';
import { byControllerUid, INDEX } from '../standard-indexes.js';
import type { StoredObject } from '../store.js';
import type { ControllerContext, RunningController } from './controller-context.js';
import { controllerRef, createAdmittedPod, deletePodGracefully, podFromTemplate, type PodTemplate } from './pod-factory.js';
import { templateHash } from './template-hash.js';
import { enqueueOwnersAndDependents } from './owner-queue.js';
import { WorkQueue } from './work-queue.js';

const SOURCE = { component: 'statefulset-controller' };
const REVISION_LABEL = 'controller-revision-hash';

interface StatefulSetSpec {
  replicas?: number;
  serviceName?: string;
  podManagementPolicy?: 'OrderedReady' | 'Parallel';
  minReadySeconds?: number;
  template?: PodTemplate;
  updateStrategy?: { type?: string; rollingUpdate?: { partition?: number } };
  selector?: { matchLabels?: Record<string, string> };
  volumeClaimTemplates?: ClaimTemplate[];
  persistentVolumeClaimRetentionPolicy?: { whenDeleted?: 'Retain' | 'Delete'; whenScaled?: 'Retain' | 'Delete' };
}

interface ClaimTemplate {
  metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
}

/** getPersistentVolumeClaimName: `<template>-<set>-<ordinal>`. */
function claimName(sts: StoredObject, template: ClaimTemplate, ordinal: number): string {
  return `${template.metadata?.name ?? ''}-${sts.metadata.name}-${ordinal}`;
}

function ordinalOf(sts: StoredObject, pod: StoredObject): number {
  const prefix = `${sts.metadata.name}-`;
  const name = pod.metadata.name;
  if (!name.startsWith(prefix)) return -1;
  const n = Number(name.slice(prefix.length));
  return Number.isInteger(n) && n >= 0 ? n : -1;
}

const runningAndReady = (p: StoredObject): boolean => podPhase(p) === 'Running' && isPodReady(p) && !isDeleting(p);

/**
 * Stable names `<set>-<ordinal>`; OrderedReady creates one pod at a time, each after the previous
 * one is Running and Ready, removes from the highest ordinal down, and rolls updates from the
 * highest ordinal down to the partition.
 */
export function startStatefulSetController(ctx: ControllerContext): RunningController {
  const { store, informers, recorder, timings } = ctx;
  const sets = informers.for('statefulsets.apps');
  const pods = informers.for('pods').addIndex(INDEX.controller, byControllerUid);
  const queue = new WorkQueue('statefulset-controller', (key) => sync(key));

  function createPod(sts: StoredObject, spec: StatefulSetSpec, ordinal: number, revision: string): void {
    const name = `${sts.metadata.name}-${ordinal}`;
    if (store.get('pods', sts.metadata.namespace, name)) return;
    const claimErrors = createClaims(sts, spec, ordinal, name);
    if (claimErrors.length) {
      // errors.NewAggregate's text: one error as it is, several in brackets.
      const error = claimErrors.length === 1 ? claimErrors[0] : `[${claimErrors.join(', ')}]`;
      recorder.record(sts, 'Warning', 'FailedCreate', `create Pod ${name} in StatefulSet ${sts.metadata.name} failed error: ${error}`, SOURCE);
      return;
    }
    const pod = podFromTemplate(spec.template ?? {}, {
      namespace: sts.metadata.namespace!,
      owner: sts,
      name,
      labels: { [REVISION_LABEL]: revision, 'statefulset.kubernetes.io/pod-name': name, 'apps.kubernetes.io/pod-index': String(ordinal) },
      defaultTolerationSeconds: timings.defaultTolerationSeconds,
      specPatch: { hostname: name, ...(spec.serviceName ? { subdomain: spec.serviceName } : {}), ...claimVolumes(sts, spec, ordinal) },
    });
    if (!createAdmittedPod(ctx, sts, pod, SOURCE, (message) => `create Pod ${name} in StatefulSet ${sts.metadata.name} failed error: ${message}`)) {
      queue.addAfter(objectKey(sts), 1_000);
      return;
    }
    recorder.record(sts, 'Normal', 'SuccessfulCreate', `create Pod ${name} in StatefulSet ${sts.metadata.name} successful`, SOURCE);
  }

  /** updateStorage: each template becomes a volume of its name on the member's claim, replacing a template volume of that name. */
  function claimVolumes(sts: StoredObject, spec: StatefulSetSpec, ordinal: number): { volumes?: unknown[] } {
    const templates = spec.volumeClaimTemplates ?? [];
    if (!templates.length) return {};
    const names = new Set(templates.map((t) => t.metadata?.name));
    const own = templates.map((t) => ({ name: t.metadata?.name, persistentVolumeClaim: { claimName: claimName(sts, t, ordinal) } }));
    const kept = (((spec.template?.spec?.volumes ?? []) as { name?: string }[])).filter((v) => !names.has(v.name));
    return { volumes: [...own, ...kept] };
  }

  /**
   * createPersistentVolumeClaims: a member's claims exist before it does and outlive it. They are
   * owned by the set only under whenDeleted: Delete, so the default (Retain) keeps them for good.
   */
  function createClaims(sts: StoredObject, spec: StatefulSetSpec, ordinal: number, podName: string): string[] {
    const whenDeleted = spec.persistentVolumeClaimRetentionPolicy?.whenDeleted ?? 'Retain';
    const errors: string[] = [];
    for (const t of spec.volumeClaimTemplates ?? []) {
      const name = claimName(sts, t, ordinal);
      const existing = store.get('persistentvolumeclaims', sts.metadata.namespace, name);
      // The member waits until a claim being deleted is gone, then gets a new one.
      if (existing?.metadata.deletionTimestamp) errors.push(`pvc ${name} is being deleted`);
      if (existing) continue;
      const labels = { ...(t.metadata?.labels ?? {}), ...(spec.selector?.matchLabels ?? {}) };
      store.create('persistentvolumeclaims', admitClaim({
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: {
          name, namespace: sts.metadata.namespace, uid: '', resourceVersion: '', creationTimestamp: '', labels,
          ...(t.metadata?.annotations ? { annotations: { ...t.metadata.annotations } } : {}),
          ...(whenDeleted === 'Delete' ? { ownerReferences: [controllerRef(sts)] } : {}),
        },
        spec: structuredClone(t.spec ?? {}),
      }, store));
      recorder.record(sts, 'Normal', 'SuccessfulCreate', `create Claim ${name} Pod ${podName} in StatefulSet ${sts.metadata.name} success`, SOURCE);
    }
    return errors;
  }

  /** whenScaled: Delete hands a scaled-down member's claims to the member, so they go with it. */
  function releaseClaimsOf(sts: StoredObject, spec: StatefulSetSpec, pod: StoredObject, ordinal: number): void {
    if (spec.persistentVolumeClaimRetentionPolicy?.whenScaled !== 'Delete') return;
    for (const t of spec.volumeClaimTemplates ?? []) {
      store.mutate('persistentvolumeclaims', sts.metadata.namespace, claimName(sts, t, ordinal), (c) => {
        const refs = (c.metadata.ownerReferences ?? []).filter((r) => r.uid !== sts.metadata.uid && r.uid !== pod.metadata.uid);
        c.metadata.ownerReferences = [...refs, controllerRef(pod)];
      });
    }
  }

  function deletePod(sts: StoredObject, pod: StoredObject): void {
    deletePodGracefully(store, pod);
    recorder.record(sts, 'Normal', 'SuccessfulDelete', `delete Pod ${pod.metadata.name} in StatefulSet ${sts.metadata.name} successful`, SOURCE);
  }

  function sync(key: string): void {
    const sts = sets.getByKey(key);
    if (!sts || isDeleting(sts)) return;
    const spec = sts.spec as StatefulSetSpec;
    const replicas = spec.replicas ?? 1;
    const ordered = (spec.podManagementPolicy ?? 'OrderedReady') === 'OrderedReady';
    const updateRevision = `${sts.metadata.name}-${templateHash(spec.template ?? {})}`;
    const byOrdinal = new Map<number, StoredObject>();
    for (const p of pods.byIndex(INDEX.controller, sts.metadata.uid)) {
      const o = ordinalOf(sts, p);
      if (o >= 0) byOrdinal.set(o, p);
    }

    let blocked = false;
    for (let i = 0; i < replicas && !blocked; i++) {
      const pod = byOrdinal.get(i);
      if (!pod) {
        createPod(sts, spec, i, updateRevision);
        if (ordered) blocked = true;
      } else if (isTerminal(pod) && !isDeleting(pod)) {
        // A failed member is replaced under the same name once it is gone.
        deletePod(sts, pod);
        if (ordered) blocked = true;
      } else if (ordered && !runningAndReady(pod)) {
        blocked = true;
      }
    }

    const condemned = [...byOrdinal.entries()].filter(([o]) => o >= replicas).sort((a, b) => b[0] - a[0]);
    if (!blocked) {
      for (const [ordinal, pod] of condemned) {
        if (isDeleting(pod)) {
          if (ordered) break;
          continue;
        }
        releaseClaimsOf(sts, spec, pod, ordinal);
        deletePod(sts, pod);
        if (ordered) break;
      }
    }

    const rollingUpdate = (spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
    const members = [...byOrdinal.entries()].filter(([o]) => o < replicas);
    const allHealthy = members.length === replicas && members.every(([, p]) => runningAndReady(p));
    if (rollingUpdate && !blocked && allHealthy && condemned.length === 0) {
      const partition = spec.updateStrategy?.rollingUpdate?.partition ?? 0;
      const stale = members.filter(([o, p]) => o >= partition && p.metadata.labels?.[REVISION_LABEL] !== updateRevision).sort((a, b) => b[0] - a[0]);
      if (stale[0]) deletePod(sts, stale[0][1]);
    }
    writeStatus(sts, spec, [...byOrdinal.values()], updateRevision);
  }

  function writeStatus(sts: StoredObject, spec: StatefulSetSpec, owned: StoredObject[], updateRevision: string): void {
    const live = owned.filter((p) => !isTerminal(p));
    const ready = live.filter(isPodReady).length;
    let available = 0;
    let nextCheck = Infinity;
    for (const p of live) {
      const a = availability(p, spec.minReadySeconds ?? 0);
      if (a.available) available++;
      else if (a.waitMs > 0) nextCheck = Math.min(nextCheck, a.waitMs);
    }
    if (Number.isFinite(nextCheck)) queue.addAfter(objectKey(sts), nextCheck + 10);
    const updated = live.filter((p) => p.metadata.labels?.[REVISION_LABEL] === updateRevision).length;
    store.mutate('statefulsets.apps', sts.metadata.namespace, sts.metadata.name, (o) => {
      const prev = (o.status ?? {}) as { currentRevision?: string };
      const replicas = spec.replicas ?? 1;
      const currentRevision = updated === live.length && live.length === replicas ? updateRevision : (prev.currentRevision ?? updateRevision);
      o.status = {
        observedGeneration: o.metadata.generation ?? 1,
        replicas: live.length,
        readyReplicas: ready,
        availableReplicas: available,
        currentReplicas: live.filter((p) => p.metadata.labels?.[REVISION_LABEL] === currentRevision).length,
        updatedReplicas: updated,
        currentRevision,
        updateRevision,
        collisionCount: 0,
      };
    });
  }

  const stopWiring = enqueueOwnersAndDependents(sets, pods, 'StatefulSet', queue);
  // A member held back by a claim being deleted is made once the claim is gone.
  const offClaims = informers.for('persistentvolumeclaims').onChange((type, claim) => {
    if (type !== 'DELETED') return;
    for (const sts of sets.list()) if (sts.metadata.namespace === claim.metadata.namespace && (sts.spec as StatefulSetSpec).volumeClaimTemplates?.length) queue.add(objectKey(sts));
  });
  return {
    stop() {
      stopWiring();
      offClaims();
      queue.stop();
    },
  };
}
