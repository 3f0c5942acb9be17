import { objectKey, type Informer, type Informers } from './informer.js';
import {
  claimSpec, findMatchingVolume, phaseOf, podClaims, refersToClaim, SELECTED_NODE_ANNOTATION, volumeAdmitsNode, volumeSpec,
} from './persistent-volume.js';
import type { StorageClassFields } from './storage-class.js';
import type { ObjectStore, StoredObject } from './store.js';

/** The reasons of upstream's volumebinding plugin (binder.go), as FitError counts them per node. */
export const VOLUME_REASONS = {
  bindConflict: "node(s) didn't find available persistent volumes to bind",
  nodeConflict: "node(s) didn't match PersistentVolume's node affinity",
  pvNotExist: 'node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)',
} as const;

/** What a class without a provisioner (static local volumes only) names itself. */
const NO_PROVISIONER = 'kubernetes.io/no-provisioner';

interface TopologySelectorTerm {
  matchLabelExpressions?: { key: string; values: string[] }[];
}

/** A pod's claims as PreFilter left them for Filter and PreBind. */
export interface PodVolumes {
  readonly pod: StoredObject;
  /** Claims bound to a volume, with the volume when it exists. */
  readonly bound: { claim: StoredObject; volume: StoredObject | undefined }[];
  /** WaitForFirstConsumer claims not bound yet: bound or provisioned once the pod has a node. */
  readonly delayed: { claim: StoredObject; storageClass: (StoredObject & StorageClassFields) | undefined }[];
}

/**
 * The scheduler's VolumeBinding plugin. PreFilter rejects a pod whose claims are missing, being
 * deleted, lost, or unbound in Immediate mode; Filter keeps a pod off nodes its bound volumes'
 * node affinity excludes, and off nodes where a delayed claim could neither bind an Available
 * volume nor be provisioned; PreBind (assume, then bindingOutcome) gives each delayed claim its
 * node (`volume.kubernetes.io/selected-node`, or a claimRef on the chosen volume) and lets the pod
 * be bound only once all its claims are.
 */
export class VolumeBinding {
  private readonly claims: Informer;
  private readonly volumes: Informer;
  private readonly classes: Informer;

  constructor(
    private readonly store: ObjectStore,
    informers: Informers,
  ) {
    this.claims = informers.for('persistentvolumeclaims');
    this.volumes = informers.for('persistentvolumes');
    this.classes = informers.for('storageclasses.storage.k8s.io');
  }

  /** Calls back with the `namespace/name` keys of claims whose pods may now schedule differently. */
  onChange(fn: (claimKeys: string[]) => void): () => void {
    const offClaims = this.claims.onChange((_type, claim) => fn([objectKey(claim)]));
    const offVolumes = this.volumes.onChange((_type, pv) => {
      const ref = volumeSpec(pv).claimRef;
      fn(ref?.name ? [`${ref.namespace}/${ref.name}`] : []);
    });
    const offClasses = this.classes.onChange(() => fn([]));
    return () => {
      offClaims();
      offVolumes();
      offClasses();
    };
  }

  preFilter(pod: StoredObject): { rejected?: string; state?: PodVolumes } {
    const refs = podClaims(pod);
    if (!refs.length) return {};
    const state: PodVolumes = { pod, bound: [], delayed: [] };
    let unboundImmediate = false;
    for (const { claim: name } of refs) {
      const claim = this.claims.get(pod.metadata.namespace, name);
      if (!claim) return { rejected: `persistentvolumeclaim "${name}" not found` };
      const spec = claimSpec(claim);
      if (phaseOf(claim) === 'Lost') return { rejected: `persistentvolumeclaim "${name}" bound to non-existent persistentvolume "${spec.volumeName ?? ''}"` };
      if (claim.metadata.deletionTimestamp) return { rejected: `persistentvolumeclaim "${name}" is being deleted` };
      if (spec.volumeName) {
        state.bound.push({ claim, volume: this.volumes.get(undefined, spec.volumeName) });
        continue;
      }
      const sc = spec.storageClassName ? (this.classes.get(undefined, spec.storageClassName) as (StoredObject & StorageClassFields) | undefined) : undefined;
      if (sc?.volumeBindingMode === 'WaitForFirstConsumer') state.delayed.push({ claim, storageClass: sc });
      else unboundImmediate = true;
    }
    if (unboundImmediate) return { rejected: 'pod has unbound immediate PersistentVolumeClaims' };
    return { state };
  }

  /** The reasons this node cannot take the pod's volumes; empty when it can. */
  filter(state: PodVolumes, node: StoredObject): string[] {
    const reasons: string[] = [];
    for (const { volume } of state.bound) {
      if (!volume) reasons.push(VOLUME_REASONS.pvNotExist);
      else if (!volumeAdmitsNode(volume, node)) reasons.push(VOLUME_REASONS.nodeConflict);
    }
    if (!state.delayed.every(({ claim, storageClass }) => findMatchingVolume(claim, this.volumes.list(), node) || canProvision(storageClass, node))) {
      reasons.push(VOLUME_REASONS.bindConflict);
    }
    return [...new Set(reasons)];
  }

  /** Gives each delayed claim the chosen node; 'waiting' when the pod must wait for bindings. */
  assume(state: PodVolumes, node: StoredObject): 'bound' | 'waiting' {
    if (!state.delayed.length) return 'bound';
    for (const { claim } of state.delayed) {
      const pv = findMatchingVolume(claim, this.volumes.list(), node);
      if (pv && !refersToClaim(volumeSpec(pv).claimRef, claim)) {
        this.store.mutate('persistentvolumes', undefined, pv.metadata.name, (v) => {
          volumeSpec(v).claimRef = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: claim.metadata.namespace, name: claim.metadata.name, uid: claim.metadata.uid, resourceVersion: claim.metadata.resourceVersion };
        });
      } else if (!pv) {
        this.store.mutate('persistentvolumeclaims', claim.metadata.namespace, claim.metadata.name, (c) => {
          c.metadata.annotations = { ...(c.metadata.annotations ?? {}), [SELECTED_NODE_ANNOTATION]: node.metadata.name };
        });
      }
    }
    return 'waiting';
  }

  /** PreBind's wait: 'bound' once every claim is bound to a volume on `node`, 'retry' when that can no longer happen. */
  bindingOutcome(pod: StoredObject, node: string): 'bound' | 'waiting' | 'retry' {
    const nodeObject = this.store.get('nodes', undefined, node);
    if (!nodeObject) return 'retry';
    let waiting = false;
    for (const { claim: name } of podClaims(pod)) {
      const claim = this.claims.get(pod.metadata.namespace, name);
      if (!claim || claim.metadata.deletionTimestamp) return 'retry';
      const spec = claimSpec(claim);
      if (spec.volumeName && phaseOf(claim) === 'Bound') {
        const pv = this.volumes.get(undefined, spec.volumeName);
        if (!pv || !volumeAdmitsNode(pv, nodeObject)) return 'retry';
        continue;
      }
      const chosen = claim.metadata.annotations?.[SELECTED_NODE_ANNOTATION] === node
        || [...this.volumes.list()].some((pv) => refersToClaim(volumeSpec(pv).claimRef, claim));
      if (!chosen) return 'retry';
      waiting = true;
    }
    return waiting ? 'waiting' : 'bound';
  }
}

/** A class whose provisioner can make a volume reachable from this node (its allowedTopologies, if any). */
function canProvision(sc: (StoredObject & StorageClassFields) | undefined, node: StoredObject): boolean {
  if (!sc?.provisioner || sc.provisioner === NO_PROVISIONER) return false;
  const terms = (sc as { allowedTopologies?: TopologySelectorTerm[] }).allowedTopologies;
  if (!terms?.length) return true;
  const labels = node.metadata.labels ?? {};
  return terms.some((t) => (t.matchLabelExpressions ?? []).every((e) => e.values.includes(labels[e.key] ?? '')));
}
