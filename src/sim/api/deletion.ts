import type { LooseJson } from './loose-json.js';
import type { ObjectStore, StoredObject } from '../store.js';
import { ApiError } from './api-error.js';
import { queryFlag } from './query-flag.js';
import type { ResourceType } from './resources.js';

/**
 * DELETE as the real API server does it. Pods are deleted gracefully: the API only marks them
 * (deletionTimestamp, deletionGracePeriodSeconds) and the kubelet removes them once their
 * containers stopped; an unscheduled or finished pod, or a grace period of 0, goes at once.
 * Other objects go at once unless finalizers hold them; Foreground and Orphan propagation add
 * their finalizers for the garbage collector. A namespace turns Terminating and the namespace
 * controller empties and removes it.
 */
export interface DeleteOptions {
  readonly gracePeriodSeconds?: number;
  readonly propagationPolicy?: string;
  readonly orphanDependents?: boolean;
  readonly preconditions?: { readonly uid?: string; readonly resourceVersion?: string };
  readonly dryRun?: readonly string[];
}

export interface DeleteResult {
  /** True when the object left the store; false when it is only marked for deletion. */
  readonly removed: boolean;
  readonly object: StoredObject;
}

type Json = LooseJson;

export function deleteOptionsFrom(body: unknown, query: URLSearchParams): DeleteOptions {
  const b = (body && typeof body === 'object' ? body : {}) as Json;
  const grace = b.gracePeriodSeconds ?? (query.has('gracePeriodSeconds') ? Number(query.get('gracePeriodSeconds')) : undefined);
  const policy = b.propagationPolicy ?? query.get('propagationPolicy') ?? undefined;
  const orphan = b.orphanDependents ?? (query.has('orphanDependents') ? queryFlag(query, 'orphanDependents') : undefined);
  const dryRun = b.dryRun ?? query.getAll('dryRun');
  const out: { -readonly [K in keyof DeleteOptions]: DeleteOptions[K] } = {};
  if (grace !== undefined && grace !== null && Number.isFinite(Number(grace))) out.gracePeriodSeconds = Number(grace);
  if (policy) out.propagationPolicy = policy;
  if (orphan !== undefined) out.orphanDependents = orphan;
  if (b.preconditions) out.preconditions = b.preconditions;
  if (dryRun.length) out.dryRun = dryRun;
  return out;
}

function checkPreconditions(r: ResourceType, o: StoredObject, options: DeleteOptions): void {
  const p = options.preconditions;
  if (p?.uid && p.uid !== o.metadata.uid) {
    throw ApiError.conflict(r, o.metadata.name, `Precondition failed: UID in precondition: ${p.uid}, UID in object meta: ${o.metadata.uid}`);
  }
  if (p?.resourceVersion && p.resourceVersion !== o.metadata.resourceVersion) {
    throw ApiError.conflict(r, o.metadata.name, `Precondition failed: ResourceVersion in precondition: ${p.resourceVersion}, ResourceVersion in object meta: ${o.metadata.resourceVersion}`);
  }
}

function timestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

/** The grace period a pod deletion gets: the request's, else the pod's own, else 30 s; 0 when no kubelet has to stop it. */
function podGracePeriod(pod: Json, options: DeleteOptions): number {
  if (!pod.spec?.nodeName) return 0;
  if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return 0;
  const grace = options.gracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
  return Math.max(0, grace);
}

export function deleteObject(store: ObjectStore, r: ResourceType, namespace: string | undefined, name: string, options: DeleteOptions): DeleteResult {
  const current = store.get(r.storeKey, namespace, name);
  if (!current) throw ApiError.notFound(r, name);
  checkPreconditions(r, current, options);
  const dryRun = (options.dryRun ?? []).includes('All');
  const next = structuredClone(current) as Json;
  const meta = next.metadata as Json;
  const now = Date.now();
  const finalizers = [...((meta.finalizers ?? []) as string[])];

  if (r.storeKey === 'pods') {
    const grace = podGracePeriod(next, options);
    if (meta.deletionTimestamp !== undefined && grace >= (meta.deletionGracePeriodSeconds ?? 0) && grace !== 0) return { removed: false, object: current };
    if (grace === 0 && finalizers.length === 0) return { removed: true, object: dryRun ? current : store.remove(r.storeKey, namespace, name)! };
    meta.deletionTimestamp = timestamp(now + grace * 1000);
    meta.deletionGracePeriodSeconds = grace;
    return { removed: false, object: dryRun ? (next as StoredObject) : store.update(r.storeKey, next as StoredObject) };
  }

  if (r.storeKey === 'namespaces') {
    if (meta.deletionTimestamp !== undefined) return { removed: false, object: current };
    meta.deletionTimestamp = timestamp(now);
    meta.deletionGracePeriodSeconds = 0;
    next.status = { ...(next.status ?? {}), phase: 'Terminating' };
    return { removed: false, object: dryRun ? (next as StoredObject) : store.update(r.storeKey, next as StoredObject) };
  }

  const policy = options.propagationPolicy ?? (options.orphanDependents === true ? 'Orphan' : 'Background');
  if (policy === 'Foreground' && !finalizers.includes('foregroundDeletion')) finalizers.push('foregroundDeletion');
  if (policy === 'Orphan' && !finalizers.includes('orphan')) finalizers.push('orphan');
  if (finalizers.length === 0) return { removed: true, object: dryRun ? current : store.remove(r.storeKey, namespace, name)! };
  meta.finalizers = finalizers;
  meta.deletionTimestamp ??= timestamp(now);
  meta.deletionGracePeriodSeconds ??= 0;
  if (JSON.stringify(next) === JSON.stringify(current)) return { removed: false, object: current };
  return { removed: false, object: dryRun ? (next as StoredObject) : store.update(r.storeKey, next as StoredObject) };
}
