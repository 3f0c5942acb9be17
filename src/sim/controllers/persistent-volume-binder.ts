import { objectKey } from '../informer.js';
import {
  BETA_STORAGE_PROVISIONER_ANNOTATION, BIND_COMPLETED_ANNOTATION, BOUND_BY_CONTROLLER_ANNOTATION, claimSpec, findMatchingVolume, phaseOf,
  refersToClaim, SELECTED_NODE_ANNOTATION, STORAGE_PROVISIONER_ANNOTATION, volumeSpec,
} from '../persistent-volume.js';
import type { StorageClassFields } from '../storage-class.js';
import type { StoredObject } from '../store.js';
import type { ControllerContext, RunningController } from './controller-context.js';
import { startClaimVolumeQueue } from './claim-volume-queue.js';

const SOURCE = { component: 'persistentvolume-controller' };

function setPhase(o: StoredObject, phase: string): void {
  const status = ((o.status ??= {}) as { phase?: string });
  status.phase = phase;
}

/**
 * kube-controller-manager's PersistentVolume controller: binds claims to volumes (one provisioned
 * for the claim, or a matching Available one), hands dynamic provisioning to the class's external
 * provisioner, and waits for the first consumer when the class says WaitForFirstConsumer. A volume
 * whose claim is gone is Released; the provisioner that made it deletes it (reclaim policy Delete).
 */
export function startPersistentVolumeBinder(ctx: ControllerContext): RunningController {
  const { store, informers, recorder } = ctx;
  const classes = informers.for('storageclasses.storage.k8s.io');
  const queue = startClaimVolumeQueue(ctx, 'persistentvolume-controller', { claim: syncClaim, volume: syncVolume });
  const { claims, volumes } = queue;

  function matchingVolume(claim: StoredObject): StoredObject | undefined {
    const node = claim.metadata.annotations?.[SELECTED_NODE_ANNOTATION];
    if (!node) return findMatchingVolume(claim, volumes.list());
    const nodeObject = store.get('nodes', undefined, node);
    return nodeObject ? findMatchingVolume(claim, volumes.list(), nodeObject) : undefined;
  }

  function syncClaim(key: string): void {
    const claim = claims.getByKey(key);
    if (!claim || claim.metadata.deletionTimestamp) return;
    const spec = claimSpec(claim);
    if (spec.volumeName) return completeBinding(claim, spec.volumeName);
    const pv = matchingVolume(claim);
    if (pv) return bind(claim, pv);
    const className = spec.storageClassName ?? '';
    const sc = className ? classes.get(undefined, className) : undefined;
    if (!className) return recorder.record(claim, 'Normal', 'FailedBinding', 'no persistent volumes available for this claim and no storage class is set', SOURCE);
    if (!sc) return recorder.record(claim, 'Warning', 'ProvisioningFailed', `storageclass.storage.k8s.io "${className}" not found`, SOURCE);
    const fields = sc as unknown as StorageClassFields;
    const annotations = claim.metadata.annotations ?? {};
    if (fields.volumeBindingMode === 'WaitForFirstConsumer' && !annotations[SELECTED_NODE_ANNOTATION]) {
      recorder.record(claim, 'Normal', 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding', SOURCE);
      return;
    }
    const provisioner = fields.provisioner ?? '';
    if (annotations[STORAGE_PROVISIONER_ANNOTATION] === provisioner) return;
    store.mutate('persistentvolumeclaims', claim.metadata.namespace, claim.metadata.name, (c) => {
      c.metadata.annotations = { ...(c.metadata.annotations ?? {}), [STORAGE_PROVISIONER_ANNOTATION]: provisioner, [BETA_STORAGE_PROVISIONER_ANNOTATION]: provisioner };
    });
    recorder.record(claim, 'Normal', 'ExternalProvisioning', `Waiting for a volume to be created either by the external provisioner '${provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`, SOURCE);
  }

  /** Points the volume at the claim, then the claim at the volume (bindVolumeToClaim, bindClaimToVolume). */
  function bind(claim: StoredObject, pv: StoredObject): void {
    if (!refersToClaim(volumeSpec(pv).claimRef, claim) || !volumeSpec(pv).claimRef?.uid) {
      store.mutate('persistentvolumes', undefined, pv.metadata.name, (v) => {
        const spec = volumeSpec(v);
        spec.claimRef = { kind: 'PersistentVolumeClaim', namespace: claim.metadata.namespace, name: claim.metadata.name, uid: claim.metadata.uid, apiVersion: 'v1', resourceVersion: claim.metadata.resourceVersion };
        v.metadata.annotations = { ...(v.metadata.annotations ?? {}), [BOUND_BY_CONTROLLER_ANNOTATION]: 'yes' };
      });
    }
    completeBinding(claim, pv.metadata.name);
  }

  function completeBinding(claim: StoredObject, volumeName: string): void {
    const pv = volumes.get(undefined, volumeName);
    if (!pv) {
      if (phaseOf(claim) === 'Bound') {
        store.mutate('persistentvolumeclaims', claim.metadata.namespace, claim.metadata.name, (c) => setPhase(c, 'Lost'));
        recorder.record(claim, 'Warning', 'ClaimLost', 'Bound claim has lost its PersistentVolume. Data on the volume is lost!', SOURCE);
      }
      return;
    }
    if (volumeSpec(pv).claimRef && !refersToClaim(volumeSpec(pv).claimRef, claim)) return;
    if (phaseOf(pv) !== 'Bound' || !volumeSpec(pv).claimRef) {
      store.mutate('persistentvolumes', undefined, volumeName, (v) => {
        const spec = volumeSpec(v);
        spec.claimRef ??= { kind: 'PersistentVolumeClaim', namespace: claim.metadata.namespace, name: claim.metadata.name, uid: claim.metadata.uid, apiVersion: 'v1' };
        spec.claimRef.uid ??= claim.metadata.uid;
        setPhase(v, 'Bound');
      });
    }
    if (phaseOf(claim) === 'Bound' && claimSpec(claim).volumeName === volumeName) return;
    const v = volumeSpec(pv);
    store.mutate('persistentvolumeclaims', claim.metadata.namespace, claim.metadata.name, (c) => {
      const spec = claimSpec(c);
      const preBound = !!spec.volumeName;
      spec.volumeName = volumeName;
      c.metadata.annotations = { ...(c.metadata.annotations ?? {}), [BIND_COMPLETED_ANNOTATION]: 'yes', ...(preBound ? {} : { [BOUND_BY_CONTROLLER_ANNOTATION]: 'yes' }) };
      c.status = { ...((c.status ?? {}) as object), phase: 'Bound', accessModes: v.accessModes ?? [], capacity: { ...(v.capacity ?? {}) } };
    });
  }

  function syncVolume(name: string): void {
    const pv = volumes.get(undefined, name);
    if (!pv || pv.metadata.deletionTimestamp) return;
    const ref = volumeSpec(pv).claimRef;
    if (!ref) {
      if (phaseOf(pv) !== 'Available') store.mutate('persistentvolumes', undefined, name, (v) => setPhase(v, 'Available'));
      for (const claim of claims.list()) if (!claimSpec(claim).volumeName) queue.addClaim(objectKey(claim));
      return;
    }
    const claim = claims.get(ref.namespace, ref.name ?? '');
    if (claim && (!ref.uid || ref.uid === claim.metadata.uid)) {
      queue.addClaim(objectKey(claim));
      return;
    }
    // A volume whose claim went away keeps its data until its reclaim policy acts on it.
    if (ref.uid && phaseOf(pv) !== 'Released' && phaseOf(pv) !== 'Failed') store.mutate('persistentvolumes', undefined, name, (v) => setPhase(v, 'Released'));
  }

  const offClasses = classes.onChange(() => {
    for (const claim of claims.list()) if (!claimSpec(claim).volumeName) queue.addClaim(objectKey(claim));
  });
  return {
    stop() {
      offClasses();
      queue.stop();
    },
  };
}
