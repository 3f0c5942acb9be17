import * as k8s from '@kubernetes/client-node';

/**
 * Watches a workload's pods and keeps the lowest number of healthy ones seen (Ready and not
 * terminating, as the disruption controller counts them) at every change since it was called, so
 * a test or benchmark can assert a drain or rollout never took a workload below a floor, however
 * briefly.
 */
export interface HealthyWatch {
  readonly lowest: () => number;
  readonly current: () => number;
  stop(): void;
}

export async function watchHealthy(kubeConfig: k8s.KubeConfig, namespace: string, labelSelector: string): Promise<HealthyWatch> {
  const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  const list = await core.listNamespacedPod({ namespace, labelSelector });
  const healthy = new Map<string, boolean>();
  const isHealthy = (p: k8s.V1Pod): boolean => !p.metadata?.deletionTimestamp && (p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false);
  for (const p of list.items) healthy.set(p.metadata!.uid!, isHealthy(p));
  const count = (): number => [...healthy.values()].filter(Boolean).length;
  let lowest = count();
  const watch = await new k8s.Watch(kubeConfig).watch(
    `/api/v1/namespaces/${namespace}/pods`,
    { labelSelector, resourceVersion: list.metadata?.resourceVersion },
    (phase: string, p: k8s.V1Pod) => {
      if (phase === 'DELETED') healthy.delete(p.metadata!.uid!);
      else if (phase === 'ADDED' || phase === 'MODIFIED') healthy.set(p.metadata!.uid!, isHealthy(p));
      lowest = Math.min(lowest, count());
    },
    () => {},
  );
  return { lowest: () => lowest, current: count, stop: () => watch.abort() };
}
