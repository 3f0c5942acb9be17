import * as k8s from '@kubernetes/client-node';
import { clusterNetworkUnavailable } from '../../src/control-plane/cluster-network.js';
import { controlPlaneUnavailable } from '../../src/control-plane/locate.js';
import { startRealControlPlane, type RealControlPlane } from '../../src/control-plane/real-control-plane.js';
import { ApiNodes, API_NODES, type ApiNode } from './api-nodes.js';

/**
 * Why the real control plane cannot run here, or undefined. Locally a missing build only skips
 * these tests (the reason says how to build it); in CI, where .ci/run builds it, it is a failure.
 */
export async function realControlPlaneUnavailable(): Promise<string | undefined> {
  const why = controlPlaneUnavailable() ?? (await clusterNetworkUnavailable());
  if (why && process.env.CI === 'true') throw new Error(`the real control plane must run in CI: ${why}`);
  return why;
}

export interface RealCluster {
  readonly controlPlane: RealControlPlane;
  readonly kubeConfig: k8s.KubeConfig;
  readonly core: k8s.CoreV1Api;
  readonly apps: k8s.AppsV1Api;
  readonly policy: k8s.PolicyV1Api;
  readonly nodes: ApiNodes | undefined;
  stop(): Promise<void>;
}

/** The real control plane with, unless `withNodes` is false, three worker nodes posted through the API. */
export async function startRealCluster(options: { readonly withNodes?: boolean; readonly nodes?: readonly ApiNode[]; readonly apiServerArgs?: readonly string[]; readonly controllerManagerArgs?: readonly string[] } = {}): Promise<RealCluster> {
  const controlPlane = await startRealControlPlane({ apiServerArgs: options.apiServerArgs, controllerManagerArgs: options.controllerManagerArgs });
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromString(controlPlane.kubeconfigYaml());
  let nodes: ApiNodes | undefined;
  try {
    if (options.withNodes !== false) {
      nodes = new ApiNodes(kubeConfig, options.nodes ?? API_NODES);
      await nodes.start();
    }
  } catch (err) {
    await controlPlane.stop();
    throw err;
  }
  return {
    controlPlane,
    kubeConfig,
    core: kubeConfig.makeApiClient(k8s.CoreV1Api),
    apps: kubeConfig.makeApiClient(k8s.AppsV1Api),
    policy: kubeConfig.makeApiClient(k8s.PolicyV1Api),
    nodes,
    stop: async () => {
      nodes?.stop();
      await controlPlane.stop();
    },
  };
}
