import { CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { isNotFound } from '../../cluster/api-errors.js';
import type { Permission } from '../../cluster/rbac.js';

/**
 * Marks a node gameday cordoned, so a revert — even one by `gameday recover` that never saw
 * inject return — uncordons only the nodes gameday cordoned and leaves an operator's cordon alone.
 */
export const CORDONED_ANNOTATION = 'gameday.dev/cordoned';

/** What cordonNode and uncordonNode do, for the fault `kind` that calls them. */
export const NODE_CORDON_PERMISSIONS = (kind: string): Permission[] => [
  { why: `${kind}: read the node and cordon it (patch), and uncordon it on revert`, verbs: ['get', 'patch'], resource: 'nodes' },
];

const strategicMerge = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

/** Cordons a node as `kubectl cordon` does; returns false when it was already unschedulable (and leaves it unmarked). */
export async function cordonNode(kubeConfig: KubeConfig, name: string): Promise<boolean> {
  const api = kubeConfig.makeApiClient(CoreV1Api);
  const node = await api.readNode({ name });
  if (node.spec?.unschedulable) return false;
  const body = { metadata: { annotations: { [CORDONED_ANNOTATION]: 'true' } }, spec: { unschedulable: true } };
  await api.patchNode({ name, body }, strategicMerge);
  return true;
}

/** Uncordons a node only if gameday cordoned it; true when it did. A node that is gone needs nothing. */
export async function uncordonNode(kubeConfig: KubeConfig, name: string): Promise<boolean> {
  const api = kubeConfig.makeApiClient(CoreV1Api);
  try {
    const node = await api.readNode({ name });
    if (node.metadata?.annotations?.[CORDONED_ANNOTATION] === undefined) return false;
    const body = { metadata: { annotations: { [CORDONED_ANNOTATION]: null } }, spec: { unschedulable: null } };
    await api.patchNode({ name, body }, strategicMerge);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}
