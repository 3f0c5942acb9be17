import type { StoredObject } from './store.js';

/** Reading and writing the parts of pod status every controller looks at. */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  lastProbeTime?: string | null;
  lastHeartbeatTime?: string;
  lastUpdateTime?: string;
  observedGeneration?: number;
}

let isoSecond = -1;
let isoText = '';

/** The current time to the second, as the API writes timestamps; formatted once per second. */
export function nowIso(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== isoSecond) {
    isoSecond = second;
    isoText = new Date(second * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  }
  return isoText;
}

export function podPhase(pod: StoredObject): string {
  return ((pod.status as { phase?: string } | undefined)?.phase) ?? 'Pending';
}

export function conditionsOf(o: StoredObject): Condition[] {
  return ((o.status as { conditions?: Condition[] } | undefined)?.conditions) ?? [];
}

export function findCondition(o: StoredObject, type: string): Condition | undefined {
  return conditionsOf(o).find((c) => c.type === type);
}

export function isPodReady(pod: StoredObject): boolean {
  return findCondition(pod, 'Ready')?.status === 'True';
}

export function isTerminal(pod: StoredObject): boolean {
  const p = podPhase(pod);
  return p === 'Succeeded' || p === 'Failed';
}

export function isDeleting(o: StoredObject): boolean {
  return o.metadata.deletionTimestamp !== undefined;
}

/** Counts toward a controller's replicas: neither finished nor being deleted. */
export function isActive(pod: StoredObject): boolean {
  return !isTerminal(pod) && !isDeleting(pod);
}

/** Ready for at least minReadySeconds; returns the ms still to wait when not yet. */
export function availability(pod: StoredObject, minReadySeconds: number, now = Date.now()): { available: boolean; waitMs: number } {
  const ready = findCondition(pod, 'Ready');
  if (ready?.status !== 'True') return { available: false, waitMs: 0 };
  if (!minReadySeconds) return { available: true, waitMs: 0 };
  const since = ready.lastTransitionTime ? Date.parse(ready.lastTransitionTime) : 0;
  const waitMs = since + minReadySeconds * 1000 - now;
  return waitMs <= 0 ? { available: true, waitMs: 0 } : { available: false, waitMs };
}

/**
 * Sets a condition in place; lastTransitionTime moves only when the status changes, as the real
 * components do, so "ready since" stays meaningful.
 */
export function setCondition(conditions: Condition[], next: Condition, now = nowIso()): void {
  const i = conditions.findIndex((c) => c.type === next.type);
  const prev = i >= 0 ? conditions[i] : undefined;
  const both: Record<string, unknown> = { ...prev, ...next };
  // Copied without the fields `next` clears, rather than deleted from the copy: an object that lost
  // a property is a slow dictionary from then on, for JSON.stringify of every LIST and watch event.
  const kept: Record<string, unknown> = {};
  for (const k in both) if (both[k] !== undefined) kept[k] = both[k];
  const merged = kept as unknown as Condition;
  merged.lastTransitionTime = prev && prev.status === next.status ? (prev.lastTransitionTime ?? now) : now;
  if (i >= 0) conditions[i] = merged;
  else conditions.push(merged);
}

export function statusOf(o: StoredObject): Record<string, unknown> {
  if (!o.status || typeof o.status !== 'object') o.status = {};
  return o.status as Record<string, unknown>;
}

export function mutableConditions(o: StoredObject): Condition[] {
  const s = statusOf(o);
  if (!Array.isArray(s.conditions)) s.conditions = [];
  return s.conditions as Condition[];
}
