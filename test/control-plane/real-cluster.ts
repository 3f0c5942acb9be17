import * as k8s from '@kubernetes/client-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { clusterNetworkUnavailable } from '../../src/control-plane/cluster-network.js';
import { controlPlaneUnavailable } from '../../src/control-plane/locate.js';
import { startRealCluster as startRealClusterWithNodes } from '../../src/control-plane/real-cluster.js';
import { startRealControlPlane, type RealControlPlane } from '../../src/control-plane/real-control-plane.js';

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
  stop(): Promise<void>;
}

/** Clocks short enough for a test: a silent node is Unknown after 5 s, its pods evicted 2 s later. */
export const FAST_NODE_TIMINGS = {
  nodeMonitorGracePeriodMs: 5000,
  nodeMonitorPeriodMs: 1000,
  defaultTolerationSeconds: 2,
  nodeLeaseRenewMs: 1000,
  nodeStatusUpdateMs: 1000,
  nodeLeaseDurationMs: 5000,
} as const;

export interface RealClusterOptions {
  /** gameday's own nodes join (the default), as `--control-plane real` runs them; false: the control plane alone. */
  readonly withNodes?: boolean;
  readonly apiServerArgs?: readonly string[];
  readonly controllerManagerArgs?: readonly string[];
  /** The cluster's clocks (the embedded cluster's names). @default FAST_NODE_TIMINGS */
  readonly timings?: Readonly<Record<string, number>>;
}

/** The real control plane with gameday's control-plane node and three workers joined. */
export async function startRealCluster(options: RealClusterOptions = {}): Promise<RealCluster> {
  const args = { apiServerArgs: options.apiServerArgs, controllerManagerArgs: options.controllerManagerArgs };
  const controlPlane = options.withNodes === false
    ? await startRealControlPlane(args)
    : await startRealClusterWithNodes({ timings: options.timings ?? FAST_NODE_TIMINGS, ...args });
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromString(controlPlane.kubeconfigYaml());
  return {
    controlPlane,
    kubeConfig,
    core: kubeConfig.makeApiClient(k8s.CoreV1Api),
    apps: kubeConfig.makeApiClient(k8s.AppsV1Api),
    policy: kubeConfig.makeApiClient(k8s.PolicyV1Api),
    stop: () => controlPlane.stop(),
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
