import type { IntOrString, V1Pod, V1PodDisruptionBudget } from '@kubernetes/client-node';
import { z } from 'zod';
import { KubeWatch, startWatches, watchPermission } from '../cluster/kube-watch.js';
import { selectorMatches } from '../cluster/label-selector.js';
import { podIsServing } from '../cluster/pod-serving.js';
import type { Sample } from '../core/sample.js';
import type { ProbePlugin } from './probe.js';
import { namespacedNameSchema, parseNamespacedName, podsPath } from './shared/target-ref.js';

const params = z.strictObject({
  target: namespacedNameSchema.describe('the PodDisruptionBudget to watch, as namespace/name, like shop/web'),
});
type Params = z.output<typeof params>;

type Observation = Omit<Sample, 'probe'>;

const budgetsPath = (namespace: string): string => `/apis/policy/v1/namespaces/${namespace}/poddisruptionbudgets`;

/**
 * Watches a PodDisruptionBudget and the pods it selects, and at every change compares the ready
 * pods — counted from the pods themselves, not from the budget's status, which the disruption
 * controller updates a moment later — with the budget's desired healthy. `pdb(ns/name) holds`
 * fails on the first moment ready pods fell below it, naming the pods that were not ready, and
 * whenever the budget allows every pod to be disrupted.
 */
export const pdbProbe: ProbePlugin<Params> = {
  kind: 'pdb',
  summary: 'ready pods vs a PodDisruptionBudget\'s desired healthy, at every change (watch-based)',
  params,

  permissions(p) {
    const { namespace, name } = parseNamespacedName(p.target);
    return [
      watchPermission(`pdb probe: watch PodDisruptionBudget ${p.target}`, budgetsPath(namespace), name),
      watchPermission(`pdb probe: watch the pods of namespace ${namespace}, to count the budget's ready pods`, podsPath(namespace)),
    ];
  },

  async start(ctx, p) {
    const { namespace, name } = parseNamespacedName(p.target);
    let last = '';
    let synced = false;
    const observe = (): void => {
      // Until both lists are in, a budget without its pods would read as a violation.
      if (!synced) return;
      const budget = budgets.list().find((b) => b.metadata?.name === name);
      const observation = budgetObservation(budget, pods.list(), `${namespace}/${name}`);
      const key = JSON.stringify(observation);
      if (key === last) return;
      last = key;
      ctx.emit({ t: Date.now(), ...observation });
    };
    const watchOptions = { kubeConfig: ctx.cluster.kubeConfig, onChange: observe, onRetry: ctx.log, onGiveUp: (err: Error) => ctx.fail?.(err) };
    const budgets = new KubeWatch<V1PodDisruptionBudget>({
      ...watchOptions,
      path: budgetsPath(namespace),
      fieldSelector: `metadata.name=${name}`,
    });
    const pods = new KubeWatch<V1Pod>({ ...watchOptions, path: podsPath(namespace) });
    await startWatches([budgets, pods]);
    synced = true;
    observe();
    return {
      async stop() {
        await Promise.all([budgets.stop(), pods.stop()]);
      },
    };
  },
};

/** One reading of a budget against its pods; exported for tests. */
export function budgetObservation(budget: V1PodDisruptionBudget | undefined, pods: readonly V1Pod[], text: string): Omit<Observation, 't'> {
  if (!budget) return { ok: false, value: 0, error: 'budget-missing', detail: { budget: text, message: `PodDisruptionBudget ${text} does not exist` } };
  const selected = pods.filter((pod) => selectorMatches(budget.spec?.selector, pod.metadata?.labels));
  const ready = selected.filter(podIsServing);
  const notReady = selected.filter((pod) => !podIsServing(pod)).map((pod) => pod.metadata?.name ?? '?').sort();
  const status = budget.status;
  const expectedPods = status?.expectedPods ?? selected.filter((pod) => !pod.metadata?.deletionTimestamp).length;
  const statusCurrent = status !== undefined && (status.observedGeneration ?? 0) >= (budget.metadata?.generation ?? 0);
  // A budget edited mid-run has a status about the old spec until the controller catches up.
  const desiredHealthy = statusCurrent ? status.desiredHealthy : desiredFromSpec(budget, expectedPods);
  // A budget that lets every pod go (maxUnavailable: 100%, minAvailable: 0) cannot be "held": it
  // allows too much to protect the workload, so it fails the check rather than pass it vacuously.
  const protectsNothing = desiredHealthy === 0 && expectedPods > 0;
  const ok = !protectsNothing && ready.length >= desiredHealthy;
  return {
    ok,
    value: ready.length,
    ...(ok ? {} : { error: protectsNothing ? 'budget-protects-nothing' : 'below-budget' }),
    detail: {
      ...(protectsNothing ? { message: `PodDisruptionBudget ${text} lets all ${expectedPods} of its pods be disrupted at once (desired healthy 0): it protects nothing` } : {}),
      desiredHealthy,
      desiredFrom: statusCurrent ? 'status' : 'spec',
      currentHealthy: status?.currentHealthy ?? null,
      expectedPods,
      disruptionsAllowed: status?.disruptionsAllowed ?? null,
      notReady,
    },
  };
}

/** desiredHealthy as the disruption controller computes it (percentages round up). */
function desiredFromSpec(budget: V1PodDisruptionBudget, expectedPods: number): number {
  const spec = budget.spec ?? {};
  if (spec.minAvailable !== undefined) return scaled(spec.minAvailable, expectedPods);
  if (spec.maxUnavailable !== undefined) return Math.max(0, expectedPods - scaled(spec.maxUnavailable, expectedPods));
  return 0;
}

function scaled(value: IntOrString, total: number): number {
  if (typeof value === 'number') return value;
  const m = /^(\d+)%$/.exec(value.trim());
  return m ? Math.ceil((Number(m[1]) / 100) * total) : Number(value) || 0;
}
