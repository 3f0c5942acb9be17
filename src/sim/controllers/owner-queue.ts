import { objectKey, type Informer } from '../informer.js';
import type { WorkQueue } from './work-queue.js';

/**
 * The wiring every workload controller shares: an owner is synced when it changes, and when an
 * object it controls (found by the uid in that object's controller ownerReference) changes.
 * Returns the function that stops listening.
 */
export function enqueueOwnersAndDependents(owners: Informer, dependents: Informer, ownerKind: string, queue: WorkQueue): () => void {
  const uidToKey = new Map<string, string>();
  const offOwners = owners.onChange((type, owner) => {
    if (type === 'DELETED') {
      uidToKey.delete(owner.metadata.uid);
      return;
    }
    uidToKey.set(owner.metadata.uid, objectKey(owner));
    queue.add(objectKey(owner));
  });
  const offDependents = dependents.onChange((_type, object, old) => {
    for (const o of [object, old]) {
      const ref = o?.metadata.ownerReferences?.find((r) => r.controller && r.kind === ownerKind);
      const key = ref && uidToKey.get(ref.uid);
      if (key) queue.add(key);
    }
  });
  for (const owner of owners.list()) {
    uidToKey.set(owner.metadata.uid, objectKey(owner));
    queue.add(objectKey(owner));
  }
  return () => {
    offOwners();
    offDependents();
  };
}
