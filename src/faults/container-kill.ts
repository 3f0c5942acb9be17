import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { z } from 'zod';
import { isNotFound } from '../cluster/api-errors.js';
import { HarnessError } from '../core/errors.js';
import { Duration } from '../core/duration.js';
import { chooseCount, selectPods } from '../plan/select.js';
import { podSelectorSchema } from '../spec/selector-schemas.js';
import { durationSchema } from '../spec/value-schemas.js';
import type { FaultPlugin } from './fault.js';
import { countSchema } from './shared/count.js';
import { requireNodeAccess } from './shared/node-fault-targets.js';
import { waitFor } from './shared/wait-for.js';

const params = z.strictObject({
  pods: podSelectorSchema.describe('whose container is killed'),
  container: z.string().min(1).optional().describe("the container to kill. @default the pod's first container"),
  count: countSchema.optional().describe('how many of the matching pods: a number or a percentage (rounded up). @default 1'),
  verifyTimeout: durationSchema.optional().describe('how long verify waits for the restart to show in the restart count. @default 60s'),
});
type Params = z.output<typeof params>;

interface Target {
  readonly namespace: string;
  readonly name: string;
}

interface Killed {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly container: string;
  readonly restartCountBefore: number;
}

const restartCount = (pod: V1Pod, container: string): number | undefined => pod.status?.containerStatuses?.find((c) => c.name === container)?.restartCount;

/**
 * Kills one container's process on its node (SIGKILL, as an OOM kill or a crash would end it),
 * through node access: the pod stays, the kubelet restarts the container and counts it. Nothing
 * to revert: the restart is the kubelet's answer, which verify waits for.
 */
export const containerKill: FaultPlugin<Params, Target[], Killed[]> = {
  kind: 'containerKill',
  summary: "kill one container of chosen pods on its node; the pod stays and the container's restart count rises",
  params,
  needsNodeAccess: true,

  permissions: (p) => [{ why: "containerKill: read the chosen pods (their node, uid, containers and restart counts)", verbs: ['get', 'list'], resource: 'pods', namespace: p.pods.namespace }],

  plan(p, { snapshot, rng }) {
    const running = selectPods(snapshot, p.pods).filter((pod) => pod.phase === 'Running' && pod.nodeName);
    const targets = chooseCount(rng, running, p.count ?? 1).map((pod) => ({ namespace: pod.namespace, name: pod.name }));
    const which = p.container ? `container ${p.container}` : 'the first container';
    return {
      targets,
      touches: { nodes: [], pods: targets.map((t) => `${t.namespace}/${t.name}`) },
      description: `kill ${which} of pod${targets.length === 1 ? '' : 's'} ${targets.map((t) => `${t.namespace}/${t.name}`).join(', ')}`,
    };
  },

  async inject(ctx, p, targets) {
    const access = requireNodeAccess(ctx, 'containerKill');
    if (!access.killContainer) throw new HarnessError(`containerKill: the ${access.provider} node access cannot kill a container yet (only the embedded cluster's can)`);
    const api = ctx.cluster.kubeConfig.makeApiClient(CoreV1Api);
    const killed: Killed[] = [];
    for (const t of targets) {
      const pod = await api.readNamespacedPod({ namespace: t.namespace, name: t.name });
      const container = p.container ?? pod.spec?.containers[0]?.name ?? '';
      const before = restartCount(pod, container);
      const node = pod.spec?.nodeName;
      if (before === undefined || !node) throw new HarnessError(`containerKill: pod ${t.namespace}/${t.name} has no container "${container}" running on a node`);
      await access.killContainer(node, { namespace: t.namespace, pod: t.name, container });
      killed.push({ namespace: t.namespace, name: t.name, uid: pod.metadata?.uid ?? '', container, restartCountBefore: before });
      ctx.log(`killed container ${container} of pod ${t.namespace}/${t.name} on node ${node} (restarts before: ${before})`);
    }
    return killed;
  },

  async verify(ctx, p, _targets, killed) {
    const api = ctx.cluster.kubeConfig.makeApiClient(CoreV1Api);
    const timeout = p.verifyTimeout ?? Duration.seconds(60);
    if (killed.length === 0) return { landed: false, message: 'no container was killed' };
    const pending = await waitFor(timeout, ctx.signal, async () => {
      const left: string[] = [];
      for (const k of killed) {
        const pod = await api.readNamespacedPod({ namespace: k.namespace, name: k.name }).catch((err: unknown) => {
          if (isNotFound(err)) return undefined;
          throw err;
        });
        if (!pod) left.push(`${k.namespace}/${k.name} is gone: the kill took the pod with it`);
        else if (pod.metadata?.uid !== k.uid) left.push(`${k.namespace}/${k.name} was replaced (uid ${pod.metadata?.uid}, was ${k.uid})`);
        else if ((restartCount(pod, k.container) ?? 0) <= k.restartCountBefore) left.push(`${k.namespace}/${k.name} container ${k.container} still at ${k.restartCountBefore} restarts`);
      }
      return left.length === 0 ? true : left;
    });
    if (pending === true) return { landed: true, message: `${killed.length} container${killed.length === 1 ? '' : 's'} restarted in the same pod${killed.length === 1 ? '' : 's'}`, evidence: killed };
    return { landed: false, message: `after ${timeout}: ${pending.join(', ')}`, evidence: killed };
  },

  async revert() {
    // A killed process cannot be brought back; the kubelet restarts the container, and verify checked that.
  },
};
