import { randomBytes } from 'node:crypto';
import type { DataPlane, PartitionScope } from './dataplane/data-plane.js';
import type { KubeletFleet } from './kubelet/kubelet-fleet.js';
import type { Kubelet } from './kubelet/kubelet.js';
import type { PodWorker } from './kubelet/pod-worker.js';

export type NodeFaultSpec = (
  | { readonly type: 'partition'; readonly from?: PartitionScope }
  | { readonly type: 'crash' }
  | { readonly type: 'kubelet-stop' }
  | { readonly type: 'latency'; readonly delayMs: number; readonly jitterMs?: number; readonly lossPercent?: number }
  | { readonly type: 'disk-fill'; readonly path?: string; readonly bytes?: number; readonly percent?: number }
  | { readonly type: 'container-kill'; readonly pod: string; readonly container: string }
  | ({ readonly type: 'memory-stress'; readonly bytes: number } & StressTarget)
  | ({ readonly type: 'cpu-stress'; readonly millicores: number } & StressTarget)
) & {
  /** The client's own name for the fault, so it can find it again without the id (after a crash). */
  readonly tag?: string;
};

/** Where a stress runs: in a pod's container (`namespace/name`; its first container when none is named), or on the node itself. */
interface StressTarget {
  readonly pod?: string;
  readonly container?: string;
}

export type NodeFaultType = NodeFaultSpec['type'];

export type NodeFaultRecord = NodeFaultSpec & {
  readonly id: string;
  readonly node: string;
  readonly createdAt: string;
  /** disk-fill: what was really allocated (capped by the free space). */
  readonly allocatedBytes?: number;
  /** container-kill: the restart count the container had when killed; a stress on a pod: the container stressed. */
  readonly restartCountBefore?: number;
  readonly stressedContainer?: string;
};

export interface FilesystemUsage {
  readonly capacityBytes: number;
  readonly usedBytes: number;
  readonly availableBytes: number;
}

export class NodeFaultError extends Error {
  constructor(
    readonly code: 400 | 404,
    readonly reason: 'BadRequest' | 'NotFound',
    message: string,
  ) {
    super(message);
    this.name = 'NodeFaultError';
  }
}

const TYPES: readonly NodeFaultType[] = ['partition', 'crash', 'kubelet-stop', 'latency', 'disk-fill', 'container-kill', 'memory-stress', 'cpu-stress'];
const SCOPES: readonly PartitionScope[] = ['control-plane', 'nodes', 'all'];

function nonNegative(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new NodeFaultError(400, 'BadRequest', `${field} must be a non-negative number, not ${JSON.stringify(value)}`);
  return value;
}

/** Checks a fault request body and returns it in canonical form, or says exactly what is wrong. */
export function parseNodeFault(body: unknown): NodeFaultSpec {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new NodeFaultError(400, 'BadRequest', 'the body must be a JSON object like {"type":"partition","from":"control-plane"}');
  const b = body as Record<string, unknown>;
  if (b.tag !== undefined && typeof b.tag !== 'string') throw new NodeFaultError(400, 'BadRequest', 'tag must be a string');
  const spec = parseSpec(b);
  return b.tag === undefined ? spec : { ...spec, tag: b.tag as string };
}

function parseSpec(b: Record<string, unknown>): NodeFaultSpec {
  switch (b.type) {
    case 'partition': {
      const from = b.from ?? 'all';
      if (!SCOPES.includes(from as PartitionScope)) throw new NodeFaultError(400, 'BadRequest', `from must be one of ${SCOPES.join(', ')}, not ${JSON.stringify(from)}`);
      return { type: 'partition', from: from as PartitionScope };
    }
    case 'crash':
    case 'kubelet-stop':
      return { type: b.type };
    case 'latency': {
      const delayMs = nonNegative(b.delayMs, 'delayMs');
      const lossPercent = nonNegative(b.lossPercent, 'lossPercent');
      if (lossPercent !== undefined && lossPercent > 100) throw new NodeFaultError(400, 'BadRequest', `lossPercent must be at most 100, not ${lossPercent}`);
      if (delayMs === undefined && lossPercent === undefined) {
        throw new NodeFaultError(400, 'BadRequest', 'latency needs delayMs (milliseconds added to each request to and from the node) and/or lossPercent (share of packets lost)');
      }
      const jitterMs = nonNegative(b.jitterMs, 'jitterMs');
      return { type: 'latency', delayMs: delayMs ?? 0, ...(jitterMs !== undefined ? { jitterMs } : {}), ...(lossPercent !== undefined ? { lossPercent } : {}) };
    }
    case 'disk-fill': {
      const bytes = nonNegative(b.bytes, 'bytes');
      const percent = nonNegative(b.percent, 'percent');
      if (percent !== undefined && percent > 100) throw new NodeFaultError(400, 'BadRequest', `percent must be at most 100, not ${percent}`);
      if ((bytes === undefined) === (percent === undefined)) throw new NodeFaultError(400, 'BadRequest', 'disk-fill needs exactly one of bytes (to allocate) or percent (of capacity to reach)');
      if (b.path !== undefined && typeof b.path !== 'string') throw new NodeFaultError(400, 'BadRequest', 'path must be a string');
      return { type: 'disk-fill', path: (b.path as string | undefined) ?? '/', ...(bytes !== undefined ? { bytes } : { percent: percent! }) };
    }
    case 'container-kill': {
      if (typeof b.pod !== 'string' || !b.pod.includes('/')) throw new NodeFaultError(400, 'BadRequest', `container-kill needs pod as "namespace/name", not ${JSON.stringify(b.pod)}`);
      if (typeof b.container !== 'string' || !b.container) throw new NodeFaultError(400, 'BadRequest', `container-kill needs container (the container's name), not ${JSON.stringify(b.container)}`);
      return { type: 'container-kill', pod: b.pod, container: b.container };
    }
    case 'memory-stress':
    case 'cpu-stress': {
      const field = b.type === 'memory-stress' ? 'bytes' : 'millicores';
      const amount = nonNegative(b[field], field);
      if (amount === undefined) throw new NodeFaultError(400, 'BadRequest', `${b.type} needs ${field} (${b.type === 'memory-stress' ? 'memory to hold' : 'CPU to burn, in millicores'})`);
      if (b.pod !== undefined && (typeof b.pod !== 'string' || !b.pod.includes('/'))) throw new NodeFaultError(400, 'BadRequest', `pod must be "namespace/name", not ${JSON.stringify(b.pod)}`);
      if (b.container !== undefined && (typeof b.container !== 'string' || b.pod === undefined)) throw new NodeFaultError(400, 'BadRequest', 'container must be a string, and needs pod');
      const target = { ...(b.pod !== undefined ? { pod: b.pod as string } : {}), ...(b.container !== undefined ? { container: b.container as string } : {}) };
      return b.type === 'memory-stress' ? { type: 'memory-stress', bytes: amount, ...target } : { type: 'cpu-stress', millicores: amount, ...target };
    }
    default:
      throw new NodeFaultError(400, 'BadRequest', `type must be one of ${TYPES.join(', ')}, not ${JSON.stringify(b.type)}`);
  }
}

/**
 * The node faults the sim node-access provider asks for, in-process: partitions and latency in
 * the data plane, crash and kubelet stop in the kubelet, disk fill in the node's filesystem. Each
 * injection gets an id; reverting is idempotent and stacked faults of one kind undo in any order.
 */
export class NodeFaults {
  private readonly active = new Map<string, NodeFaultRecord>();

  constructor(
    private readonly kubelets: KubeletFleet,
    private readonly dataPlane: DataPlane,
  ) {}

  private kubelet(node: string): Kubelet {
    const k = this.kubelets.get(node);
    if (!k) throw new NodeFaultError(404, 'NotFound', `nodes "${node}" not found`);
    return k;
  }

  private findPodWorker(kubelet: Kubelet, pod: string): PodWorker | undefined {
    const [namespace, name] = pod.split('/') as [string, string];
    return kubelet.podWorker(namespace, name);
  }

  private podWorker(kubelet: Kubelet, pod: string): PodWorker {
    const w = this.findPodWorker(kubelet, pod);
    if (!w) throw new NodeFaultError(404, 'NotFound', `pod "${pod}" is not running on node "${kubelet.nodeName}"`);
    return w;
  }

  private countOf(node: string, type: NodeFaultType): number {
    let n = 0;
    for (const f of this.active.values()) if (f.node === node && f.type === type) n++;
    return n;
  }

  inject(node: string, request: NodeFaultSpec | unknown): NodeFaultRecord {
    const kubelet = this.kubelet(node);
    const spec = parseNodeFault(request);
    const id = `${spec.type}-${randomBytes(4).toString('hex')}`;
    const base = { ...spec, id, node, createdAt: new Date().toISOString() };
    let record: NodeFaultRecord = base;
    switch (spec.type) {
      case 'partition':
        this.dataPlane.setPartition(node, id, spec.from ?? 'all');
        this.connectivityChanged();
        break;
      case 'crash':
        kubelet.crash();
        // A crashed node is a lost node: the data of its local volumes goes with its disk.
        kubelet.localVolumes.removeAll();
        break;
      case 'kubelet-stop':
        kubelet.stopKubelet();
        break;
      case 'latency':
        this.dataPlane.setLatency(node, id, { delayMs: spec.delayMs, jitterMs: spec.jitterMs ?? 0, lossPercent: spec.lossPercent ?? 0 });
        break;
      case 'disk-fill': {
        const fs = kubelet.filesystem;
        const bytes = spec.bytes ?? fs.bytesToReach(spec.percent!);
        record = { ...base, allocatedBytes: fs.fill(id, bytes) };
        break;
      }
      case 'container-kill': {
        const worker = this.podWorker(kubelet, spec.pod);
        const before = worker.restartCount(spec.container);
        if (before === undefined || !worker.killContainer(spec.container)) throw new NodeFaultError(400, 'BadRequest', `container "${spec.container}" of pod "${spec.pod}" is not running`);
        // Nothing stays active: the kill is done, and there is nothing to undo.
        return { ...base, restartCountBefore: before };
      }
      case 'memory-stress':
      case 'cpu-stress': {
        const load = spec.type === 'memory-stress' ? { memoryBytes: spec.bytes } : { cpuMillicores: spec.millicores };
        if (spec.pod === undefined) {
          kubelet.addNodeStress(id, load);
          break;
        }
        const stressed = this.podWorker(kubelet, spec.pod).addStress(id, load, spec.container);
        if (!stressed) throw new NodeFaultError(400, 'BadRequest', `pod "${spec.pod}" has no running container${spec.container ? ` named "${spec.container}"` : ''} to stress`);
        record = { ...base, stressedContainer: stressed };
        kubelet.usageChanged();
        break;
      }
    }
    this.active.set(id, record);
    return record;
  }

  /** Undoes a fault; `reverted: false` when it was already reverted (or never existed on that node). */
  revert(node: string, id: string): { reverted: boolean; fault?: NodeFaultRecord } {
    const kubelet = this.kubelet(node);
    const f = this.active.get(id);
    if (!f || f.node !== node) return { reverted: false };
    this.active.delete(id);
    switch (f.type) {
      case 'partition':
        this.dataPlane.setPartition(node, id, undefined);
        this.connectivityChanged();
        break;
      case 'crash':
        if (this.countOf(node, 'crash') === 0) kubelet.recoverFromCrash();
        break;
      case 'kubelet-stop':
        if (this.countOf(node, 'kubelet-stop') === 0) kubelet.startKubelet();
        break;
      case 'latency':
        this.dataPlane.setLatency(node, id, undefined);
        break;
      case 'disk-fill':
        kubelet.filesystem.release(id);
        break;
      case 'container-kill':
        break;
      case 'memory-stress':
      case 'cpu-stress':
        // A stress in a container that has since restarted died with its process.
        if (f.pod === undefined) kubelet.removeNodeStress(id);
        else this.findPodWorker(kubelet, f.pod)?.removeStress(id);
        break;
    }
    return { reverted: true, fault: f };
  }

  list(node: string): NodeFaultRecord[] {
    this.kubelet(node);
    return [...this.active.values()].filter((f) => f.node === node);
  }

  filesystem(node: string): FilesystemUsage {
    return this.kubelet(node).filesystem.snapshot();
  }

  revertAll(): void {
    for (const f of [...this.active.values()]) this.revert(f.node, f.id);
  }

  private connectivityChanged(): void {
    // A partition of the control-plane node cuts every kubelet off, so all of them re-check.
    for (const k of this.kubelets.all()) k.connectivityChanged();
  }
}
