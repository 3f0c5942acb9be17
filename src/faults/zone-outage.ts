import { z } from 'zod';
import { positiveDurationSchema } from '../spec/value-schemas.js';
import type { FaultPlugin } from './fault.js';
import { nodePartition, nodePartitionFields, type NodePartitionState } from './network-partition/nodes.js';
import { nodeStop } from './node-stop.js';
import { planNodeTargets, type NodeFaultTargets } from './shared/node-fault-targets.js';

/** The well-known label a zone is read from, as the scheduler's topology spreading reads it. */
export const ZONE_LABEL = 'topology.kubernetes.io/zone';

const params = z
  .strictObject({
    zone: z.string().min(1, { error: 'zone is the value of the nodes\' topology.kubernetes.io/zone label' }).describe(`the zone whose every node goes: the value of the nodes' ${ZONE_LABEL} label`),
    mode: z
      .enum(['partition', 'stop'], { error: 'mode is partition or stop' })
      .optional()
      .describe('partition: the zone is cut off from the rest of the cluster (iptables, as networkPartition of nodes); stop: every node of the zone stops at once (as nodeStop). @default partition'),
    from: nodePartitionFields.from,
    verifyPort: nodePartitionFields.verifyPort,
    notReadyWithin: positiveDurationSchema
      .optional()
      .describe("mode stop: also verify that Kubernetes notices, every node's Ready condition leaving True within this. @default not waited for"),
    readyTimeout: positiveDurationSchema.optional().describe('mode stop: how long the revert waits for the nodes to be Ready again. @default 2m'),
  })
  .superRefine((p, ctx) => {
    const mode = p.mode ?? 'partition';
    const only = mode === 'stop' ? (['from', 'verifyPort'] as const) : (['notReadyWithin', 'readyTimeout'] as const);
    for (const key of only) {
      if (p[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `${key} applies to mode ${mode === 'stop' ? 'partition' : 'stop'}, not to mode ${mode}` });
    }
  });
type Params = z.output<typeof params>;
type State = NodePartitionState | readonly string[];

/** The params of the node fault the outage acts through, for the zone's nodes by name. */
function asNodeStop(p: Params, t: NodeFaultTargets): z.output<typeof nodeStop.params> {
  return { nodes: { names: [...t.nodes] }, mode: 'stop', ...(p.notReadyWithin ? { notReadyWithin: p.notReadyWithin } : {}), ...(p.readyTimeout ? { readyTimeout: p.readyTimeout } : {}) };
}

function asPartition(p: Params, t: NodeFaultTargets): Parameters<typeof nodePartition.inject>[1] {
  return { nodes: { names: [...t.nodes] }, ...(p.from ? { from: p.from } : {}), ...(p.verifyPort ? { verifyPort: p.verifyPort } : {}) };
}

/**
 * Takes a whole availability zone away: every node labelled with the zone is partitioned or
 * stopped together, and brought back together. It acts through the node faults' own machinery
 * (networkPartition of nodes, nodeStop), so verify and revert mean the same as theirs. The plan
 * reports the zone in `touches.zones`: the blast radius refuses it unless
 * `spec.blastRadius.allowZoneOutage` is true.
 */
export const zoneOutage: FaultPlugin<Params, NodeFaultTargets, State> = {
  kind: 'zoneOutage',
  summary: `take a whole zone (${ZONE_LABEL}) out: partition or stop all its nodes together, and bring them back together; needs spec.blastRadius.allowZoneOutage`,
  params,
  needsNodeAccess: true,
  permissions: (p) => ((p.mode ?? 'partition') === 'stop' ? nodeStop.permissions!(asNodeStop(p, { id: '', nodes: [] })) : nodePartition.permissions()),

  plan(p, ctx) {
    const mode = p.mode ?? 'partition';
    const from = (p.from ?? 'rest-of-cluster').replace(/-/g, ' ');
    const planned = planNodeTargets({ nodes: { labels: { [ZONE_LABEL]: p.zone } } }, ctx, (nodes, id) =>
      mode === 'stop'
        ? `stop zone ${p.zone}: node${nodes.length === 1 ? '' : 's'} ${nodes.join(', ')}${nodes.length > 1 ? ' together' : ''}`
        : `partition zone ${p.zone}: node${nodes.length === 1 ? '' : 's'} ${nodes.join(', ')}${nodes.length > 1 ? ' together' : ''} from the ${from} (iptables chain GAMEDAY-${id})`,
    { everyByDefault: true });
    return { ...planned, touches: { ...planned.touches, zones: [p.zone] } };
  },

  async inject(ctx, p, t) {
    return (p.mode ?? 'partition') === 'stop' ? nodeStop.inject(ctx, asNodeStop(p, t), t) : nodePartition.inject(ctx, asPartition(p, t), t);
  },

  async verify(ctx, p, t, state) {
    if ((p.mode ?? 'partition') === 'stop') return nodeStop.verify(ctx, asNodeStop(p, t), t, state as readonly string[]);
    return nodePartition.verify(ctx, asPartition(p, t), t, state as NodePartitionState);
  },

  async revert(ctx, p, t, state) {
    if ((p.mode ?? 'partition') === 'stop') return nodeStop.revert(ctx, asNodeStop(p, t), t, state as readonly string[] | undefined);
    return nodePartition.revert(ctx, asPartition(p, t), t);
  },
};
