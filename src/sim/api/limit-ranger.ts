import type { LooseJson } from './loose-json.js';
import type { ObjectStore } from '../store.js';
import { cpuMillis, quantityBytes } from '../resource-quantity.js';
import { ApiError } from './api-error.js';
import type { ResourceType } from './resources.js';

/**
 * The LimitRanger admission plugin for containers: a LimitRange's `Container` items give each
 * container of a new pod the requests and limits it leaves out (noted in the
 * `kubernetes.io/limit-ranger` annotation), and refuse one outside `min`/`max`. The LimitRange
 * itself is defaulted as the real server does (default ← max, defaultRequest ← default ← min).
 */
type Json = LooseJson;
type ResourceList = Record<string, string>;

export function defaultLimitRange(limitRange: Json): void {
  for (const item of (limitRange.spec?.limits ?? []) as Json[]) {
    if (item.type !== 'Container') continue;
    const def = (item.default ??= {}) as ResourceList;
    const request = (item.defaultRequest ??= {}) as ResourceList;
    for (const [k, v] of Object.entries((item.max ?? {}) as ResourceList)) def[k] ??= v;
    for (const [k, v] of Object.entries(def)) request[k] ??= v;
    for (const [k, v] of Object.entries((item.min ?? {}) as ResourceList)) request[k] ??= v;
  }
}

function amount(resource: string, value: string): number {
  return resource === 'cpu' ? cpuMillis(value) : quantityBytes(value);
}

export function applyLimitRanges(store: ObjectStore, r: ResourceType, pod: Json): void {
  const items = store.list('limitranges', pod.metadata.namespace).flatMap((lr) => ((lr as Json).spec?.limits ?? []) as Json[]).filter((i) => i.type === 'Container');
  if (!items.length) return;
  // Later items override earlier ones, as the plugin merges them into one set of defaults.
  const defaultRequests: ResourceList = Object.assign({}, ...items.map((i) => i.defaultRequest ?? {}));
  const defaultLimits: ResourceList = Object.assign({}, ...items.map((i) => i.default ?? {}));
  const notes: string[] = [];
  const problems: string[] = [];
  const spec = (pod.spec ?? {}) as Json;
  const containers = [...((spec.containers ?? []) as Json[]).map((c) => ({ c, prefix: 'container' })), ...((spec.initContainers ?? []) as Json[]).map((c) => ({ c, prefix: 'init container' }))];
  for (const { c, prefix } of containers) {
    const resources = (c.resources ??= {}) as Json;
    const requests = (resources.requests ?? {}) as ResourceList;
    const limits = (resources.limits ?? {}) as ResourceList;
    const addedRequests = Object.keys(defaultRequests).filter((k) => requests[k] === undefined).sort();
    const addedLimits = Object.keys(defaultLimits).filter((k) => limits[k] === undefined).sort();
    for (const k of addedRequests) requests[k] = defaultRequests[k]!;
    for (const k of addedLimits) limits[k] = defaultLimits[k]!;
    if (Object.keys(requests).length) resources.requests = requests;
    if (Object.keys(limits).length) resources.limits = limits;
    if (addedRequests.length) notes.push(`${addedRequests.join(', ')} request for ${prefix} ${String(c.name)}`);
    if (addedLimits.length) notes.push(`${addedLimits.join(', ')} limit for ${prefix} ${String(c.name)}`);
    for (const item of items) {
      for (const [k, min] of Object.entries((item.min ?? {}) as ResourceList)) {
        if (requests[k] === undefined) problems.push(`minimum ${k} usage per Container is ${min}.  No request is specified`);
        else if (amount(k, requests[k]) < amount(k, min)) problems.push(`minimum ${k} usage per Container is ${min}, but request is ${requests[k]}`);
      }
      for (const [k, max] of Object.entries((item.max ?? {}) as ResourceList)) {
        if (limits[k] === undefined) problems.push(`maximum ${k} usage per Container is ${max}.  No limit is specified`);
        else if (amount(k, limits[k]) > amount(k, max)) problems.push(`maximum ${k} usage per Container is ${max}, but limit is ${limits[k]}`);
      }
    }
  }
  if (problems.length) throw ApiError.forbidden(r, String(pod.metadata.name), problems.length === 1 ? problems[0]! : `[${problems.join(', ')}]`);
  if (notes.length) pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), 'kubernetes.io/limit-ranger': `LimitRanger plugin set: ${notes.join('; ')}` };
}
