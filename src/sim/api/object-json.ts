import type { StoredObject } from '../store.js';

/**
 * JSON text of stored objects, computed once per object version while one change is being sent:
 * every watcher of a change receives the same version within the tick the store emits it, so
 * they share one serialization (as kube-apiserver's watch cache serializes an event once for all
 * watchers). The texts are dropped after that tick: kept for as long as their objects live, they
 * doubled the memory of every object that was ever listed or watched.
 */
let cache = new Map<StoredObject, string>();
let clearing = false;

export function objectJson(o: StoredObject): string {
  let text = cache.get(o);
  if (text === undefined) {
    text = JSON.stringify(o);
    cache.set(o, text);
    if (!clearing) {
      clearing = true;
      setImmediate(() => {
        cache = new Map();
        clearing = false;
      });
    }
  }
  return text;
}
