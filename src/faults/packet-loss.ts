import { z } from 'zod';
import { nodeSelectorSchema } from '../spec/selector-schemas.js';
import { percentSchema } from '../spec/value-schemas.js';
import type { FaultPlugin } from './fault.js';
import { countSchema } from './shared/count.js';
import { planNodeTargets, type NodeFaultTargets } from './shared/node-fault-targets.js';
import { shapeNodes, unshapeNodes, verifyShaping, type ShapingState } from './shared/traffic-shaping.js';

const params = z.strictObject({
  nodes: nodeSelectorSchema.describe('the nodes whose packets are dropped'),
  count: countSchema.optional().describe('how many of the matching nodes: a number or a percentage (rounded up). @default 1'),
  loss: percentSchema.refine((l) => l.value > 0, { error: 'a loss of 0% would change nothing; write a share like 30%' }).describe('share of packets dropped, like 30%'),
  interface: z.string().min(1).optional().describe("network interface to shape. @default the one holding the node's InternalIP, else eth0"),
});
type Params = z.output<typeof params>;

/**
 * Drops a share of a node's packets (tc netem; iptables' statistic match where the kernel has no
 * netem): TCP retransmits, so services see latency spikes and timeouts rather than clean errors.
 */
export const packetLoss: FaultPlugin<Params, NodeFaultTargets, ShapingState> = {
  kind: 'packetLoss',
  summary: "drop a share of nodes' packets (tc netem through node access)",
  params,
  needsNodeAccess: true,
  permissions: () => [{ why: "packetLoss: read the nodes' addresses, to find the interface to shape", verbs: ['list'], resource: 'nodes' }],

  plan(p, ctx) {
    return planNodeTargets(p, ctx, (nodes) => `drop ${p.loss} of the packets of node${nodes.length === 1 ? '' : 's'} ${nodes.join(', ')}`);
  },

  inject(ctx, p, t) {
    return shapeNodes(ctx, 'packetLoss', t, { lossPercent: p.loss.value, ...(p.interface ? { interface: p.interface } : {}) });
  },

  verify(ctx, p, t, state) {
    return verifyShaping(ctx, 'packetLoss', t, `${p.loss} packet loss`, state);
  },

  revert(ctx, _p, t) {
    return unshapeNodes(ctx, 'packetLoss', t);
  },
};
