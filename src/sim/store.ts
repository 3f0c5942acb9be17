import { randomUUID } from 'node:crypto';
import { flatString, jsonClone, jsonEqual, shareUnchanged } from './json-value.js';

/**
 * The embedded cluster's etcd: every object of every resource, one global resourceVersion
 * counter, and a bounded history of changes so watches can resume (and get 410 Gone when they ask
 * for a version older than the history keeps). The API server (src/sim/api) and the in-process
 * controllers and kubelets (src/sim/controllers, src/sim/kubelet) both read and write here.
 */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion: string;
  generation?: number;
  creationTimestamp: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  generateName?: string;
  [key: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface StoredObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  readonly type: WatchEventType;
  /** Plural resource name with its group: `pods`, `deployments.apps`, `leases.coordination.k8s.io`. */
  readonly resource: string;
  readonly object: StoredObject;
  /**
   * The version a MODIFIED change replaced, so a filtered watch can tell "left the selector"
   * apart; for DELETED, the version that was removed (`object` is it with its final resourceVersion).
   */
  readonly previous?: StoredObject;
  readonly rv: number;
}

export type StoreListener = (event: StoreEvent) => void;

export class StoreError extends Error {
  constructor(
    readonly reason: 'NotFound' | 'AlreadyExists' | 'Conflict' | 'Expired',
    message: string,
  ) {
    super(message);
  }
}

export interface ObjectStoreOptions {
  /** How many change events are kept for watch resumption. @default 20000 */
  readonly historySize?: number;
}

function keyOf(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

/** Index of the first key in `keys` (sorted by code unit, as etcd orders its keys) that is >= `key`. */
function lowerBound(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface StoreCreateOptions {
  /** Keep this uid instead of drawing one, for an API server that derives fields (a Job's selector) from it. */
  readonly uid?: string;
  /** Keep this creationTimestamp: for a mirror of another API server's objects. */
  readonly creationTimestamp?: string;
}

export interface StoreScanOptions {
  /** Only objects of this namespace. */
  readonly namespace?: string;
  /** Start strictly after this key (`namespace/name`, or `name` for cluster-scoped objects). */
  readonly afterKey?: string;
}

/**
 * Objects handed out are the stored instances: callers must not mutate them except through
 * `update`/`mutate`, which copy, bump the resourceVersion and notify watchers.
 */
export class ObjectStore {
  private readonly byResource = new Map<string, Map<string, StoredObject>>();
  /** Per resource, every key in code-unit order: lists and paginated lists read it instead of sorting. */
  private readonly sortedKeys = new Map<string, SortedKeys>();
  private readonly listeners = new Map<string, Set<StoreListener>>();
  /** The change history is `history[historyStart..]`; the dropped head is cut off in bulk, not per event. */
  private history: StoreEvent[] = [];
  private historyStart = 0;
  private readonly historySize: number;
  private rv = 1;

  constructor(options: ObjectStoreOptions = {}) {
    this.historySize = options.historySize ?? 20_000;
  }

  get resourceVersion(): number {
    return this.rv;
  }

  /** The oldest resourceVersion a watch may resume from without a 410. */
  get oldestResumableVersion(): number {
    return this.history.length > this.historyStart ? this.history[this.historyStart]!.rv - 1 : this.rv;
  }

  private table(resource: string): Map<string, StoredObject> {
    let t = this.byResource.get(resource);
    if (!t) this.byResource.set(resource, (t = new Map()));
    return t;
  }

  get(resource: string, namespace: string | undefined, name: string): StoredObject | undefined {
    return this.byResource.get(resource)?.get(keyOf(namespace, name));
  }

  /** All objects of a resource, optionally in one namespace, in stable (namespace, name) order. */
  list(resource: string, namespace?: string): StoredObject[] {
    return [...this.scan(resource, namespace === undefined ? {} : { namespace })];
  }

  /** The objects of a resource in key order, without copying the whole set: for large and paginated lists. */
  *scan(resource: string, options: StoreScanOptions = {}): Generator<StoredObject> {
    const t = this.byResource.get(resource);
    const keys = this.sortedKeys.get(resource)?.sorted();
    if (!t || !keys) return;
    const prefix = options.namespace !== undefined ? `${options.namespace}/` : '';
    let i = lowerBound(keys, prefix);
    if (options.afterKey !== undefined && options.afterKey >= prefix) {
      i = lowerBound(keys, options.afterKey);
      if (keys[i] === options.afterKey) i++;
    }
    for (; i < keys.length; i++) {
      const key = keys[i]!;
      if (prefix && !key.startsWith(prefix)) return;
      const o = t.get(key);
      if (o) yield o;
    }
  }

  /** The key `scan` orders by and `afterKey` refers to. */
  static keyOf(obj: StoredObject): string {
    return keyOf(obj.metadata.namespace, obj.metadata.name);
  }

  count(resource: string): number {
    return this.byResource.get(resource)?.size ?? 0;
  }

  /** Adds a new object: assigns uid, resourceVersion, creationTimestamp, generation, and a name from generateName. */
  create(resource: string, input: StoredObject, options: StoreCreateOptions = {}): StoredObject {
    const obj = jsonClone(input);
    const meta = obj.metadata;
    if (!meta.name && meta.generateName) meta.name = flatString(meta.generateName + randomSuffix());
    const t = this.table(resource);
    const key = keyOf(meta.namespace, meta.name);
    if (t.has(key)) throw new StoreError('AlreadyExists', `${resource} "${meta.name}" already exists`);
    meta.uid = flatString(options.uid ?? randomUUID());
    meta.creationTimestamp = flatString(options.creationTimestamp ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z'));
    if (obj.spec !== undefined && meta.generation === undefined) meta.generation = 1;
    meta.resourceVersion = String(++this.rv);
    t.set(key, obj);
    let keys = this.sortedKeys.get(resource);
    if (!keys) this.sortedKeys.set(resource, (keys = new SortedKeys()));
    keys.add(key);
    this.emit({ type: 'ADDED', resource, object: obj, rv: this.rv });
    return obj;
  }

  /**
   * Replaces an object. With `expectResourceVersion`, a stale write fails with Conflict, as the
   * API server's optimistic concurrency does. `generation` is bumped when `spec` changed.
   */
  update(resource: string, input: StoredObject, expectResourceVersion?: string): StoredObject {
    return this.replace(resource, input, expectResourceVersion, jsonClone);
  }

  /**
   * Read-modify-write for in-process controllers: `fn` edits a copy, which the store then keeps
   * (so `fn` must not hold on to it), sharing the parts `fn` left unchanged with the previous
   * version; nothing is written (and no event is sent) when the copy is unchanged or `fn` returns
   * false.
   */
  mutate(resource: string, namespace: string | undefined, name: string, fn: (obj: StoredObject) => boolean | void): StoredObject | undefined {
    const current = this.get(resource, namespace, name);
    if (!current) return undefined;
    const copy = jsonClone(current);
    if (fn(copy) === false) return current;
    if (shareUnchanged(copy, current)) return current;
    // `replace` sets the new version's own metadata fields; the stored version's must stay as they are.
    if (copy.metadata === current.metadata) copy.metadata = { ...current.metadata };
    return this.replace(resource, copy, undefined, (o) => o);
  }

  /** `update` of an object that becomes the stored instance once `own` has made it the store's. */
  private replace(resource: string, input: StoredObject, expectResourceVersion: string | undefined, own: (o: StoredObject) => StoredObject): StoredObject {
    const t = this.table(resource);
    const key = keyOf(input.metadata.namespace, input.metadata.name);
    const current = t.get(key);
    if (!current) throw new StoreError('NotFound', `${resource} "${input.metadata.name}" not found`);
    if (expectResourceVersion && expectResourceVersion !== current.metadata.resourceVersion) {
      throw new StoreError(
        'Conflict',
        `Operation cannot be fulfilled on ${resource} "${input.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    }
    const obj = own(input);
    obj.metadata.uid = current.metadata.uid;
    obj.metadata.creationTimestamp = current.metadata.creationTimestamp;
    if (current.metadata.deletionTimestamp && !obj.metadata.deletionTimestamp) obj.metadata.deletionTimestamp = current.metadata.deletionTimestamp;
    const specChanged = !jsonEqual(obj.spec, current.spec);
    obj.metadata.generation = (current.metadata.generation ?? (current.spec !== undefined ? 1 : undefined)) as number | undefined;
    if (specChanged && obj.metadata.generation !== undefined) obj.metadata.generation += 1;
    if (obj.metadata.generation === undefined) delete obj.metadata.generation;
    obj.metadata.resourceVersion = String(++this.rv);
    t.set(key, obj);
    this.emit({ type: 'MODIFIED', resource, object: obj, previous: current, rv: this.rv });
    return obj;
  }

  /** Removes an object for good (the end of graceful deletion, or an immediate delete). */
  remove(resource: string, namespace: string | undefined, name: string): StoredObject | undefined {
    const t = this.byResource.get(resource);
    const key = keyOf(namespace, name);
    const current = t?.get(key);
    if (!t || !current) return undefined;
    t.delete(key);
    this.sortedKeys.get(resource)!.delete(key);
    // Stored objects are never edited in place, so the deleted version can share all but its metadata.
    const obj = { ...current, metadata: { ...current.metadata, resourceVersion: String(++this.rv) } };
    this.emit({ type: 'DELETED', resource, object: obj, previous: current, rv: this.rv });
    return obj;
  }

  /** Listens to changes of one resource (or `*` for all). Returns the unsubscribe function. */
  subscribe(resource: string, listener: StoreListener): () => void {
    let set = this.listeners.get(resource);
    if (!set) this.listeners.set(resource, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  /**
   * The changes of a resource after `sinceRv`, for a watch that resumes. Throws Expired when the
   * history no longer reaches back that far.
   */
  changesSince(resource: string, sinceRv: number): StoreEvent[] {
    if (sinceRv < this.oldestResumableVersion) {
      throw new StoreError('Expired', `too old resource version: ${sinceRv} (${this.oldestResumableVersion})`);
    }
    let lo = this.historyStart;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.history[mid]!.rv <= sinceRv) lo = mid + 1;
      else hi = mid;
    }
    const out: StoreEvent[] = [];
    for (let i = lo; i < this.history.length; i++) if (this.history[i]!.resource === resource) out.push(this.history[i]!);
    return out;
  }

  private emit(event: StoreEvent): void {
    this.history.push(event);
    if (this.history.length - this.historyStart > this.historySize) this.historyStart++;
    // Cutting the head off on every event would copy the whole history each time.
    if (this.historyStart >= this.historySize) {
      this.history = this.history.slice(this.historyStart);
      this.historyStart = 0;
    }
    for (const key of [event.resource, '*']) {
      const set = this.listeners.get(key);
      if (!set) continue;
      for (const l of [...set]) {
        try {
          l(event);
        } catch (err) {
          // A broken listener must not stop the write or starve the other watchers.
          process.emitWarning(`store listener failed: ${(err as Error).message}`);
        }
      }
    }
  }
}

/**
 * One resource's keys in code-unit order, kept cheaply under many writes: keys added since the last
 * read wait unsorted and keys removed wait as tombstones, and the next read merges both in one
 * pass (sorting only the additions), instead of moving the whole array on every create and delete.
 */
class SortedKeys {
  private keys: string[] = [];
  private readonly added = new Set<string>();
  private readonly removed = new Set<string>();

  add(key: string): void {
    // A key removed since the last read is still in place in `keys`.
    if (!this.removed.delete(key)) this.added.add(key);
  }

  delete(key: string): void {
    if (!this.added.delete(key)) this.removed.add(key);
  }

  sorted(): readonly string[] {
    if (this.added.size === 0 && this.removed.size === 0) return this.keys;
    // The default order of sort() is code-unit order, and needs no call back into JavaScript per comparison.
    const fresh = [...this.added].sort();
    const kept = this.removed.size === 0 ? this.keys : this.keys.filter((k) => !this.removed.has(k));
    const merged: string[] = new Array<string>(kept.length + fresh.length);
    let i = 0;
    let j = 0;
    let n = 0;
    while (i < kept.length && j < fresh.length) merged[n++] = kept[i]! < fresh[j]! ? kept[i++]! : fresh[j++]!;
    while (i < kept.length) merged[n++] = kept[i++]!;
    while (j < fresh.length) merged[n++] = fresh[j++]!;
    this.keys = merged;
    this.added.clear();
    this.removed.clear();
    return merged;
  }
}

const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
export function randomSuffix(length = 5): string {
  let s = '';
  for (let i = 0; i < length; i++) s += ALPHABET[Math.floor(Math.random() * ALPHABET.length)];
  return s;
}
