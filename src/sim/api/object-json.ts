import type { StoredObject } from '../store.js';

/**
 * JSON text of stored objects, computed once per object version. Stored objects are never mutated
 * in place (the store replaces them on every write), so every list page and every watcher that
 * sends the same version can share one serialization.
 */
const cache = new WeakMap<StoredObject, string>();

export function objectJson(o: StoredObject): string {
  let text = cache.get(o);
  if (text === undefined) {
    text = JSON.stringify(o);
    cache.set(o, text);
  }
  return text;
}
