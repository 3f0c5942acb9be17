import { FieldSet, type Path } from './field-set.js';
import { entryOrder, MAX_UPDATE_MANAGERS, now, trackUpdate, type ManagedFieldsEntry, type WriteScope } from './field-manager.js';
import { compare } from './walk.js';

/**
 * `trackUpdate` for the writes of the embedded cluster's own components, which are many (every
 * pod status a kubelet posts) and nearly always the simple case: the writer changes fields in
 * parts of the object no other manager has fields in (a kubelet's pod status, a controller's
 * status). Then only the writer's own entry changes, and it is computed from the change alone;
 * anything else goes through `trackUpdate`. The objects given hold only the parts the write may
 * own (no name, uid, resourceVersion, no status on a main resource with a status subresource).
 */
type Json = Record<string, unknown>;

/** Parts of the object that are only containers: a change below them is recorded, they are not. */
const CONTAINERS: readonly Path[] = [['f:metadata'], ['f:apiVersion'], ['f:kind']];
const containers = (() => {
  const s = new FieldSet();
  for (const p of CONTAINERS) s.insert(p);
  return s;
})();

const sameWriter = (e: ManagedFieldsEntry, scope: WriteScope): boolean =>
  e.manager === scope.manager && e.operation === 'Update' && e.apiVersion === scope.apiVersion && (e.subresource ?? '') === (scope.subresource ?? '');

export function trackInProcessUpdate(live: Json | undefined, next: Json, scope: WriteScope): ManagedFieldsEntry[] {
  const entries = ((live?.metadata as Json | undefined)?.managedFields ?? []) as ManagedFieldsEntry[];
  const changed = compare(live ?? {}, next, scope.type);
  const taken = changed.added.union(changed.modified).difference(containers);
  const removed = changed.removed.difference(containers);
  if (taken.empty() && removed.empty()) return entries;
  const self = entries.findIndex((e) => sameWriter(e, scope));
  const touched = new Set([...taken.heads(), ...removed.heads()]);
  const shared = entries.some((e, i) => i !== self && Object.keys(e.fieldsV1).some((k) => touched.has(k)));
  const updates = entries.filter((e) => e.operation === 'Update').length + (self < 0 ? 1 : 0);
  if (shared || updates > MAX_UPDATE_MANAGERS) return trackUpdate(live, next, { ...scope, inProcess: true });
  const before = self >= 0 ? FieldSet.fromFieldsV1(entries[self]!.fieldsV1) : new FieldSet();
  const mine = before.difference(removed).union(taken);
  const out = entries.filter((_, i) => i !== self);
  if (!mine.empty()) {
    const time = taken.empty() ? entries[self]?.time : now();
    const fieldsV1 = mine.toFieldsV1();
    out.push({ manager: scope.manager, operation: 'Update', apiVersion: scope.apiVersion, ...(time ? { time } : {}), fieldsType: 'FieldsV1', fieldsV1, ...(scope.subresource ? { subresource: scope.subresource } : {}) });
  }
  return out.sort(entryOrder);
}

/** Field sets of recent creates, by what was created: the pods of one ReplicaSet differ only in name, which no set holds. */
const createdSets = new Map<string, Record<string, unknown>>();
const CREATED_SETS_KEPT = 256;

/** `trackInProcessUpdate` of a create: the writer's one entry. */
export function trackInProcessCreate(next: Json, scope: WriteScope): ManagedFieldsEntry[] {
  const key = JSON.stringify([scope.manager, scope.apiVersion, next]);
  let fieldsV1 = createdSets.get(key);
  if (!fieldsV1) {
    const [entry] = trackInProcessUpdate(undefined, next, scope);
    if (!entry) return [];
    if (createdSets.size >= CREATED_SETS_KEPT) createdSets.clear();
    createdSets.set(key, (fieldsV1 = entry.fieldsV1));
  }
  return [{ manager: scope.manager, operation: 'Update', apiVersion: scope.apiVersion, time: now(), fieldsType: 'FieldsV1', fieldsV1 }];
}
