import { nodeSelectorTermsMatch, type NodeSelectorTerm } from './node-affinity.js';
import { quantityBytes } from './resource-quantity.js';
import { defaultStorageClass } from './storage-class.js';
import type { ObjectStore, StoredObject } from './store.js';

/**
 * The vocabulary of claims and volumes shared by the admission, the PV controller, the
 * provisioner, the scheduler and the kubelet: annotation and finalizer names as upstream spells
 * them, and the few reads every one of them makes.
 */
export const PVC_PROTECTION_FINALIZER = 'kubernetes.io/pvc-protection';
export const PV_PROTECTION_FINALIZER = 'kubernetes.io/pv-protection';
/** Written by the scheduler on a WaitForFirstConsumer claim: the node its first pod goes to. */
export const SELECTED_NODE_ANNOTATION = 'volume.kubernetes.io/selected-node';
export const STORAGE_PROVISIONER_ANNOTATION = 'volume.kubernetes.io/storage-provisioner';
export const BETA_STORAGE_PROVISIONER_ANNOTATION = 'volume.beta.kubernetes.io/storage-provisioner';
export const PROVISIONED_BY_ANNOTATION = 'pv.kubernetes.io/provisioned-by';
export const BIND_COMPLETED_ANNOTATION = 'pv.kubernetes.io/bind-completed';
export const BOUND_BY_CONTROLLER_ANNOTATION = 'pv.kubernetes.io/bound-by-controller';

export interface ClaimSpec {
  storageClassName?: string;
  volumeName?: string;
  accessModes?: string[];
  volumeMode?: string;
  resources?: { requests?: { storage?: string } };
}

export interface ClaimRef {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  resourceVersion?: string;
}

export interface VolumeSpec {
  storageClassName?: string;
  capacity?: { storage?: string };
  accessModes?: string[];
  claimRef?: ClaimRef;
  persistentVolumeReclaimPolicy?: 'Delete' | 'Retain' | 'Recycle';
  hostPath?: { path: string; type?: string };
  local?: { path: string };
  nodeAffinity?: { required?: { nodeSelectorTerms?: NodeSelectorTerm[] } };
  volumeMode?: string;
}

export function claimSpec(claim: StoredObject): ClaimSpec {
  return (claim.spec ?? {}) as ClaimSpec;
}

export function volumeSpec(pv: StoredObject): VolumeSpec {
  return (pv.spec ?? {}) as VolumeSpec;
}

export function phaseOf(o: StoredObject): string | undefined {
  return (o.status as { phase?: string } | undefined)?.phase;
}

/** The claim names a pod's `persistentVolumeClaim` volumes refer to, by volume name. */
export function podClaims(pod: StoredObject): { volume: string; claim: string }[] {
  const volumes = ((pod.spec as { volumes?: { name: string; persistentVolumeClaim?: { claimName?: string } }[] } | undefined)?.volumes) ?? [];
  return volumes.filter((v) => v.persistentVolumeClaim?.claimName).map((v) => ({ volume: v.name, claim: v.persistentVolumeClaim!.claimName! }));
}

/** Whether a volume's required node affinity admits the node (no affinity admits every node). */
export function volumeAdmitsNode(pv: StoredObject, node: StoredObject): boolean {
  const terms = volumeSpec(pv).nodeAffinity?.required?.nodeSelectorTerms;
  return !terms || nodeSelectorTermsMatch(terms, node);
}

/** Where a local or hostPath volume keeps its data on its node. */
export function volumePath(pv: StoredObject): string | undefined {
  const spec = volumeSpec(pv);
  return spec.local?.path ?? spec.hostPath?.path;
}

/** The one node a local volume's affinity names on `kubernetes.io/hostname`, if it names exactly one. */
export function volumeNode(pv: StoredObject): string | undefined {
  const terms = volumeSpec(pv).nodeAffinity?.required?.nodeSelectorTerms ?? [];
  const values = terms.flatMap((t) => (t.matchExpressions ?? []).filter((e) => e.key === 'kubernetes.io/hostname' && e.operator === 'In').flatMap((e) => e.values ?? []));
  return values.length === 1 ? values[0] : undefined;
}

/** Whether a volume's claimRef names this claim (a ref without uid is a pre-binding by name). */
export function refersToClaim(ref: ClaimRef | undefined, claim: StoredObject): boolean {
  return !!ref && ref.namespace === claim.metadata.namespace && ref.name === claim.metadata.name && (!ref.uid || ref.uid === claim.metadata.uid);
}

/**
 * findMatchingVolume: a volume pre-bound to the claim wins; otherwise the smallest Available,
 * unclaimed volume of the claim's class with its access modes and at least its size, admitting
 * `node` when one is given.
 */
export function findMatchingVolume(claim: StoredObject, volumes: Iterable<StoredObject>, node?: StoredObject): StoredObject | undefined {
  const spec = claimSpec(claim);
  const want = quantityBytes(spec.resources?.requests?.storage);
  let best: { pv: StoredObject; size: number } | undefined;
  for (const pv of volumes) {
    const v = volumeSpec(pv);
    const phase = phaseOf(pv);
    if (pv.metadata.deletionTimestamp || phase === 'Released' || phase === 'Failed') continue;
    if (v.claimRef) {
      if (refersToClaim(v.claimRef, claim)) return pv;
      continue;
    }
    if ((v.storageClassName ?? '') !== (spec.storageClassName ?? '')) continue;
    if (!(spec.accessModes ?? []).every((m) => (v.accessModes ?? []).includes(m))) continue;
    const size = quantityBytes(v.capacity?.storage);
    if (size < want || (node && !volumeAdmitsNode(pv, node))) continue;
    if (!best || size < best.size) best = { pv, size };
  }
  return best?.pv;
}

/**
 * What the API server does to a new claim: the DefaultStorageClass admission plugin fills a
 * missing class, StorageObjectInUseProtection adds its finalizer, defaulting sets volumeMode and
 * the phase. Controllers that write claims past the API server (StatefulSet) call it too.
 */
export function admitClaim(claim: StoredObject, store: ObjectStore): StoredObject {
  const spec = ((claim.spec ??= {}) as ClaimSpec);
  if (spec.storageClassName === undefined || spec.storageClassName === null) {
    const sc = defaultStorageClass(store);
    if (sc) spec.storageClassName = sc.metadata.name;
  }
  spec.volumeMode ??= 'Filesystem';
  const finalizers = claim.metadata.finalizers ?? [];
  if (!finalizers.includes(PVC_PROTECTION_FINALIZER)) claim.metadata.finalizers = [...finalizers, PVC_PROTECTION_FINALIZER];
  claim.status = { phase: 'Pending' };
  return claim;
}
