import * as k8s from '@kubernetes/client-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
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

export interface RealClusterHandle {
  readonly cluster: RealCluster;
  /** A temporary directory for the suite, removed after it. */
  readonly dir: string;
  /** The admin kubeconfig, written in `dir`. */
  readonly kubeconfig: string;
}

/**
 * Mocha hooks for a suite on the real control plane: started before it (or the suite skipped,
 * saying why), stopped after it. The handle's fields are set once the `before` hook has run.
 */
export function useRealCluster(options: Parameters<typeof startRealCluster>[0] = {}): RealClusterHandle {
  const handle = {} as { cluster: RealCluster; dir: string; kubeconfig: string };
  before(async function () {
    const why = await realControlPlaneUnavailable();
    if (why) {
      console.log(`      skipped: ${why}`);
      this.skip();
    }
    handle.dir = mkdtempSync(path.join(tmpdir(), 'gameday-cp-test-'));
    handle.kubeconfig = path.join(handle.dir, 'kubeconfig');
    handle.cluster = await startRealCluster(options);
    await handle.cluster.controlPlane.writeKubeconfig(handle.kubeconfig);
  });
  after(async () => {
    await handle.cluster?.stop();
    if (handle.dir) rmSync(handle.dir, { recursive: true, force: true });
  });
  return handle;
}
