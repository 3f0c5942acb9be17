import type { Informer, Informers } from '../informer.js';
import type { SimTimings } from '../timings.js';
import type { ContainerServer } from './container-server.js';
import { NetworkPolicyEngine } from './network-policy.js';
import type { UsageSnapshot } from './usage-meter.js';
import { ConnectionError, type TrafficSource, type VirtualRequest, type VirtualResponse } from './traffic.js';

export type PartitionScope = 'control-plane' | 'nodes' | 'all';

export interface LatencySpec {
  readonly delayMs: number;
  readonly jitterMs: number;
  /** Share of packets lost, 0–100: TCP resends them, so a loss shows as a retransmission delay. */
  readonly lossPercent?: number;
}

/** TCP's initial retransmission timeout (RFC 6298): what a lost SYN or request costs. */
const RETRANSMIT_MS = 1000;

/** A pod's network presence: its IP, node, and the container processes listening in it. */
export interface PodAttachment {
  readonly podKey: string;
  readonly node: string;
  readonly servers: readonly ContainerServer[];
  readonly namedPorts: ReadonlyMap<string, number>;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    t.unref();
    signal?.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}

/**
 * The cluster network: pod IPs to virtual servers, node partitions and latency (the node fault
 * endpoint), and NetworkPolicy. Dropped traffic behaves like dropped packets: the caller waits
 * until it gives up or the dial times out.
 */
export class DataPlane {
  private readonly byIp = new Map<string, PodAttachment>();
  /** Every attached pod by `namespace/name`, host-network pods without an address included: what usage is read from. */
  private readonly byPod = new Map<string, PodAttachment>();
  private readonly partitions = new Map<string, Map<string, PartitionScope>>();
  private readonly latency = new Map<string, Map<string, LatencySpec>>();
  private readonly policy: NetworkPolicyEngine;
  private readonly pods: Informer;
  private readonly nodes: Informer;

  constructor(
    informers: Informers,
    private readonly timings: SimTimings,
    readonly controlPlaneNode: string,
    /** false: NetworkPolicies are stored but not enforced, as with kindnet before v0.24 or flannel. */
    private readonly enforceNetworkPolicy = true,
  ) {
    this.policy = new NetworkPolicyEngine(informers);
    this.pods = informers.for('pods');
    this.nodes = informers.for('nodes');
  }

  /**
   * A pod's processes join the data plane: reachable at `ip`, or at no address of their own (a
   * host-network pod that listens on no port), while their usage is metered either way.
   */
  attach(ip: string | undefined, attachment: PodAttachment): void {
    this.byPod.set(attachment.podKey, attachment);
    if (ip) this.byIp.set(ip, attachment);
  }

  detach(ip: string, attachment: PodAttachment): void {
    if (this.byPod.get(attachment.podKey) === attachment) this.byPod.delete(attachment.podKey);
    if (this.byIp.get(ip) === attachment) this.byIp.delete(ip);
  }

  /** What each running container of the pod uses now; undefined when no process of that pod runs. */
  podUsage(podKey: string, now = Date.now()): UsageSnapshot[] | undefined {
    const attachment = this.byPod.get(podKey);
    if (!attachment?.servers.length) return undefined;
    return attachment.servers.map((s) => s.usage.snapshot(now));
  }

  setPartition(node: string, id: string, scope: PartitionScope | undefined): void {
    const m = this.partitions.get(node) ?? new Map<string, PartitionScope>();
    if (scope) m.set(id, scope);
    else m.delete(id);
    if (m.size) this.partitions.set(node, m);
    else this.partitions.delete(node);
  }

  setLatency(node: string, id: string, spec: LatencySpec | undefined): void {
    const m = this.latency.get(node) ?? new Map<string, LatencySpec>();
    if (spec) m.set(id, spec);
    else m.delete(id);
    if (m.size) this.latency.set(node, m);
    else this.latency.delete(node);
  }

  /** Whether `node`'s own traffic to `other` is cut by a partition of either side. */
  isolated(node: string, other: string): boolean {
    if (node === other) return false;
    const cuts = (a: string, b: string): boolean => {
      for (const scope of this.partitions.get(a)?.values() ?? []) {
        if (scope === 'all') return true;
        if (scope === 'control-plane' && b === this.controlPlaneNode) return true;
        if (scope === 'nodes' && b !== this.controlPlaneNode) return true;
      }
      return false;
    };
    return cuts(node, other) || cuts(other, node);
  }

  /** Whether a kubelet (or a pod) on `node` can reach the API server. */
  reachesControlPlane(node: string): boolean {
    return !this.isolated(node, this.controlPlaneNode);
  }

  private delayFor(node: string): number {
    let ms = 0;
    let delivered = 1;
    for (const l of this.latency.get(node)?.values() ?? []) {
      ms += l.delayMs + (l.jitterMs ? (Math.random() * 2 - 1) * l.jitterMs : 0);
      delivered *= 1 - (l.lossPercent ?? 0) / 100;
    }
    // Each lost attempt waits out a retransmission timeout; after six, the dialer has given up anyway.
    for (let tries = 0; tries < 6 && Math.random() >= delivered; tries++) ms += RETRANSMIT_MS;
    return Math.max(0, ms);
  }

  private nodeIp(node: string): string {
    const addresses = ((this.nodes.get(undefined, node)?.status as { addresses?: { type: string; address: string }[] } | undefined)?.addresses) ?? [];
    return addresses.find((a) => a.type === 'InternalIP')?.address ?? '0.0.0.0';
  }

  /** A kubelet tcpSocket probe: is anything listening on the port? (Probes come from the pod's own node.) */
  listening(ip: string, port: number): boolean {
    return this.byIp.get(ip)?.servers.some((s) => s.isListening && s.ports.has(port)) ?? false;
  }

  /** Opens a connection: the server listening on ip:port, or the ConnectionError a client would get. */
  private async connect(source: TrafficSource, ip: string, port: number, signal?: AbortSignal): Promise<ContainerServer> {
    const target = this.byIp.get(ip);
    if (!target) throw new ConnectionError('EHOSTUNREACH', `dial tcp ${ip}:${port}: connect: no route to host`);
    const sourceAttachment = source.kind === 'pod' ? this.byIp.get(source.ip) : undefined;
    const sourceNode = source.kind === 'host' ? source.node : (sourceAttachment?.node ?? this.controlPlaneNode);
    const probeFromOwnNode = source.kind === 'host' && source.node === target.node;
    let dropped = this.isolated(sourceNode, target.node);
    const targetPod = this.pods.getByKey(target.podKey);
    if (!dropped && !probeFromOwnNode && targetPod) {
      const sourcePod = sourceAttachment ? this.pods.getByKey(sourceAttachment.podKey) : undefined;
      const from = { ip: source.kind === 'pod' ? source.ip : this.nodeIp(source.node), ...(sourcePod ? { pod: sourcePod } : {}) };
      dropped = this.enforceNetworkPolicy && !this.policy.allows(from, { ip, pod: targetPod }, port, target.namedPorts);
    }
    if (dropped) {
      await sleep(this.timings.droppedConnectionTimeoutMs, signal);
      throw new ConnectionError('ETIMEDOUT', `dial tcp ${ip}:${port}: i/o timeout`);
    }
    const delay = this.delayFor(target.node) + (sourceNode !== target.node ? this.delayFor(sourceNode) : 0);
    if (delay > 0) await sleep(delay, signal);
    const server = target.servers.find((s) => s.ports.has(port));
    if (!server) throw new ConnectionError('ECONNREFUSED', `dial tcp ${ip}:${port}: connect: connection refused`);
    return server;
  }

  /** Only dials (`nc -z`): resolves once the connection would be open. */
  async dial(source: TrafficSource, ip: string, port: number, signal?: AbortSignal): Promise<void> {
    const server = await this.connect(source, ip, port, signal);
    if (!server.isListening) throw new ConnectionError('ECONNREFUSED', `dial tcp ${ip}:${port}: connect: connection refused`);
  }

  async send(source: TrafficSource, ip: string, port: number, request: VirtualRequest, signal?: AbortSignal): Promise<VirtualResponse> {
    return (await this.connect(source, ip, port, signal)).handle(request);
  }
}
