import type { LooseJson } from '../api/loose-json.js';
import { labelSelectorMatcher } from '../api/label-selector.js';
import type { ObjectStore, OwnerReference, StoredObject } from '../store.js';

/**
 * The disruption controller: keeps every PodDisruptionBudget's status (expectedPods,
 * desiredHealthy, currentHealthy, disruptionsAllowed, disruptedPods, the DisruptionAllowed
 * condition, observedGeneration) as kube-controller-manager's does, so the eviction subresource
 * and gameday's pdb probe see the numbers a real cluster would show.
 */
export interface DisruptionControllerOptions {
  /** How long an eviction's disruptedPods entry waits for the pod to be deleted before it no longer counts. @default 120000 */
  readonly deletionTimeoutMs?: number;
}

export interface BudgetInputs {
  readonly pdb: StoredObject;
  /** Pods of the budget's namespace (the selector is applied here). */
  readonly pods: readonly StoredObject[];
  /** Desired replicas of a pod's controller (Deployment through its ReplicaSet, StatefulSet, ReplicaSet); undefined when it cannot be found. */
  readonly scaleOf: (namespace: string, controller: OwnerReference) => number | undefined;
  readonly now: number;
  readonly deletionTimeoutMs: number;
}

export interface BudgetStatusResult {
  readonly status: Record<string, unknown>;
  /** When the earliest disruptedPods entry expires: the status must be recomputed then. */
  readonly recheckAt?: number;
}

type Json = LooseJson;

const PDBS = 'poddisruptionbudgets.policy';

function timestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

function podIsReady(pod: Json): boolean {
  return ((pod.status?.conditions ?? []) as Json[]).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** An int-or-percent against a total; percentages round up, as the controller's GetScaledValueFromIntOrPercent(…, true). */
function scaled(value: number | string, total: number): number {
  if (typeof value === 'number') return value;
  const m = /^(\d+)%$/.exec(value);
  if (!m) return Number.parseInt(value, 10) || 0;
  return Math.ceil((Number(m[1]) * total) / 100);
}

function isPercent(value: unknown): boolean {
  return typeof value === 'string' && value.endsWith('%');
}

/** Sets a condition the way apimachinery's SetStatusCondition does: lastTransitionTime moves only when the status flips. */
function withCondition(conditions: Json[] | undefined, next: Json, now: number): Json[] {
  const out = (conditions ?? []).map((c) => ({ ...c }));
  const at = out.findIndex((c) => c.type === next.type);
  if (at < 0) {
    out.push({ ...next, lastTransitionTime: timestamp(now) });
    return out;
  }
  const cur = out[at]!;
  out[at] = { ...next, lastTransitionTime: cur.status === next.status ? cur.lastTransitionTime : timestamp(now) };
  return out;
}

/** The expected count of a budget: its pods' controllers' replicas, each controller once. */
function expectedFromControllers(namespace: string, pods: readonly Json[], scaleOf: BudgetInputs['scaleOf']): number {
  const seen = new Set<string>();
  let total = 0;
  for (const pod of pods) {
    const ref = ((pod.metadata.ownerReferences ?? []) as OwnerReference[]).find((r) => r.controller);
    if (!ref) throw new Error(`found no controller ref for pod "${pod.metadata.name}"`);
    if (seen.has(ref.uid)) continue;
    seen.add(ref.uid);
    const replicas = scaleOf(namespace, ref);
    if (replicas === undefined) throw new Error(`found no controllers for pod "${pod.metadata.name}"`);
    total += replicas;
  }
  return total;
}

/** Budget status from the budget, its namespace's pods and the controllers' scale: a pure function of its inputs. */
export function computeBudgetStatus(input: BudgetInputs): BudgetStatusResult {
  const pdb = input.pdb as Json;
  const spec = (pdb.spec ?? {}) as Json;
  const old = (pdb.status ?? {}) as Json;
  const namespace = pdb.metadata.namespace as string;
  const selector = labelSelectorMatcher(spec.selector);
  const pods = (input.pods as readonly Json[]).filter((p) => p.metadata.namespace === namespace && selector(p.metadata.labels));

  let expected = 0;
  let desired = 0;
  try {
    if (spec.maxUnavailable !== undefined && spec.maxUnavailable !== null) {
      expected = expectedFromControllers(namespace, pods, input.scaleOf);
      desired = Math.max(0, expected - scaled(spec.maxUnavailable, expected));
    } else if (spec.minAvailable !== undefined && spec.minAvailable !== null) {
      if (isPercent(spec.minAvailable)) {
        expected = expectedFromControllers(namespace, pods, input.scaleOf);
        desired = scaled(spec.minAvailable, expected);
      } else {
        expected = pods.length;
        desired = scaled(spec.minAvailable, expected);
      }
    }
  } catch (err) {
    // The real controller's failSafe: no disruptions, other numbers and observedGeneration left as they were.
    return {
      status: {
        ...old,
        disruptionsAllowed: 0,
        conditions: withCondition(old.conditions, { type: 'DisruptionAllowed', status: 'False', reason: 'SyncFailed', message: (err as Error).message, observedGeneration: old.observedGeneration ?? 0 }, input.now),
      },
    };
  }

  const disrupted: Record<string, string> = {};
  let recheckAt: number | undefined;
  const recorded = (old.disruptedPods ?? {}) as Record<string, string>;
  for (const pod of pods) {
    const at = recorded[pod.metadata.name];
    if (at === undefined || pod.metadata.deletionTimestamp) continue;
    const expires = Date.parse(at) + input.deletionTimeoutMs;
    if (expires <= input.now) continue;
    disrupted[pod.metadata.name] = at;
    recheckAt = Math.min(recheckAt ?? Infinity, expires);
  }
  const healthy = pods.filter((p) => !p.metadata.deletionTimestamp && disrupted[p.metadata.name] === undefined && podIsReady(p)).length;
  const allowed = expected <= 0 ? 0 : Math.max(0, healthy - desired);
  const status: Json = { observedGeneration: pdb.metadata.generation ?? 1 };
  if (Object.keys(disrupted).length) status.disruptedPods = disrupted;
  status.disruptionsAllowed = allowed;
  status.currentHealthy = healthy;
  status.desiredHealthy = desired;
  status.expectedPods = expected;
  status.conditions = withCondition(
    old.conditions,
    allowed > 0
      ? { type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods', message: '', observedGeneration: status.observedGeneration }
      : { type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods', message: '', observedGeneration: status.observedGeneration },
    input.now,
  );
  return recheckAt !== undefined ? { status, recheckAt } : { status };
}

/** Starts keeping budget statuses current; every change to pods, budgets or workloads triggers a recompute of the budgets it touches. */
export function startDisruptionController(store: ObjectStore, options: DisruptionControllerOptions = {}): { stop(): void } {
  const deletionTimeoutMs = options.deletionTimeoutMs ?? 120_000;
  const dirty = new Set<string>();
  const rechecks = new Map<string, NodeJS.Timeout>();
  let scheduled: NodeJS.Immediate | undefined;
  let stopped = false;

  const keyOf = (ns: string, name: string) => `${ns}/${name}`;

  const scaleOf = (namespace: string, ref: OwnerReference): number | undefined => {
    if (ref.kind === 'ReplicaSet') {
      const rs = store.get('replicasets.apps', namespace, ref.name) as Json | undefined;
      if (!rs || rs.metadata.uid !== ref.uid) return undefined;
      const owner = ((rs.metadata.ownerReferences ?? []) as OwnerReference[]).find((r) => r.controller && r.kind === 'Deployment');
      if (owner) {
        const d = store.get('deployments.apps', namespace, owner.name) as Json | undefined;
        if (d && d.metadata.uid === owner.uid) return d.spec?.replicas ?? 1;
      }
      return rs.spec?.replicas ?? 1;
    }
    const resource = ref.kind === 'StatefulSet' ? 'statefulsets.apps' : ref.kind === 'Deployment' ? 'deployments.apps' : undefined;
    if (!resource) return undefined;
    const o = store.get(resource, namespace, ref.name) as Json | undefined;
    return o && o.metadata.uid === ref.uid ? (o.spec?.replicas ?? 1) : undefined;
  };

  const sync = (key: string) => {
    const [ns, name] = key.split('/') as [string, string];
    const pdb = store.get(PDBS, ns, name);
    clearTimeout(rechecks.get(key));
    rechecks.delete(key);
    if (!pdb) return;
    const result = computeBudgetStatus({ pdb, pods: store.list('pods', ns), scaleOf, now: Date.now(), deletionTimeoutMs });
    store.mutate(PDBS, ns, name, (o) => {
      (o as Json).status = result.status;
    });
    if (result.recheckAt !== undefined) {
      const t = setTimeout(() => mark(key), Math.max(0, result.recheckAt - Date.now()) + 10);
      t.unref();
      rechecks.set(key, t);
    }
  };

  const flush = () => {
    scheduled = undefined;
    if (stopped) return;
    const keys = [...dirty];
    dirty.clear();
    for (const k of keys) sync(k);
  };

  function mark(key: string): void {
    dirty.add(key);
    scheduled ??= setImmediate(flush);
  }

  const markNamespace = (ns: string | undefined, labels?: (Record<string, string> | undefined)[]) => {
    if (ns === undefined) return;
    for (const pdb of store.scan(PDBS, { namespace: ns })) {
      const matches = labelSelectorMatcher((pdb as Json).spec?.selector);
      if (!labels || labels.some((l) => matches(l))) mark(keyOf(ns, pdb.metadata.name));
    }
  };

  const unsubscribes = [
    store.subscribe(PDBS, (e) => {
      // Our own status writes come back here; a spec change bumps the generation, which is what needs a sync.
      if (e.type === 'DELETED') return;
      if (e.type === 'MODIFIED' && e.previous && e.previous.metadata.generation === e.object.metadata.generation && JSON.stringify((e.previous as Json).spec) === JSON.stringify((e.object as Json).spec)) return;
      mark(keyOf(e.object.metadata.namespace!, e.object.metadata.name));
    }),
    store.subscribe('pods', (e) => markNamespace(e.object.metadata.namespace, [e.object.metadata.labels, e.previous?.metadata.labels])),
    ...['deployments.apps', 'replicasets.apps', 'statefulsets.apps'].map((r) => store.subscribe(r, (e) => markNamespace(e.object.metadata.namespace))),
  ];
  for (const pdb of store.scan(PDBS)) mark(keyOf(pdb.metadata.namespace!, pdb.metadata.name));

  return {
    stop() {
      stopped = true;
      for (const u of unsubscribes) u();
      for (const t of rechecks.values()) clearTimeout(t);
      rechecks.clear();
      if (scheduled) clearImmediate(scheduled);
    },
  };
}
