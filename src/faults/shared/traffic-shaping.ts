import { ShapingUnsupportedError, type ShapedTraffic, type ShapeTrafficOptions } from '../../nodes/node-access.js';
import type { FaultContext, VerifyResult } from '../fault.js';
import { internalIP, listNodes, onEveryNode, requireNodeAccess, type NodeFaultTargets } from './node-fault-targets.js';

/** A node that cannot be shaped as asked (no sch_netem for a delay), and why. */
export interface NotShaped {
  readonly unsupported: string;
}

export type ShapingState = Readonly<Record<string, ShapedTraffic | NotShaped>>;

/**
 * What networkLatency and packetLoss share: tc netem on each target node's interface (the one
 * holding its InternalIP unless named), read back to verify, removed by the seeded id.
 */
export async function shapeNodes(ctx: FaultContext, kind: string, t: NodeFaultTargets, shaping: Omit<ShapeTrafficOptions, 'id' | 'address'>): Promise<ShapingState> {
  const access = requireNodeAccess(ctx, kind);
  const addresses = new Map((await listNodes(ctx.cluster.kubeConfig)).map((n) => [n.metadata?.name ?? '', internalIP(n)]));
  const state: Record<string, ShapedTraffic | NotShaped> = {};
  await onEveryNode(t.nodes, async (node) => {
    try {
      const shaped = await access.shapeTraffic(node, { ...shaping, id: t.id, address: addresses.get(node) });
      state[node] = shaped;
      ctx.log(`node ${node}: shaping ${shaped.interface} with ${shaped.method}`);
    } catch (err) {
      // The node cannot do it at all: the fault does not land (inconclusive), gameday did not fail.
      if (!(err instanceof ShapingUnsupportedError)) throw err;
      state[node] = { unsupported: err.message };
      ctx.log(err.message);
    }
  });
  return state;
}

export async function verifyShaping(ctx: FaultContext, kind: string, t: NodeFaultTargets, what: string, state: ShapingState): Promise<VerifyResult> {
  const unsupported = Object.values(state).flatMap((s) => ('unsupported' in s ? [s.unsupported] : []));
  if (unsupported.length > 0) return { landed: false, message: `no ${what} is possible here, so this run cannot judge it: ${unsupported.join('; ')}`, evidence: state };
  const access = requireNodeAccess(ctx, kind);
  const seen = await Promise.all(t.nodes.map(async (node) => ({ node, shaping: await access.isShaping(node, t.id) })));
  const missing = seen.filter((s) => !s.shaping).map((s) => s.node);
  if (missing.length > 0) return { landed: false, message: `no ${what} in place on ${missing.join(', ')}`, evidence: seen };
  return { landed: true, message: `${what} in place on ${t.nodes.join(', ')}`, evidence: seen };
}

export async function unshapeNodes(ctx: FaultContext, kind: string, t: NodeFaultTargets): Promise<void> {
  const access = requireNodeAccess(ctx, kind);
  await onEveryNode(t.nodes, async (node) => {
    await access.unshapeTraffic(node, t.id);
    ctx.log(`node ${node}: shaping removed`);
  });
}
