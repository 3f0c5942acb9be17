import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { z } from 'zod';
import { Duration } from '../core/duration.js';
import { chooseCount, selectPods } from '../plan/select.js';
import { podSelectorSchema } from '../spec/selector-schemas.js';
import { durationSchema } from '../spec/value-schemas.js';
import { countSchema } from './count.js';
import type { FaultPlugin } from './fault.js';
import { isNotFound, waitFor } from './wait.js';

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
}

/**
 * Deletes pods through the API, as a crash or an impatient operator would. Nothing to revert: the
 * point is to see the owner replace them, which verify waits for.
 */
export const podKill: FaultPlugin<Params, Target[], Killed[]> = {
  kind: 'podKill',
  summary: 'delete pods (gracefully or by force) and check that their controller replaces them',
  params,

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
      await api.deleteNamespacedPod({ namespace: t.namespace, name: t.name, gracePeriodSeconds });
      killed.push({ namespace: t.namespace, name: t.name, uid: pod.metadata?.uid ?? '', owner: t.owner });
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
      return left.length === 0 ? true : left;
    });
    if (pending === true) {
      const replaced = killed.filter((k) => k.owner).length;
      return { landed: true, message: `${killed.length} pod${killed.length === 1 ? '' : 's'} gone${replaced ? `; owners replacing them` : ''}`, evidence: killed };
    }
    return { landed: false, message: `after ${timeout} still present: ${pending.join(', ')}`, evidence: killed };
  },

  async revert() {
    // A killed pod cannot be brought back; its controller replaces it, and verify checked that.
  },
};

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
