/**
 * What the plan needs to know about the cluster, read once before planning. Plain data so the
 * plan stays a pure function and tests can build snapshots by hand.
 */
export interface NodeInfo {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly unschedulable: boolean;
  readonly ready: boolean;
  readonly controlPlane: boolean;
}

export interface PodInfo {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly nodeName?: string;
  readonly phase: string;
  readonly ready: boolean;
  /** `ReplicaSet/web-7d9c…`, `StatefulSet/db`, `DaemonSet/…`; absent for bare pods. */
  readonly owner?: { readonly kind: string; readonly name: string };
}

export interface ClusterSnapshot {
  readonly takenAt: number;
  readonly nodes: readonly NodeInfo[];
  readonly pods: readonly PodInfo[];
}
