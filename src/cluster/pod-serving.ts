import type { V1Pod } from '@kubernetes/client-node';

/**
 * Whether a pod can serve: its Ready condition is True and it is not being deleted. The disruption
 * controller and EndpointSlices count a terminating pod as gone even while its Ready condition
 * still says True, and so do the probes.
 */
export function podIsServing(pod: V1Pod): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}
