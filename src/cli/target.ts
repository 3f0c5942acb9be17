import { KubeConfig } from '@kubernetes/client-node';
import { assertContextAllowed } from '../cluster/context-safety.js';
import { connectKubeconfig } from '../cluster/connect.js';
import { readSnapshot } from '../cluster/snapshot-read.js';
import type { ClusterTarget } from '../cluster/target.js';
import type { EmbeddedCluster } from '../sim/index.js';

export interface TargetOptions {
  readonly context?: string;
  readonly kubeconfig?: string;
  readonly allowContext?: readonly string[];
  readonly allowlist?: string;
  /** Workers of the embedded cluster when no context is given. @default 3 */
  readonly simWorkers?: number;
  readonly log?: (line: string) => void;
}

/**
 * Picks the cluster a command acts on: the kubeconfig context named on the command line (only
 * once allowed), or else an embedded cluster started in-process. This is the only place outside
 * src/sim that knows the embedded cluster exists; everything after it sees a ClusterTarget.
 */
export async function openTarget(options: TargetOptions): Promise<ClusterTarget> {
  if (options.context || options.kubeconfig) {
    const target = await connectKubeconfig({ context: options.context, kubeconfig: options.kubeconfig });
    await assertContextAllowed(target.ref, { allowContexts: [...(options.allowContext ?? [])], allowlistFile: options.allowlist });
    return target;
  }
  options.log?.('starting the embedded cluster (no --context given)…');
  // Loaded on demand: validate, recover and report never pay for the embedded cluster's start-up.
  const { startEmbeddedCluster } = await import('../sim/index.js');
  const cluster = await startEmbeddedCluster({ workers: options.simWorkers });
  return embeddedTarget(cluster);
}

function embeddedTarget(cluster: EmbeddedCluster): ClusterTarget {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(cluster.kubeconfigYaml());
  return {
    ref: { kind: 'embedded', name: cluster.name, server: cluster.url },
    kubeConfig,
    snapshot: () => readSnapshot(kubeConfig),
    close: () => cluster.stop(),
  };
}
