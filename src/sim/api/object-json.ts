import { flatString } from '../json-value.js';
import type { ObjectStore, StoreEvent, StoredObject } from '../store.js';
import { viewIn, type ResourceType } from './resources.js';

/**
 * The JSON text of each object the store holds now, computed the first time the API serves it
 * (a GET, a LIST, a watch event) and dropped as soon as the store replaces or removes that
 * version. Serializing is most of what a LIST costs (25,000 pods are 57 MB of JSON), so a list
 * served again, and every watcher of one change, reuse the text instead of serializing anew
 * (kube-apiserver's watch cache likewise serializes an event once for all watchers). Only
 * current versions keep a text: old versions live on in the watch history, and a text for each
 * of them doubled the memory of every object that was ever listed or watched.
 */
export class ObjectJson {
  private readonly texts = new WeakMap<StoredObject, string>();
  private readonly unsubscribe: () => void;

  constructor(private readonly store: ObjectStore) {
    this.unsubscribe = store.subscribe('*', (e) => this.forgetReplaced(e));
  }

  /** `o` (a stored object) as `r` serves it, in JSON. */
  text(r: ResourceType, o: StoredObject): string {
    // A converted view is a new object on every read: nothing to keep it by.
    if (r.conversion) return JSON.stringify(viewIn(r, o));
    let text = this.texts.get(o);
    if (text === undefined) {
      text = JSON.stringify(o);
      // JSON.stringify's text is a rope of the pieces it was built in, about 400 bytes more per pod.
      if (this.store.get(r.storeKey, o.metadata.namespace, o.metadata.name) === o) this.texts.set(o, flatString(text));
    }
    return text;
  }

  stop(): void {
    this.unsubscribe();
  }

  private forgetReplaced(e: StoreEvent): void {
    if (e.previous) this.texts.delete(e.previous);
  }
}
