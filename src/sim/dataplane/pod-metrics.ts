import type { StoredObject } from '../store.js';
import type { DataPlane } from './data-plane.js';
import type { UsageSnapshot } from './usage-meter.js';

/**
 * Per-pod usage and the custom metrics derived from it: one source for the metrics APIs (what
 * `kubectl top` and a Prometheus adapter would show) and for the HPA controller, so both read
 * the same numbers.
 */
export interface PodUsageSource {
  /** Each running container's usage; undefined when the pod has no running process (no metrics, as metrics-server omits it). */
  usage(pod: StoredObject, now?: number): readonly UsageSnapshot[] | undefined;
}

export function dataPlaneUsage(dataPlane: DataPlane): PodUsageSource {
  return {
    usage(pod, now) {
      if ((pod.status as { phase?: string } | undefined)?.phase !== 'Running') return undefined;
      return dataPlane.podUsage(`${pod.metadata.namespace}/${pod.metadata.name}`, now);
    },
  };
}

/** The custom metrics served per pod (custom.metrics.k8s.io `pods/<name>`), each from the pod's containers. */
export const CUSTOM_POD_METRICS: Readonly<Record<string, (usage: readonly UsageSnapshot[]) => number>> = {
  requests_per_second: (u) => u.reduce((sum, c) => sum + c.requestsPerSecond, 0),
  inflight_requests: (u) => u.reduce((sum, c) => sum + c.inFlight, 0),
  p90_latency_ms: (u) => u.reduce((most, c) => Math.max(most, c.p90LatencyMs), 0),
};

/** A pod's CPU (millicores) or memory (bytes): the sum over its containers, as metrics-server reports it. */
export function resourceUsage(usage: readonly UsageSnapshot[], resource: string): number | undefined {
  if (resource === 'cpu') return usage.reduce((sum, c) => sum + c.cpuMillicores, 0);
  if (resource === 'memory') return usage.reduce((sum, c) => sum + c.memoryBytes, 0);
  return undefined;
}
