import { ApiError } from './api-error.js';
import type { LooseJson } from './loose-json.js';
import type { ResourceType } from './resources.js';

type Json = LooseJson;

/**
 * autoscaling/v2 defaulting and the validation users meet first, as the real API server does
 * them: minReplicas 1, a CPU target of 80% when no metric is given, and, once `behavior` is set,
 * every rule it leaves out (GenerateHPAScaleUpRules / GenerateHPAScaleDownRules). The scale-down
 * stabilization window stays unset: the controller's --horizontal-pod-autoscaler-downscale-stabilization applies.
 */
export function admitHorizontalPodAutoscaler(r: ResourceType, body: Json): void {
  const spec = (body.spec ??= {}) as Json;
  spec.minReplicas ??= 1;
  if (!Array.isArray(spec.metrics) || !spec.metrics.length) spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
  if (spec.behavior) {
    spec.behavior.scaleUp = scalingRules(spec.behavior.scaleUp, { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] });
    spec.behavior.scaleDown = scalingRules(spec.behavior.scaleDown, { selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] });
  }
  const causes: { field: string; message: string; reason?: string }[] = [];
  if (!spec.scaleTargetRef?.kind) causes.push({ field: 'spec.scaleTargetRef.kind', message: 'Required value', reason: 'FieldValueRequired' });
  if (!spec.scaleTargetRef?.name) causes.push({ field: 'spec.scaleTargetRef.name', message: 'Required value', reason: 'FieldValueRequired' });
  if (!Number.isInteger(spec.maxReplicas) || spec.maxReplicas < 1) causes.push({ field: 'spec.maxReplicas', message: `Invalid value: ${JSON.stringify(spec.maxReplicas ?? 0)}: must be greater than or equal to 1` });
  else if (spec.minReplicas > spec.maxReplicas) causes.push({ field: 'spec.minReplicas', message: `Invalid value: ${spec.minReplicas}: must be less than or equal to maxReplicas` });
  if (!Number.isInteger(spec.minReplicas) || spec.minReplicas < 1) causes.push({ field: 'spec.minReplicas', message: `Invalid value: ${JSON.stringify(spec.minReplicas)}: must be greater than or equal to 1` });
  if (causes.length) throw ApiError.invalid(r, body.metadata?.name ?? '', causes);
}

function scalingRules(given: Json | undefined, defaults: Json): Json {
  if (!given) return defaults;
  return {
    ...(given.stabilizationWindowSeconds !== undefined ? { stabilizationWindowSeconds: given.stabilizationWindowSeconds } : defaults.stabilizationWindowSeconds !== undefined ? { stabilizationWindowSeconds: defaults.stabilizationWindowSeconds } : {}),
    selectPolicy: given.selectPolicy ?? defaults.selectPolicy,
    policies: given.policies ?? defaults.policies,
  };
}
