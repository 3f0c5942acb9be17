import type { V1EndpointSlice, V1Pod, V1Service } from '@kubernetes/client-node';
import { z } from 'zod';
import { KubeWatch, startWatches, watchPermission } from '../cluster/kube-watch.js';
import { selectorMatches } from '../cluster/label-selector.js';
import { podIsServing } from '../cluster/pod-serving.js';
import { Duration } from '../core/duration.js';
import type { Sample } from '../core/sample.js';
import { durationSchema } from '../spec/value-schemas.js';
import type { HttpProbeParams } from './http.js';
import type { ProbePlugin, SampleOrigin } from './probe.js';
import { namespacedNameSchema, parseNamespacedName, podsPath } from './shared/target-ref.js';

const params = z.strictObject({
  target: namespacedNameSchema.describe('the Service to watch, as namespace/name, like shop/web'),
  grace: durationSchema
    .optional()
    .describe(
      'how long the cluster may take to stop routing to a pod that stopped being ready: an endpoint may stay ready this long, and a pod that went unready on its own may fail requests this long (a terminating pod gets none: it must serve until traffic stops). @default 1s',
    ),
  probes: z
    .array(z.string().min(1, 'name a probe under spec.probes, like web'), { error: 'list probe names, like [web]' })
    .optional()
    .describe("probes whose failed requests count against readiness when they failed on a pod that was not ready. @default every http probe whose service is this Service"),
});
type Params = z.output<typeof params>;

const servicesPath = (namespace: string): string => `/api/v1/namespaces/${namespace}/services`;
const slicesPath = (namespace: string): string => `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices`;

type Unreadiness = 'pod-not-ready' | 'pod-terminating' | 'pod-gone';

/** An endpoint the Service still routes to although its pod cannot serve. */
interface Mismatch {
  readonly pod: string;
  /** When the probe first saw it. */
  readonly since: number;
  readonly why: Unreadiness;
}

/** A stretch of time, open-ended while it lasts. */
interface Period {
  readonly from: number;
  to?: number;
}

interface UnreadyPeriod extends Period {
  readonly why: Unreadiness;
}

/** What the probe remembers of one pod: when it could not serve, and when the Service routed to it. */
interface PodHistory {
  readonly unready: UnreadyPeriod[];
  readonly routed: Period[];
}

/** A failed request and the pod it is blamed on. */
interface Blame {
  readonly pod: string;
  readonly why: Unreadiness;
  readonly by: 'response-header' | 'time';
  readonly candidates?: readonly string[];
}

/**
 * Watches a Service's pods and its EndpointSlices, and flags every endpoint that stays
 * `ready: true` for longer than the grace after its pod stopped being ready (or is terminating,
 * or is gone): traffic the Service would send to a pod that cannot serve it. A sample is taken at
 * every change, so the timeline shows ready endpoints against ready pods.
 *
 * With the run's sample feed it also judges the requests of the probes that target the Service:
 * a request that failed on a pod that was not ready is a `failed-on-unready` violation. The pod
 * is the one the response names (http's `podHeader`, by name or IP). A failure with no answer
 * (reset, refused, timeout, or a proxy error) names no pod, so it is blamed by time: on every pod
 * that was not ready during the request while the Service still routed to it (a ready endpoint,
 * or one that left less than the grace before: kube-proxy and the API server's proxy lag the
 * EndpointSlice). That is a likely cause, not a proof; the sample says `by: time` and lists the
 * candidates. A terminating pod is blamed at once, a pod that went unready on its own only
 * after the grace.
 */
export const readinessProbe: ProbePlugin<Params> = {
  kind: 'readiness',
  summary: 'endpoints vs pod readiness of a Service, at every change (watch-based)',
  params,

  permissions(p) {
    const { namespace, name } = parseNamespacedName(p.target);
    return [
      watchPermission(`readiness probe: watch Service ${p.target}`, servicesPath(namespace), name),
      watchPermission(`readiness probe: watch the pods of namespace ${namespace}, for their readiness`, podsPath(namespace)),
      watchPermission(`readiness probe: watch the EndpointSlices of Service ${p.target}`, slicesPath(namespace)),
    ];
  },

  async start(ctx, p) {
    const { namespace, name } = parseNamespacedName(p.target);
    const graceMs = (p.grace ?? Duration.seconds(1)).ms;
    const mismatches = new Map<string, Mismatch>();
    const history = new Map<string, PodHistory>();
    const podByIp = new Map<string, string>();
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
      remember(now, podsByName, routed);

      const violations = [...mismatches.values()].filter((m) => now - m.since >= graceMs);
      const lagging = [...mismatches.values()].filter((m) => now - m.since < graceMs);
      const selected = service?.spec?.selector ? pods.list().filter((pod) => selectorMatches({ matchLabels: service.spec!.selector }, pod.metadata?.labels)) : [];
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

    /** Extends the history of every pod the Service has routed to with what the watches show now. */
    const remember = (now: number, podsByName: ReadonlyMap<string, V1Pod>, routed: ReadonlySet<string>): void => {
      for (const podName of new Set([...routed, ...history.keys()])) {
        const pod = podsByName.get(podName);
        for (const ip of pod?.status?.podIPs?.map((a) => a.ip) ?? [pod?.status?.podIP]) if (ip) podByIp.set(ip, podName);
        let h = history.get(podName);
        if (!h) history.set(podName, (h = { unready: [], routed: [] }));
        const open = h.unready.at(-1)?.to === undefined ? h.unready.at(-1) : undefined;
        const why = mismatchOf(pod);
        if (open?.why !== why) {
          if (open) open.to = now;
          if (why) h.unready.push({ from: now, why });
        }
        const openRoute = h.routed.at(-1)?.to === undefined ? h.routed.at(-1) : undefined;
        if (routed.has(podName) && !openRoute) h.routed.push({ from: now });
        if (!routed.has(podName) && openRoute) openRoute.to = now;
      }
    };

    const counts = (sample: Sample, origin: SampleOrigin): boolean =>
      p.probes ? p.probes.includes(sample.probe) : origin.kind === 'http' && targetsService((origin.params as HttpProbeParams).service, namespace, name);

    const judge = (sample: Sample, origin: SampleOrigin): void => {
      // An overload sample is the harness's own refusal: the request never left.
      if (!synced || sample.ok || sample.error === 'overload' || !counts(sample, origin)) return;
      const request: Period = { from: sample.t, to: sample.t + (sample.latencyMs ?? 0) };
      const named = typeof sample.detail?.pod === 'string' ? sample.detail.pod : undefined;
      const blame = named !== undefined ? blameNamed(podByIp.get(named) ?? named, request) : blameByTime(request);
      if (!blame) return;
      ctx.emit({
        t: sample.t,
        ok: false,
        error: 'failed-on-unready',
        detail: { pod: blame.pod, why: blame.why, by: blame.by, ...(blame.candidates ? { candidates: blame.candidates } : {}), probe: sample.probe, requestAt: sample.t, requestError: sample.error },
      });
    };

    /** How the pod was unready at some moment of the window, counting a not-ready pod only after the grace. */
    const unreadyDuring = (podName: string, window: Period): Unreadiness | undefined =>
      history.get(podName)?.unready.find((u) => intersect(window, { from: u.why === 'pod-not-ready' ? u.from + graceMs : u.from, ...(u.to !== undefined ? { to: u.to } : {}) }))?.why;

    const blameNamed = (podName: string, request: Period): Blame | undefined => {
      const why = unreadyDuring(podName, request);
      return why ? { pod: podName, why, by: 'response-header' } : undefined;
    };

    const blameByTime = (request: Period): Blame | undefined => {
      const candidates = [...history.entries()]
        .flatMap(([podName, h]) => {
          // Reachable: a ready endpoint, or one that left less than the grace before.
          const reachable = h.routed.map((r) => intersect(request, { from: r.from, ...(r.to !== undefined ? { to: r.to + graceMs } : {}) }));
          const why = reachable.map((w) => w && unreadyDuring(podName, w)).find((w) => w !== undefined);
          return why ? [{ pod: podName, why }] : [];
        })
        .sort((a, b) => a.pod.localeCompare(b.pod));
      const [first] = candidates;
      if (!first) return undefined;
      return { ...first, by: 'time', ...(candidates.length > 1 ? { candidates: candidates.map((c) => c.pod) } : {}) };
    };

    if (!ctx.feed && p.probes) ctx.log(`this run shares no samples, so the requests of ${p.probes.join(', ')} are not judged; only endpoints are`);
    const unsubscribe = ctx.feed?.subscribe(judge);

    const watchOptions = { kubeConfig: ctx.cluster.kubeConfig, onChange: observe, onRetry: ctx.log, onGiveUp: (err: Error) => ctx.fail?.(err) };
    const services = new KubeWatch<V1Service>({ ...watchOptions, path: servicesPath(namespace), fieldSelector: `metadata.name=${name}` });
    const pods = new KubeWatch<V1Pod>({ ...watchOptions, path: podsPath(namespace) });
    const slices = new KubeWatch<V1EndpointSlice>({
      ...watchOptions,
      path: slicesPath(namespace),
      labelSelector: `kubernetes.io/service-name=${name}`,
    });
    const all = [services, pods, slices];
    await startWatches(all);
    synced = true;
    observe();
    return {
      async stop() {
        synced = false;
        unsubscribe?.();
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

/** Whether an http probe's `service: ns/name:port` is this Service. */
function targetsService(service: string | undefined, namespace: string, name: string): boolean {
  return service?.startsWith(`${namespace}/${name}:`) ?? false;
}

/** The moments two periods share, if any; an open period lasts until now and beyond. */
function intersect(a: Period, b: Period): Period | undefined {
  const from = Math.max(a.from, b.from);
  const to = Math.min(a.to ?? Infinity, b.to ?? Infinity);
  if (from > to) return undefined;
  return Number.isFinite(to) ? { from, to } : { from };
}

function mismatchOf(pod: V1Pod | undefined): Unreadiness | undefined {
  if (!pod) return 'pod-gone';
  if (pod.metadata?.deletionTimestamp) return 'pod-terminating';
  return podIsServing(pod) ? undefined : 'pod-not-ready';
}
