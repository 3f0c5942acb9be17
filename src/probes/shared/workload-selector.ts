import type { KubeConfig } from '@kubernetes/client-node';
import { rawRequest } from '../../cluster/raw-request.js';

/** The workload's pod selector, read once: a workload's selector is immutable. */
export async function workloadSelector(kubeConfig: KubeConfig, collectionPath: string, name: string, text: string): Promise<Record<string, unknown>> {
  const res = await rawRequest(kubeConfig, `${collectionPath}/${encodeURIComponent(name)}`);
  if (res.status === 404) throw new Error(`${text} does not exist: apply the workload first (spec.workloads) or fix the name`);
  if (res.status !== 200) throw new Error(`cannot read ${text}: HTTP ${res.status}`);
  const selector = (JSON.parse(res.body) as { spec?: { selector?: Record<string, unknown> } }).spec?.selector;
  if (!selector) throw new Error(`${text} has no pod selector`);
  return selector;
}
