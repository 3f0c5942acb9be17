import { CoreV1Api, type KubeConfig, type V1Node } from '@kubernetes/client-node';
import { hasControlPlaneLabel } from '../../cluster/node-roles.js';
import { HarnessError } from '../../core/errors.js';
import type { Percent } from '../../core/quantity.js';
import type { NodeAccess } from '../../nodes/node-access.js';
import { chooseCount, selectNodes } from '../../plan/select.js';
import type { NodeSelector } from '../../spec/selector-schemas.js';
import type { FaultContext, FaultPlanContext, PlannedTargets } from '../fault.js';

/**
 * What the faults acting through node access share: their targets (nodes plus a seeded id that
 * names what they put on the node), the node-access requirement, and the nodes' addresses.
 */
export interface NodeFaultTargets {
  /** Seeded, so `--seed` replays it; names the iptables chain, netem handle, fill file, sim tag. */
  readonly id: string;
  readonly nodes: readonly string[];
}

export interface NodeTargetParams {
  readonly nodes: NodeSelector;
  readonly count?: number | Percent;
}

/**
 * Chooses the nodes (through selectNodes/chooseCount, like every fault) and a seeded id. Without a
 * count: one node, or every matching node when `everyByDefault` (a zone partition takes the zone).
 */
export function planNodeTargets(
  p: NodeTargetParams,
  { snapshot, rng }: FaultPlanContext,
  describe: (nodes: readonly string[], id: string) => string,
  options: { readonly everyByDefault?: boolean } = {},
): PlannedTargets<NodeFaultTargets> {
  const matching = selectNodes(snapshot, p.nodes);
  const chosen = p.count === undefined && options.everyByDefault ? matching : chooseCount(rng, matching, p.count ?? 1);
  const nodes = chosen.map((n) => n.name).sort();
  const id = Math.floor(rng.next() * 16 ** 8).toString(16).padStart(8, '0');
  return { targets: { id, nodes }, touches: { nodes, pods: [] }, description: describe(nodes, id) };
}

/** The target's node access, or a clear refusal saying how to get one. */
export function requireNodeAccess(ctx: FaultContext, kind: string): NodeAccess {
  const access = ctx.cluster.nodeAccess;
  if (access) return access;
  throw new HarnessError(
    `${kind} needs node access (iptables, tc or files on the node) and cluster "${ctx.cluster.ref.name}" has none: ` +
      'use a kind cluster through its kind-<name> context, or on any other cluster pass --node-access pod (helper pods with host access)',
  );
}

export function internalIP(node: V1Node): string | undefined {
  return node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
}

export function isControlPlane(node: V1Node): boolean {
  return hasControlPlaneLabel(node.metadata?.labels);
}

export async function listNodes(kubeConfig: KubeConfig): Promise<V1Node[]> {
  return (await kubeConfig.makeApiClient(CoreV1Api).listNode()).items;
}

export async function readNode(kubeConfig: KubeConfig, name: string): Promise<V1Node> {
  return kubeConfig.makeApiClient(CoreV1Api).readNode({ name });
}

/** Runs `action` on every node, all of them even when some fail; then throws the failures together. */
export async function onEveryNode(nodes: readonly string[], action: (node: string) => Promise<void>): Promise<void> {
  const results = await Promise.allSettled(nodes.map(action));
  const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`${nodes[i]}: ${r.reason instanceof Error ? r.reason.message : String(r.reason)}`] : []));
  if (failed.length > 0) throw new Error(failed.join('; '));
}
