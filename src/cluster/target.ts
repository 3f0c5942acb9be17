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
  /** Present only when gameday runs the control plane itself (`--control-plane real`): its etcd, for the etcdSnapshot and etcdRestore drill steps. */
  readonly controlPlane?: ControlPlaneAccess;
  /** The nodes, and the pods within `scope` (without one, in every namespace), for the plan. */
  snapshot(scope?: NamespaceScope): Promise<ClusterSnapshot>;
  close(): Promise<void>;
}

/** The control plane's etcd, in the hands of the gameday that started it. */
export interface ControlPlaneAccess {
  /** Where snapshots are kept: beside the control plane's own state, never in the reports (they hold every Secret). */
  readonly snapshotDir: string;
  /** `etcdctl snapshot save`: the whole keyspace at one revision, into `file`. */
  saveEtcdSnapshot(file: string): Promise<void>;
  /** The API server and etcd stopped, `file` restored into a fresh etcd, both started again; resolves once the API server is ready. */
  restoreEtcdSnapshot(file: string): Promise<void>;
}
