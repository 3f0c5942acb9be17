import { quotaStatus } from '../api/resource-quota.js';
import type { ControllerContext, RunningController } from './controller-context.js';
import { WorkQueue } from './work-queue.js';

/**
 * The resource quota controller: keeps each ResourceQuota's `status.hard` and `status.used`
 * current as objects in its namespace come, change phase and go.
 */
export function startResourceQuotaController(ctx: ControllerContext): RunningController {
  const { store, informers } = ctx;
  const quotas = informers.for('resourcequotas');
  const queue = new WorkQueue('resourcequota-controller', (namespace) => sync(namespace));

  function sync(namespace: string): void {
    for (const quota of store.list('resourcequotas', namespace)) {
      const status = quotaStatus(store, quota);
      if (JSON.stringify(status) === JSON.stringify(quota.status)) continue;
      store.mutate('resourcequotas', namespace, quota.metadata.name, (o) => void (o.status = status));
    }
  }

  // Namespaces with a quota: the only ones whose changes are worth a recount (scale benchmarks have none).
  let quotaed = new Set<string>();
  const offQuotas = quotas.onChange(() => (quotaed = new Set([...quotas.list()].map((q) => q.metadata.namespace!))));
  const stop = store.subscribe('*', (e) => {
    const namespace = e.object.metadata.namespace;
    if (namespace && quotaed.has(namespace)) queue.add(namespace);
  });
  return {
    stop() {
      offQuotas();
      stop();
      queue.stop();
    },
  };
}
