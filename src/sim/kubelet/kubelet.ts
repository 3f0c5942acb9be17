import { randomUUID } from 'node:crypto';
import type { DataPlane } from '../dataplane/data-plane.js';
import type { KvReplicas } from '../dataplane/kv-app.js';
import { usesHostNetwork, type PodNetwork } from '../dataplane/pod-network.js';
import type { EventRecorder } from '../event-recorder.js';
import { KUBERNETES_VERSION } from '../kubernetes-version.js';
import { findCondition, isTerminal, mutableConditions, nowIso, setCondition, type Condition } from '../pod-state.js';
import { StoreError, type ObjectStore, type StoredObject } from '../store.js';
import { cpuMillis, quantityBytes } from '../resource-quantity.js';
import type { StressLoad } from '../dataplane/usage-meter.js';
import type { Taint } from '../taints.js';
import type { SimTimings } from '../timings.js';
import { claimSpec, volumeNode, volumePath } from '../persistent-volume.js';
import { LocalVolumes } from './local-volumes.js';
import { MEMORY_AVAILABLE_THRESHOLD_BYTES, memoryEvictionMessage, rankMemoryPressure, throttleDelayMs } from './memory-pressure.js';
import { NodeFilesystem } from './node-filesystem.js';
import { PodWorker, type PodWorkerHost } from './pod-worker.js';
import type { Volume } from './volume.js';

/** Who a node is: the identity a kind node would register with. */
export interface NodeRegistration {
  readonly name: string;
  readonly clusterName: string;
  readonly controlPlane: boolean;
  readonly zone: string | undefined;
  readonly internalIP: string;
  /** The pod CIDR's first three octets, e.g. `10.244.1`. */
  readonly podNetwork: string;
  readonly cpu: string;
  readonly memory: string;
  readonly filesystemBytes: number;
  /** The port this node serves the node fault endpoint on, when it is not the API server's own route. */
  readonly faultEndpointPort?: number;
}

/** On a Node: the port of its node fault endpoint, reached through the API server's node proxy. */
export const FAULT_ENDPOINT_PORT_ANNOTATION = 'gameday.dev/node-faults-port';

export interface KubeletDeps {
  readonly store: ObjectStore;
  readonly recorder: EventRecorder;
  readonly timings: SimTimings;
  readonly dataPlane: DataPlane;
  readonly kvReplicas: KvReplicas;
  /** A pod's view of the cluster network (DNS and Services), for the commands its containers run. */
  readonly podNetwork: (pod: { readonly ip: string; readonly namespace: string }) => PodNetwork;
  /** A token for the pod's service account, bound to the pod, as the kubelet asks TokenRequest for one; undefined when none can be had. */
  readonly serviceAccountToken?: (pod: StoredObject) => string | undefined;
}

type KubeletState = 'running' | 'stopped' | 'crashed';

const ARCH = process.arch === 'arm64' ? 'arm64' : 'amd64';
const CRITICAL_PRIORITY = 2_000_000_000;

/**
 * One node's kubelet: it registers the Node, renews its Lease, posts node status (Ready and the
 * pressure conditions), runs a PodWorker per pod bound to it, and evicts pods under disk
 * pressure. While it is stopped, crashed, or cut off from the control plane, nothing it does
 * reaches the API; once it can again, it re-lists its pods and reports everything.
 */
export class Kubelet implements PodWorkerHost {
  readonly filesystem: NodeFilesystem;
  /** Persistent volumes' directories on this node's disk. */
  readonly localVolumes: LocalVolumes;
  private state: KubeletState = 'stopped';
  private readonly workers = new Map<string, PodWorker>();
  /** Finished workers whose pod object still exists: their logs stay readable, as a runtime keeps dead containers. */
  private readonly retired = new Map<string, PodWorker>();
  private readonly usedIps = new Set<number>();
  private timers: NodeJS.Timeout[] = [];
  private wasReachable = true;
  private readonly pods: () => StoredObject[];
  /** Stress processes on the node itself, outside any pod (memoryStress, cpuStress on a node), by fault id. */
  private readonly nodeStress = new Map<string, StressLoad>();
  /** When memory.available was last seen below the threshold (ms since the epoch). */
  private memoryPressureSeenAt: number | undefined;
  /** The MemoryPressure condition as last posted. */
  private memoryPressure = false;

  constructor(
    private readonly deps: KubeletDeps,
    readonly registration: NodeRegistration,
    podsOnNode: () => StoredObject[],
  ) {
    this.pods = podsOnNode;
    this.filesystem = new NodeFilesystem(registration.filesystemBytes, Math.round(registration.filesystemBytes * 0.3));
    this.localVolumes = new LocalVolumes(this.filesystem, this.memoryBytes);
  }

  get nodeName(): string {
    return this.registration.name;
  }
  get hostIP(): string {
    return this.registration.internalIP;
  }
  get timings(): SimTimings {
    return this.deps.timings;
  }
  get store(): ObjectStore {
    return this.deps.store;
  }
  get recorder(): EventRecorder {
    return this.deps.recorder;
  }
  get dataPlane(): DataPlane {
    return this.deps.dataPlane;
  }
  get kvReplicas(): KvReplicas {
    return this.deps.kvReplicas;
  }
  podNetwork(pod: { readonly ip: string; readonly namespace: string }): PodNetwork {
    return this.deps.podNetwork(pod);
  }
  claimVolume(namespace: string, claimName: string): Volume | undefined {
    const claim = this.store.get('persistentvolumeclaims', namespace, claimName);
    const pvName = claim ? claimSpec(claim).volumeName : undefined;
    const pv = pvName ? this.store.get('persistentvolumes', undefined, pvName) : undefined;
    const path = pv ? volumePath(pv) : undefined;
    if (!pv || !path) return undefined;
    const node = volumeNode(pv);
    return node === undefined || node === this.nodeName ? this.localVolumes.directory(path) : undefined;
  }

  get memoryBytes(): number {
    return quantityBytes(this.registration.memory);
  }
  serviceAccountToken(pod: StoredObject): string | undefined {
    return this.deps.serviceAccountToken?.(pod);
  }

  addNodeStress(id: string, load: StressLoad): void {
    this.nodeStress.set(id, load);
    this.resourceCheck();
  }

  removeNodeStress(id: string): void {
    this.nodeStress.delete(id);
    this.resourceCheck();
  }

  /** A container's usage jumped (a stress began in it): the OOM killer acts at the allocation, not at the next pass. */
  usageChanged(): void {
    this.resourceCheck();
  }

  private nodeStressTotal(resource: keyof StressLoad): number {
    let sum = 0;
    for (const load of this.nodeStress.values()) sum += load[resource] ?? 0;
    return sum;
  }

  /** The live worker of the pod named, if it runs here. */
  podWorker(namespace: string, name: string): PodWorker | undefined {
    for (const w of this.workers.values()) if (w.namespace === namespace && w.name === name && !w.isDone) return w;
    return undefined;
  }

  /** The worker of a pod bound here, running or finished (for exec and logs). */
  worker(uid: string): PodWorker | undefined {
    return this.workers.get(uid) ?? this.retired.get(uid);
  }
  get currentState(): KubeletState {
    return this.state;
  }

  running(): boolean {
    return this.state === 'running';
  }

  canPublish(): boolean {
    return this.state === 'running' && this.deps.dataPlane.reachesControlPlane(this.nodeName);
  }

  /** Creates the Node object (the kubelet's self-registration) and starts the loops. */
  start(): void {
    if (!this.store.get('nodes', undefined, this.nodeName)) this.store.create('nodes', this.nodeObject());
    this.resume();
  }

  private resume(): void {
    this.state = 'running';
    this.wasReachable = this.canPublish();
    const every = (ms: number, fn: () => void): void => {
      const t = setInterval(fn, ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.timings.nodeLeaseRenewMs, () => this.renewLease());
    every(this.timings.nodeStatusUpdateMs, () => this.postStatus());
    every(this.timings.evictionMonitorPeriodMs, () => this.evictionCheck());
    this.reconnected();
  }

  private pause(state: KubeletState): void {
    this.state = state;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  /** kubelet-stop fault: the process is gone, the containers keep running. */
  stopKubelet(): void {
    if (this.state === 'running') this.pause('stopped');
  }

  startKubelet(): void {
    if (this.state === 'stopped') this.resume();
  }

  /** crash fault: the whole node is down, every container with it. */
  crash(): void {
    if (this.state === 'crashed') return;
    this.pause('crashed');
    for (const w of this.workers.values()) w.crash();
  }

  recoverFromCrash(): void {
    if (this.state !== 'crashed') return;
    this.state = 'running';
    for (const w of [...this.workers.values()]) w.recoverAfterCrash();
    this.resume();
  }

  /** Partitions changed: when the API server is reachable again, report what happened meanwhile. */
  connectivityChanged(): void {
    const reachable = this.canPublish();
    if (reachable && !this.wasReachable) this.reconnected();
    this.wasReachable = reachable;
  }

  private reconnected(): void {
    if (!this.canPublish()) return;
    this.wasReachable = true;
    this.renewLease();
    this.postStatus();
    const live = new Set<string>();
    for (const pod of this.pods()) {
      live.add(pod.metadata.uid);
      this.onPod(pod);
    }
    for (const w of [...this.workers.values()]) {
      if (!live.has(w.uid)) {
        w.killNow();
        this.retired.delete(w.uid);
      } else {
        w.flush();
      }
    }
    for (const uid of [...this.retired.keys()]) if (!live.has(uid)) this.retired.delete(uid);
  }

  /** The pod object is gone (force deletion, or it finished elsewhere). */
  podGone(uid: string): void {
    if (this.canPublish()) this.workers.get(uid)?.killNow();
    this.retired.delete(uid);
  }

  /** The current state of a pod bound to this node, as the kubelet's watch would deliver it. */
  onPod(pod: StoredObject): void {
    if (!this.canPublish()) return;
    const worker = this.workers.get(pod.metadata.uid);
    if (pod.metadata.deletionTimestamp) {
      if (worker) worker.terminate(pod.metadata.deletionGracePeriodSeconds ?? 30);
      else this.store.remove('pods', pod.metadata.namespace, pod.metadata.name);
      return;
    }
    if (worker) return worker.update(pod);
    if (isTerminal(pod)) return;
    if (this.rejectedUnderPressure(pod)) return;
    // A pod in the node's network namespace has the node's address, as the runtime reports it to a real kubelet.
    const ip = usesHostNetwork(pod) ? this.hostIP : this.allocateIp(pod);
    if (!ip) {
      process.emitWarning(`kubelet ${this.nodeName}: no free pod IP for ${pod.metadata.namespace}/${pod.metadata.name}`);
      return;
    }
    const w = new PodWorker(this, pod, ip);
    this.workers.set(pod.metadata.uid, w);
    w.start();
  }

  /**
   * The eviction manager's admission check: under MemoryPressure a BestEffort pod that is not
   * critical is refused (phase Failed, reason Evicted), as upstream's Admit does.
   */
  private rejectedUnderPressure(pod: StoredObject): boolean {
    const status = pod.status as { qosClass?: string } | undefined;
    if (!this.memoryPressure || status?.qosClass !== 'BestEffort' || ((pod.spec as { priority?: number }).priority ?? 0) >= CRITICAL_PRIORITY) return false;
    const message = 'The node had condition: [MemoryPressure]. ';
    this.recorder.record(pod, 'Warning', 'Evicted', message, { component: 'kubelet', host: this.nodeName });
    this.store.mutate('pods', pod.metadata.namespace, pod.metadata.name, (p) => {
      Object.assign(p.status as Record<string, unknown>, { phase: 'Failed', reason: 'Evicted', message });
    });
    return true;
  }

  private allocateIp(pod: StoredObject): string | undefined {
    const existing = (pod.status as { podIP?: string } | undefined)?.podIP;
    const prefix = `${this.registration.podNetwork}.`;
    if (existing?.startsWith(prefix)) {
      const n = Number(existing.slice(prefix.length));
      if (!this.usedIps.has(n)) {
        this.usedIps.add(n);
        return existing;
      }
    }
    for (let n = 2; n < 255; n++) {
      if (this.usedIps.has(n)) continue;
      this.usedIps.add(n);
      return `${prefix}${n}`;
    }
    return undefined;
  }

  finished(worker: PodWorker): void {
    if (this.workers.get(worker.uid) === worker) this.workers.delete(worker.uid);
    this.retired.set(worker.uid, worker);
    if (worker.ip.startsWith(`${this.registration.podNetwork}.`)) this.usedIps.delete(Number(worker.ip.split('.')[3]));
  }

  private renewLease(): void {
    if (!this.canPublish()) return;
    const ns = 'kube-node-lease';
    const now = new Date().toISOString().replace('Z', '000Z');
    try {
      const changed = this.store.mutate('leases.coordination.k8s.io', ns, this.nodeName, (l) => {
        (l.spec as { renewTime?: string }).renewTime = now;
      });
      if (changed) return;
      const node = this.store.get('nodes', undefined, this.nodeName);
      this.store.create('leases.coordination.k8s.io', {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: {
          name: this.nodeName, namespace: ns, uid: '', resourceVersion: '', creationTimestamp: '',
          ...(node ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: this.nodeName, uid: node.metadata.uid }] } : {}),
        },
        spec: { holderIdentity: this.nodeName, leaseDurationSeconds: Math.round(this.timings.nodeLeaseDurationMs / 1000), renewTime: now },
      });
    } catch (err) {
      if (!(err instanceof StoreError)) throw err;
    }
  }

  private conditions(): Condition[] {
    const disk = this.filesystem.underPressure;
    const heartbeat = nowIso();
    return [
      this.memoryPressure
        ? { type: 'MemoryPressure', status: 'True', reason: 'KubeletHasInsufficientMemory', message: 'kubelet has insufficient memory available', lastHeartbeatTime: heartbeat }
        : { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available', lastHeartbeatTime: heartbeat },
      disk
        ? { type: 'DiskPressure', status: 'True', reason: 'KubeletHasDiskPressure', message: 'kubelet has disk pressure', lastHeartbeatTime: heartbeat }
        : { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure', lastHeartbeatTime: heartbeat },
      { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available', lastHeartbeatTime: heartbeat },
      { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: heartbeat },
    ];
  }

  postStatus(): void {
    if (!this.canPublish()) return;
    this.store.mutate('nodes', undefined, this.nodeName, (n) => {
      const conditions = mutableConditions(n);
      for (const c of this.conditions()) setCondition(conditions, c);
      const status = n.status as Record<string, unknown>;
      (status.capacity as Record<string, string>)['ephemeral-storage'] = `${Math.floor(this.filesystem.capacityBytes / 1024)}Ki`;
    });
  }

  /** The eviction manager: DiskPressure past nodefs.available<10%, then one pod evicted per pass. */
  private evictionCheck(): void {
    if (this.state !== 'running') return;
    if (this.resourceCheck()) return;
    const node = this.store.get('nodes', undefined, this.nodeName);
    const pressure = this.filesystem.underPressure;
    if ((findCondition(node ?? ({} as StoredObject), 'DiskPressure')?.status === 'True') !== pressure) this.postStatus();
    for (const w of [...this.workers.values()]) {
      const over = !w.isDone && !w.isTerminating ? w.storage.emptyDirOverLimit() : undefined;
      if (over) w.evict(`Usage of EmptyDir volume "${over.volume}" exceeds the limit "${over.limit}". `);
    }
    if (!pressure) return;
    const candidates = [...this.workers.values()].filter((w) => !w.isDone && !w.isTerminating).map((w) => ({ w, pod: this.store.get('pods', w.namespace, w.name) }))
      .filter(({ pod }) => pod && ((pod.spec as { priority?: number }).priority ?? 0) < CRITICAL_PRIORITY);
    // Within a QoS class and priority, the pod using the most disk goes first, as the kubelet ranks for nodefs.
    candidates.sort((a, b) => a.w.qosRank - b.w.qosRank || ((a.pod!.spec as { priority?: number }).priority ?? 0) - ((b.pod!.spec as { priority?: number }).priority ?? 0) || b.w.diskBytes - a.w.diskBytes);
    const victim = candidates[0];
    if (!victim) return;
    const availableKi = Math.floor(this.filesystem.availableBytes / 1024);
    victim.w.evict(`The node was low on resource: ephemeral-storage. Threshold quantity: ${Math.round(this.filesystem.evictionThreshold * 100)}%, available: ${availableKi}Ki. `);
  }

  /**
   * Memory and CPU, at each eviction-manager pass and whenever stress changes: containers over
   * their memory limit are OOMKilled; memory.available is the capacity less the working sets and
   * the node's own stress; CPU demand over a limit (or over the node's capacity,
   * shared out) throttles; memory.available below 100Mi sets MemoryPressure and evicts one pod,
   * ranked as upstream's rankMemoryPressure. True when it evicted a pod (one per pass, as upstream).
   */
  private resourceCheck(): boolean {
    if (this.state !== 'running') return false;
    const now = Date.now();
    let cpuDemand = this.nodeStressTotal('cpuMillicores');
    let memoryUsed = this.nodeStressTotal('memoryBytes');
    const pods = [...this.workers.values()].filter((w) => !w.isDone && !w.isTerminating).map((w) => {
      const containers = w.resources(now).filter((c) => {
        if (c.memoryLimitBytes === undefined || c.memoryBytes <= c.memoryLimitBytes) return true;
        w.oomKill(c.name);
        return false;
      });
      for (const c of containers) {
        cpuDemand += c.cpuMillicores;
        memoryUsed += c.memoryBytes;
      }
      return { w, containers };
    });
    const capacity = cpuMillis(this.registration.cpu);
    const share = cpuDemand > capacity ? capacity / cpuDemand : 1;
    for (const { w, containers } of pods) for (const c of containers) w.setThrottle(c.name, throttleDelayMs(c.cpuMillicores, Math.min(c.cpuLimitMillicores ?? Infinity, c.cpuMillicores * share)));

    const available = this.memoryBytes - memoryUsed;
    const thresholdMet = available < MEMORY_AVAILABLE_THRESHOLD_BYTES;
    if (thresholdMet) this.memoryPressureSeenAt = now;
    // The condition outlives the pressure by the transition period, so a node does not flap.
    const condition = this.memoryPressureSeenAt !== undefined && now - this.memoryPressureSeenAt < this.timings.evictionPressureTransitionMs;
    if (condition !== this.memoryPressure) {
      this.memoryPressure = condition;
      this.postStatus();
    }
    if (!thresholdMet) return false;
    const candidates = pods
      .map(({ w, containers }) => ({ w, containers, priority: (this.store.get('pods', w.namespace, w.name)?.spec as { priority?: number } | undefined)?.priority ?? 0 }))
      .filter((p) => p.priority < CRITICAL_PRIORITY);
    const victim = rankMemoryPressure(candidates)[0];
    if (!victim) return false;
    victim.w.evict(memoryEvictionMessage(victim, available), 'memory');
    return true;
  }

  /** Stops everything without reporting (the cluster is shutting down). */
  shutdown(): void {
    this.pause('stopped');
    for (const w of [...this.workers.values()]) w.crash();
    this.workers.clear();
    this.retired.clear();
  }

  private nodeObject(): StoredObject {
    const r = this.registration;
    const labels: Record<string, string> = {
      'beta.kubernetes.io/arch': ARCH,
      'beta.kubernetes.io/os': 'linux',
      'kubernetes.io/arch': ARCH,
      'kubernetes.io/hostname': r.name,
      'kubernetes.io/os': 'linux',
    };
    const taints: Taint[] = [];
    if (r.controlPlane) {
      labels['node-role.kubernetes.io/control-plane'] = '';
      labels['node.kubernetes.io/exclude-from-external-load-balancers'] = '';
      taints.push({ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' });
    }
    if (r.zone) labels['topology.kubernetes.io/zone'] = r.zone;
    const capacity = { cpu: r.cpu, 'ephemeral-storage': `${Math.floor(r.filesystemBytes / 1024)}Ki`, 'hugepages-2Mi': '0', memory: r.memory, pods: '110' };
    return {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: r.name, uid: '', resourceVersion: '', creationTimestamp: '', labels,
        annotations: {
          ...(r.faultEndpointPort !== undefined ? { [FAULT_ENDPOINT_PORT_ANNOTATION]: String(r.faultEndpointPort) } : {}),
          'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true', 'kubeadm.alpha.kubernetes.io/cri-socket': 'unix:///run/containerd/containerd.sock' },
      },
      spec: {
        podCIDR: `${r.podNetwork}.0/24`,
        podCIDRs: [`${r.podNetwork}.0/24`],
        providerID: `kind://docker/${r.clusterName}/${r.name}`,
        ...(taints.length ? { taints } : {}),
      },
      status: {
        capacity,
        allocatable: { ...capacity },
        conditions: this.conditions().map((c) => ({ ...c, lastTransitionTime: c.lastHeartbeatTime })),
        addresses: [{ type: 'InternalIP', address: r.internalIP }, { type: 'Hostname', address: r.name }],
        daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
        nodeInfo: {
          machineID: randomUUID().replace(/-/g, ''),
          systemUUID: randomUUID(),
          bootID: randomUUID(),
          kernelVersion: '6.8.0-gameday-sim',
          osImage: 'Debian GNU/Linux 12 (bookworm)',
          containerRuntimeVersion: 'containerd://1.7.18',
          kubeletVersion: KUBERNETES_VERSION,
          kubeProxyVersion: KUBERNETES_VERSION,
          operatingSystem: 'linux',
          architecture: ARCH,
        },
        images: [],
      },
    };
  }
}
