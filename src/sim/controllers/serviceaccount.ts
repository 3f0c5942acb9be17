import { isDeleting } from '../pod-state.js';
import type { ControllerContext, RunningController } from './controller-context.js';
import { WorkQueue } from './work-queue.js';

const DEFAULT_ACCOUNT = 'default';

/**
 * The serviceaccounts controller: every namespace that is not terminating has a `default`
 * ServiceAccount, made again if someone deletes it. Pods that name no account run as it.
 */
export function startServiceAccountController(ctx: Pick<ControllerContext, 'store' | 'informers'>): RunningController {
  const { store, informers } = ctx;
  const namespaces = informers.for('namespaces');
  const accounts = informers.for('serviceaccounts');
  const queue = new WorkQueue('serviceaccount-controller', (namespace) => sync(namespace));

  function sync(namespace: string): void {
    const ns = namespaces.get(undefined, namespace);
    if (!ns || isDeleting(ns) || store.get('serviceaccounts', namespace, DEFAULT_ACCOUNT)) return;
    store.create('serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: DEFAULT_ACCOUNT, namespace, uid: '', resourceVersion: '', creationTimestamp: '' } });
  }

  const offNamespaces = namespaces.onChange((type, ns) => {
    if (type !== 'DELETED') queue.add(ns.metadata.name);
  });
  const offAccounts = accounts.onChange((type, sa) => {
    if (type === 'DELETED' && sa.metadata.name === DEFAULT_ACCOUNT) queue.add(sa.metadata.namespace!);
  });
  for (const ns of namespaces.list()) queue.add(ns.metadata.name);
  return {
    stop() {
      offNamespaces();
      offAccounts();
      queue.stop();
    },
  };
}
