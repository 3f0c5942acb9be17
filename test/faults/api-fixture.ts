import * as k8s from '@kubernetes/client-node';
import { readSnapshot } from '../../src/cluster/snapshot-read.js';
import type { ClusterTarget } from '../../src/cluster/target.js';
import { SeededRandom } from '../../src/core/rng.js';
import type { FaultContext, FaultPlugin, PlannedTargets } from '../../src/faults/fault.js';
import { startSim, type SimClients } from '../sim/sim-fixture.js';

/** An embedded cluster, a ClusterTarget over it, and the clients tests use to set it up and check it. */
export interface FaultFixture extends SimClients {
  readonly kubeConfig: k8s.KubeConfig;
  readonly target: ClusterTarget;
  readonly policy: k8s.PolicyV1Api;
}

export async function startFaultFixture(): Promise<FaultFixture> {
  const sim = await startSim();
  const { kubeConfig } = sim;
  const target: ClusterTarget = {
    ref: { kind: 'embedded', name: 'gameday-sim' },
    kubeConfig,
    snapshot: (scope) => readSnapshot(kubeConfig, scope),
    close: async () => {},
  };
  return { ...sim, kubeConfig, target, policy: kubeConfig.makeApiClient(k8s.PolicyV1Api) };
}

/** A fault context that keeps what the fault logged and every piece of evidence it recorded. */
export interface RecordingContext extends FaultContext {
  readonly logs: string[];
  readonly evidence: ((item: unknown) => void) & { readonly items: unknown[] };
}

export function recordingContext(cluster: ClusterTarget, signal: AbortSignal = new AbortController().signal): RecordingContext {
  const logs: string[] = [];
  const items: unknown[] = [];
  const evidence = Object.assign((item: unknown) => void items.push(item), { items });
  return { cluster, signal, logs, log: (m) => void logs.push(m), evidence };
}

/** Parses params and plans exactly as the planner would, with a fixed seed. */
export async function planFault<P, T, S>(plugin: FaultPlugin<P, T, S>, input: unknown, cluster: ClusterTarget, seed = 7): Promise<{ params: P; planned: PlannedTargets<T> }> {
  const params = plugin.params.parse(input);
  const planned = plugin.plan(params, { snapshot: await cluster.snapshot(), rng: new SeededRandom(seed) });
  return { params, planned };
}

/**
 * What a fault may change and its revert must restore: every node's spec (unschedulable, taints),
 * labels and annotations; every pod's labels (by name, since replacements get new uids); every
 * NetworkPolicy. Volatile fields (resourceVersion, status) are left out.
 */
export async function clusterState(f: SimClients): Promise<unknown> {
  const nodes = (await f.core.listNode()).items.map((n) => ({ name: n.metadata?.name, labels: n.metadata?.labels, annotations: n.metadata?.annotations ?? {}, spec: n.spec }));
  const pods = (await f.core.listPodForAllNamespaces()).items
    .filter((p) => !p.metadata?.deletionTimestamp)
    .map((p) => ({ pod: `${p.metadata?.namespace}/${p.metadata?.name}`, labels: p.metadata?.labels }));
  const policies = (await f.networking.listNetworkPolicyForAllNamespaces()).items.map((p) => ({ name: `${p.metadata?.namespace}/${p.metadata?.name}`, spec: p.spec }));
  const byName = <T extends { name?: string; pod?: string }>(xs: T[]): T[] => xs.sort((a, b) => String(a.name ?? a.pod).localeCompare(String(b.name ?? b.pod)));
  return { nodes: byName(nodes), pods: byName(pods), policies: byName(policies) };
}
