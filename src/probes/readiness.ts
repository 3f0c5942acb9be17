import type { V1EndpointSlice, V1Pod, V1Service } from '@kubernetes/client-node';
import { z } from 'zod';
import { Duration } from '../core/duration.js';
import { durationSchema } from '../spec/value-schemas.js';
import { KubeWatch, startWatches } from './kube-watch.js';
import { matchesSelector } from './label-selector-match.js';
import { podIsServing } from './pod-serving.js';
import type { ProbePlugin } from './probe.js';
import { namespacedNameSchema, parseNamespacedName } from './target-ref.js';

const params = z.strictObject({
  target: namespacedNameSchema.describe('the Service to watch, as namespace/name, like shop/web'),
  grace: durationSchema
    .optional()
    .describe('how long an endpoint may still be ready after its pod stopped being ready (the endpoints controller needs a moment). @default 1s'),
});
type Params = z.output<typeof params>;

/** An endpoint the Service still routes to although its pod cannot serve. */
interface Mismatch {
  readonly pod: string;
  /** When the probe first saw it. */
  readonly since: number;
  readonly why: 'pod-not-ready' | 'pod-terminating' | 'pod-gone';
}

/**
 * Watches a Service's pods and its EndpointSlices, and flags every endpoint that stays
 * `ready: true` for longer than the grace after its pod stopped being ready (or is terminating,
 * or is gone): traffic the Service would send to a pod that cannot serve it. A sample is taken at
 * every change, so the timeline shows ready endpoints against ready pods.
 */
export const readinessProbe: ProbePlugin<Params> = {
  kind: 'readiness',
  summary: 'endpoints vs pod readiness of a Service, at every change (watch-based)',
  params,

  async start(ctx, p) {
    const { namespace, name } = parseNamespacedName(p.target);
    const graceMs = (p.grace ?? Duration.seconds(1)).ms;
    const mismatches = new Map<string, Mismatch>();
    let synced = false;
    let last = '';
    let timer: NodeJS.Timeout | undefined;

    const observe = (): void => {
      if (!synced) return;
      const now = Date.now();
      const service = services.list().find((s) => s.metadata?.name === name);
      const podsByName = new Map(pods.list().map((pod) => [pod.metadata?.name ?? '', pod]));
      const routed = readyEndpointPods(slices.list());
      const seen = new Set<string>();
      for (const podName of routed) {
        const why = mismatchOf(podsByName.get(podName));
        if (!why) continue;
        seen.add(podName);
        const known = mismatches.get(podName);
        if (!known || known.why !== why) mismatches.set(podName, { pod: podName, since: known?.since ?? now, why });
      }
      for (const podName of [...mismatches.keys()]) if (!seen.has(podName)) mismatches.delete(podName);

      const violations = [...mismatches.values()].filter((m) => now - m.since >= graceMs);
      const lagging = [...mismatches.values()].filter((m) => now - m.since < graceMs);
      const selected = service?.spec?.selector ? pods.list().filter((pod) => matchesSelector({ matchLabels: service.spec!.selector }, pod.metadata?.labels)) : [];
      const readyPods = selected.filter(podIsServing).map((pod) => pod.metadata?.name ?? '?').sort();
      const ok = service !== undefined && violations.length === 0;
      const detail = {
        readyEndpoints: [...routed].sort(),
        readyPods,
        routedToUnready: violations.map((m) => ({ pod: m.pod, why: m.why, since: m.since })),
        withinGrace: lagging.map((m) => m.pod),
      };
      const error = service === undefined ? 'service-missing' : violations.length > 0 ? 'routed-to-unready' : undefined;
      const key = JSON.stringify([ok, error, detail]);
      if (key !== last) {
        last = key;
        ctx.emit({ t: now, ok, value: routed.size, ...(error ? { error } : {}), detail });
      }
      clearTimeout(timer);
      const nextDue = Math.min(...lagging.map((m) => m.since + graceMs));
      // Nothing changes when the grace runs out, so look again then.
      if (Number.isFinite(nextDue)) timer = setTimeout(observe, Math.max(0, nextDue - Date.now()) + 1);
    };

    const watchOptions = { kubeConfig: ctx.cluster.kubeConfig, onChange: observe, onRetry: ctx.log, onGiveUp: (err: Error) => ctx.fail?.(err) };
    const services = new KubeWatch<V1Service>({ ...watchOptions, path: `/api/v1/namespaces/${namespace}/services`, fieldSelector: `metadata.name=${name}` });
    const pods = new KubeWatch<V1Pod>({ ...watchOptions, path: `/api/v1/namespaces/${namespace}/pods` });
    const slices = new KubeWatch<V1EndpointSlice>({
      ...watchOptions,
      path: `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices`,
      labelSelector: `kubernetes.io/service-name=${name}`,
    });
    const all = [services, pods, slices];
    await startWatches(all);
    synced = true;
    observe();
    return {
      async stop() {
        synced = false;
        clearTimeout(timer);
        await Promise.all(all.map((w) => w.stop()));
      },
    };
  },
};

/** Pods behind endpoints that are ready (an unset `ready` means ready, per discovery/v1). */
function readyEndpointPods(slices: readonly V1EndpointSlice[]): Set<string> {
  const out = new Set<string>();
  for (const slice of slices) {
    for (const e of slice.endpoints ?? []) {
      if (e.conditions?.ready === false || e.targetRef?.kind !== 'Pod' || !e.targetRef.name) continue;
      out.add(e.targetRef.name);
    }
  }
  return out;
}

function mismatchOf(pod: V1Pod | undefined): Mismatch['why'] | undefined {
  if (!pod) return 'pod-gone';
  if (pod.metadata?.deletionTimestamp) return 'pod-terminating';
  return podIsServing(pod) ? undefined : 'pod-not-ready';
}
