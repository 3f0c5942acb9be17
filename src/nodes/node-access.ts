/**
 * How gameday reaches *into* a node for the faults the API cannot make: dropping traffic, shaping
 * it, filling a disk, burning CPU or holding memory, stopping the node. Faults are written once against this interface; four
 * providers implement it:
 *
 * - kind: the node is a container; commands run through `docker exec` / `podman exec`.
 * - pod: any cluster; a short-lived privileged pod pinned to the node enters the host namespaces.
 * - netns: the project's own tests; a node is a Linux network namespace.
 * - sim: the embedded cluster's node fault endpoint (no shell: each operation maps to a sim fault).
 *
 * The three shell providers share one implementation of the operations (shell-node-access.ts),
 * so the exact iptables, tc, fallocate and stress-ng commands that run on kind nodes are the ones the netns
 * tests run for real.
 *
 * Every operation that changes a node takes an `id` chosen by the caller (the fault's plan), and
 * its undo takes the same id, so an undo works without anything the doing returned: after a crash
 * between the two, `gameday recover` can still find what to remove. Undos are idempotent.
 */
export interface ExecResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export type NodeAccessProvider = 'kind' | 'pod' | 'sim' | 'netns';

/** Which way traffic is dropped, seen from the node: `ingress` = from the peers to it. */
export type TrafficDirection = 'both' | 'ingress' | 'egress';

/** Who the peers of a partition are; providers that partition by role (sim) use this, not addresses. */
export type PeerScope = 'control-plane' | 'other-nodes' | 'rest-of-cluster';

export interface BlockTrafficOptions {
  /** Names the rules: the shell providers put them in the iptables chain `GAMEDAY-<id>`. */
  readonly id: string;
  /** Addresses or CIDRs whose traffic to and from the node is dropped. */
  readonly peers: readonly string[];
  readonly scope: PeerScope;
  /** @default 'both' */
  readonly direction?: TrafficDirection;
}

export interface ShapeTrafficOptions {
  readonly id: string;
  readonly delayMs?: number;
  readonly jitterMs?: number;
  /** Share of packets dropped, 0–100. */
  readonly lossPercent?: number;
  /** The interface to shape. @default the one holding `address`, else eth0 */
  readonly interface?: string;
  /** The node's InternalIP, to find its interface. */
  readonly address?: string;
}

export interface ShapedTraffic {
  /** The interface shaped (`sim` has none: the whole node). */
  readonly interface: string;
  /** `netem`, or `iptables-statistic` for loss alone on a kernel without sch_netem, or `sim`. */
  readonly method: 'netem' | 'iptables-statistic' | 'sim';
}

/**
 * Thrown by shapeTraffic when the node cannot shape traffic as asked at all (a kernel without the
 * netem queueing discipline cannot add delay). The fault then cannot land on this node, which is
 * not gameday failing at its job.
 */
export class ShapingUnsupportedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShapingUnsupportedError';
  }
}

export interface FillDiskOptions {
  readonly id: string;
  /** A directory on the filesystem to fill; the file is `<path>/gameday-fill-<id>`. */
  readonly path: string;
  /** Exactly one of `bytes` (to allocate) or `percent` (of capacity to reach). */
  readonly bytes?: number;
  readonly percent?: number;
}

export interface DiskFill {
  /** The file allocated (`sim`: the sim fault's id). */
  readonly file: string;
  /** What was really allocated: capped by the free space, 0 when already full enough. */
  readonly bytes: number;
}

export interface DiskUsage {
  readonly capacityBytes: number;
  readonly usedBytes: number;
  readonly availableBytes: number;
}

export interface ReachOptions {
  readonly address: string;
  readonly port: number;
  /** How long a connection attempt may take before the peer counts as unreachable. @default 2000 */
  readonly timeoutMs?: number;
}

export interface Reachability {
  /** A refused connection counts as reachable: the peer answered. */
  readonly reachable: boolean;
  /** What was seen: `connected`, `refused`, `timed out after 2000ms`… */
  readonly detail: string;
}

export interface KillContainerOptions {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
}

export interface StressOptions {
  /** Names the stress, for unstress. */
  readonly id: string;
  /** Exactly one of memory to hold (bytes) or CPU to burn (millicores). */
  readonly memoryBytes?: number;
  readonly cpuMillicores?: number;
  /** In this pod's container (its first when none is named); absent: on the node itself. */
  readonly pod?: StressedContainer;
  /**
   * The stress ends by itself after this long even when nothing stops it (a gameday killed
   * outright): the fault's planned hold plus a margin. The sim's stresses live in the cluster's
   * own process and need none. @default 3600000 (an hour)
   */
  readonly maxDurationMs?: number;
}

export interface StressedContainer {
  readonly namespace: string;
  readonly name: string;
  /** @default the pod's first container */
  readonly container?: string;
}

/** `stop`: the node is gone (kind: docker stop; sim: crash); `pause`: frozen (docker pause). */
export type NodeStopMode = 'stop' | 'pause';

export interface NodeAccess {
  readonly provider: NodeAccessProvider;

  /** Drops traffic between the node and `peers`. Adding the same id again replaces its rules. */
  blockTraffic(node: string, options: BlockTrafficOptions): Promise<void>;
  /** Removes exactly what blockTraffic(id) added; nothing to remove is not an error. */
  unblockTraffic(node: string, id: string): Promise<void>;

  /** Adds delay and/or loss to the node's traffic. */
  shapeTraffic(node: string, options: ShapeTrafficOptions): Promise<ShapedTraffic>;
  /** Whether the shaping of `id` is in place (read back from the node). */
  isShaping(node: string, id: string): Promise<boolean>;
  unshapeTraffic(node: string, id: string): Promise<void>;

  fillDisk(node: string, options: FillDiskOptions): Promise<DiskFill>;
  freeDisk(node: string, options: { readonly id: string; readonly path: string }): Promise<void>;
  diskUsage(node: string, path: string): Promise<DiskUsage>;

  /** Whether the node can open a TCP connection to a peer (verifies a partition for real). */
  canReach(node: string, options: ReachOptions): Promise<Reachability>;

  /** Stops the node abruptly. Absent when the provider cannot (pod: the pod would die with it). */
  stop?(node: string, mode: NodeStopMode): Promise<void>;
  /** Undoes stop; starting a running node is not an error. */
  start?(node: string, mode: NodeStopMode): Promise<void>;
  /** Whether the provider sees the node stopped or paused (kind: the container's state). */
  isStopped?(node: string): Promise<boolean>;

  /**
   * Kills one container's process (SIGKILL) on the node; the kubelet restarts it. Absent when the
   * provider cannot (the shell providers would need `crictl stop -t 0`, not written yet).
   */
  killContainer?(node: string, options: KillContainerOptions): Promise<void>;
  /** Starts a stress process (stress-ng's workers) on the node or in a pod's container. Absent when the provider cannot. */
  stress?(node: string, options: StressOptions): Promise<void>;
  /** Whether the stress of `id` is in place (read back from the node, or from the pod's container). */
  isStressing?(node: string, id: string, pod?: StressedContainer): Promise<boolean>;
  /** Stops what stress(id) started; nothing left (the container restarted) is not an error. */
  unstress?(node: string, id: string, pod?: StressedContainer): Promise<void>;

  /** Releases anything the provider created (helper pods, connections). */
  close?(): Promise<void>;
}
