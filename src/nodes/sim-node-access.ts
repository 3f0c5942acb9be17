import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { rawGetWithRetries, rawRequest } from '../cluster/raw-request.js';
import { hasControlPlaneLabel } from '../cluster/node-roles.js';
import type { Permission } from '../cluster/rbac.js';

/** On a Node of the real-control-plane backend: the port its fault endpoint listens on (src/sim/kubelet/kubelet.ts). */
const FAULT_ENDPOINT_PORT_ANNOTATION = 'gameday.dev/node-faults-port';
import type {
  BlockTrafficOptions,
  DiskFill,
  DiskUsage,
  FillDiskOptions,
  KillContainerOptions,
  NodeAccess,
  NodeStopMode,
  PeerScope,
  Reachability,
  ReachOptions,
  ShapedTraffic,
  ShapeTrafficOptions,
  StressOptions,
} from './node-access.js';

/** A fault as the node fault endpoint reports it (src/sim/node-faults.ts, read over HTTP). */
interface SimFault {
  readonly id: string;
  readonly type: string;
  readonly tag?: string;
  readonly from?: 'control-plane' | 'nodes' | 'all';
  readonly allocatedBytes?: number;
}

const SCOPES: Readonly<Record<PeerScope, 'control-plane' | 'nodes' | 'all'>> = {
  'control-plane': 'control-plane',
  'other-nodes': 'nodes',
  'rest-of-cluster': 'all',
};

/**
 * What this provider does through the API: it reads each Node for its fault endpoint's port and
 * lists the nodes to answer canReach; with the real control plane it reaches the endpoint through
 * the node proxy, where GET reads faults, POST injects one and DELETE reverts it.
 */
export const SIM_NODE_ACCESS_PERMISSIONS: readonly Permission[] = [
  { why: "sim node access: read the nodes (each one's fault endpoint port, and addresses for reachability)", verbs: ['get', 'list'], resource: 'nodes' },
  { why: "sim node access: the nodes' fault endpoints through the node proxy (GET reads, POST injects, DELETE reverts)", verbs: ['get', 'create', 'delete'], resource: 'nodes/proxy' },
];

/** The tag of a node stop: one per node, since stop/start take no id. */
const STOP_TAG = 'gameday-node-stop';

/**
 * The embedded cluster's nodes, reached over HTTP through its node fault endpoint
 * (`/gameday/v1/nodes/{node}/faults`) with the kubeconfig's credentials, like any API call: it
 * imports nothing from src/sim. Each operation becomes a sim fault tagged with gameday's id:
 * blockTraffic → partition, shapeTraffic → latency (with loss), fillDisk → disk-fill, stop → crash,
 * killContainer → container-kill, stress → memory-stress or cpu-stress.
 *
 * Where the sim is coarser than a real node: it partitions by role (control plane, other nodes,
 * all), not by address, and in both directions; a node has one filesystem, whatever the path;
 * pause is a crash too.
 */
export class SimNodeAccess implements NodeAccess {
  readonly provider = 'sim' as const;

  private readonly endpoints = new Map<string, Promise<string>>();

  constructor(private readonly kubeConfig: KubeConfig) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const r = await rawRequest(this.kubeConfig, path, { method, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    if (r.status < 200 || r.status > 299) {
      let message = r.body.slice(0, 200);
      try {
        message = (JSON.parse(r.body) as { message?: string }).message ?? message;
      } catch {
        // Not a Status object: the raw text says more than nothing.
      }
      throw new Error(`${method} ${path}: ${r.status} ${message}`);
    }
    return JSON.parse(r.body) as T;
  }

  /**
   * Where the node's fault endpoint is: the embedded API server serves it itself; with the real
   * control plane each node serves its own, and the API server's node proxy reaches it (the Node
   * carries the port in an annotation).
   */
  private endpoint(node: string): Promise<string> {
    let known = this.endpoints.get(node);
    if (!known) {
      // A read of the Node through the API, so under the retry policy like every other.
      known = rawGetWithRetries(this.kubeConfig, `/api/v1/nodes/${encodeURIComponent(node)}`).then((r) => {
        const port = r.status === 200 ? (JSON.parse(r.body) as { metadata?: { annotations?: Record<string, string> } }).metadata?.annotations?.[FAULT_ENDPOINT_PORT_ANNOTATION] : undefined;
        const base = port ? `/api/v1/nodes/http:${encodeURIComponent(node)}:${port}/proxy` : '';
        return `${base}/gameday/v1/nodes/${encodeURIComponent(node)}`;
      });
      known.catch(() => this.endpoints.delete(node));
      this.endpoints.set(node, known);
    }
    return known;
  }

  private async faultsPath(node: string): Promise<string> {
    return `${await this.endpoint(node)}/faults`;
  }

  private async faults(node: string): Promise<SimFault[]> {
    return (await this.call<{ items: SimFault[] }>('GET', await this.faultsPath(node))).items;
  }

  private async tagged(node: string, tag: string): Promise<SimFault[]> {
    return (await this.faults(node)).filter((f) => f.tag === tag);
  }

  private async inject(node: string, tag: string, spec: Record<string, unknown>): Promise<SimFault> {
    return this.call<SimFault>('POST', await this.faultsPath(node), { ...spec, tag });
  }

  /** Reverts every fault with this tag; none left is not an error. */
  private async revertTagged(node: string, tag: string): Promise<void> {
    for (const f of await this.tagged(node, tag)) await this.call('DELETE', `${await this.faultsPath(node)}/${encodeURIComponent(f.id)}`);
  }

  async blockTraffic(node: string, options: BlockTrafficOptions): Promise<void> {
    if ((options.direction ?? 'both') !== 'both') throw new Error(`the embedded cluster partitions a node in both directions only, not ${options.direction}`);
    await this.revertTagged(node, options.id);
    await this.inject(node, options.id, { type: 'partition', from: SCOPES[options.scope] });
  }

  unblockTraffic(node: string, id: string): Promise<void> {
    return this.revertTagged(node, id);
  }

  async shapeTraffic(node: string, options: ShapeTrafficOptions): Promise<ShapedTraffic> {
    await this.revertTagged(node, options.id);
    await this.inject(node, options.id, {
      type: 'latency',
      ...(options.delayMs !== undefined ? { delayMs: options.delayMs } : {}),
      ...(options.jitterMs !== undefined ? { jitterMs: options.jitterMs } : {}),
      ...(options.lossPercent !== undefined ? { lossPercent: options.lossPercent } : {}),
    });
    return { interface: 'node', method: 'sim' };
  }

  async isShaping(node: string, id: string): Promise<boolean> {
    return (await this.tagged(node, id)).some((f) => f.type === 'latency');
  }

  unshapeTraffic(node: string, id: string): Promise<void> {
    return this.revertTagged(node, id);
  }

  async fillDisk(node: string, options: FillDiskOptions): Promise<DiskFill> {
    await this.revertTagged(node, options.id);
    const amount = options.bytes !== undefined ? { bytes: options.bytes } : { percent: options.percent ?? 0 };
    const f = await this.inject(node, options.id, { type: 'disk-fill', path: options.path, ...amount });
    return { file: f.id, bytes: f.allocatedBytes ?? 0 };
  }

  freeDisk(node: string, options: { readonly id: string }): Promise<void> {
    return this.revertTagged(node, options.id);
  }

  async diskUsage(node: string): Promise<DiskUsage> {
    return this.call<DiskUsage>('GET', `${await this.endpoint(node)}/filesystem`);
  }

  /**
   * The sim has no shell to dial from, so this answers from its network model: the partitions
   * in force on the node and on the peer, by the same rule the sim's data plane drops traffic.
   */
  async canReach(node: string, options: ReachOptions): Promise<Reachability> {
    const nodes = (await this.kubeConfig.makeApiClient(CoreV1Api).listNode()).items;
    const peer = nodes.find((n) => n.status?.addresses?.some((a) => a.type === 'InternalIP' && a.address === options.address));
    const isControlPlane = (name: string): boolean => nodes.some((n) => n.metadata?.name === name && hasControlPlaneLabel(n.metadata.labels));
    const cuts = async (from: string, to: string | undefined): Promise<SimFault | undefined> =>
      (await this.faults(from)).find((f) => f.type === 'partition' && (f.from === 'all' || (to !== undefined && (f.from === 'control-plane') === isControlPlane(to))));
    const peerName = peer?.metadata?.name;
    const cut = (await cuts(node, peerName)) ?? (peerName && peerName !== node ? await cuts(peerName, node) : undefined);
    if (cut) return { reachable: false, detail: `dropped by partition ${cut.id} (from ${cut.from})` };
    return { reachable: true, detail: 'no partition between them' };
  }

  async killContainer(node: string, options: KillContainerOptions): Promise<void> {
    await this.call('POST', await this.faultsPath(node), { type: 'container-kill', pod: `${options.namespace}/${options.pod}`, container: options.container });
  }

  async stress(node: string, options: StressOptions): Promise<void> {
    await this.revertTagged(node, options.id);
    const amount = options.memoryBytes !== undefined ? { type: 'memory-stress', bytes: options.memoryBytes } : { type: 'cpu-stress', millicores: options.cpuMillicores ?? 0 };
    const where = options.pod ? { pod: `${options.pod.namespace}/${options.pod.name}`, ...(options.pod.container ? { container: options.pod.container } : {}) } : {};
    await this.inject(node, options.id, { ...amount, ...where });
  }

  async isStressing(node: string, id: string): Promise<boolean> {
    return (await this.tagged(node, id)).some((f) => f.type === 'memory-stress' || f.type === 'cpu-stress');
  }

  unstress(node: string, id: string): Promise<void> {
    return this.revertTagged(node, id);
  }

  async stop(node: string, _mode: NodeStopMode): Promise<void> {
    if ((await this.tagged(node, STOP_TAG)).length === 0) await this.inject(node, STOP_TAG, { type: 'crash' });
  }

  start(node: string): Promise<void> {
    return this.revertTagged(node, STOP_TAG);
  }

  async isStopped(node: string): Promise<boolean> {
    return (await this.faults(node)).some((f) => f.type === 'crash');
  }
}
