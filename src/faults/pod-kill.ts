import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { z } from 'zod';
import { isNotFound } from '../cluster/api-errors.js';
import { Duration } from '../core/duration.js';
import { chooseCount, selectPods } from '../plan/select.js';
import { podSelectorSchema } from '../spec/selector-schemas.js';
import { durationSchema } from '../spec/value-schemas.js';
import type { FaultPlugin } from './fault.js';
import { countSchema } from './shared/count.js';
import { waitFor } from './shared/wait-for.js';

const params = z.strictObject({
  pods: podSelectorSchema.describe('which pods may be killed'),
  count: countSchema.optional().describe('how many of the matching pods: a number or a percentage (rounded up). @default 1'),
  gracePeriod: durationSchema.optional().describe("termination grace period; absent: the pod's own terminationGracePeriodSeconds"),
  force: z.boolean().optional().describe('delete at once with grace period 0, as `kubectl delete --force --grace-period=0`'),
  verifyTimeout: durationSchema.optional().describe('how long verify waits for the pod to be gone and replaced. @default 60s'),
});
type Params = z.output<typeof params>;

interface Target {
  readonly namespace: string;
  readonly name: string;
  readonly owner?: { readonly kind: string; readonly name: string };
}

interface Killed {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly owner?: { readonly kind: string; readonly name: string };
  /** Uids of the owner's pods just before the kill: a replacement is an owned pod not among them. */
  readonly ownerPodsBefore?: readonly string[];
}

/**
 * Deletes pods through the API, as a crash or an impatient operator would. Nothing to revert: the
 * point is to see the owner replace them, which verify waits for.
 */
export const podKill: FaultPlugin<Params, Target[], Killed[]> = {
  kind: 'podKill',
  summary: 'delete pods (gracefully or by force) and check that their controller replaces them',
  params,

  permissions: (p) => [{ why: "podKill: read the chosen pods and their owner's pods (to see replacements), and delete them", verbs: ['get', 'list', 'delete'], resource: 'pods', namespace: p.pods.namespace }],

  plan(p, { snapshot, rng }) {
    const pods = chooseCount(rng, selectPods(snapshot, p.pods), p.count ?? 1);
    const targets = pods.map((pod) => ({ namespace: pod.namespace, name: pod.name, owner: pod.owner }));
    const how = p.force ? 'force-delete' : 'delete';
    return {
      targets,
      touches: { nodes: [], pods: targets.map((t) => `${t.namespace}/${t.name}`) },
      description: `${how} pod${targets.length === 1 ? '' : 's'} ${targets.map((t) => `${t.namespace}/${t.name}`).join(', ')}`,
    };
  },

  async inject(ctx, p, targets) {
    const api = ctx.cluster.kubeConfig.makeApiClient(CoreV1Api);
    const gracePeriodSeconds = p.force ? 0 : p.gracePeriod ? Math.round(p.gracePeriod.seconds) : undefined;
    const killed: Killed[] = [];
    const before = new Map<string, string[]>();
    for (const t of targets) {
      let pod: V1Pod;
      try {
        pod = await api.readNamespacedPod({ namespace: t.namespace, name: t.name });
      } catch (err) {
        if (isNotFound(err)) {
          ctx.log(`pod ${t.namespace}/${t.name} was already gone`);
          continue;
        }
        throw err;
      }
      // Taken before the owner's first kill: a replacement made between two kills is not an old pod.
      const ownerId = ownerKey(t);
      if (t.owner && !before.has(ownerId)) before.set(ownerId, (await ownedPods(api, t.namespace, t.owner)).map((p) => p.metadata?.uid ?? ''));
      const ownerPodsBefore = t.owner ? before.get(ownerId) : undefined;
      await api.deleteNamespacedPod({ namespace: t.namespace, name: t.name, gracePeriodSeconds });
      killed.push({ namespace: t.namespace, name: t.name, uid: pod.metadata?.uid ?? '', owner: t.owner, ...(ownerPodsBefore ? { ownerPodsBefore } : {}) });
      ctx.log(`deleted pod ${t.namespace}/${t.name}${gracePeriodSeconds === undefined ? '' : ` (grace ${gracePeriodSeconds}s)`}`);
    }
    return killed;
  },

  async verify(ctx, p, _targets, killed) {
    const api = ctx.cluster.kubeConfig.makeApiClient(CoreV1Api);
    const timeout = p.verifyTimeout ?? Duration.seconds(60);
    if (killed.length === 0) return { landed: false, message: 'no pod was deleted: every target was already gone' };
    const pending = await waitFor(timeout, ctx.signal, async () => {
      const left: string[] = [];
      for (const k of killed) {
        const state = await podState(api, k);
        if (state !== 'replaced-or-gone') left.push(`${k.namespace}/${k.name} (${state})`);
      }
      left.push(...(await unreplaced(api, killed)));
      return left.length === 0 ? true : left;
    });
    if (pending === true) {
      const replaced = killed.filter((k) => k.owner).length;
      return { landed: true, message: `${killed.length} pod${killed.length === 1 ? '' : 's'} gone${replaced ? `; ${replaced} replaced by ${ownersText(killed)}` : ''}`, evidence: killed };
    }
    return { landed: false, message: `after ${timeout} still present: ${pending.join(', ')}`, evidence: killed };
  },

  async revert() {
    // A killed pod cannot be brought back; its controller replaces it, and verify checked that.
  },
};

function ownsPod(pod: V1Pod, owner: { readonly kind: string; readonly name: string }): boolean {
  return pod.metadata?.ownerReferences?.some((r) => r.controller && r.kind === owner.kind && r.name === owner.name) ?? false;
}

async function ownedPods(api: CoreV1Api, namespace: string, owner: { readonly kind: string; readonly name: string }): Promise<V1Pod[]> {
  return (await api.listNamespacedPod({ namespace })).items.filter((p) => ownsPod(p, owner));
}

const ownerKey = (k: { readonly namespace: string; readonly owner?: { readonly kind: string; readonly name: string } }): string => `${k.namespace}/${k.owner?.kind}/${k.owner?.name}`;

function ownersText(killed: readonly Killed[]): string {
  return [...new Set(killed.filter((k) => k.owner).map((k) => `${k.owner!.kind}/${k.owner!.name}`))].join(', ');
}

/**
 * Owners that have not yet replaced what was killed: each needs as many new pods (owned, not
 * terminating, and not among its pods before the kill) as it lost. A StatefulSet's replacement
 * has the old name and a new uid, which the same rule covers.
 */
async function unreplaced(api: CoreV1Api, killed: readonly Killed[]): Promise<string[]> {
  const groups = new Map<string, Killed[]>();
  for (const k of killed) if (k.owner) groups.set(ownerKey(k), [...(groups.get(ownerKey(k)) ?? []), k]);
  const missing: string[] = [];
  for (const group of groups.values()) {
    const first = group[0]!;
    const before = new Set(group.flatMap((k) => k.ownerPodsBefore ?? []));
    const fresh = (await ownedPods(api, first.namespace, first.owner!)).filter((p) => !p.metadata?.deletionTimestamp && !before.has(p.metadata?.uid ?? ''));
    if (fresh.length < group.length) missing.push(`${first.owner!.kind}/${first.owner!.name} has replaced ${fresh.length} of ${group.length}`);
  }
  return missing;
}

/** Gone (or terminating) counts as killed: a pod with a long grace period is still "dying". */
async function podState(api: CoreV1Api, k: Killed): Promise<'replaced-or-gone' | 'still running'> {
  try {
    const pod = await api.readNamespacedPod({ namespace: k.namespace, name: k.name });
    if (pod.metadata?.uid !== k.uid || pod.metadata?.deletionTimestamp) return 'replaced-or-gone';
    return 'still running';
  } catch (err) {
    if (isNotFound(err)) return 'replaced-or-gone';
    throw err;
  }
}
