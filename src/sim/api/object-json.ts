import { flatString } from '../json-value.js';
import type { ObjectStore, StoreEvent, StoredObject } from '../store.js';
import { viewIn, type ResourceType } from './resources.js';

/**
 * How many objects a LIST serializes in one go and sends as one write: 32 pods are about 80 KB of
 * text, under V8's 128 KiB limit for objects in the young generation, so each piece dies young.
 * Larger pieces are made in large-object space: with 256 pods to a piece, a LIST of 25,000 pods
 * cost about 50 ms more CPU.
 */
const LIST_PIECE_ITEMS = 32;

/**
 * The JSON text of each object the store holds now, computed the first time a GET or a watch
 * event serves it and dropped as soon as the store replaces or removes that version, so every
 * watcher of one change reuses one text (kube-apiserver's watch cache likewise serializes an
 * event once for all watchers). Only current versions keep a text: old versions live on in the
 * watch history, and a text for each of them doubled the memory of every object ever watched.
 *
 * A LIST reuses the texts there are but keeps none of its own, as kube-apiserver serializes
 * each LIST anew: keeping them held 57 MB more for 25,000 listed pods, and promoting 25,000
 * young strings to the old generation cost a LIST more garbage-collection time than a repeated
 * LIST saved.
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

  /**
   * The JSON of `objects` as `r` serves them, comma-separated, in pieces of a few dozen objects
   * for a LIST to write one after another. Objects without a text yet are serialized a run at a
   * time, in one JSON.stringify per run.
   */
  *listPieces(r: ResourceType, objects: readonly StoredObject[]): Generator<string> {
    let run: unknown[] = [];
    let texts: string[] = [];
    const serializeRun = (): void => {
      if (run.length === 0) return;
      // One array's text without its brackets: its items, comma-separated.
      texts.push(JSON.stringify(run).slice(1, -1));
      run = [];
    };
    for (const o of objects) {
      const text = r.conversion ? undefined : this.texts.get(o);
      if (text === undefined) {
        run.push(r.conversion ? viewIn(r, o) : o);
      } else {
        serializeRun();
        texts.push(text);
      }
      if (run.length + texts.length >= LIST_PIECE_ITEMS) {
        serializeRun();
        yield texts.join(',');
        texts = [];
      }
    }
    serializeRun();
    if (texts.length) yield texts.join(',');
  }

  stop(): void {
    this.unsubscribe();
  }

  private forgetReplaced(e: StoreEvent): void {
    if (e.previous) this.texts.delete(e.previous);
  }
}
