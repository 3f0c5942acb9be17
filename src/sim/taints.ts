import type { Toleration } from './controllers/pod-factory.js';
import type { StoredObject } from './store.js';

export interface Taint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' | string;
  timeAdded?: string;
}

export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (!t.key) return t.operator === 'Exists';
  if (t.key !== taint.key) return false;
  if (t.operator === 'Exists') return true;
  return (t.value ?? '') === (taint.value ?? '');
}

/** The first taint with one of `effects` that no toleration covers. */
export function untoleratedTaint(tolerations: readonly Toleration[] | undefined, taints: readonly Taint[] | undefined, effects: readonly string[]): Taint | undefined {
  for (const taint of taints ?? []) {
    if (!effects.includes(taint.effect)) continue;
    if (!(tolerations ?? []).some((t) => tolerates(t, taint))) return taint;
  }
  return undefined;
}

export function nodeTaints(node: StoredObject | undefined): Taint[] {
  return ((node?.spec as { taints?: Taint[] } | undefined)?.taints) ?? [];
}

export function describeTaint(t: Taint): string {
  return `{${t.key}: ${t.value ?? ''}}`;
}
