import { objectKey } from '../informer.js';
import { findCondition, isDeleting, isTerminal, mutableConditions, nowIso, setCondition } from '../pod-state.js';
import { byNode, INDEX } from '../standard-indexes.js';
import type { StoredObject } from '../store.js';
import { nodeTaints, tolerates, untoleratedTaint, type Taint } from '../taints.js';
import type { ControllerContext, RunningController } from './controller-context.js';
import { deletePodGracefully, type Toleration } from './pod-factory.js';
import { WorkQueue } from './work-queue.js';

const SOURCE = { component: 'node-controller' };
const NOT_READY = 'node.kubernetes.io/not-ready';
const UNREACHABLE = 'node.kubernetes.io/unreachable';
const CONDITION_TAINTS: Readonly<Record<string, string>> = {
  MemoryPressure: 'node.kubernetes.io/memory-pressure',
  DiskPressure: 'node.kubernetes.io/disk-pressure',
  PIDPressure: 'node.kubernetes.io/pid-pressure',
};
const MANAGED = new Set([NOT_READY, UNREACHABLE, 'node.kubernetes.io/unschedulable', ...Object.values(CONDITION_TAINTS)]);

function desiredTaints(node: StoredObject): { key: string; effect: string }[] {
  const out: { key: string; effect: string }[] = [];
  const ready = findCondition(node, 'Ready')?.status ?? 'Unknown';
  if (ready !== 'True') {
    const key = ready === 'False' ? NOT_READY : UNREACHABLE;
    out.push({ key, effect: 'NoSchedule' }, { key, effect: 'NoExecute' });
  }
  for (const [type, key] of Object.entries(CONDITION_TAINTS)) if (findCondition(node, type)?.status === 'True') out.push({ key, effect: 'NoSchedule' });
  if ((node.spec as { unschedulable?: boolean } | undefined)?.unschedulable) out.push({ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' });
  return out;
}

/**
 * Node health as kube-controller-manager judges it: a node whose kubelet has renewed neither its
 * Lease nor its status for the grace period gets every condition set to Unknown; conditions become
 * taints (not-ready/unreachable NoExecute and NoSchedule, pressure and unschedulable NoSchedule);
 * and the taint-eviction part deletes pods once their toleration of a NoExecute taint runs out.
 */
export function startNodeLifecycleController(ctx: ControllerContext): RunningController {
  const { store, informers, recorder, timings } = ctx;
  const nodes = informers.for('nodes');
  const leases = informers.for('leases.coordination.k8s.io');
  const pods = informers.for('pods').addIndex(INDEX.node, byNode);
  const lastSeen = new Map<string, number>();
  const queue = new WorkQueue('node-lifecycle-controller', (item) => {
    if (item.startsWith('pod:')) evictIfDue(item.slice(4));
    else if (item.startsWith('not-ready:')) markPodsNotReady(item.slice(10));
    else syncNode(item);
  });

  function heartbeat(node: StoredObject | undefined): string | undefined {
    return node ? findCondition(node, 'Ready')?.lastHeartbeatTime : undefined;
  }

  function monitor(): void {
    const now = Date.now();
    for (const node of nodes.list()) {
      const name = node.metadata.name;
      if (!lastSeen.has(name)) lastSeen.set(name, now);
      if (now - lastSeen.get(name)! <= timings.nodeMonitorGracePeriodMs) continue;
      if (findCondition(node, 'Ready')?.status === 'Unknown') continue;
      const stamp = nowIso();
      store.mutate('nodes', undefined, name, (n) => {
        const conditions = mutableConditions(n);
        for (const c of [...conditions]) {
          setCondition(conditions, { ...c, status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' }, stamp);
        }
      });
    }
  }

  function syncNode(name: string): void {
    const node = nodes.get(undefined, name);
    if (!node) return;
    const want = desiredTaints(node);
    const current = nodeTaints(node);
    const keep = current.filter((t) => !MANAGED.has(t.key) || want.some((w) => w.key === t.key && w.effect === t.effect));
    const add = want.filter((w) => !current.some((t) => t.key === w.key && t.effect === w.effect));
    if (add.length > 0 || keep.length !== current.length) {
      const stamp = nowIso();
      store.mutate('nodes', undefined, name, (n) => {
        const spec = (n.spec ??= {}) as { taints?: Taint[] };
        const taints: Taint[] = [...keep, ...add.map((w) => ({ key: w.key, effect: w.effect, ...(w.effect === 'NoExecute' ? { timeAdded: stamp } : {}) }))];
        if (taints.length) spec.taints = taints;
        else delete spec.taints;
      });
    }
    for (const pod of pods.byIndex(INDEX.node, name)) queue.add(`pod:${objectKey(pod)}`);
  }

  function markPodsNotReady(name: string): void {
    const node = nodes.get(undefined, name);
    if (!node || findCondition(node, 'Ready')?.status === 'True') return;
    recorder.record(node, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`, SOURCE);
    // The controller marks the node's pods not ready so endpoints stop routing to them.
    for (const pod of pods.byIndex(INDEX.node, name)) {
      if (isTerminal(pod)) continue;
      store.mutate('pods', pod.metadata.namespace, pod.metadata.name, (p) => {
        const conditions = mutableConditions(p);
        if (findCondition(p, 'Ready')?.status === 'False') return false;
        setCondition(conditions, { type: 'Ready', status: 'False', lastProbeTime: null });
        return true;
      });
      recorder.record(pod, 'Warning', 'NodeNotReady', 'Node is not ready', SOURCE);
    }
  }

  /** When a pod must leave a node with NoExecute taints: now, at a time, or never. */
  function evictionTime(pod: StoredObject, taints: Taint[]): number | undefined {
    const tolerations = ((pod.spec as { tolerations?: Toleration[] }).tolerations) ?? [];
    const noExecute = taints.filter((t) => t.effect === 'NoExecute');
    if (noExecute.length === 0) return undefined;
    if (untoleratedTaint(tolerations, noExecute, ['NoExecute'])) return 0;
    let seconds = Infinity;
    for (const taint of noExecute) for (const t of tolerations) if (tolerates(t, taint) && t.tolerationSeconds !== undefined) seconds = Math.min(seconds, Math.max(0, t.tolerationSeconds));
    if (!Number.isFinite(seconds)) return undefined;
    const added = Math.max(...noExecute.map((t) => (t.timeAdded ? Date.parse(t.timeAdded) : Date.now())));
    return added + seconds * 1000;
  }

  function evictIfDue(key: string): void {
    const pod = pods.getByKey(key);
    if (!pod || isDeleting(pod) || isTerminal(pod)) return;
    const nodeName = (pod.spec as { nodeName?: string }).nodeName;
    const node = nodeName ? nodes.get(undefined, nodeName) : undefined;
    if (!node) return;
    const at = evictionTime(pod, nodeTaints(node));
    if (at === undefined) return;
    const wait = at - Date.now();
    if (wait > 0) {
      queue.addAfter(`pod:${key}`, wait);
      return;
    }
    store.mutate('pods', pod.metadata.namespace, pod.metadata.name, (p) => {
      setCondition(mutableConditions(p), { type: 'DisruptionTarget', status: 'True', reason: 'DeletionByTaintManager', message: 'Taint manager: deleting due to NoExecute taint', lastProbeTime: null });
    });
    recorder.record(pod, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${key}`, { component: 'taint-eviction-controller' });
    deletePodGracefully(store, pods.getByKey(key) ?? pod);
  }

  const offN = nodes.onChange((type, node, old) => {
    const name = node.metadata.name;
    if (type === 'DELETED') {
      lastSeen.delete(name);
      return;
    }
    if (type === 'ADDED' || heartbeat(node) !== heartbeat(old)) {
      if (findCondition(node, 'Ready')?.status !== 'Unknown' || type === 'ADDED') lastSeen.set(name, Date.now());
    }
    const wasReady = (n: StoredObject | undefined): boolean => findCondition(n ?? node, 'Ready')?.status === 'True';
    if (old && wasReady(old) && !wasReady(node)) queue.add(`not-ready:${name}`);
    const before = old ? JSON.stringify([desiredTaints(old), nodeTaints(old)]) : '';
    if (JSON.stringify([desiredTaints(node), nodeTaints(node)]) !== before) queue.add(name);
  });
  const offL = leases.onChange((type, lease, old) => {
    if (type === 'DELETED' || lease.metadata.namespace !== 'kube-node-lease') return;
    const renew = (l: StoredObject | undefined): unknown => (l?.spec as { renewTime?: string } | undefined)?.renewTime;
    if (renew(lease) !== renew(old)) lastSeen.set(lease.metadata.name, Date.now());
  });
  const offP = pods.onChange((type, pod, old) => {
    if (type === 'DELETED') return;
    const node = (pod.spec as { nodeName?: string }).nodeName;
    if (!node) return;
    const changed = !old || (old.spec as { nodeName?: string }).nodeName !== node || JSON.stringify((old.spec as { tolerations?: unknown }).tolerations) !== JSON.stringify((pod.spec as { tolerations?: unknown }).tolerations);
    if (changed && nodeTaints(nodes.get(undefined, node)).some((t) => t.effect === 'NoExecute')) queue.add(`pod:${objectKey(pod)}`);
  });
  const timer = setInterval(monitor, timings.nodeMonitorPeriodMs);
  timer.unref();
  for (const n of nodes.list()) queue.add(n.metadata.name);
  return {
    stop() {
      clearInterval(timer);
      offN();
      offL();
      offP();
      queue.stop();
    },
  };
}
