import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { z } from 'zod';
import type { Permission } from '../cluster/rbac.js';
import { Duration } from '../core/duration.js';
import { errorMessage } from '../core/errors.js';
import { DESTINATION_PATTERN, parseDestination, parseReachabilityTarget, REACHABILITY_TARGET_PATTERN, type ReachabilityDestination } from '../core/reachability-target.js';
import { podExecPermissions } from '../nodes/pod-exec.js';
import { podSelectorSchema, type PodSelector } from '../spec/selector-schemas.js';
import { positiveDurationSchema } from '../spec/value-schemas.js';
import type { ProbePlugin } from './probe.js';
import { tryPath, type PathAnswer } from './shared/connect-from-pod.js';
import { repeatEvery } from './shared/repeat-every.js';

const params = z
  .strictObject({
    target: z
      .string()
      .regex(REACHABILITY_TARGET_PATTERN, { error: 'write the path as namespace/app -> namespace/service:port, like "shop/frontend -> payments/db:5432"' })
      .optional()
      .describe('one path, as reachable() writes it: pods labelled app=<app> in the namespace, to a Service or pod port'),
    from: podSelectorSchema.optional().describe('the source pods, by namespace and labels'),
    to: z
      .array(z.string().regex(DESTINATION_PATTERN, { error: 'write a destination as namespace/service:port or pod/namespace/name:port, like payments/db:5432' }))
      .min(1)
      .optional()
      .describe('destinations: namespace/service:port or pod/namespace/name:port'),
    every: positiveDurationSchema.optional().describe('how often to try every path again. @default 2s'),
    timeout: positiveDurationSchema.optional().describe('how long a connection may take before the path counts as denied (whole seconds, as nc -w takes them). @default 1s'),
  })
  .refine((p) => (p.target === undefined) !== (p.from === undefined && p.to === undefined) && (p.from === undefined) === (p.to === undefined), {
    message: 'give either target, or both from and to',
  });
type Params = z.output<typeof params>;

interface Paths {
  readonly from: PodSelector;
  readonly to: readonly ReachabilityDestination[];
}

function pathsOf(p: Params): Paths {
  if (p.target !== undefined) {
    const t = parseReachabilityTarget(p.target);
    return { from: { namespace: t.source.namespace, labels: { app: t.source.app } }, to: [t.destination] };
  }
  return { from: p.from!, to: p.to!.map(parseDestination) };
}

const isRunning = (p: V1Pod): boolean => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp;

/**
 * Network containment, seen from inside: from each running source pod, a TCP connection to each
 * destination (`nc -z -w <timeout> host port` through pods/exec, as a person with a shell in that
 * pod would try it), so NetworkPolicies and the CNI decide, not gameday.
 * One sample per destination whenever its answer changes: value 1 when any source pod got
 * through, 0 when none did, and the whole source × destination matrix in its detail.
 */
export const reachabilityProbe: ProbePlugin<Params> = {
  kind: 'reachability',
  summary: 'whether source pods can open TCP connections to services or pods, through exec of nc -z, at every change',
  params,

  permissions(p) {
    const { from, to } = pathsOf(p);
    const why = `reachability probe: try connections from the pods of ${from.namespace}`;
    const out: Permission[] = [{ why: `${why}: list them`, verbs: ['list'], resource: 'pods', namespace: from.namespace }, ...podExecPermissions(`${why}: run nc -z in them`, from.namespace)];
    for (const d of to.filter((d) => d.kind === 'pod')) out.push({ why: `reachability probe: read the address of pod ${d.namespace}/${d.name}`, verbs: ['get'], resource: 'pods', namespace: d.namespace, names: [d.name] });
    return out;
  },

  async start(ctx, p) {
    const paths = pathsOf(p);
    const every = (p.every ?? Duration.seconds(2)).ms;
    const waitS = Math.max(1, Math.ceil((p.timeout ?? Duration.seconds(1)).ms / 1000));
    const core = ctx.cluster.kubeConfig.makeApiClient(CoreV1Api);
    const last = new Map<string, string>();

    const observe = async (): Promise<void> => {
      const t = Date.now();
      let sources: V1Pod[];
      try {
        sources = await sourcePods(core, paths.from);
      } catch (err) {
        for (const d of paths.to) emitOnChange(d, { ok: false, error: 'list-failed', detail: { to: d.text, message: errorMessage(err).slice(0, 300) } }, t);
        return;
      }
      await Promise.all(
        paths.to.map(async (d) => {
          if (sources.length === 0) {
            emitOnChange(d, { ok: false, error: 'no-source-pods', detail: { to: d.text, message: `no running pod in namespace ${paths.from.namespace} matches ${selectorText(paths.from)}` } }, t);
            return;
          }
          let host: string;
          try {
            host = await hostOf(core, d);
          } catch (err) {
            emitOnChange(d, { ok: false, error: 'destination-missing', detail: { to: d.text, message: errorMessage(err).slice(0, 300) } }, t);
            return;
          }
          const answers = await Promise.all(sources.map((pod) => tryPath(ctx.cluster.kubeConfig, pod, host, d.port, waitS)));
          const tried = answers.filter((a): a is PathAnswer => a !== undefined);
          if (tried.length === 0) {
            emitOnChange(d, { ok: false, error: 'exec-failed', detail: { to: d.text, message: `could not exec nc in any source pod` } }, t);
            return;
          }
          const open = tried.filter((a) => a.reachable).map((a) => a.from);
          const message = open.length > 0 ? `open: ${open.map((f) => `${f} -> ${d.text}`).join(', ')}` : `denied from ${tried.length} pod${tried.length === 1 ? '' : 's'}`;
          emitOnChange(d, { ok: true, value: open.length > 0 ? 1 : 0, detail: { to: d.text, message, matrix: tried } }, t);
        }),
      );
    };

    function emitOnChange(d: ReachabilityDestination, sample: { ok: boolean; value?: number; error?: string; detail: Record<string, unknown> }, t: number): void {
      const key = JSON.stringify(sample);
      if (last.get(d.text) === key) return;
      last.set(d.text, key);
      ctx.emit({ t, ...sample });
    }

    // The first answer is in before the run judges its steady state; the loop then keeps asking.
    await observe();
    return repeatEvery(every, observe, (err) => ctx.fail?.(err));
  },
};

function selectorText(s: PodSelector): string {
  const labels = Object.entries(s.labels ?? {}).map(([k, v]) => `${k}=${v}`);
  return [...(labels.length > 0 ? [`labels {${labels.join(',')}}`] : []), ...(s.names ? [`names ${s.names.join(', ')}`] : [])].join(' and ') || 'any pod';
}

async function sourcePods(core: CoreV1Api, from: PodSelector): Promise<V1Pod[]> {
  const labelSelector = Object.entries(from.labels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const pods = (await core.listNamespacedPod({ namespace: from.namespace, ...(labelSelector ? { labelSelector } : {}) })).items;
  return pods.filter((p) => isRunning(p) && (!from.names || from.names.includes(p.metadata!.name!))).sort((a, b) => a.metadata!.name!.localeCompare(b.metadata!.name!));
}

/** A Service by its cluster DNS name (the name a workload would use); a pod by its IP, as pods have no DNS name of their own. */
async function hostOf(core: CoreV1Api, d: ReachabilityDestination): Promise<string> {
  if (d.kind === 'service') return `${d.name}.${d.namespace}.svc.cluster.local`;
  const ip = (await core.readNamespacedPod({ namespace: d.namespace, name: d.name })).status?.podIP;
  if (!ip) throw new Error(`pod ${d.namespace}/${d.name} has no IP yet`);
  return ip;
}
