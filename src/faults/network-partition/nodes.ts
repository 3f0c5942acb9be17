import { z } from 'zod';
import type { Permission } from '../../cluster/rbac.js';
import { Duration } from '../../core/duration.js';
import type { PeerScope, Reachability } from '../../nodes/node-access.js';
import { nodeSelectorSchema } from '../../spec/selector-schemas.js';
import type { FaultPlanContext, FaultContext, PlannedTargets, VerifyResult } from '../fault.js';
import { countSchema } from '../shared/count.js';
import { internalIP, isControlPlane, listNodes, onEveryNode, planNodeTargets, requireNodeAccess, type NodeFaultTargets } from '../shared/node-fault-targets.js';

export const nodePartitionFields = {
  nodes: nodeSelectorSchema.describe('the nodes to cut off'),
  count: countSchema.optional().describe('how many of the matching nodes: a number or a percentage (rounded up). @default every matching node'),
  from: z
    .enum(['control-plane', 'other-nodes', 'rest-of-cluster'], { error: 'from is control-plane, other-nodes or rest-of-cluster' })
    .optional()
    .describe('whom the nodes are cut off from: the control plane, the other (non-target) nodes, or both. @default rest-of-cluster'),
  verifyPort: z.number().int().min(1).max(65535).optional().describe('TCP port on a peer the node must no longer reach, to prove the partition. @default 10250 (the kubelet, on every node)'),
};

export interface NodePartitionParams {
  readonly nodes: z.output<typeof nodeSelectorSchema>;
  readonly count?: z.output<typeof countSchema>;
  readonly from?: PeerScope;
  readonly direction?: 'ingress' | 'egress' | 'both';
  readonly verifyPort?: number;
  readonly verifyTimeout?: Duration;
}

export interface NodePartitionState {
  /** Per target node, the peer addresses whose traffic is dropped. */
  readonly peers: Readonly<Record<string, readonly string[]>>;
}

const KUBELET_PORT = 10250;

/**
 * Cuts nodes off from the control plane and/or the other nodes by dropping traffic to and from the
 * peers' InternalIPs in an iptables chain of gameday's own on each target (through node access);
 * nodes partitioned together still reach each other, so a zone can be cut off as a whole.
 */
export const nodePartition = {
  permissions: (): Permission[] => [{ why: "networkPartition of nodes: read the nodes' roles and addresses, to cut the chosen ones off from their peers", verbs: ['list'], resource: 'nodes' }],

  plan(p: NodePartitionParams, ctx: FaultPlanContext): PlannedTargets<NodeFaultTargets> {
    const from = (p.from ?? 'rest-of-cluster').replace(/-/g, ' ');
    const describe = (nodes: readonly string[], id: string): string =>
      `partition node${nodes.length === 1 ? '' : 's'} ${nodes.join(', ')} from the ${from} (${p.direction ?? 'both'} directions, iptables chain GAMEDAY-${id})`;
    return planNodeTargets(p, ctx, describe, { everyByDefault: true });
  },

  async inject(ctx: FaultContext, p: NodePartitionParams, t: NodeFaultTargets): Promise<NodePartitionState> {
    const access = requireNodeAccess(ctx, 'networkPartition of nodes');
    const scope = p.from ?? 'rest-of-cluster';
    const nodes = await listNodes(ctx.cluster.kubeConfig);
    const isTarget = new Set(t.nodes);
    const peerNodes = nodes.filter((n) => !isTarget.has(n.metadata?.name ?? '') && (scope === 'rest-of-cluster' || (scope === 'control-plane') === isControlPlane(n)));
    const addresses = peerNodes.map(internalIP).filter((a): a is string => a !== undefined);
    if (addresses.length === 0) throw new Error(`no ${scope.replace(/-/g, ' ')} node with an InternalIP to cut ${t.nodes.join(', ')} off from`);
    const peers: Record<string, string[]> = {};
    await onEveryNode(t.nodes, async (node) => {
      await access.blockTraffic(node, { id: t.id, peers: addresses, scope, direction: p.direction ?? 'both' });
      peers[node] = addresses;
      ctx.log(`node ${node}: dropping traffic ${p.direction ?? 'both ways'} with ${addresses.join(', ')}`);
    });
    return { peers };
  },

  async verify(ctx: FaultContext, p: NodePartitionParams, t: NodeFaultTargets, state: NodePartitionState): Promise<VerifyResult> {
    const access = requireNodeAccess(ctx, 'networkPartition of nodes');
    const port = p.verifyPort ?? KUBELET_PORT;
    const checks: { node: string; peer: string; port: number; result: Reachability }[] = [];
    for (const node of t.nodes) {
      const peer = state.peers[node]?.[0];
      if (!peer) continue;
      checks.push({ node, peer, port, result: await access.canReach(node, { address: peer, port, timeoutMs: p.verifyTimeout?.ms ?? 2000 }) });
    }
    const leaking = checks.filter((c) => c.result.reachable);
    if (checks.length === 0) return { landed: false, message: 'no partitioned node had a peer to check against' };
    if (leaking.length > 0) {
      return { landed: false, message: `traffic still gets through: ${leaking.map((c) => `${c.node} → ${c.peer}:${c.port} ${c.result.detail}`).join(', ')}`, evidence: checks };
    }
    return { landed: true, message: `dropped: ${checks.map((c) => `${c.node} → ${c.peer}:${c.port} ${c.result.detail}`).join(', ')}`, evidence: checks };
  },

  async revert(ctx: FaultContext, _p: NodePartitionParams, t: NodeFaultTargets): Promise<void> {
    const access = requireNodeAccess(ctx, 'networkPartition of nodes');
    // By the seeded id alone: a recover that never saw inject return still finds the chain.
    await onEveryNode(t.nodes, async (node) => {
      await access.unblockTraffic(node, t.id);
      ctx.log(`node ${node}: partition lifted`);
    });
  },
};
