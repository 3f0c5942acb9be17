import {
  claimSpec, phaseOf, PROVISIONED_BY_ANNOTATION, PV_PROTECTION_FINALIZER, SELECTED_NODE_ANNOTATION,
  STORAGE_PROVISIONER_ANNOTATION, volumeSpec,
} from '../persistent-volume.js';
import { LOCAL_PATH_PROVISIONER, type StorageClassFields } from '../storage-class.js';
import type { StoredObject } from '../store.js';
import type { ControllerContext, RunningController } from './controller-context.js';
import { deleteObject } from './pod-factory.js';
import { startClaimVolumeQueue } from './claim-volume-queue.js';

const SOURCE = { component: `${LOCAL_PATH_PROVISIONER}_local-path-provisioner` };
/** kind's local-path-provisioner ConfigMap: `nodePathMap: [{node: DEFAULT_PATH_FOR_NON_LISTED_NODES, paths: [/var/local-path-provisioner]}]`. */
export const LOCAL_PATH_ROOT = '/var/local-path-provisioner';

/**
 * kind's local-path-provisioner: for a claim the PV controller hands to `rancher.io/local-path`,
 * once the scheduler has chosen a node, it creates a hostPath volume in a directory of its own on
 * that node, pinned there by required node affinity on `kubernetes.io/hostname`. A Released volume
 * of reclaim policy Delete is deleted; the node's kubelet then drops the directory with its data.
 */
export function startLocalPathProvisioner(ctx: ControllerContext): RunningController {
  const { store, informers, recorder } = ctx;
  const classes = informers.for('storageclasses.storage.k8s.io');
  const { claims, volumes, stop } = startClaimVolumeQueue(ctx, 'local-path-provisioner', { claim: provision, volume: reclaim });

  function provision(key: string): void {
    const claim = claims.getByKey(key);
    if (!claim || claim.metadata.deletionTimestamp) return;
    const spec = claimSpec(claim);
    const annotations = claim.metadata.annotations ?? {};
    if (spec.volumeName || annotations[STORAGE_PROVISIONER_ANNOTATION] !== LOCAL_PATH_PROVISIONER) return;
    const name = `pvc-${claim.metadata.uid}`;
    if (volumes.get(undefined, name)) return;
    const node = annotations[SELECTED_NODE_ANNOTATION];
    const ref = `${claim.metadata.namespace}/${claim.metadata.name}`;
    recorder.record(claim, 'Normal', 'Provisioning', `External provisioner is provisioning volume for claim "${ref}"`, SOURCE);
    if (!node) {
      recorder.record(claim, 'Warning', 'ProvisioningFailed', 'failed to provision volume with StorageClass "' + (spec.storageClassName ?? '') + '": configuration error, no node was specified', SOURCE);
      return;
    }
    const sc = classes.get(undefined, spec.storageClassName ?? '') as (StoredObject & StorageClassFields) | undefined;
    store.create('persistentvolumes', {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: {
        name, uid: '', resourceVersion: '', creationTimestamp: '',
        annotations: { 'local.path.provisioner/selected-node': node, [PROVISIONED_BY_ANNOTATION]: LOCAL_PATH_PROVISIONER },
        finalizers: [PV_PROTECTION_FINALIZER],
      },
      spec: {
        accessModes: spec.accessModes ?? ['ReadWriteOnce'],
        capacity: { storage: spec.resources?.requests?.storage ?? '0' },
        claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: claim.metadata.namespace, name: claim.metadata.name, uid: claim.metadata.uid, resourceVersion: claim.metadata.resourceVersion },
        hostPath: { path: `${LOCAL_PATH_ROOT}/${name}_${claim.metadata.namespace}_${claim.metadata.name}`, type: 'DirectoryOrCreate' },
        nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] } },
        persistentVolumeReclaimPolicy: sc?.reclaimPolicy ?? 'Delete',
        storageClassName: spec.storageClassName ?? '',
        volumeMode: spec.volumeMode ?? 'Filesystem',
      },
      status: { phase: 'Pending' },
    });
    recorder.record(claim, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${name}`, SOURCE);
  }

  function reclaim(name: string): void {
    const pv = volumes.get(undefined, name);
    if (!pv || pv.metadata.deletionTimestamp) return;
    if (pv.metadata.annotations?.[PROVISIONED_BY_ANNOTATION] !== LOCAL_PATH_PROVISIONER) return;
    if (phaseOf(pv) !== 'Released' || volumeSpec(pv).persistentVolumeReclaimPolicy !== 'Delete') return;
    deleteObject(store, 'persistentvolumes', pv);
  }

  return { stop };
}
