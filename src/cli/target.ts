import type { KubeConfig } from '@kubernetes/client-node';
import { assertContextAllowed, type ContextSafetyOptions } from '../cluster/context-safety.js';
import { connectInCluster, connectKubeconfig } from '../cluster/connect.js';
import { IN_CLUSTER_CONTEXT, inClusterAvailable } from '../cluster/in-cluster.js';
import { readSnapshot } from '../cluster/snapshot-read.js';
import { RetryingKubeConfig } from '../cluster/retrying-http.js';
import type { ClusterTarget } from '../cluster/target.js';
import { UsageError } from '../core/errors.js';
import type { ClusterRef } from '../journal/events.js';
import type { NodeAccess } from '../nodes/node-access.js';
import { chooseNodeAccess, NODE_ACCESS_CHOICES, type NodeAccessChoice } from '../nodes/choose-node-access.js';
import { SimNodeAccess } from '../nodes/sim-node-access.js';
import { helperImageProblem } from '../nodes/pod-node-access.js';
import type { EmbeddedCluster } from '../sim/index.js';

export interface TargetOptions {
  readonly context?: string;
  readonly kubeconfig?: string;
  readonly allowContext?: readonly string[];
  readonly allowlist?: string;
  /** Workers of the embedded cluster when no context is given. @default 3 */
  readonly simWorkers?: number;
  /** With no context: the embedded cluster, or upstream Kubernetes with gameday's nodes. @default embedded */
  readonly controlPlane?: string;
  /** How node-level faults reach the nodes: auto (kind for kind-<name>, sim for the embedded cluster), kind, pod, sim or none. @default auto */
  readonly nodeAccess?: string;
  /** Image of the pod provider's helper pods, by tag or pinned by digest (name@sha256:…). */
  readonly nodeAccessImage?: string;
  readonly log?: (line: string) => void;
}

/**
 * Picks the cluster a command acts on: the kubeconfig context named on the command line (only
 * once allowed), or else an embedded cluster started in-process. This is the only place outside
 * src/sim that knows the embedded cluster exists; everything after it sees a ClusterTarget.
 */
export async function openTarget(options: TargetOptions): Promise<ClusterTarget> {
  const imageProblem = options.nodeAccessImage === undefined ? undefined : helperImageProblem(options.nodeAccessImage);
  if (imageProblem) throw new UsageError(`--node-access-image ${options.nodeAccessImage}: ${imageProblem}`);
  if ((options.context || options.kubeconfig) && controlPlaneChoice(options.controlPlane) === 'real') {
    throw new UsageError('--control-plane real starts a cluster of its own for the run: give it without --context and --kubeconfig, or drop it to use that cluster');
  }
  if (options.context || options.kubeconfig) return connectAllowed(options);
  if (inClusterAvailable()) {
    options.log?.(`running in a pod: acting on its cluster as its service account, context ${IN_CLUSTER_CONTEXT} (unset KUBERNETES_SERVICE_HOST for the embedded cluster)…`);
    return connectAllowed(options);
  }
  const choice = nodeAccessChoice(options.nodeAccess);
  if (choice === 'kind' || choice === 'pod') throw new UsageError(`--node-access ${choice} needs a cluster (--context); the embedded cluster's nodes are reached through its own node fault endpoint`);
  const controlPlane = controlPlaneChoice(options.controlPlane);
  if (controlPlane === 'real') return realControlPlaneTarget(options, choice);
  options.log?.('starting the embedded cluster (no --context given)…');
  // Loaded on demand: validate, recover and report never pay for the embedded cluster's start-up.
  const { startEmbeddedCluster } = await import('../sim/index.js');
  const cluster = await startEmbeddedCluster({ workers: options.simWorkers });
  return embeddedTarget(cluster, choice);
}

/**
 * A kubeconfig context (the kubeconfig's current one unless named), or in a pod with neither
 * named (or with `--context in-cluster`) the pod's service account, refused unless allowed
 * (docs/architecture.md, principle 7). Every command that acts on a real cluster goes through here.
 */
export async function connectAllowed(options: TargetOptions): Promise<ClusterTarget> {
  const choice = nodeAccessChoice(options.nodeAccess);
  const nodeAccessFor = (ref: ClusterRef, kubeConfig: KubeConfig): NodeAccess | undefined => chooseNodeAccess(ref, kubeConfig, { choice, podImage: options.nodeAccessImage });
  const inCluster = !options.kubeconfig && (options.context === IN_CLUSTER_CONTEXT || (!options.context && inClusterAvailable()));
  const target = inCluster ? await connectInCluster({ nodeAccessFor }) : await connectKubeconfig({ context: options.context, kubeconfig: options.kubeconfig, nodeAccessFor });
  await assertContextAllowed(target.ref, allowance(options));
  return target;
}

/**
 * Refuses a `--context` that is not allowed before anything is read or connected, for a command
 * (recover) that may end up not connecting at all: it answers as `run` does for that context.
 */
export async function assertContextOptionAllowed(options: TargetOptions): Promise<void> {
  if (options.context) await assertContextAllowed({ kind: 'kubeconfig', name: options.context, context: options.context }, allowance(options));
}

function allowance(options: TargetOptions): ContextSafetyOptions {
  return { allowContexts: [...(options.allowContext ?? [])], allowlistFile: options.allowlist };
}

export function nodeAccessChoice(text: string | undefined): NodeAccessChoice {
  if (text === undefined) return 'auto';
  if ((NODE_ACCESS_CHOICES as readonly string[]).includes(text)) return text as NodeAccessChoice;
  throw new UsageError(`--node-access ${text}: give one of ${NODE_ACCESS_CHOICES.join(', ')}`);
}

function embeddedTarget(cluster: EmbeddedCluster, choice: NodeAccessChoice): ClusterTarget {
  const kubeConfig = new RetryingKubeConfig();
  kubeConfig.loadFromString(cluster.kubeconfigYaml());
  return {
    ref: { kind: 'embedded', name: cluster.name, server: cluster.url },
    kubeConfig,
    ...(choice === 'none' ? {} : { nodeAccess: new SimNodeAccess(kubeConfig) }),
    snapshot: (scope) => readSnapshot(kubeConfig, scope),
    close: () => cluster.stop(),
  };
}

export function controlPlaneChoice(text: string | undefined): 'embedded' | 'real' {
  if (text === undefined || text === 'embedded') return 'embedded';
  if (text === 'real') return 'real';
  throw new UsageError(`--control-plane ${text}: give embedded (the default) or real`);
}

/**
 * Upstream etcd, kube-apiserver, controller-manager and scheduler with gameday's nodes joined,
 * started in-process for this run and stopped with it (needs Linux, root and the binaries).
 */
async function realControlPlaneTarget(options: TargetOptions, choice: NodeAccessChoice): Promise<ClusterTarget> {
  const { startRealCluster } = await import('../control-plane/real-cluster.js');
  const { etcdSnapshotAccess } = await import('../control-plane/etcd-snapshot-drill.js');
  const cluster = await startRealCluster({ workers: options.simWorkers, ...(options.log ? { progress: options.log } : {}) });
  const kubeConfig = new RetryingKubeConfig();
  kubeConfig.loadFromString(cluster.kubeconfigYaml());
  return {
    ref: { kind: 'embedded', name: 'gameday (real control plane)', server: cluster.url },
    kubeConfig,
    ...(choice === 'none' ? {} : { nodeAccess: new SimNodeAccess(kubeConfig) }),
    controlPlane: etcdSnapshotAccess(cluster),
    snapshot: (scope) => readSnapshot(kubeConfig, scope),
    close: () => cluster.stop(),
  };
}
