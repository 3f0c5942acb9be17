import { CoreV1Api } from '@kubernetes/client-node';
import { z } from 'zod';
import { rawGetWithRetries } from '../../cluster/raw-request.js';
import { HarnessError } from '../../core/errors.js';
import { Duration } from '../../core/duration.js';
import type { NodeAccess, StressedContainer, StressOptions } from '../../nodes/node-access.js';
import { podExecPermissions } from '../../nodes/pod-exec.js';
import { chooseCount, selectPods } from '../../plan/select.js';
import { nodeSelectorSchema, podSelectorSchema } from '../../spec/selector-schemas.js';
import { durationSchema } from '../../spec/value-schemas.js';
import type { FaultContext, FaultPlugin, PlannedTargets } from '../fault.js';
import { countSchema } from '../shared/count.js';
import { onEveryNode, planNodeTargets, requireNodeAccess } from '../shared/node-fault-targets.js';
import { requireOneForm } from '../shared/pods-or-nodes.js';
import { waitFor } from '../shared/wait-for.js';

/** What one stress kind needs: its amount's key and schema, how it loads a process, and how metrics show it. */
export interface StressKind<Amount> {
  readonly kind: 'memoryStress' | 'cpuStress';
  readonly summary: string;
  readonly amountKey: 'memory' | 'cpu';
  readonly amountSchema: z.ZodType<Amount>;
  /** `512Mi of memory`, `500m of CPU`. */
  describe(amount: Amount): string;
  load(amount: Amount): Pick<StressOptions, 'memoryBytes' | 'cpuMillicores'>;
  /** The stress's own size in the unit of `used`, and a container's use of it from a PodMetrics usage. */
  size(amount: Amount): number;
  used(usage: Readonly<Record<string, string>>): number;
}

interface StressedPod {
  readonly namespace: string;
  readonly name: string;
  readonly node: string;
}

export interface StressTargets {
  /** Seeded; names each stress on its node (per pod: `<id>-<namespace>-<name>`). */
  readonly id: string;
  readonly nodes: readonly string[];
  readonly pods: readonly StressedPod[];
}

/** What inject leaves for verify and revert: the targets, and when the stress began. */
export interface StressState extends StressTargets {
  readonly injectedAt: number;
}

const tagOf = (t: StressTargets, pod?: StressedPod): string => (pod ? `${t.id}-${pod.namespace}-${pod.name}` : t.id);

/**
 * A stress outlives its planned hold by this much before it ends by itself: room for the injects
 * and reverts queued before its own revert on a slow cluster, short enough that a gameday killed
 * outright leaves nothing burning for long.
 */
export const STRESS_MARGIN_MS = 2 * 60_000;

function stressAccess(ctx: FaultContext, kind: string): NodeAccess & Required<Pick<NodeAccess, 'stress' | 'unstress' | 'isStressing'>> {
  const access = requireNodeAccess(ctx, kind);
  if (!access.stress || !access.unstress || !access.isStressing) {
    throw new HarnessError(`${kind}: the ${access.provider} node access cannot run a stress`);
  }
  return access as NodeAccess & Required<Pick<NodeAccess, 'stress' | 'unstress' | 'isStressing'>>;
}

/** The sum of the pod's containers' use, from metrics.k8s.io (metrics-server, or the embedded cluster's). */
async function podUse<A>(ctx: FaultContext, stress: StressKind<A>, pod: StressedPod): Promise<number | undefined> {
  const r = await rawGetWithRetries(ctx.cluster.kubeConfig, `/apis/metrics.k8s.io/v1beta1/namespaces/${encodeURIComponent(pod.namespace)}/pods/${encodeURIComponent(pod.name)}`);
  if (r.status !== 200) return undefined;
  const containers = (JSON.parse(r.body) as { containers?: { usage?: Record<string, string> }[] }).containers ?? [];
  return containers.reduce((sum, c) => sum + stress.used(c.usage ?? {}), 0);
}

/**
 * What the pod's usage must reach for its stress to count as in place: the stress, or the
 * stressed container's limit when that is lower (on a real node the CFS quota caps the CPU a
 * container is seen using), less a tenth: stress-ng's `--cpu-load` is approximate (its manual
 * says the actual load may differ), and metrics-server averages over a window.
 */
export function usageToReach(size: number, limit: number | undefined): number {
  return Math.min(size, limit ?? Infinity) * 0.9;
}

/** The pod as it is now: whether a container was OOMKilled at or after `since`, and the stressed container's limit. */
async function readStressedPod<A>(ctx: FaultContext, stress: StressKind<A>, pod: StressedPod, container: string | undefined, since: number): Promise<{ oomKilled: boolean; limit: number | undefined }> {
  const live = await ctx.cluster.kubeConfig.makeApiClient(CoreV1Api).readNamespacedPod({ namespace: pod.namespace, name: pod.name });
  const oomKilled = (live.status?.containerStatuses ?? []).some((c) => {
    const t = c.lastState?.terminated ?? c.state?.terminated;
    return t?.reason === 'OOMKilled' && t.finishedAt !== undefined && new Date(t.finishedAt).getTime() >= since;
  });
  const stressed = container !== undefined ? live.spec?.containers.find((c) => c.name === container) : live.spec?.containers[0];
  const limits = stressed?.resources?.limits;
  return { oomKilled, limit: limits?.[stress.amountKey] !== undefined ? stress.used(limits) : undefined };
}

const stressedContainer = (pod: StressedPod, p: { readonly container?: string }): StressedContainer => ({ namespace: pod.namespace, name: pod.name, ...(p.container ? { container: p.container } : {}) });

/**
 * A stress fault in its two forms: in chosen pods' containers (the stress lives in the
 * container's process and dies with it) or on chosen nodes, outside any pod. Both go through
 * node access; verify reads a pod's usage back from metrics.k8s.io, a node's stress from the node.
 */
export function stressFault<A>(stress: StressKind<A>): FaultPlugin<StressParams<A>, StressTargets, StressState> {
  const params = z
    .strictObject({
      pods: podSelectorSchema.optional().describe("the pods whose container carries the stress"),
      nodes: nodeSelectorSchema.optional().describe('the nodes that carry the stress, outside any pod'),
      container: z.string().min(1).optional().describe("pods: the container to stress. @default the pod's first running container"),
      count: countSchema.optional().describe('how many of the matching pods or nodes: a number or a percentage (rounded up). @default 1'),
      [stress.amountKey]: stress.amountSchema,
      verifyTimeout: durationSchema.optional().describe("how long verify waits to see the stress in the pods' usage. @default 60s"),
    })
    .superRefine((p, ctx) => {
      requireOneForm(p, ctx, { pods: "stress inside the pods' containers", nodes: 'stress on the nodes, outside any pod' });
      if (p.nodes !== undefined && p.container !== undefined) ctx.addIssue({ code: 'custom', path: ['container'], message: 'container applies to a stress of pods:, not of nodes:' });
    }) as unknown as z.ZodType<StressParams<A>>;
  const amount = (p: StressParams<A>): A => (p as unknown as Record<string, A>)[stress.amountKey]!;

  return {
    kind: stress.kind,
    summary: stress.summary,
    params,
    needsNodeAccess: true,
    permissions: (p) =>
      p.pods
        ? [
            { why: `${stress.kind}: read the stressed pods' usage from metrics.k8s.io`, verbs: ['get'], resource: 'pods', group: 'metrics.k8s.io', namespace: p.pods.namespace },
            { why: `${stress.kind}: read the stressed pods (an OOM kill in their container status)`, verbs: ['get'], resource: 'pods', namespace: p.pods.namespace },
            // The shell node accesses (kind, pod) start and stop stress-ng in the container through exec.
            ...podExecPermissions(`${stress.kind}: start and stop stress-ng in the pods' container (on real nodes)`, p.pods.namespace),
          ]
        : [],

    plan(p, ctx): PlannedTargets<StressTargets> {
      const what = stress.describe(amount(p));
      if (p.nodes) {
        const planned = planNodeTargets({ nodes: p.nodes, ...(p.count !== undefined ? { count: p.count } : {}) }, ctx, (nodes) => `stress node${nodes.length === 1 ? '' : 's'} ${nodes.join(', ')} with ${what}`);
        return { ...planned, targets: { ...planned.targets, pods: [] } };
      }
      const running = selectPods(ctx.snapshot, p.pods!).filter((pod) => pod.phase === 'Running' && pod.nodeName);
      const pods = chooseCount(ctx.rng, running, p.count ?? 1).map((pod) => ({ namespace: pod.namespace, name: pod.name, node: pod.nodeName! }));
      const id = Math.floor(ctx.rng.next() * 16 ** 8).toString(16).padStart(8, '0');
      const names = pods.map((x) => `${x.namespace}/${x.name}`);
      return { targets: { id, nodes: [], pods }, touches: { nodes: [], pods: names }, description: `stress pod${names.length === 1 ? '' : 's'} ${names.join(', ')} with ${what}` };
    },

    async inject(ctx, p, t) {
      const access = stressAccess(ctx, stress.kind);
      // Status times have whole seconds: an OOM kill in the second the stress began counts.
      const injectedAt = Math.floor(Date.now() / 1000) * 1000;
      const load = { ...stress.load(amount(p)), ...(ctx.holdMs !== undefined ? { maxDurationMs: ctx.holdMs + STRESS_MARGIN_MS } : {}) };
      await onEveryNode(t.nodes, async (node) => {
        await access.stress(node, { id: tagOf(t), ...load });
        ctx.log(`node ${node}: ${stress.describe(amount(p))} of stress started`);
      });
      for (const pod of t.pods) {
        await access.stress(pod.node, { id: tagOf(t, pod), ...load, pod: stressedContainer(pod, p) });
        ctx.log(`pod ${pod.namespace}/${pod.name}: ${stress.describe(amount(p))} of stress started`);
      }
      return { ...t, injectedAt };
    },

    async verify(ctx, p, t, state) {
      const access = stressAccess(ctx, stress.kind);
      const timeout = p.verifyTimeout ?? Duration.seconds(60);
      const oomKilled = new Set<string>();
      const pending = await waitFor(timeout, ctx.signal, async () => {
        const left: string[] = [];
        for (const node of t.nodes) if (!(await access.isStressing(node, tagOf(t)))) left.push(`node ${node} has no stress`);
        for (const pod of t.pods) {
          // A memory stress over the container's limit lands as an OOM kill, which ends the stress with the process.
          const live = await readStressedPod(ctx, stress, pod, p.container, state.injectedAt);
          if (stress.kind === 'memoryStress' && live.oomKilled) {
            oomKilled.add(`${pod.namespace}/${pod.name}`);
            continue;
          }
          const used = await podUse(ctx, stress, pod);
          if (used === undefined || used < usageToReach(stress.size(amount(p)), live.limit)) left.push(`pod ${pod.namespace}/${pod.name} uses ${used ?? 'no metrics'}`);
        }
        return left.length === 0 ? true : left;
      });
      if (pending === true) {
        const placed = [...t.nodes, ...t.pods.map((x) => `${x.namespace}/${x.name}`).filter((x) => !oomKilled.has(x))];
        const parts = [...(placed.length ? [`stress of ${stress.describe(amount(p))} in place on ${placed.join(', ')}`] : []), ...(oomKilled.size ? [`OOMKilled by it: ${[...oomKilled].join(', ')}`] : [])];
        return { landed: true, message: parts.join('; ') };
      }
      return { landed: false, message: `after ${timeout}: ${pending.join(', ')}` };
    },

    async revert(ctx, p, t) {
      const access = stressAccess(ctx, stress.kind);
      await onEveryNode(t.nodes, (node) => access.unstress(node, tagOf(t)));
      for (const pod of t.pods) await access.unstress(pod.node, tagOf(t, pod), stressedContainer(pod, p));
      ctx.log(`stress removed from ${[...t.nodes, ...t.pods.map((x) => `${x.namespace}/${x.name}`)].join(', ')}`);
    },
  };
}

export interface StressParams<A> {
  readonly pods?: z.output<typeof podSelectorSchema>;
  readonly nodes?: z.output<typeof nodeSelectorSchema>;
  readonly container?: string;
  readonly count?: z.output<typeof countSchema>;
  readonly memory?: A;
  readonly cpu?: A;
  readonly verifyTimeout?: Duration;
}
