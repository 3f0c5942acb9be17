import type { ObjectStore, StoredObject, StoreEvent, WatchEventType } from './store.js';

export type ChangeHandler = (type: WatchEventType, object: StoredObject, old: StoredObject | undefined) => void;
export type IndexFunction = (object: StoredObject) => readonly string[];

interface Index {
  readonly fn: IndexFunction;
  readonly byValue: Map<string, Map<string, StoredObject>>;
}

export function objectKey(object: StoredObject): string {
  return object.metadata.namespace ? `${object.metadata.namespace}/${object.metadata.name}` : object.metadata.name;
}

/**
 * A controller's view of one resource, like client-go's shared informer: it follows the store's
 * changes, keeps secondary indexes (pods by node, by owner, by label…) so that no controller scans
 * every object on every change, and tells handlers the old and new object.
 */
export class Informer {
  private readonly objects = new Map<string, StoredObject>();
  private readonly indexes = new Map<string, Index>();
  private readonly indexValues = new Map<string, Map<string, readonly string[]>>();
  private readonly handlers = new Set<ChangeHandler>();
  private readonly unsubscribe: () => void;

  constructor(store: ObjectStore, readonly resource: string) {
    for (const o of store.list(resource)) this.objects.set(objectKey(o), o);
    this.unsubscribe = store.subscribe(resource, (e) => this.apply(e));
  }

  get(namespace: string | undefined, name: string): StoredObject | undefined {
    return this.objects.get(namespace ? `${namespace}/${name}` : name);
  }

  getByKey(key: string): StoredObject | undefined {
    return this.objects.get(key);
  }

  list(): IterableIterator<StoredObject> {
    return this.objects.values();
  }

  get size(): number {
    return this.objects.size;
  }

  /** Adds a named secondary index (idempotent: the first definition of a name wins). */
  addIndex(name: string, fn: IndexFunction): this {
    if (this.indexes.has(name)) return this;
    const index: Index = { fn, byValue: new Map() };
    const values = new Map<string, readonly string[]>();
    this.indexes.set(name, index);
    this.indexValues.set(name, values);
    for (const [key, o] of this.objects) this.indexInto(index, values, key, o);
    return this;
  }

  byIndex(name: string, value: string): StoredObject[] {
    const index = this.indexes.get(name);
    if (!index) throw new Error(`no index "${name}" on ${this.resource}`);
    const hits = index.byValue.get(value);
    return hits ? [...hits.values()] : [];
  }

  countByIndex(name: string, value: string): number {
    return this.indexes.get(name)?.byValue.get(value)?.size ?? 0;
  }

  onChange(handler: ChangeHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  stop(): void {
    this.unsubscribe();
    this.handlers.clear();
  }

  private apply(event: StoreEvent): void {
    const key = objectKey(event.object);
    const old = this.objects.get(key);
    if (event.type === 'DELETED') {
      for (const [name, index] of this.indexes) this.unindex(index, this.indexValues.get(name)!, key);
      this.objects.delete(key);
    } else {
      this.objects.set(key, event.object);
      for (const [name, index] of this.indexes) this.reindex(index, this.indexValues.get(name)!, key, event.object);
    }
    for (const h of [...this.handlers]) h(event.type, event.object, old);
  }

  /**
   * Most changes (a status write) keep an object's index values: then its buckets just get the new
   * version (moved to the end, as a remove and add would, so `byIndex` keeps its order).
   */
  private reindex(index: Index, values: Map<string, readonly string[]>, key: string, o: StoredObject): void {
    const before = values.get(key);
    const after = index.fn(o);
    if (before && before.length === after.length && before.every((v, i) => v === after[i])) {
      for (const v of before) {
        const bucket = index.byValue.get(v)!;
        bucket.delete(key);
        bucket.set(key, o);
      }
      return;
    }
    this.unindex(index, values, key);
    this.place(index, values, key, o, after);
  }

  private indexInto(index: Index, values: Map<string, readonly string[]>, key: string, o: StoredObject): void {
    this.place(index, values, key, o, index.fn(o));
  }

  private place(index: Index, values: Map<string, readonly string[]>, key: string, o: StoredObject, vs: readonly string[]): void {
    if (vs.length === 0) return;
    values.set(key, vs);
    for (const v of vs) {
      let bucket = index.byValue.get(v);
      if (!bucket) index.byValue.set(v, (bucket = new Map()));
      bucket.set(key, o);
    }
  }

  private unindex(index: Index, values: Map<string, readonly string[]>, key: string): void {
    const vs = values.get(key);
    if (!vs) return;
    values.delete(key);
    for (const v of vs) {
      const bucket = index.byValue.get(v);
      if (!bucket) continue;
      bucket.delete(key);
      if (bucket.size === 0) index.byValue.delete(v);
    }
  }
}

/** One informer per resource, shared by every controller, kubelet and the data plane. */
export class Informers {
  private readonly byResource = new Map<string, Informer>();

  constructor(private readonly store: ObjectStore) {}

  for(resource: string): Informer {
    let i = this.byResource.get(resource);
    if (!i) this.byResource.set(resource, (i = new Informer(this.store, resource)));
    return i;
  }

  stop(): void {
    for (const i of this.byResource.values()) i.stop();
    this.byResource.clear();
  }
}
