import { setMaxListeners } from 'node:events';
import { CoreV1Api, Watch, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { z } from 'zod';
import { BudgetWatch } from '../cluster/budget-watch.js';
import { evictWithBudget, type EvictionRefusal } from '../cluster/eviction.js';
import type { PodInfo } from '../cluster/snapshot.js';
import { Duration } from '../core/duration.js';
import { HarnessError } from '../core/errors.js';
import { chooseCount, selectNodes } from '../plan/select.js';
import { nodeSelectorSchema } from '../spec/selector-schemas.js';
import { durationSchema, positiveDurationSchema } from '../spec/value-schemas.js';
import type { FaultContext, FaultPlugin } from './fault.js';
import { cordonNode, NODE_CORDON_PERMISSIONS, uncordonNode } from './shared/cordon.js';
import { countSchema } from './shared/count.js';

const params = z.strictObject({
  nodes: nodeSelectorSchema.describe('which nodes may be drained'),
  count: countSchema.optional().describe('how many of the matching nodes: a number or a percentage (rounded up). @default 1'),
  timeout: positiveDurationSchema.optional().describe('how long the drain may take, evictions and terminations included. @default 2m'),
  gracePeriod: durationSchema.optional().describe("termination grace period for evicted pods; absent: each pod's own"),
  expect: z
    .enum(['drained', 'blocked'], { error: 'expect is drained (the node must empty) or blocked (a budget must stop the drain)' })
    .optional()
    .describe('drained: the fault lands when the node is empty. blocked: it lands when a PodDisruptionBudget refuses the drain and the pods stay. @default drained'),
  blockedFor: positiveDurationSchema
    .optional()
    .describe('with expect: blocked, how long every remaining eviction must have been refused before the drain stops trying. @default 10s'),
  deleteEmptyDirData: z.boolean().optional().describe('evict pods with emptyDir volumes too (their data is lost), as kubectl drain --delete-emptydir-data. @default false'),
});
export type NodeDrainParams = z.output<typeof params>;

/** What a drain did: the journal keeps it, revert and verify read it. */
export interface DrainState {
  /** Nodes this fault cordoned; revert uncordons exactly these. */
  readonly cordoned: readonly string[];
  /** Pods evicted, `namespace/name`. */
  readonly evicted: readonly string[];
  /** Pods still on the node when the drain stopped, `namespace/name`. */
  readonly remaining: readonly string[];
  readonly refusals: number;
  /** Refusals that named a DisruptionBudget cause. */
  readonly budgetRefusals: number;
  /** `drained`: every pod evicted and gone. `blocked`: budgets refused the rest for `blockedFor`. `timeout`: neither within `timeout`. */
  readonly ended: 'drained' | 'blocked' | 'timeout' | 'interrupted';
}

const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';
const DEFAULT_TIMEOUT = Duration.minutes(2);
const DEFAULT_BLOCKED_FOR = Duration.seconds(10);
/** Re-list pods this often while waiting for them to go, in case a watch event was missed. */
const GONE_POLL_MS = 2000;

const key = (p: V1Pod): string => `${p.metadata?.namespace}/${p.metadata?.name}`;
const controllerKind = (p: V1Pod): string | undefined => p.metadata?.ownerReferences?.find((r) => r.controller)?.kind;

/** The pods a drain evicts: not DaemonSet-owned (they would come straight back), not mirror pods (the kubelet owns them), not finished. */
function isEvictable(p: V1Pod): boolean {
  if (controllerKind(p) === 'DaemonSet') return false;
  if (p.metadata?.annotations?.[MIRROR_ANNOTATION] !== undefined) return false;
  return p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed';
}

function isEvictableInfo(p: PodInfo): boolean {
  return p.owner?.kind !== 'DaemonSet' && p.owner?.kind !== 'Node' && p.phase !== 'Succeeded' && p.phase !== 'Failed';
}

async function evictablePodsOn(kubeConfig: KubeConfig, nodes: readonly string[]): Promise<V1Pod[]> {
  const api = kubeConfig.makeApiClient(CoreV1Api);
  const lists = await Promise.all(nodes.map((node) => api.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` })));
  return lists.flatMap((l) => l.items).filter(isEvictable);
}

/**
 * Drains nodes the way `kubectl drain` does — cordon, then the Eviction API for every pod but
 * DaemonSet and mirror pods, in parallel — except that a refused eviction is retried the moment its
 * PodDisruptionBudget has room, found by watching the budget, rather than after kubectl's fixed 5 s.
 */
export const nodeDrain: FaultPlugin<NodeDrainParams, string[], DrainState> = {
  kind: 'nodeDrain',
  summary: 'cordon nodes and evict their pods through the Eviction API, respecting PodDisruptionBudgets',
  params,

  // The pods on a node may be in any namespace: listing, evicting and waiting for them is cluster-wide.
  permissions: () => [
    ...NODE_CORDON_PERMISSIONS('nodeDrain'),
    { why: 'nodeDrain: list and watch the pods on the node, in every namespace', verbs: ['list', 'watch'], resource: 'pods' },
    { why: 'nodeDrain: evict them through the Eviction API', verbs: ['create'], resource: 'pods/eviction' },
    { why: 'nodeDrain: watch the PodDisruptionBudgets of their namespaces, to retry a refused eviction when the budget allows', verbs: ['list', 'watch'], resource: 'poddisruptionbudgets', group: 'policy' },
  ],

  plan(p, { snapshot, rng }) {
    const nodes = chooseCount(rng, selectNodes(snapshot, p.nodes), p.count ?? 1).map((n) => n.name);
    const pods = snapshot.pods.filter((pod) => pod.nodeName !== undefined && nodes.includes(pod.nodeName) && isEvictableInfo(pod)).map((pod) => `${pod.namespace}/${pod.name}`);
    const what = p.expect === 'blocked' ? 'expecting a budget to block it' : `evicting ${pods.length} pod${pods.length === 1 ? '' : 's'}`;
    return { targets: nodes, touches: { nodes, pods }, description: `drain node${nodes.length === 1 ? '' : 's'} ${nodes.join(', ')} (${what})` };
  },

  async inject(ctx, p, nodes) {
    return drainNodes(ctx, p, nodes);
  },

  async verify(ctx, p, nodes, state) {
    const api = ctx.cluster.kubeConfig.makeApiClient(CoreV1Api);
    const schedulable: string[] = [];
    for (const name of nodes) if (!(await api.readNode({ name })).spec?.unschedulable) schedulable.push(name);
    const left = (await evictablePodsOn(ctx.cluster.kubeConfig, nodes)).map(key);
    const evidence = { state, left };
    if (schedulable.length > 0) return { landed: false, message: `not cordoned: ${schedulable.join(', ')}`, evidence };
    if (p.expect === 'blocked') {
      if (state.budgetRefusals === 0) return { landed: false, message: `no PodDisruptionBudget refused an eviction: the drain was not blocked (${state.evicted.length} evicted)`, evidence };
      const stayed = state.remaining.filter((pod) => left.includes(pod));
      if (stayed.length === 0) return { landed: false, message: 'budgets refused some evictions, but every pod left the node in the end', evidence };
      return { landed: true, message: `drain blocked by PodDisruptionBudgets: ${stayed.length} pod${stayed.length === 1 ? '' : 's'} stayed (${state.budgetRefusals} refusals)`, evidence };
    }
    if (left.length > 0) {
      return { landed: false, message: `drain did not finish (${state.ended}): still on ${nodes.join(', ')}: ${left.slice(0, 10).join(', ')}${left.length > 10 ? ` and ${left.length - 10} more` : ''}`, evidence };
    }
    return { landed: true, message: `${nodes.join(', ')} cordoned and empty: ${state.evicted.length} pod${state.evicted.length === 1 ? '' : 's'} evicted, ${state.refusals} refusal${state.refusals === 1 ? '' : 's'} waited out`, evidence };
  },

  async revert(ctx, _p, nodes) {
    // Without state too: the cordon annotation tells which nodes gameday cordoned.
    for (const name of nodes) if (await uncordonNode(ctx.cluster.kubeConfig, name)) ctx.log(`uncordoned ${name}`);
  },
};

async function drainNodes(ctx: FaultContext, p: NodeDrainParams, nodes: readonly string[]): Promise<DrainState> {
  const kubeConfig = ctx.cluster.kubeConfig;
  const timeout = p.timeout ?? DEFAULT_TIMEOUT;
  const blockedFor = p.blockedFor ?? DEFAULT_BLOCKED_FOR;
  const deadline = Date.now() + timeout.ms;

  const before = await evictablePodsOn(kubeConfig, nodes);
  if (!p.deleteEmptyDirData) {
    const withEmptyDir = before.filter((pod) => pod.spec?.volumes?.some((v) => v.emptyDir));
    if (withEmptyDir.length > 0) {
      throw new HarnessError(`cannot drain ${nodes.join(', ')}: pods with emptyDir volumes would lose their data (${withEmptyDir.map(key).join(', ')}); set deleteEmptyDirData: true to evict them anyway`);
    }
  }
  const cordoned: string[] = [];
  for (const name of nodes) {
    if (await cordonNode(kubeConfig, name)) cordoned.push(name);
    else ctx.log(`node ${name} was already unschedulable; revert will leave it so`);
  }
  // Pods scheduled between the first list and the cordon would escape it: list again.
  const pods = await evictablePodsOn(kubeConfig, nodes);
  ctx.log(`evicting ${pods.length} pod${pods.length === 1 ? '' : 's'} from ${nodes.join(', ')}`);

  const stop = new AbortController();
  // Every pod waiting on its budget listens on this signal; hundreds of pods on a node are normal.
  setMaxListeners(pods.length + 10, stop.signal);
  const onOuterAbort = (): void => stop.abort();
  ctx.signal.addEventListener('abort', onOuterAbort, { once: true });
  const timer = setTimeout(() => stop.abort(), timeout.ms);
  const budgets = new BudgetWatch(kubeConfig, { log: ctx.log });
  const refusedSince = new Map<string, number>();
  const pending = new Set(pods.map(key));
  const evicted: string[] = [];
  let refusals = 0;
  let budgetRefusals = 0;
  let lastProgress = Date.now();
  let ended: DrainState['ended'] | undefined;

  const onRefused = (refusal: EvictionRefusal): void => {
    refusals++;
    if (refusal.budget) budgetRefusals++;
    if (!refusedSince.has(refusal.pod)) refusedSince.set(refusal.pod, refusal.t);
    ctx.evidence({ kind: 'eviction-refused', ...refusal });
  };
  // expect: blocked ends the drain once nothing has moved for blockedFor and every pod left has been refused.
  const blockedCheck =
    p.expect === 'blocked'
      ? setInterval(() => {
          const allRefused = [...pending].every((pod) => refusedSince.has(pod));
          if (pending.size > 0 && allRefused && Date.now() - lastProgress >= blockedFor.ms) {
            ended = 'blocked';
            stop.abort();
          }
        }, 200)
      : undefined;

  try {
    const evictionsDone = Promise.all(
      pods.map(async (pod) => {
        const target = { namespace: pod.metadata?.namespace ?? 'default', name: pod.metadata?.name ?? '', labels: pod.metadata?.labels ?? {} };
        const gracePeriodSeconds = p.gracePeriod ? Math.round(p.gracePeriod.seconds) : undefined;
        const result = await evictWithBudget(target, { kubeConfig, budgets, gracePeriodSeconds, signal: stop.signal, onRefused }).catch((err: unknown) => {
          // One eviction that cannot go on stops the others rather than leaving them running after inject throws.
          stop.abort();
          throw err;
        });
        if (result === 'stopped') return;
        pending.delete(key(pod));
        refusedSince.delete(key(pod));
        lastProgress = Date.now();
        if (result === 'evicted') evicted.push(key(pod));
      }),
    );
    await evictionsDone;
    if (ended !== 'blocked' && !stop.signal.aborted) {
      const uids = new Set(pods.map((pod) => pod.metadata?.uid ?? ''));
      await waitUntilGone(kubeConfig, nodes, uids, stop.signal);
    }
  } finally {
    clearTimeout(timer);
    if (blockedCheck) clearInterval(blockedCheck);
    ctx.signal.removeEventListener('abort', onOuterAbort);
    budgets.close();
  }
  const remaining = (await evictablePodsOn(kubeConfig, nodes)).map(key);
  ended ??= remaining.length === 0 ? 'drained' : ctx.signal.aborted ? 'interrupted' : Date.now() >= deadline ? 'timeout' : 'drained';
  ctx.log(`drain ${ended}: ${evicted.length} evicted, ${remaining.length} left, ${refusals} refusal${refusals === 1 ? '' : 's'}`);
  return { cordoned, evicted, remaining, refusals, budgetRefusals, ended };
}

/**
 * Waits until none of the pods with these uids is left on the nodes: a watch on each node's pods
 * wakes the check at once, and a slow re-list covers a missed event.
 */
async function waitUntilGone(kubeConfig: KubeConfig, nodes: readonly string[], uids: Set<string>, signal: AbortSignal): Promise<void> {
  let kick: () => void = () => {};
  const onEvent = (phase: string, obj: V1Pod): void => {
    if (phase === 'DELETED' && uids.has(obj?.metadata?.uid ?? '')) kick();
  };
  const watches = await Promise.all(nodes.map((node) => new Watch(kubeConfig).watch('/api/v1/pods', { fieldSelector: `spec.nodeName=${node}` }, onEvent, () => kick())));
  try {
    for (;;) {
      const left = (await evictablePodsOn(kubeConfig, nodes)).filter((pod) => uids.has(pod.metadata?.uid ?? ''));
      if (left.length === 0 || signal.aborted) return;
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(t);
          signal.removeEventListener('abort', wake);
          resolve();
        };
        const t = setTimeout(wake, GONE_POLL_MS);
        kick = wake;
        signal.addEventListener('abort', wake, { once: true });
      });
    }
  } finally {
    for (const w of watches) w.abort();
  }
}
