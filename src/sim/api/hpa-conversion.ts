import type { StoredObject } from '../store.js';
import type { LooseJson } from './loose-json.js';

type Json = LooseJson;

/**
 * autoscaling/v1 views of HorizontalPodAutoscalers stored as autoscaling/v2, as the real server
 * converts them (pkg/apis/autoscaling/v1/conversion.go): a CPU utilization target becomes
 * `targetCPUUtilizationPercentage`, and what v1 has no field for travels in annotations, so a
 * v1 client's read-modify-write keeps it.
 */
const METRICS = 'autoscaling.alpha.kubernetes.io/metrics';
const BEHAVIOR = 'autoscaling.alpha.kubernetes.io/behavior';
const CONDITIONS = 'autoscaling.alpha.kubernetes.io/conditions';
const CURRENT_METRICS = 'autoscaling.alpha.kubernetes.io/current-metrics';

const isCpuUtilization = (m: Json): boolean => m?.type === 'Resource' && m.resource?.name === 'cpu' && m.resource?.target?.type === 'Utilization';

export const HPA_V1_CONVERSION = {
  fromStored(stored: StoredObject): StoredObject {
    const o = structuredClone(stored) as Json;
    const spec = (o.spec ?? {}) as Json;
    const status = (o.status ?? {}) as Json;
    const metrics = (spec.metrics ?? []) as Json[];
    const cpu = metrics.find(isCpuUtilization);
    const others = metrics.filter((m) => m !== cpu);
    const annotations: Record<string, string> = { ...(o.metadata.annotations ?? {}) };
    if (others.length) annotations[METRICS] = JSON.stringify(others);
    if (spec.behavior) annotations[BEHAVIOR] = JSON.stringify(spec.behavior);
    if (status.conditions?.length) annotations[CONDITIONS] = JSON.stringify(status.conditions);
    const currentOthers = ((status.currentMetrics ?? []) as Json[]).filter((m) => !(m?.type === 'Resource' && m.resource?.name === 'cpu'));
    if (currentOthers.length) annotations[CURRENT_METRICS] = JSON.stringify(currentOthers);
    const currentCpu = ((status.currentMetrics ?? []) as Json[]).find((m) => m?.type === 'Resource' && m.resource?.name === 'cpu')?.resource?.current?.averageUtilization;
    return converted('autoscaling/v1', o.metadata as Json, annotations, spec, { ...(cpu ? { targetCPUUtilizationPercentage: cpu.resource.target.averageUtilization } : {}) }, status, {
      ...(currentCpu !== undefined ? { currentCPUUtilizationPercentage: currentCpu } : {}),
    }) as unknown as StoredObject;
  },

  toStored(view: Json): Json {
    const spec = (view.spec ?? {}) as Json;
    const status = (view.status ?? {}) as Json;
    const annotations: Record<string, string> = { ...(view.metadata?.annotations ?? {}) };
    const take = (key: string): unknown => {
      const text = annotations[key];
      delete annotations[key];
      if (text === undefined) return undefined;
      try {
        return JSON.parse(text);
      } catch {
        return undefined;
      }
    };
    const others = (take(METRICS) as Json[] | undefined) ?? [];
    const behavior = take(BEHAVIOR);
    const conditions = take(CONDITIONS);
    const currentOthers = (take(CURRENT_METRICS) as Json[] | undefined) ?? [];
    const cpu = spec.targetCPUUtilizationPercentage !== undefined ? [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: spec.targetCPUUtilizationPercentage } } }] : [];
    const currentCpu = status.currentCPUUtilizationPercentage !== undefined ? [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: status.currentCPUUtilizationPercentage } } }] : [];
    const currentMetrics = [...currentCpu, ...currentOthers];
    return converted('autoscaling/v2', (view.metadata ?? {}) as Json, annotations, spec, { ...(cpu.length || others.length ? { metrics: [...cpu, ...others] } : {}), ...(behavior ? { behavior } : {}) }, status, {
      ...(currentMetrics.length ? { currentMetrics } : {}),
      ...(conditions ? { conditions } : {}),
    });
  },
};

/** The fields both versions share, with each version's own spec and status fields added. */
function converted(apiVersion: string, meta: Json, annotations: Record<string, string>, spec: Json, ownSpec: Json, status: Json, ownStatus: Json): Json {
  const { annotations: _replaced, ...metadata } = meta;
  return {
    apiVersion,
    kind: 'HorizontalPodAutoscaler',
    metadata: { ...metadata, ...(Object.keys(annotations).length ? { annotations } : {}) },
    spec: { scaleTargetRef: spec.scaleTargetRef, ...(spec.minReplicas !== undefined ? { minReplicas: spec.minReplicas } : {}), maxReplicas: spec.maxReplicas, ...ownSpec },
    status: {
      ...(status.observedGeneration !== undefined ? { observedGeneration: status.observedGeneration } : {}),
      ...(status.lastScaleTime !== undefined ? { lastScaleTime: status.lastScaleTime } : {}),
      currentReplicas: status.currentReplicas ?? 0,
      desiredReplicas: status.desiredReplicas ?? 0,
      ...ownStatus,
    },
  };
}
