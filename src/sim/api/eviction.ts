import type { LooseJson } from './loose-json.js';
import type { ObjectStore, StoredObject } from '../store.js';
import { ApiError, statusObject, type Status } from './api-error.js';
import { deleteObject, deleteOptionsFrom } from './deletion.js';
import { labelSelectorMatcher } from './label-selector.js';
import { findResource } from './resources.js';

/**
 * The eviction subresource (`POST …/pods/<name>/eviction`), following the real server's
 * registry/core/pod/storage/eviction.go: a pod that is not running (Pending, Succeeded, Failed)
 * or already terminating is deleted without asking its budget; otherwise its one
 * PodDisruptionBudget must allow a disruption, which the eviction spends (disruptionsAllowed − 1,
 * the pod recorded in disruptedPods) before the pod gets a DisruptionTarget condition and is
 * deleted gracefully.
 */
type Json = LooseJson;

const PODS = findResource('', 'v1', 'pods')!;
const PDBS = findResource('policy', 'v1', 'poddisruptionbudgets')!;
const TOO_MANY_REQUESTS = "Cannot evict pod as it would violate the pod's disruption budget.";
/** The real server refuses to grow disruptedPods past this, as its controller would never catch up. */
const MAX_DISRUPTED_PODS = 2000;

function podIsReady(pod: Json): boolean {
  return ((pod.status?.conditions ?? []) as Json[]).some((c) => c.type === 'Ready' && c.status === 'True');
}

function blocked(message: string, retryAfterSeconds = 0): ApiError {
  return new ApiError(429, 'TooManyRequests', TOO_MANY_REQUESTS, {
    causes: [{ reason: 'DisruptionBudget', message }],
    ...(retryAfterSeconds ? { retryAfterSeconds } : {}),
  });
}

function timestamp(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

/** Spends one disruption of the budget, or throws the 429 (or 403) the real server answers with. */
function checkAndDecrement(store: ObjectStore, pdb: StoredObject, podName: string, dryRun: boolean): void {
  const b = pdb as Json;
  const status = (b.status ?? {}) as Json;
  if ((status.observedGeneration ?? 0) < (b.metadata.generation ?? 0)) {
    throw blocked(`The disruption budget ${pdb.metadata.name} is still being processed by the server.`, 10);
  }
  const allowed = status.disruptionsAllowed ?? 0;
  if (allowed < 0) throw new ApiError(403, 'Forbidden', `poddisruptionbudgets.policy "${pdb.metadata.name}" is forbidden: pdb disruptions allowed is negative`, { name: pdb.metadata.name, group: 'policy', kind: 'poddisruptionbudgets' });
  if (Object.keys(status.disruptedPods ?? {}).length > MAX_DISRUPTED_PODS) {
    throw new ApiError(403, 'Forbidden', `poddisruptionbudgets.policy "${pdb.metadata.name}" is forbidden: DisruptedPods map too big - too many evictions not confirmed by PDB controller`, { name: pdb.metadata.name, group: 'policy', kind: 'poddisruptionbudgets' });
  }
  if (allowed === 0) {
    throw blocked(`The disruption budget ${pdb.metadata.name} needs ${status.desiredHealthy ?? 0} healthy pods and has ${status.currentHealthy ?? 0} currently`);
  }
  if (dryRun) return;
  store.mutate(PDBS.storeKey, pdb.metadata.namespace, pdb.metadata.name, (o) => {
    const s = ((o as Json).status ??= {}) as Json;
    s.disruptionsAllowed = allowed - 1;
    s.disruptedPods = { ...(s.disruptedPods ?? {}), [podName]: timestamp() };
    if (s.disruptionsAllowed === 0) {
      const conditions = (s.conditions ??= []) as Json[];
      const c = conditions.find((x) => x.type === 'DisruptionAllowed');
      const next = { type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods', message: '', observedGeneration: o.metadata.generation, lastTransitionTime: timestamp() };
      if (!c) conditions.push(next);
      else if (c.status !== 'False') Object.assign(c, next);
    }
  });
}

function addConditionAndDelete(store: ObjectStore, pod: StoredObject, body: Json, query: URLSearchParams): void {
  const options = deleteOptionsFrom(body.deleteOptions, query);
  if ((options.dryRun ?? []).includes('All')) return;
  store.mutate(PODS.storeKey, pod.metadata.namespace, pod.metadata.name, (o) => {
    const status = ((o as Json).status ??= {}) as Json;
    const conditions = (status.conditions ??= []) as Json[];
    const next = { type: 'DisruptionTarget', status: 'True', lastProbeTime: null, lastTransitionTime: timestamp(), reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting' };
    const at = conditions.findIndex((c) => c.type === 'DisruptionTarget');
    const previous = conditions[at];
    if (previous) {
      if (previous.status === 'True') next.lastTransitionTime = previous.lastTransitionTime;
      conditions[at] = next;
    } else conditions.push(next);
  });
  deleteObject(store, PODS, pod.metadata.namespace, pod.metadata.name, options);
}

/** Handles one eviction; returns the Status to answer with (201 Success, or 500 for several budgets). */
export function evictPod(store: ObjectStore, namespace: string, name: string, body: unknown, query: URLSearchParams): Status {
  const eviction = (body && typeof body === 'object' ? body : {}) as Json;
  const kind = eviction.kind;
  if (kind !== undefined && kind !== 'Eviction') throw ApiError.badRequest(`converting (${String(kind)}) to (Eviction): unknown conversion`);
  if (eviction.metadata?.name !== undefined && eviction.metadata.name !== name) throw ApiError.badRequest('name in URL does not match name in Eviction object');
  const pod = store.get(PODS.storeKey, namespace, name);
  if (!pod) throw ApiError.notFound(PODS, name);
  const p = pod as Json;
  const success = statusObject(201, { status: 'Success' });
  const dryRun = (deleteOptionsFrom(eviction.deleteOptions, query).dryRun ?? []).includes('All');

  const phase = p.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || pod.metadata.deletionTimestamp) {
    addConditionAndDelete(store, pod, eviction, query);
    return success;
  }
  const budgets = store.list(PDBS.storeKey, namespace).filter((b) => labelSelectorMatcher((b as Json).spec?.selector)(pod.metadata.labels));
  if (budgets.length > 1) {
    return statusObject(500, { message: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.' });
  }
  if (budgets.length === 1) {
    const pdb = budgets[0]!;
    const status = ((pdb as Json).status ?? {}) as Json;
    const unhealthyPolicy = (pdb as Json).spec?.unhealthyPodEvictionPolicy ?? 'IfHealthyBudget';
    // An unready pod does not count as healthy, so evicting it spends nothing when the budget
    // is already met (IfHealthyBudget) or always (AlwaysAllow).
    const spendsNothing = !podIsReady(p) && (unhealthyPolicy === 'AlwaysAllow' || ((status.currentHealthy ?? 0) >= (status.desiredHealthy ?? 0) && (status.desiredHealthy ?? 0) > 0));
    if (!spendsNothing) checkAndDecrement(store, pdb, name, dryRun);
  }
  addConditionAndDelete(store, pod, eviction, query);
  return success;
}
