import { VersionApi, type KubeConfig } from '@kubernetes/client-node';
import { HarnessError, UsageError, errorMessage } from '../core/errors.js';
import type { ClusterRef } from '../journal/events.js';
import type { NodeAccess } from '../nodes/node-access.js';
import { IN_CLUSTER_CONTEXT, inClusterUnavailableReason, loadInClusterConfig } from './in-cluster.js';
import { RetryingKubeConfig } from './retrying-http.js';
import { readSnapshot } from './snapshot-read.js';
import type { ClusterTarget } from './target.js';

export interface ConnectOptions {
  /** Context to use. @default the kubeconfig's current context */
  readonly context?: string;
  /** Kubeconfig file. @default $KUBECONFIG or ~/.kube/config */
  readonly kubeconfig?: string;
  /** Chooses node access for the connected cluster (kind, pod…); absent: none. */
  readonly nodeAccessFor?: (ref: ClusterRef, kubeConfig: KubeConfig) => NodeAccess | undefined;
}

/** Loads a kubeconfig context and checks the API server answers before anything is planned. */
export async function connectKubeconfig(options: ConnectOptions): Promise<ClusterTarget> {
  const kubeConfig = new RetryingKubeConfig();
  try {
    if (options.kubeconfig) kubeConfig.loadFromFile(options.kubeconfig);
    else kubeConfig.loadFromDefault();
  } catch (err) {
    throw new UsageError(`cannot read kubeconfig ${options.kubeconfig ?? '(default)'}: ${errorMessage(err)}`);
  }
  if (options.context) {
    if (!kubeConfig.getContextObject(options.context)) {
      const known = kubeConfig.getContexts().map((c) => c.name).join(', ') || 'none';
      throw new UsageError(`context "${options.context}" is not in the kubeconfig (contexts: ${known})`);
    }
    kubeConfig.setCurrentContext(options.context);
  }
  const context = kubeConfig.getCurrentContext();
  const server = kubeConfig.getCurrentCluster()?.server;
  if (!context || !server) throw new UsageError('the kubeconfig names no current context; pass --context NAME');
  return connectLoaded(kubeConfig, { kind: 'kubeconfig', name: context, context, kubeconfig: options.kubeconfig, server }, options);
}

/**
 * The pod's own service account (context `in-cluster`): how gameday connects when it runs in the
 * cluster, as a CronJob's game day does.
 */
export async function connectInCluster(options: Pick<ConnectOptions, 'nodeAccessFor'> = {}): Promise<ClusterTarget> {
  const why = inClusterUnavailableReason();
  if (why) throw new UsageError(`cannot use context ${IN_CLUSTER_CONTEXT}: ${why}`);
  const kubeConfig = loadInClusterConfig();
  const server = kubeConfig.getCurrentCluster()!.server;
  return connectLoaded(kubeConfig, { kind: 'kubeconfig', name: IN_CLUSTER_CONTEXT, context: IN_CLUSTER_CONTEXT, server }, options);
}

/** Checks that the API server answers before anything is planned, and picks node access. */
async function connectLoaded(kubeConfig: KubeConfig, ref: ClusterRef, options: Pick<ConnectOptions, 'nodeAccessFor'>): Promise<ClusterTarget> {
  await assertReachable(kubeConfig, ref);
  const nodeAccess = options.nodeAccessFor?.(ref, kubeConfig);
  return {
    ref,
    kubeConfig,
    nodeAccess,
    snapshot: (scope) => readSnapshot(kubeConfig, scope),
    close: async () => {
      await nodeAccess?.close?.();
    },
  };
}

async function assertReachable(kubeConfig: KubeConfig, ref: ClusterRef): Promise<void> {
  try {
    await kubeConfig.makeApiClient(VersionApi).getCode();
  } catch (err) {
    throw new HarnessError(`cannot reach cluster "${ref.name}" at ${ref.server}: ${errorMessage(err)}`);
  }
}
