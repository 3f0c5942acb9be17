import * as k8s from '@kubernetes/client-node';
import { startEmbeddedCluster, type EmbeddedCluster, type SimTimings } from '../../src/sim/index.js';

/** Timings shrunk so node failures, evictions and failovers happen within a test's budget. */
export const FAST_TIMINGS: Partial<SimTimings> = {
  containerStartMs: 20,
  kubeletSyncMs: 10,
  endpointPropagationMs: 50,
  batchRunMs: 200,
  nodeLeaseRenewMs: 200,
  nodeStatusUpdateMs: 500,
  nodeMonitorPeriodMs: 200,
  nodeMonitorGracePeriodMs: 1500,
  defaultTolerationSeconds: 1,
  evictionMonitorPeriodMs: 200,
  restartBackoffBaseMs: 200,
  droppedConnectionTimeoutMs: 1000,
  kvLeaseDurationMs: 1000,
  kvLeaseRenewMs: 200,
};

export interface SimClients {
  readonly cluster: EmbeddedCluster;
  /** The cluster's kubeconfig, loaded: for code under test that takes a KubeConfig. */
  readonly kubeConfig: k8s.KubeConfig;
  readonly core: k8s.CoreV1Api;
  readonly apps: k8s.AppsV1Api;
  readonly batch: k8s.BatchV1Api;
  readonly networking: k8s.NetworkingV1Api;
  readonly coordination: k8s.CoordinationV1Api;
}

export async function startSim(timings: Partial<SimTimings> = {}): Promise<SimClients> {
  const cluster = await startEmbeddedCluster({ timings: { ...FAST_TIMINGS, ...timings } });
  const kc = new k8s.KubeConfig();
  kc.loadFromString(cluster.kubeconfigYaml());
  return {
    cluster,
    kubeConfig: kc,
    core: kc.makeApiClient(k8s.CoreV1Api),
    apps: kc.makeApiClient(k8s.AppsV1Api),
    batch: kc.makeApiClient(k8s.BatchV1Api),
    networking: kc.makeApiClient(k8s.NetworkingV1Api),
    coordination: kc.makeApiClient(k8s.CoordinationV1Api),
  };
}

export async function podsOf(core: k8s.CoreV1Api, namespace: string, app: string): Promise<k8s.V1Pod[]> {
  return (await core.listNamespacedPod({ namespace, labelSelector: `app=${app}` })).items;
}

export const isReady = (p: k8s.V1Pod): boolean => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
