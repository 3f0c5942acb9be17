import type { KubeConfig } from '@kubernetes/client-node';
import type { Permission } from '../../cluster/rbac.js';
import { rawGetWithRetries } from '../../cluster/raw-request.js';
import type { WorkloadRef } from './target-ref.js';

/** What reading the selector takes: a get of that one workload. */
export function workloadSelectorPermission(probeKind: string, target: WorkloadRef): Permission {
  return { why: `${probeKind} probe: read ${target.text}'s pod selector`, verbs: ['get'], resource: target.resource, group: target.group, namespace: target.namespace, names: [target.name] };
}

/** The workload's pod selector, read once: a workload's selector is immutable. */
export async function workloadSelector(kubeConfig: KubeConfig, collectionPath: string, name: string, text: string): Promise<Record<string, unknown>> {
  const res = await rawGetWithRetries(kubeConfig, `${collectionPath}/${encodeURIComponent(name)}`);
  if (res.status === 404) throw new Error(`${text} does not exist: apply the workload first (spec.workloads) or fix the name`);
  if (res.status !== 200) throw new Error(`cannot read ${text}: HTTP ${res.status}`);
  const selector = (JSON.parse(res.body) as { spec?: { selector?: Record<string, unknown> } }).spec?.selector;
  if (!selector) throw new Error(`${text} has no pod selector`);
  return selector;
}
