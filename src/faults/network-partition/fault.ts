import { z } from 'zod';
import type { FaultPlugin } from '../fault.js';
import type { NodeFaultTargets } from '../shared/node-fault-targets.js';
import { podsOrNodes, requireOneForm } from '../shared/pods-or-nodes.js';
import { nodePartition, nodePartitionFields, type NodePartitionState } from './nodes.js';
import { podPartition, podPartitionParams, type PodPartitionState, type PodPartitionTargets } from './pods.js';

const podFields = podPartitionParams.shape;

/**
 * One mapping for both forms, told apart by `pods:` or `nodes:`, rather than a union: a union's
 * error would say only "matches none of the forms", where this names the wrong key.
 */
const params = z
  .strictObject({
    pods: podFields.pods.optional(),
    nodes: nodePartitionFields.nodes.optional(),
    count: nodePartitionFields.count.describe('how many of the matching pods or nodes: a number or a percentage (rounded up). @default every matching one'),
    direction: podFields.direction,
    from: nodePartitionFields.from,
    verifyPort: nodePartitionFields.verifyPort,
    verifyTimeout: podFields.verifyTimeout,
  })
  .superRefine((p, ctx) => {
    requireOneForm(p, ctx, { pods: 'cut pods off with a NetworkPolicy', nodes: 'cut nodes off with iptables through node access' });
    if (p.pods !== undefined) {
      for (const key of ['from', 'verifyPort'] as const) {
        if (p[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `${key} applies to a partition of nodes:, not of pods:` });
      }
    }
  });
type Params = z.output<typeof params>;
type Targets = PodPartitionTargets | NodeFaultTargets;
type State = PodPartitionState | NodePartitionState;

/**
 * Cuts pods or nodes off from the rest of the cluster: pods with a NetworkPolicy (any cluster
 * whose CNI enforces policies), nodes with iptables rules through node access.
 */
export const networkPartition: FaultPlugin<Params, Targets, State> = {
  kind: 'networkPartition',
  summary: 'cut pods (NetworkPolicy) or nodes (iptables through node access) off from the rest of the cluster; verified by traffic that must be dropped',
  params,
  ...podsOrNodes(podPartition, nodePartition),
};
