import { Duration } from '../../core/duration.js';
import { throughScale } from '../api/field-manager/managed-store.js';
import type { LooseJson } from '../api/loose-json.js';
import { milliQuantity } from '../api/metrics-api.js';
import { resourceByKind } from '../api/resources.js';
import { CUSTOM_POD_METRICS, resourceUsage, type PodUsageSource } from '../dataplane/pod-metrics.js';
import { selectInNamespace, type LabelSelector } from '../label-selector.js';
import { conditionsOf, findCondition, isDeleting, podPhase, setCondition, type Condition } from '../pod-state.js';
import { cpuMillis, quantityBytes } from '../resource-quantity.js';
import { objectKey } from '../informer.js';
import { byNamespace, byNamespacedLabel, INDEX } from '../standard-indexes.js';
import type { StoredObject } from '../store.js';
import type { ControllerContext, RunningController } from './controller-context.js';
import { MetricError, plainMetricReplicas, resourceUtilizationReplicas, ScaleHistory, type Behavior, type ConditionProposal, type PodMetric, type PodState } from './hpa-algorithm.js';

type Json = LooseJson;

const SOURCE = { component: 'horizontal-pod-autoscaler' };
const HPAS = 'horizontalpodautoscalers.autoscaling';

/**
 * The embedded cluster's own knob on an HPA (like the `gameday.dev/*` knobs on pods): reconcile
 * this HPA at this period instead of the controller's 15 s, so an experiment can show a spike
 * absorbed in seconds, as a workload shrinks its tolerations. Other clusters ignore it.
 */
export const SYNC_PERIOD_ANNOTATION = 'gameday.dev/sync-period';
/** A shorter period would only burn CPU: the metrics it reads are rates over seconds. */
const MIN_SYNC_PERIOD_MS = 100;

/**
 * The HorizontalPodAutoscaler controller (autoscaling/v2), reconciling every HPA once per sync
 * period as kube-controller-manager does: read the target's scale, compute a proposal per metric
 * from the metrics the data plane measures (the same numbers metrics.k8s.io and
 * custom.metrics.k8s.io serve), take the largest, stabilize and limit it, write the scale, and
 * report conditions, current metrics and a `SuccessfulRescale` event.
 */
export function startHpaController(ctx: ControllerContext, usage: PodUsageSource): RunningController {
  const { store, informers, recorder, timings } = ctx;
  const hpas = informers.for(HPAS);
  const pods = informers.for('pods').addIndex(INDEX.label, byNamespacedLabel).addIndex(INDEX.namespace, byNamespace);
  const histories = new Map<string, ScaleHistory>();
  /** HPAs on a sync period of their own (SYNC_PERIOD_ANNOTATION), each on its own timer. */
  const ownPeriods = new Map<string, { periodMs: number; timer: NodeJS.Timeout }>();
  const badPeriods = new Map<string, string>();

  const timer = setInterval(() => {
    for (const key of histories.keys()) if (!hpas.getByKey(key)) histories.delete(key);
    for (const hpa of [...hpas.list()]) if (!ownPeriods.has(objectKey(hpa))) reconcile(hpa);
  }, timings.hpaSyncPeriodMs);
  timer.unref();

  const followSyncPeriod = (type: string, hpa: StoredObject): void => {
    const key = objectKey(hpa);
    if (type === 'DELETED') badPeriods.delete(key);
    const periodMs = type === 'DELETED' ? undefined : ownSyncPeriodMs(hpa);
    const current = ownPeriods.get(key);
    if (current?.periodMs === periodMs) return;
    if (current) clearInterval(current.timer);
    ownPeriods.delete(key);
    if (periodMs === undefined) return;
    const own = setInterval(() => {
      const live = hpas.getByKey(key);
      if (live) reconcile(live);
    }, periodMs);
    own.unref();
    ownPeriods.set(key, { periodMs, timer: own });
  };
  for (const hpa of hpas.list()) followSyncPeriod('ADDED', hpa);
  const unsubscribe = hpas.onChange((type, hpa) => followSyncPeriod(type, hpa));

  /** The annotation's period, or undefined (the controller's period) when absent; a bad value is a Warning event and the controller's period. */
  function ownSyncPeriodMs(hpa: StoredObject): number | undefined {
    const text = hpa.metadata.annotations?.[SYNC_PERIOD_ANNOTATION];
    if (text === undefined) return undefined;
    const ms = Duration.tryParse(text)?.ms;
    if (ms !== undefined && ms >= MIN_SYNC_PERIOD_MS) return ms;
    // Once per bad value: status writes come back here as changes of the same object.
    if (badPeriods.get(objectKey(hpa)) !== text) {
      badPeriods.set(objectKey(hpa), text);
      recorder.record(hpa, 'Warning', 'InvalidSyncPeriod', `annotation ${SYNC_PERIOD_ANNOTATION}: "${text}" is not a duration of at least ${MIN_SYNC_PERIOD_MS}ms, like 1s; syncing every ${timings.hpaSyncPeriodMs}ms`, SOURCE);
    }
    return undefined;
  }

  function reconcile(shared: StoredObject): void {
    const key = `${shared.metadata.namespace}/${shared.metadata.name}`;
    const history = histories.get(key) ?? histories.set(key, new ScaleHistory()).get(key)!;
    const hpa = structuredClone(shared) as Json;
    const conditions: Condition[] = structuredClone(conditionsOf(shared));
    const set = (type: string, c: ConditionProposal): void => setCondition(conditions, { type, status: c.status, reason: c.reason, message: c.message });
    const spec = hpa.spec as Json;
    const namespace = shared.metadata.namespace!;
    const ref = spec.scaleTargetRef as { apiVersion?: string; kind: string; name: string };
    const previousStatus = (hpa.status ?? {}) as Json;

    const targetType = resourceByKind(ref.apiVersion ?? '', ref.kind);
    const target = targetType?.subresources.some((s) => s.name === 'scale') ? store.get(targetType.storeKey, namespace, ref.name) : undefined;
    if (!targetType || !target) {
      const message = !targetType || !targetType.subresources.some((s) => s.name === 'scale') ? `no matches for kind "${ref.kind}" in group "${(ref.apiVersion ?? '').split('/').slice(0, -1).join('/')}"` : `${targetType.storeKey} "${ref.name}" not found`;
      recorder.record(shared, 'Warning', 'FailedGetScale', message, SOURCE);
      set('AbleToScale', { status: 'False', reason: 'FailedGetScale', message: `the HPA controller was unable to get the target's current scale: ${message}` });
      return writeStatus(shared, { ...previousStatus, conditions });
    }
    set('AbleToScale', { status: 'True', reason: 'SucceededGetScale', message: "the HPA controller was able to get the target's current scale" });
    const currentReplicas = ((target.spec as { replicas?: number }).replicas ?? 1);
    const now = Date.now();
    history.recordInitial(currentReplicas, now);
    const minReplicas = (spec.minReplicas as number | undefined) ?? 1;
    const maxReplicas = spec.maxReplicas as number;

    let desired = 0;
    let rescaleReason = '';
    let rescale = true;
    let currentMetrics: Json[] | undefined = previousStatus.currentMetrics as Json[] | undefined;
    if (currentReplicas === 0 && minReplicas !== 0) {
      rescale = false;
      set('ScalingActive', { status: 'False', reason: 'ScalingDisabled', message: 'scaling is disabled since the replica count of the target is zero' });
    } else if (currentReplicas > maxReplicas) {
      rescaleReason = 'Current number of replicas above Spec.MaxReplicas';
      desired = maxReplicas;
    } else if (currentReplicas < minReplicas) {
      rescaleReason = 'Current number of replicas below Spec.MinReplicas';
      desired = minReplicas;
    } else {
      const selector = (target.spec as { selector?: LabelSelector }).selector;
      const computed = selector ? computeReplicasForMetrics(shared, spec.metrics as Json[], currentReplicas, namespace, selector, now) : undefined;
      if (!computed || 'error' in computed) {
        if (!selector) {
          recorder.record(shared, 'Warning', 'SelectorRequired', 'selector is required', SOURCE);
          set('ScalingActive', { status: 'False', reason: 'InvalidSelector', message: "the HPA target's scale is missing a selector" });
        } else if (computed && 'error' in computed) {
          set('ScalingActive', computed.condition);
          recorder.record(shared, 'Warning', 'FailedComputeMetricsReplicas', computed.error, SOURCE);
        }
        return writeStatus(shared, { ...previousStatus, currentReplicas, desiredReplicas: previousStatus.desiredReplicas ?? 0, ...(computed?.statuses ? { currentMetrics: computed.statuses } : {}), conditions });
      }
      set('ScalingActive', { status: 'True', reason: 'ValidMetricFound', message: `the HPA was able to successfully calculate a replica count from ${computed.metric}` });
      currentMetrics = computed.statuses;
      desired = computed.replicas;
      if (desired > currentReplicas) rescaleReason = `${computed.metric} above target`;
      if (desired < currentReplicas) rescaleReason = 'All metrics below target';
      const behavior = spec.behavior as Behavior | undefined;
      const normalized = behavior
        ? history.normalizeWithBehavior(behavior, currentReplicas, desired, minReplicas, maxReplicas, timings.hpaDownscaleStabilizationMs, now)
        : history.normalize(currentReplicas, desired, minReplicas, maxReplicas, timings.hpaDownscaleStabilizationMs, now);
      set('AbleToScale', normalized.ableToScale);
      set('ScalingLimited', normalized.scalingLimited);
      desired = normalized.replicas;
      rescale = desired !== currentReplicas;
    }

    let lastScaleTime = previousStatus.lastScaleTime as string | undefined;
    if (rescale) {
      throughScale(store).mutate(targetType.storeKey, namespace, ref.name, (o) => {
        (o.spec as { replicas?: number }).replicas = desired;
      });
      set('AbleToScale', { status: 'True', reason: 'SucceededRescale', message: `the HPA controller was able to update the target scale to ${desired}` });
      recorder.record(shared, 'Normal', 'SuccessfulRescale', `New size: ${desired}; reason: ${rescaleReason}`, SOURCE);
      history.recordScale(spec.behavior as Behavior | undefined, currentReplicas, desired, now);
      lastScaleTime = new Date(now).toISOString().replace(/\.\d+Z$/, 'Z');
    } else {
      desired = currentReplicas;
    }
    writeStatus(shared, {
      ...(typeof previousStatus.observedGeneration === 'number' ? { observedGeneration: previousStatus.observedGeneration } : {}),
      ...(lastScaleTime ? { lastScaleTime } : {}),
      currentReplicas,
      desiredReplicas: desired,
      ...(currentMetrics ? { currentMetrics } : {}),
      conditions,
    });
  }

  type Computed = { replicas: number; metric: string; statuses: Json[] } | { error: string; condition: ConditionProposal; statuses?: Json[] };

  /** computeReplicasForMetrics: a proposal per metric, the largest wins; all invalid is an error naming the first. */
  function computeReplicasForMetrics(hpa: StoredObject, metrics: Json[], currentReplicas: number, namespace: string, selector: LabelSelector, now: number): Computed {
    const matched = selectInNamespace(pods, namespace, selector);
    const statuses: Json[] = [];
    let best: { replicas: number; metric: string } | undefined;
    let firstInvalid: { error: string; condition: ConditionProposal } | undefined;
    let invalid = 0;
    for (const spec of metrics) {
      const outcome = computeReplicasForMetric(spec, currentReplicas, matched, now);
      if ('error' in outcome) {
        invalid++;
        firstInvalid ??= outcome;
        recorder.record(hpa, 'Warning', outcome.reason, outcome.error, SOURCE);
        statuses.push({ type: '' });
        continue;
      }
      statuses.push(outcome.status);
      if (!best || outcome.replicas > best.replicas) best = { replicas: outcome.replicas, metric: outcome.metric };
    }
    if (!best) {
      return { error: `invalid metrics (${invalid} invalid out of ${metrics.length}), first error is: ${firstInvalid!.error}`, condition: firstInvalid!.condition, statuses };
    }
    return { ...best, statuses };
  }

  type MetricOutcome = { replicas: number; metric: string; status: Json } | { error: string; reason: string; condition: ConditionProposal };

  function computeReplicasForMetric(spec: Json, currentReplicas: number, matched: StoredObject[], now: number): MetricOutcome {
    const states = matched.map(podState);
    const failed = (reason: string, error: string, prefix: string): MetricOutcome => ({
      error: `${prefix}${error}`,
      reason,
      condition: { status: 'False', reason, message: `the HPA was unable to compute the replica count: ${error}` },
    });
    try {
      switch (spec.type) {
        case 'Pods': {
          const name = spec.pods?.metric?.name as string;
          const value = CUSTOM_POD_METRICS[name];
          if (!value) return failed('FailedGetPodsMetric', `unable to get metric ${name}: the server could not find the metric ${name} for pods`, 'failed to get pods metric value: ');
          const metrics = podMetrics(matched, now, (u) => Math.round(value(u) * 1000));
          const proposal = plainMetricReplicas({ currentReplicas, pods: states, metrics, now, timings: groupTimings, target: milli(spec.pods.target?.averageValue) });
          return { replicas: proposal.replicas, metric: `pods metric ${name}`, status: { type: 'Pods', pods: { metric: spec.pods.metric, current: { averageValue: milliQuantity(proposal.utilization / 1000) } } } };
        }
        case 'Resource': {
          const resource = spec.resource?.name as string;
          const target = spec.resource?.target ?? {};
          const scale = resource === 'cpu' ? 1 : 1000;
          const metrics = podMetrics(matched, now, (u) => Math.round((resourceUsage(u, resource) ?? NaN) * scale));
          if ([...metrics.values()].some((m) => Number.isNaN(m.value))) throw new MetricError(`unable to get metrics for resource ${resource}: no metrics returned from resource metrics API`);
          if (target.averageValue !== undefined) {
            const proposal = plainMetricReplicas({ currentReplicas, pods: states, metrics, now, timings: groupTimings, target: milliOfResource(resource, target.averageValue), resource });
            return { replicas: proposal.replicas, metric: `${resource} resource`, status: { type: 'Resource', resource: { name: resource, current: { averageValue: resourceQuantity(proposal.utilization) } } } };
          }
          if (target.averageUtilization === undefined) return failed('FailedGetResourceMetric', 'invalid resource metric source: neither a utilization target nor a value target was set', '');
          const requests = new Map(matched.map((p) => [p.metadata.name, podRequest(p, resource)]));
          const proposal = resourceUtilizationReplicas({ currentReplicas, pods: states, metrics, now, timings: groupTimings, targetPercent: target.averageUtilization, resource, requests });
          return {
            replicas: proposal.replicas,
            metric: `${resource} resource utilization (percentage of request)`,
            status: { type: 'Resource', resource: { name: resource, current: { averageUtilization: proposal.utilization, averageValue: resourceQuantity(proposal.rawUtilization!) } } },
          };
        }
        default: {
          const reason = spec.type === 'Object' ? 'FailedGetObjectMetric' : spec.type === 'External' ? 'FailedGetExternalMetric' : spec.type === 'ContainerResource' ? 'FailedGetContainerResourceMetric' : 'InvalidMetricSourceType';
          const error = reason === 'InvalidMetricSourceType' ? `unknown metric source type "${spec.type}"` : `the embedded cluster serves per-pod metrics only; ${spec.type} metrics are not available`;
          return failed(reason, error, '');
        }
      }
    } catch (err) {
      if (!(err instanceof MetricError)) throw err;
      const reason = spec.type === 'Pods' ? 'FailedGetPodsMetric' : 'FailedGetResourceMetric';
      return failed(reason, err.message, spec.type === 'Pods' ? 'failed to get pods metric value: ' : `failed to get ${spec.resource?.name} utilization: `);
    }
  }

  const groupTimings = { cpuInitializationPeriodMs: timings.hpaCpuInitializationPeriodMs, delayOfInitialReadinessStatusMs: timings.hpaInitialReadinessDelayMs };

  function podMetrics(matched: StoredObject[], now: number, value: (u: Parameters<typeof resourceUsage>[0]) => number): Map<string, PodMetric> {
    const out = new Map<string, PodMetric>();
    for (const pod of matched) {
      const u = usage.usage(pod, now);
      if (u) out.set(pod.metadata.name, { value: value(u), timestamp: now, windowMs: Math.max(...u.map((c) => c.windowMs)) });
    }
    return out;
  }

  function writeStatus(shared: StoredObject, status: Json): void {
    store.mutate(HPAS, shared.metadata.namespace, shared.metadata.name, (o) => {
      o.status = status;
    });
  }

  return {
    stop() {
      clearInterval(timer);
      unsubscribe();
      for (const own of ownPeriods.values()) clearInterval(own.timer);
      ownPeriods.clear();
    },
  };
}

function podState(pod: StoredObject): PodState {
  const ready = findCondition(pod, 'Ready');
  const start = (pod.status as { startTime?: string } | undefined)?.startTime;
  return {
    name: pod.metadata.name,
    phase: podPhase(pod),
    deleting: isDeleting(pod),
    ...(ready ? { ready: { status: ready.status === 'True', lastTransitionTime: ready.lastTransitionTime ? Date.parse(ready.lastTransitionTime) : 0 } } : {}),
    ...(start ? { startTime: Date.parse(start) } : {}),
  };
}

/** A quantity's MilliValue: `5` → 5000, `500m` → 500. */
function milli(q: unknown): number {
  return cpuMillis(q);
}

/** Resource values in the units the metrics client compares: millicores, or bytes × 1000. */
function milliOfResource(resource: string, q: unknown): number {
  return resource === 'cpu' ? cpuMillis(q) : quantityBytes(q) * 1000;
}

/** A milli-value as resource.NewMilliQuantity writes it: `250m`, `0`, `1`. */
function resourceQuantity(value: number): string {
  return milliQuantity(value / 1000);
}

/** calculatePodRequests: the sum over containers; a container without a request is an error. */
function podRequest(pod: StoredObject, resource: string): number {
  let sum = 0;
  for (const c of ((pod.spec as { containers?: { resources?: { requests?: Record<string, unknown> } }[] }).containers ?? [])) {
    const request = c.resources?.requests?.[resource];
    if (request === undefined) throw new MetricError(`missing request for ${resource}`);
    sum += milliOfResource(resource, request);
  }
  return sum;
}
