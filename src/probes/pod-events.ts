import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { z } from 'zod';
import { KubeWatch, watchPermission } from '../cluster/kube-watch.js';
import { selectorMatches } from '../cluster/label-selector.js';
import type { ProbePlugin } from './probe.js';
import { parseWorkloadRef, podsPath, workloadRefSchema } from './shared/target-ref.js';
import { workloadSelector, workloadSelectorPermission } from './shared/workload-selector.js';

const params = z.strictObject({
  target: workloadRefSchema.describe('the workload whose pods are watched, as kind/namespace/name, like deployment/shop/web'),
});
type Params = z.output<typeof params>;

/** Pods named in a sample's message at most; the rest are counted. */
const NAMED_PODS = 10;

const containerStatuses = (pod: V1Pod): V1ContainerStatus[] => [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];

/**
 * A probe that watches a workload's pods and counts events of one kind that happen during the
 * run: each event a pod shows is named by a key (`uid/container/3` for a third restart), the
 * keys already shown when the probe starts are the baseline, and each sample's value is how many
 * new keys have been seen so far, so a pod that is gone still counts what it showed.
 */
function podEventProbe(kind: string, summary: string, eventsOf: (pod: V1Pod) => string[]): ProbePlugin<Params> {
  return {
    kind,
    summary,
    params,

    permissions(p) {
      const target = parseWorkloadRef(p.target);
      return [
        workloadSelectorPermission(kind, target),
        watchPermission(`${kind} probe: watch the pods of namespace ${target.namespace}`, podsPath(target.namespace)),
      ];
    },

    async start(ctx, p) {
      const target = parseWorkloadRef(p.target);
      const selector = await workloadSelector(ctx.cluster.kubeConfig, target.collectionPath, target.name, target.text);
      const baseline = new Set<string>();
      const seen = new Set<string>();
      /** `shop/web-7d9f (BestEffort)` for each event seen so far, in order: what a check's message names. */
      const named: string[] = [];
      let synced = false;
      let last = -1;
      const observe = (): void => {
        if (!synced) return;
        const fresh: string[] = [];
        // Which pods showed them, and in which QoS class: the kubelet's eviction order is by it.
        const shownBy: { pod: string; qosClass?: string }[] = [];
        for (const pod of pods.list()) {
          if (!selectorMatches(selector, pod.metadata?.labels)) continue;
          for (const key of eventsOf(pod)) {
            if (baseline.has(key) || seen.has(key)) continue;
            seen.add(key);
            fresh.push(key);
            const by = { pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, ...(pod.status?.qosClass ? { qosClass: pod.status.qosClass } : {}) };
            shownBy.push(by);
            named.push(by.qosClass ? `${by.pod} (${by.qosClass})` : by.pod);
          }
        }
        if (seen.size === last) return;
        last = seen.size;
        const message = named.length > NAMED_PODS ? `${named.slice(0, NAMED_PODS).join(', ')} and ${named.length - NAMED_PODS} more` : named.join(', ');
        ctx.emit({ t: Date.now(), ok: true, value: seen.size, detail: { new: fresh, ...(shownBy.length > 0 ? { pods: shownBy } : {}), ...(message ? { message } : {}) } });
      };
      const pods = new KubeWatch<V1Pod>({
        kubeConfig: ctx.cluster.kubeConfig,
        path: podsPath(target.namespace),
        onChange: observe,
        onRetry: ctx.log,
        onGiveUp: (err) => ctx.fail?.(err),
      });
      await pods.start();
      for (const pod of pods.list()) if (selectorMatches(selector, pod.metadata?.labels)) for (const key of eventsOf(pod)) baseline.add(key);
      synced = true;
      observe();
      return {
        async stop() {
          synced = false;
          await pods.stop();
        },
      };
    },
  };
}

/** Container restarts of the workload's pods during the run: `restarts(deployment/shop/web) == 0`. */
export const restartsProbe = podEventProbe('restarts', "container restarts of a workload's pods during the run (watch-based)", (pod) =>
  containerStatuses(pod).flatMap((c) => Array.from({ length: c.restartCount ?? 0 }, (_, i) => `${pod.metadata?.uid}/${c.name}/${i + 1}`)),
);

/** Containers of the workload's pods ended by the OOM killer during the run (state or lastState `OOMKilled`): `oomKills(deployment/shop/web) == 0`. */
export const oomKillsProbe = podEventProbe('oomKills', "OOM kills of a workload's containers during the run (watch-based)", (pod) =>
  containerStatuses(pod).flatMap((c) =>
    [c.state?.terminated, c.lastState?.terminated].filter((t) => t?.reason === 'OOMKilled').map((t) => `${pod.metadata?.uid}/${c.name}/${String(t!.finishedAt)}`),
  ),
);

/**
 * Pods of the workload evicted during the run: by the kubelet under node pressure (phase Failed,
 * reason Evicted) or through the Eviction API (condition DisruptionTarget): `evictions(deployment/shop/web) <= 1`.
 */
export const evictionsProbe = podEventProbe('evictions', "pods of a workload evicted during the run, by the kubelet or the Eviction API (watch-based)", (pod) => {
  const evicted = pod.status?.reason === 'Evicted' || (pod.status?.conditions ?? []).some((c) => c.type === 'DisruptionTarget' && c.status === 'True');
  return evicted ? [pod.metadata?.uid ?? ''] : [];
});
