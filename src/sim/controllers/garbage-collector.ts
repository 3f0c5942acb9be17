import { objectKey } from '../informer.js';
import { mutableConditions, nowIso, setCondition } from '../pod-state.js';
import { byNode, INDEX } from '../standard-indexes.js';
import type { StoredObject, StoreEvent } from '../store.js';
import type { ControllerContext, RunningController } from './controller-context.js';
import { deleteObject } from './pod-factory.js';
import { WorkQueue } from './work-queue.js';

const FOREGROUND = 'foregroundDeletion';
const ORPHAN = 'orphan';

interface Ref {
  readonly resource: string;
  readonly namespace: string | undefined;
  readonly name: string;
}

const refId = (resource: string, o: StoredObject): string => `${resource}|${objectKey(o)}`;

/** Whether a write left the owner references alone: most writes (status) do, and need no bookkeeping. */
function sameOwners(previous: StoredObject | undefined, o: StoredObject): boolean {
  const a = previous?.metadata.ownerReferences ?? [];
  const b = o.metadata.ownerReferences ?? [];
  return !!previous && a.length === b.length && a.every((r, i) => r.uid === b[i]!.uid);
}

/**
 * The garbage collector and namespace controller in one: it follows every object's
 * ownerReferences through one `*` subscription, deletes dependents whose owners are gone
 * (background), holds owners with the `foregroundDeletion` finalizer until their dependents are
 * gone, strips references for `orphan`, empties Terminating namespaces, and (as pod GC) removes
 * pods bound to deleted nodes.
 */
export function startGarbageCollector(ctx: ControllerContext): RunningController {
  const { store, informers } = ctx;
  const pods = informers.for('pods').addIndex(INDEX.node, byNode);
  const byUid = new Map<string, Ref>();
  const dependents = new Map<string, Set<string>>();
  const ownersOf = new Map<string, readonly string[]>();
  const namespacedResources = new Set<string>();
  const queue = new WorkQueue('garbage-collector', (item) => handle(item));

  function parse(id: string): Ref {
    const [resource, key] = id.split('|') as [string, string];
    const slash = key.indexOf('/');
    return slash >= 0 ? { resource, namespace: key.slice(0, slash), name: key.slice(slash + 1) } : { resource, namespace: undefined, name: key };
  }

  function track(e: StoreEvent): void {
    const o = e.object;
    if (e.type === 'MODIFIED' && !o.metadata.deletionTimestamp && sameOwners(e.previous, o) && byUid.has(o.metadata.uid)) return;
    const id = refId(e.resource, o);
    if (o.metadata.namespace) namespacedResources.add(e.resource);
    for (const uid of ownersOf.get(id) ?? []) dependents.get(uid)?.delete(id);
    ownersOf.delete(id);
    if (e.type === 'DELETED') {
      byUid.delete(o.metadata.uid);
      for (const dep of dependents.get(o.metadata.uid) ?? []) queue.add(`dependent:${dep}`);
      // An owner in foreground deletion waits for exactly this.
      for (const ref of o.metadata.ownerReferences ?? []) {
        const owner = byUid.get(ref.uid);
        if (owner) queue.add(`owner:${owner.resource}|${owner.namespace ? `${owner.namespace}/` : ''}${owner.name}`);
      }
      if (o.metadata.namespace) queue.add(`namespace:${o.metadata.namespace}`);
      if (e.resource === 'nodes') queue.add(`node:${o.metadata.name}`);
      return;
    }
    byUid.set(o.metadata.uid, { resource: e.resource, namespace: o.metadata.namespace, name: o.metadata.name });
    const uids = (o.metadata.ownerReferences ?? []).map((r) => r.uid);
    if (uids.length) {
      ownersOf.set(id, uids);
      for (const uid of uids) {
        let set = dependents.get(uid);
        if (!set) dependents.set(uid, (set = new Set()));
        set.add(id);
      }
      if (e.type === 'ADDED' && uids.every((u) => !byUid.has(u))) queue.add(`dependent:${id}`);
    }
    if (o.metadata.deletionTimestamp) {
      const f = o.metadata.finalizers ?? [];
      if (f.includes(FOREGROUND) || f.includes(ORPHAN)) queue.add(`owner:${id}`);
      if (e.resource === 'namespaces') queue.add(`namespace:${o.metadata.name}`);
    }
  }

  function handle(item: string): void {
    const colon = item.indexOf(':');
    const kind = item.slice(0, colon);
    const rest = item.slice(colon + 1);
    if (kind === 'dependent') return collectDependent(parse(rest));
    if (kind === 'owner') return finishOwner(parse(rest));
    if (kind === 'namespace') return emptyNamespace(rest);
    if (kind === 'node' && !store.get('nodes', undefined, rest)) for (const p of pods.byIndex(INDEX.node, rest)) store.remove('pods', p.metadata.namespace, p.metadata.name);
  }

  function collectDependent(ref: Ref): void {
    const o = store.get(ref.resource, ref.namespace, ref.name);
    const refs = o?.metadata.ownerReferences ?? [];
    if (!o || refs.length === 0 || o.metadata.deletionTimestamp) return;
    if (refs.some((r) => byUid.has(r.uid))) return;
    deleteObject(store, ref.resource, o);
  }

  function finishOwner(ref: Ref): void {
    const o = store.get(ref.resource, ref.namespace, ref.name);
    if (!o?.metadata.deletionTimestamp) return;
    const uid = o.metadata.uid;
    const deps = [...(dependents.get(uid) ?? [])].map(parse);
    const finalizers = new Set(o.metadata.finalizers ?? []);
    if (finalizers.has(ORPHAN)) {
      for (const d of deps) {
        store.mutate(d.resource, d.namespace, d.name, (x) => {
          x.metadata.ownerReferences = (x.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid);
          if (x.metadata.ownerReferences.length === 0) delete x.metadata.ownerReferences;
        });
      }
      finalizers.delete(ORPHAN);
    } else if (finalizers.has(FOREGROUND)) {
      let remaining = 0;
      for (const d of deps) {
        const dep = store.get(d.resource, d.namespace, d.name);
        if (!dep) continue;
        remaining++;
        if (dep.metadata.deletionTimestamp) continue;
        if (dependents.get(dep.metadata.uid)?.size) {
          store.mutate(d.resource, d.namespace, d.name, (x) => {
            x.metadata.finalizers = [...new Set([...(x.metadata.finalizers ?? []), FOREGROUND])];
            x.metadata.deletionTimestamp = nowIso();
            x.metadata.deletionGracePeriodSeconds = 0;
          });
        } else {
          deleteObject(store, d.resource, dep);
        }
      }
      if (remaining > 0) return;
      finalizers.delete(FOREGROUND);
    }
    if (finalizers.size === 0) {
      store.remove(ref.resource, ref.namespace, ref.name);
      return;
    }
    store.mutate(ref.resource, ref.namespace, ref.name, (x) => {
      x.metadata.finalizers = [...finalizers];
    });
  }

  function emptyNamespace(name: string): void {
    const ns = store.get('namespaces', undefined, name);
    if (!ns?.metadata.deletionTimestamp) return;
    if ((ns.status as { phase?: string } | undefined)?.phase !== 'Terminating') {
      store.mutate('namespaces', undefined, name, (x) => {
        x.status = { ...(x.status as object), phase: 'Terminating' };
        setCondition(mutableConditions(x), { type: 'NamespaceContentRemaining', status: 'True', reason: 'SomeResourcesRemain', message: 'Some resources are remaining' });
      });
    }
    let remaining = 0;
    for (const resource of namespacedResources) {
      for (const o of store.list(resource, name)) {
        remaining++;
        if (!o.metadata.deletionTimestamp) deleteObject(store, resource, o);
      }
    }
    if (remaining > 0) {
      queue.addAfter(`namespace:${name}`, 1000);
      return;
    }
    store.remove('namespaces', undefined, name);
  }

  const off = store.subscribe('*', track);
  return {
    stop() {
      off();
      queue.stop();
    },
  };
}
