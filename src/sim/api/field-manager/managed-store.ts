import { jsonClone, shareUnchanged } from '../../json-value.js';
import type { ObjectStore, StoreCreateOptions, StoredObject } from '../../store.js';
import { apiVersionOf, resourceByStoreKey, type ResourceType } from '../resources.js';
import type { ManagedFieldsEntry, WriteScope } from './field-manager.js';
import { trackInProcessCreate, trackInProcessUpdate } from './in-process-update.js';
import { typeOfResource } from './resource-types.js';

/**
 * The object store as one in-process component writes to it (a controller of
 * kube-controller-manager, the scheduler, a kubelet), each create and change recorded in
 * `metadata.managedFields` as the API server records that component's requests: operation Update
 * under its manager; a change of status through the status subresource when the resource has
 * one, and of the rest through the main resource; `throughScale` for the HPA's writes of
 * `spec.replicas`. Removals and the deletion marks (deletionTimestamp) are no field manager's.
 * Reads, watches and removals go to the store unchanged.
 */
type Json = Record<string, unknown>;

interface Writer {
  readonly raw: ObjectStore;
  readonly manager: string;
  readonly subresource?: 'scale';
}

const writers = new WeakMap<ObjectStore, Writer>();

/** Metadata no write owns: the object's identity, what the store and deletion set, and managedFields itself. */
const UNOWNED_META = new Set(['name', 'namespace', 'clusterName', 'uid', 'resourceVersion', 'creationTimestamp', 'generation', 'managedFields', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'selfLink']);

/** The store, with every write recorded as `manager`'s. */
export function managedStore(store: ObjectStore, manager: string): ObjectStore {
  return view({ raw: writers.get(store)?.raw ?? store, manager });
}

/** The same writer, its changes recorded through the scale subresource, as the HPA controller writes replicas. */
export function throughScale(store: ObjectStore): ObjectStore {
  const w = writers.get(store);
  return w ? view({ ...w, subresource: 'scale' }) : store;
}

/** The store itself, for a write the field manager never sees (the scheduler's binding goes through pods/binding). */
export function unrecorded(store: ObjectStore): ObjectStore {
  return writers.get(store)?.raw ?? store;
}

/**
 * Pods are the exception: the components' entries on tens of thousands of them (a create, then
 * each kubelet status write) made a 25,000-pod cluster settle 1.5 times slower and hold 70% more
 * (sim-bench), so a pod carries only the entries of writes that came through the API.
 */
const UNRECORDED = new Set(['pods']);

function view(w: Writer): ObjectStore {
  const own: Partial<Record<keyof ObjectStore, unknown>> = {
    create: (resource: string, input: StoredObject, options?: StoreCreateOptions) => w.raw.create(resource, UNRECORDED.has(resource) ? input : recordCreate(w, resource, input), options),
    mutate: (resource: string, namespace: string | undefined, name: string, fn: (obj: StoredObject) => boolean | void) => {
      if (UNRECORDED.has(resource)) return w.raw.mutate(resource, namespace, name, fn);
      const before = w.raw.get(resource, namespace, name);
      return w.raw.mutate(resource, namespace, name, (o) => {
        if (fn(o) === false) return false;
        // Shared with `before` where unchanged: the store does this anyway, and it makes finding what changed cheap.
        if (!before || shareUnchanged(o, before)) return;
        recordChange(w, resource, before, o);
      });
    },
    update: (resource: string, input: StoredObject, expectResourceVersion?: string) => {
      if (UNRECORDED.has(resource)) return w.raw.update(resource, input, expectResourceVersion);
      const before = w.raw.get(resource, input.metadata.namespace, input.metadata.name);
      const next = jsonClone(input);
      if (before && !shareUnchanged(next, before)) recordChange(w, resource, before, next);
      return w.raw.update(resource, next, expectResourceVersion);
    },
  };
  const bound = new Map<PropertyKey, unknown>();
  const proxy = new Proxy(w.raw, {
    get(target, prop) {
      if (prop in own) return own[prop as keyof ObjectStore];
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      if (!bound.has(prop)) bound.set(prop, (value as (...a: unknown[]) => unknown).bind(target));
      return bound.get(prop);
    },
  });
  writers.set(proxy, w);
  return proxy;
}

function scopeOf(w: Writer, r: ResourceType, subresource: string | undefined): WriteScope {
  const hasStatus = r.subresources.some((s) => s.name === 'status');
  return { manager: w.manager, apiVersion: apiVersionOf(r), ...(subresource ? { subresource } : {}), hasStatus, type: typeOfResource(r), ...(subresource === 'status' ? { statusOwnsMetadata: true } : {}) };
}


function recordCreate(w: Writer, resource: string, input: StoredObject): StoredObject {
  const r = resourceByStoreKey(resource);
  if (!r || input.metadata.managedFields !== undefined) return input;
  const { metadata, ...rest } = input;
  const hasStatus = r.subresources.some((s) => s.name === 'status');
  const owned: Json = { ...rest, metadata: ownedMeta(metadata) };
  if (hasStatus) delete owned.status;
  const managedFields = trackInProcessCreate(owned, scopeOf(w, r, undefined));
  return { ...input, metadata: { ...input.metadata, managedFields } };
}

/** The owned part of an object's metadata, as a write compares it. */
function ownedMeta(meta: StoredObject['metadata']): Json {
  const out: Json = {};
  for (const k in meta) if (!UNOWNED_META.has(k)) out[k] = meta[k];
  return out;
}

/**
 * Records the change from `before` to `next` (which shares what it left unchanged with `before`)
 * in `next`'s managedFields: the fields outside status through the main resource (or scale), and
 * status, with the metadata that came with it alone, through the status subresource.
 */
function recordChange(w: Writer, resource: string, before: StoredObject, next: StoredObject): void {
  const r = resourceByStoreKey(resource);
  if (!r) return;
  const hasStatus = r.subresources.some((s) => s.name === 'status');
  const changed = new Set<string>();
  for (const k of new Set([...Object.keys(before), ...Object.keys(next)])) {
    if (k !== 'metadata' && k !== 'apiVersion' && k !== 'kind' && before[k] !== next[k]) changed.add(k);
  }
  const metaBefore = ownedMeta(before.metadata);
  const metaNext = ownedMeta(next.metadata);
  const metaChanged = Object.keys({ ...metaBefore, ...metaNext }).some((k) => metaBefore[k] !== metaNext[k]);
  const statusWrite = hasStatus && changed.has('status');
  const mainKeys = [...changed].filter((k) => !(hasStatus && k === 'status'));
  // Upstream's controllers write metadata with their status (UpdateStatus) unless they also change the rest.
  const mainWrite = mainKeys.length > 0 || (metaChanged && !statusWrite) || w.subresource !== undefined;
  let managedFields = (before.metadata.managedFields ?? []) as ManagedFieldsEntry[];
  const part = (o: StoredObject, meta: Json, keys: readonly string[]): Json => {
    const out: Json = { apiVersion: o.apiVersion, kind: o.kind, metadata: { ...meta, managedFields } };
    for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
    return out;
  };
  if (mainWrite) {
    const keys = w.subresource === 'scale' ? ['spec'] : mainKeys;
    managedFields = trackInProcessUpdate(part(before, metaBefore, keys), part(next, metaNext, keys), scopeOf(w, r, w.subresource));
  }
  if (statusWrite) {
    const meta = mainWrite ? metaNext : metaBefore;
    managedFields = trackInProcessUpdate(part(before, meta, ['status']), part(next, metaNext, ['status']), scopeOf(w, r, 'status'));
  }
  next.metadata.managedFields = managedFields;
}
