import { unrecorded } from './api/field-manager/managed-store.js';
import type { ControllerContext, RunningController } from './controllers/controller-context.js';
import type { Toleration } from './controllers/pod-factory.js';
import { WorkQueue } from './controllers/work-queue.js';
import { objectKey } from './informer.js';
import { jsonEqual } from './json-value.js';
import { selectInNamespace, type LabelSelector } from './label-selector.js';
import { nodeMatchesPod, type PodPlacementSpec } from './node-affinity.js';
import { isDeleting, isTerminal, mutableConditions, setCondition } from './pod-state.js';
import { cpuMillis, quantityBytes } from './resource-quantity.js';
import { byClaim, byControllerUid, byNamespace, byNamespacedLabel, byNode, INDEX } from './standard-indexes.js';
import { VolumeBinding } from './volume-binding.js';
import type { StoredObject } from './store.js';
import { describeTaint, nodeTaints, untoleratedTaint, type Taint } from './taints.js';

const SOURCE = { component: 'default-scheduler' };
const ZONE = 'topology.kubernetes.io/zone';

interface PodAffinityTerm {
  labelSelector?: LabelSelector;
  topologyKey: string;
  namespaces?: string[];
}

interface PodSpec extends PodPlacementSpec {
  nodeName?: string;
  schedulerName?: string;
  tolerations?: Toleration[];
  containers?: { resources?: { requests?: Record<string, unknown> } }[];
  initContainers?: { resources?: { requests?: Record<string, unknown> } }[];
  affinity?: PodPlacementSpec['affinity'] & {
    podAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: PodAffinityTerm[] };
    podAntiAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: PodAffinityTerm[] };
  };
}

interface Usage {
  cpu: number;
  memory: number;
  pods: number;
  byOwner: Map<string, number>;
}

function requests(spec: PodSpec): { cpu: number; memory: number } {
  let cpu = 0;
  let memory = 0;
  for (const c of spec.containers ?? []) {
    cpu += cpuMillis(c.resources?.requests?.cpu);
    memory += quantityBytes(c.resources?.requests?.memory);
  }
  for (const c of spec.initContainers ?? []) {
    cpu = Math.max(cpu, cpuMillis(c.resources?.requests?.cpu));
    memory = Math.max(memory, quantityBytes(c.resources?.requests?.memory));
  }
  return { cpu, memory };
}

/**
 * The default scheduler's filters in its plugin order (unschedulable, taints, node selector and
 * required node affinity, requests vs allocatable, volume binding, required pod (anti-)affinity),
 * the volume binding's PreFilter before them and its PreBind wait after, and a spreading score (fewest
 * pods of the same owner on the node, then in the zone, then fewest pods). Per-node usage is kept
 * incrementally so a decision costs one pass over the nodes; from 100 nodes on, the pass stops once
 * it has found as many feasible nodes as kube-scheduler's adaptive percentageOfNodesToScore asks
 * for, and the next pod's pass starts where it stopped.
 */
export function startScheduler(ctx: ControllerContext): RunningController {
  const { store, informers, recorder } = ctx;
  const pods = informers.for('pods')
    .addIndex(INDEX.node, byNode)
    .addIndex(INDEX.label, byNamespacedLabel)
    .addIndex(INDEX.namespace, byNamespace)
    .addIndex(INDEX.controller, byControllerUid)
    .addIndex(INDEX.claim, byClaim);
  const nodes = informers.for('nodes');
  const volumeBinding = new VolumeBinding(store, informers);
  const usage = new Map<string, Usage>();
  const zoneOwners = new Map<string, Map<string, number>>();
  const accounted = new Map<string, { node: string; cpu: number; memory: number; owner: string | undefined; zone: string | undefined }>();
  const unschedulable = new Set<string>();
  /** Pods whose node is chosen, waiting for their claims to be bound there (the VolumeBinding PreBind). */
  const awaitingVolumes = new Map<string, string>();
  let retryTimer: NodeJS.Timeout | undefined;
  const queue = new WorkQueue('scheduler', (key) => schedule(key), 100);
  /** The nodes in a stable order for sampling; rebuilt when a node comes or goes. */
  let nodeArray: { readonly node: StoredObject; readonly facts: PlacementFacts; readonly usage: Usage }[] | undefined;
  let nextStartNodeIndex = 0;
  const nodeOrder = (): NonNullable<typeof nodeArray> => (nodeArray ??= [...nodes.list()].map((node) => ({ node, facts: placementFacts(node), usage: usageOf(node.metadata.name) })));

  const usageOf = (node: string): Usage => {
    let u = usage.get(node);
    if (!u) usage.set(node, (u = { cpu: 0, memory: 0, pods: 0, byOwner: new Map() }));
    return u;
  };
  const bump = (m: Map<string, number>, k: string, d: number): void => {
    const v = (m.get(k) ?? 0) + d;
    if (v <= 0) m.delete(k);
    else m.set(k, v);
  };

  function account(key: string, pod: StoredObject | undefined): void {
    const prev = accounted.get(key);
    if (prev) {
      const u = usageOf(prev.node);
      u.cpu -= prev.cpu;
      u.memory -= prev.memory;
      u.pods -= 1;
      if (prev.owner) {
        bump(u.byOwner, prev.owner, -1);
        if (prev.zone) bump(zoneOwners.get(prev.zone)!, prev.owner, -1);
      }
      accounted.delete(key);
    }
    const spec = pod?.spec as PodSpec | undefined;
    if (!pod || !spec?.nodeName || isTerminal(pod)) return;
    const r = requests(spec);
    const owner = pod.metadata.ownerReferences?.find((o) => o.controller)?.uid;
    const zone = nodes.get(undefined, spec.nodeName)?.metadata.labels?.[ZONE];
    const u = usageOf(spec.nodeName);
    u.cpu += r.cpu;
    u.memory += r.memory;
    u.pods += 1;
    if (owner) {
      bump(u.byOwner, owner, 1);
      if (zone) {
        if (!zoneOwners.has(zone)) zoneOwners.set(zone, new Map());
        bump(zoneOwners.get(zone)!, owner, 1);
      }
    }
    accounted.set(key, { node: spec.nodeName, cpu: r.cpu, memory: r.memory, owner, zone });
  }

  function retryUnschedulable(): void {
    if (retryTimer || unschedulable.size === 0) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      for (const key of unschedulable) queue.add(key);
    }, 50);
    retryTimer.unref();
  }

  /** Topology values (node label values) where pods matching a term run. */
  function occupiedDomains(pod: StoredObject, term: PodAffinityTerm): Set<string> {
    const out = new Set<string>();
    const namespaces = term.namespaces?.length ? term.namespaces : [pod.metadata.namespace!];
    for (const ns of namespaces) {
      for (const other of selectInNamespace(pods, ns, term.labelSelector ?? {})) {
        const nodeName = (other.spec as PodSpec).nodeName;
        if (!nodeName || isTerminal(other) || other.metadata.uid === pod.metadata.uid) continue;
        const value = nodes.get(undefined, nodeName)?.metadata.labels?.[term.topologyKey];
        if (value !== undefined) out.add(value);
      }
    }
    return out;
  }

  function schedule(key: string): void {
    const pod = pods.getByKey(key);
    const spec = pod?.spec as PodSpec | undefined;
    if (!pod || !spec || spec.nodeName || isDeleting(pod) || isTerminal(pod)) {
      unschedulable.delete(key);
      return;
    }
    if (spec.schedulerName && spec.schedulerName !== 'default-scheduler') return;
    const assumed = awaitingVolumes.get(key);
    if (assumed !== undefined) {
      // PreBind: the pod goes to its node once the volumes chosen for it there are bound.
      const outcome = volumeBinding.bindingOutcome(pod, assumed);
      if (outcome === 'waiting') return;
      awaitingVolumes.delete(key);
      if (outcome === 'bound') {
        bind(pod, assumed);
        unschedulable.delete(key);
        return;
      }
    }
    const volumes = volumeBinding.preFilter(pod);
    if (volumes.rejected !== undefined) return unschedulableNow(pod, key, nodes.size, volumes.rejected, []);
    const want = requests(spec);
    const owner = pod.metadata.ownerReferences?.find((o) => o.controller)?.uid;
    const anti = (spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => ({ t, domains: occupiedDomains(pod, t) }));
    const affinity = (spec.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => ({ t, domains: occupiedDomains(pod, t) }));
    const reasons = new Map<string, number>();
    const reject = (why: string): void => {
      reasons.set(why, (reasons.get(why) ?? 0) + 1);
    };
    const unschedulableTolerated = (spec.tolerations ?? []).some((t) => (t.key === 'node.kubernetes.io/unschedulable' || (!t.key && t.operator === 'Exists')) && (!t.effect || t.effect === 'NoSchedule'));
    const selfMatch = (t: PodAffinityTerm): boolean => selectInNamespace(pods, pod.metadata.namespace!, t.labelSelector ?? {}).some((p) => p.metadata.uid === pod.metadata.uid);
    const placementRules = Object.keys(spec.nodeSelector ?? {}).length > 0 || spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution !== undefined;
    const all = nodeOrder();
    const toFind = numFeasibleNodesToFind(all.length);
    // Sampling starts where the last pod's search stopped, so every node gets its turn.
    const start = toFind < all.length ? nextStartNodeIndex % all.length : 0;
    let best: { node: StoredObject; score: number[] } | undefined;
    let feasible = 0;
    let total = 0;
    for (let i = 0; i < all.length && feasible < toFind; i++) {
      const { node, facts, usage: u } = all[(start + i) % all.length]!;
      total++;
      if (facts.unschedulable && !unschedulableTolerated) {
        reject('node(s) were unschedulable');
        continue;
      }
      const taint = untoleratedTaint(spec.tolerations, facts.taints, ['NoSchedule', 'NoExecute']);
      if (taint) {
        reject(`node(s) had untolerated taint ${describeTaint(taint)}`);
        continue;
      }
      if (placementRules && !nodeMatchesPod(spec, node)) {
        reject("node(s) didn't match Pod's node affinity/selector");
        continue;
      }
      if (u.pods + 1 > facts.maxPods) {
        reject('Too many pods');
        continue;
      }
      if (want.cpu > 0 && u.cpu + want.cpu > facts.cpuCap) {
        reject('Insufficient cpu');
        continue;
      }
      if (want.memory > 0 && u.memory + want.memory > facts.memCap) {
        reject('Insufficient memory');
        continue;
      }
      const volumeReasons = volumes.state ? volumeBinding.filter(volumes.state, node) : [];
      if (volumeReasons.length) {
        for (const why of volumeReasons) reject(why);
        continue;
      }
      const labels = facts.labels;
      if (anti.some(({ t, domains }) => labels[t.topologyKey] !== undefined && domains.has(labels[t.topologyKey]!))) {
        reject("node(s) didn't match pod anti-affinity rules");
        continue;
      }
      if (affinity.some(({ t, domains }) => !(domains.has(labels[t.topologyKey] ?? '\u0000') || (domains.size === 0 && selfMatch(t))))) {
        reject("node(s) didn't match pod affinity rules");
        continue;
      }
      feasible++;
      const zone = labels[ZONE];
      const ownerOnNode = owner ? (u.byOwner.get(owner) ?? 0) : 0;
      const ownerInZone = owner && zone ? (zoneOwners.get(zone)?.get(owner) ?? 0) : 0;
      const cpuShare = facts.cpuCap > 0 ? (u.cpu + want.cpu) / facts.cpuCap : 0;
      // Lowest wins, in this order; the first node seen wins a tie.
      if (!best || compare(ownerOnNode, ownerInZone, u.pods, cpuShare, best.score) < 0) best = { node, score: [ownerOnNode, ownerInZone, u.pods, cpuShare] };
    }
    if (toFind < all.length) nextStartNodeIndex = (start + total) % all.length;
    if (best) {
      const node = best.node.metadata.name;
      unschedulable.delete(key);
      if (volumes.state && volumeBinding.assume(volumes.state, best.node) === 'waiting') {
        awaitingVolumes.set(key, node);
        return;
      }
      bind(pod, node);
      return;
    }
    // FitError.Error(): each reason with its node count, the resulting strings sorted.
    const detail = [...reasons.entries()].map(([why, n]) => `${n} ${why}`).sort();
    unschedulableNow(pod, key, total, undefined, detail);
  }

  /** The pod stays Pending: PodScheduled=False and a FailedScheduling event with the FitError's message. */
  function unschedulableNow(pod: StoredObject, key: string, total: number, preFilterMessage: string | undefined, filterReasons: string[]): void {
    const reasons = preFilterMessage ?? (filterReasons.join(', ') || 'no nodes available to schedule pods');
    const message = `0/${total} nodes are available: ${reasons}. preemption: 0/${total} nodes are available: ${total} Preemption is not helpful for scheduling.`;
    const current = (pod.status as { conditions?: { type: string; message?: string }[] } | undefined)?.conditions?.find((c) => c.type === 'PodScheduled');
    if (current?.message !== message) {
      store.mutate('pods', pod.metadata.namespace, pod.metadata.name, (p) => {
        setCondition(mutableConditions(p), { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastProbeTime: null });
      });
      recorder.record(pod, 'Warning', 'FailedScheduling', message, SOURCE);
    }
    unschedulable.add(key);
  }

  function bind(pod: StoredObject, node: string): void {
    // POST pods/binding: upstream's binding storage writes the pod without recording a manager.
    unrecorded(store).mutate('pods', pod.metadata.namespace, pod.metadata.name, (p) => {
      (p.spec as PodSpec).nodeName = node;
      setCondition(mutableConditions(p), { type: 'PodScheduled', status: 'True', lastProbeTime: null });
      delete (p.status as { nominatedNodeName?: string }).nominatedNodeName;
    });
    recorder.record(pods.getByKey(objectKey(pod)) ?? pod, 'Normal', 'Scheduled', `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${node}`, SOURCE);
  }

  const offP = pods.onChange((type, pod, old) => {
    const key = objectKey(pod);
    // The store shares unchanged parts between versions: the same spec and owners use the same resources.
    const sameUsage = type === 'MODIFIED' && !!old && old.spec === pod.spec && old.metadata.ownerReferences === pod.metadata.ownerReferences && isTerminal(old) === isTerminal(pod);
    if (!sameUsage) account(key, type === 'DELETED' ? undefined : pod);
    const spec = pod.spec as PodSpec;
    if (type !== 'DELETED' && !spec.nodeName && !isDeleting(pod) && !unschedulable.has(key)) queue.add(key);
    if (type === 'DELETED') {
      unschedulable.delete(key);
      awaitingVolumes.delete(key);
    }
    const freed = type === 'DELETED' ? !!spec.nodeName : !!old && !isTerminal(old) && isTerminal(pod);
    const labelsMoved = type === 'MODIFIED' && !!spec.nodeName && !jsonEqual(old?.metadata.labels, pod.metadata.labels);
    if (freed || labelsMoved || (type === 'MODIFIED' && !!spec.nodeName && !(old?.spec as PodSpec | undefined)?.nodeName)) retryUnschedulable();
  });
  const offN = nodes.onChange((type, node, old) => {
    nodeArray = undefined;
    const placement = (n: StoredObject | undefined): string => JSON.stringify([n?.metadata.labels, n?.spec, (n?.status as { allocatable?: unknown } | undefined)?.allocatable]);
    if (type === 'DELETED') for (const p of pods.byIndex(INDEX.node, node.metadata.name)) account(objectKey(p), undefined);
    if (type !== 'MODIFIED' || placement(node) !== placement(old)) retryUnschedulable();
  });
  const offV = volumeBinding.onChange((claimKeys) => {
    for (const claimKey of claimKeys) for (const p of pods.byIndex(INDEX.claim, claimKey)) if (!(p.spec as PodSpec).nodeName) queue.add(objectKey(p));
    retryUnschedulable();
  });
  for (const p of pods.list()) {
    account(objectKey(p), p);
    if (!(p.spec as PodSpec).nodeName) queue.add(objectKey(p));
  }
  return {
    stop() {
      offP();
      offN();
      offV();
      if (retryTimer) clearTimeout(retryTimer);
      queue.stop();
    },
  };
}

/** kube-scheduler's defaults: below this many nodes every node is checked. */
const MIN_FEASIBLE_NODES_TO_FIND = 100;
const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5;

/**
 * How many feasible nodes end the search, as kube-scheduler's numFeasibleNodesToFind computes it
 * with the default (adaptive) percentageOfNodesToScore: 50% less 1% per 125 nodes, at least 5%,
 * and never fewer than 100 nodes.
 */
export function numFeasibleNodesToFind(numAllNodes: number): number {
  if (numAllNodes < MIN_FEASIBLE_NODES_TO_FIND) return numAllNodes;
  const percentage = Math.max(50 - Math.trunc(numAllNodes / 125), MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND);
  const numNodes = Math.trunc((numAllNodes * percentage) / 100);
  return numNodes < MIN_FEASIBLE_NODES_TO_FIND ? MIN_FEASIBLE_NODES_TO_FIND : numNodes;
}

interface PlacementFacts {
  readonly unschedulable: boolean;
  /** NoSchedule/NoExecute candidates; the unschedulable taint has its own filter. */
  readonly taints: readonly Taint[];
  readonly labels: Readonly<Record<string, string>>;
  readonly maxPods: number;
  readonly cpuCap: number;
  readonly memCap: number;
}

/** What the filters read from a node, parsed once per node version instead of once per pod. */
const factsByNode = new WeakMap<StoredObject, PlacementFacts>();
function placementFacts(node: StoredObject): PlacementFacts {
  let facts = factsByNode.get(node);
  if (!facts) {
    const alloc = ((node.status as { allocatable?: Record<string, unknown> } | undefined)?.allocatable) ?? {};
    facts = {
      unschedulable: !!(node.spec as { unschedulable?: boolean } | undefined)?.unschedulable,
      taints: nodeTaints(node).filter((t) => t.key !== 'node.kubernetes.io/unschedulable'),
      labels: node.metadata.labels ?? {},
      maxPods: Number(alloc.pods ?? 110),
      cpuCap: cpuMillis(alloc.cpu),
      memCap: quantityBytes(alloc.memory),
    };
    factsByNode.set(node, facts);
  }
  return facts;
}

function compare(a0: number, a1: number, a2: number, a3: number, b: readonly number[]): number {
  return a0 - b[0]! || a1 - b[1]! || a2 - b[2]! || a3 - b[3]!;
}
