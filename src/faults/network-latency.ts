import { z } from 'zod';
import { nodeSelectorSchema } from '../spec/selector-schemas.js';
import { durationSchema, positiveDurationSchema } from '../spec/value-schemas.js';
import type { FaultPlugin } from './fault.js';
import { countSchema } from './shared/count.js';
import { planNodeTargets, type NodeFaultTargets } from './shared/node-fault-targets.js';
import { shapeNodes, unshapeNodes, verifyShaping, type ShapingState } from './shared/traffic-shaping.js';

const params = z.strictObject({
  nodes: nodeSelectorSchema.describe('the nodes whose traffic is delayed'),
  count: countSchema.optional().describe('how many of the matching nodes: a number or a percentage (rounded up). @default 1'),
  delay: positiveDurationSchema.describe('added to every packet leaving the node, like 200ms'),
  jitter: durationSchema.optional().describe('random variation of the delay, plus or minus, like 20ms'),
  interface: z.string().min(1).optional().describe("network interface to shape. @default the one holding the node's InternalIP, else eth0"),
});
type Params = z.output<typeof params>;

/** Slows a node's network with tc netem: what a congested link or a far-away zone does to a service. */
export const networkLatency: FaultPlugin<Params, NodeFaultTargets, ShapingState> = {
  kind: 'networkLatency',
  summary: "add delay to nodes' network traffic (tc netem through node access)",
  params,
  needsNodeAccess: true,
  permissions: () => [{ why: "networkLatency: read the nodes' addresses, to find the interface to shape", verbs: ['list'], resource: 'nodes' }],

  plan(p, ctx) {
    const jitter = p.jitter && p.jitter.ms > 0 ? ` ± ${p.jitter}` : '';
    return planNodeTargets(p, ctx, (nodes) => `delay traffic of node${nodes.length === 1 ? '' : 's'} ${nodes.join(', ')} by ${p.delay}${jitter}`);
  },

  inject(ctx, p, t) {
    return shapeNodes(ctx, 'networkLatency', t, { delayMs: p.delay.ms, ...(p.jitter ? { jitterMs: p.jitter.ms } : {}), ...(p.interface ? { interface: p.interface } : {}) });
  },

  verify(ctx, p, t, state) {
    return verifyShaping(ctx, 'networkLatency', t, `delay of ${p.delay}`, state);
  },

  revert(ctx, _p, t) {
    return unshapeNodes(ctx, 'networkLatency', t);
  },
};
