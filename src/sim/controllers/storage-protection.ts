import { phaseOf, PV_PROTECTION_FINALIZER, PVC_PROTECTION_FINALIZER } from '../persistent-volume.js';
import { isTerminal } from '../pod-state.js';
import { byClaim, INDEX } from '../standard-indexes.js';
import type { ObjectStore } from '../store.js';
import type { ControllerContext, RunningController } from './controller-context.js';
import { startClaimVolumeQueue } from './claim-volume-queue.js';

/** Drops one finalizer; the last one gone from an object being deleted completes the deletion, as the API server does. */
export function removeFinalizer(store: ObjectStore, resource: string, namespace: string | undefined, name: string, finalizer: string): void {
  const after = store.mutate(resource, namespace, name, (o) => {
    const finalizers = o.metadata.finalizers ?? [];
    if (!finalizers.includes(finalizer)) return false;
    o.metadata.finalizers = finalizers.filter((f) => f !== finalizer);
    return true;
  });
  if (after?.metadata.deletionTimestamp && !after.metadata.finalizers?.length) store.remove(resource, namespace, name);
}

/**
 * The pvc-protection and pv-protection controllers: a claim being deleted stays (Terminating)
 * while a pod that has not finished uses it, and a volume being deleted stays while it is Bound.
 */
export function startStorageProtection(ctx: ControllerContext): RunningController {
  const { store, informers } = ctx;
  const pods = informers.for('pods').addIndex(INDEX.claim, byClaim);
  const queue = startClaimVolumeQueue(ctx, 'storage-protection', { claim: syncClaim, volume: syncVolume });
  const { claims, volumes } = queue;

  function syncClaim(key: string): void {
    const claim = claims.getByKey(key);
    if (!claim?.metadata.deletionTimestamp || !claim.metadata.finalizers?.includes(PVC_PROTECTION_FINALIZER)) return;
    if (pods.byIndex(INDEX.claim, key).some((p) => !isTerminal(p))) return;
    removeFinalizer(store, 'persistentvolumeclaims', claim.metadata.namespace, claim.metadata.name, PVC_PROTECTION_FINALIZER);
  }

  function syncVolume(name: string): void {
    const pv = volumes.get(undefined, name);
    if (!pv?.metadata.deletionTimestamp || !pv.metadata.finalizers?.includes(PV_PROTECTION_FINALIZER)) return;
    if (phaseOf(pv) === 'Bound') return;
    removeFinalizer(store, 'persistentvolumes', undefined, name, PV_PROTECTION_FINALIZER);
  }

  const offPods = pods.onChange((type, pod) => {
    if (type === 'DELETED' || isTerminal(pod)) for (const key of byClaim(pod)) queue.addClaim(key);
  });
  return {
    stop() {
      offPods();
      queue.stop();
    },
  };
}
