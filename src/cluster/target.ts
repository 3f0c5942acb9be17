import type { KubeConfig } from '@kubernetes/client-node';
import type { ClusterRef } from '../journal/events.js';
import type { NodeAccess } from '../nodes/node-access.js';
import type { NamespaceScope } from './namespace-scope.js';
import type { ClusterSnapshot } from './snapshot.js';

/**
 * The cluster a run acts on. Built by src/cluster/connect.ts from a kubeconfig, or by the CLI for
 * the embedded cluster; either way everything after this talks HTTP through client-node.
 */
export interface ClusterTarget {
  readonly ref: ClusterRef;
  readonly kubeConfig: KubeConfig;
  /** Absent when no provider fits the cluster (then node-level faults are refused at plan time). */
  readonly nodeAccess?: NodeAccess;
  /** The nodes, and the pods within `scope` (without one, in every namespace), for the plan. */
  snapshot(scope?: NamespaceScope): Promise<ClusterSnapshot>;
  close(): Promise<void>;
}
