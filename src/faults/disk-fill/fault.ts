import { z } from 'zod';
import { nodeSelectorSchema } from '../../spec/selector-schemas.js';
import { quantityOrPercentSchema } from '../../spec/value-schemas.js';
import type { FaultPlugin } from '../fault.js';
import { countSchema } from '../shared/count.js';
import type { NodeFaultTargets } from '../shared/node-fault-targets.js';
import { podsOrNodes, requireOneForm } from '../shared/pods-or-nodes.js';
import { nodeDiskFill, type NodeFillState } from './nodes.js';
import { podDiskFill, podDiskFillFields, type PodDiskFillState, type PodDiskFillTargets } from './pods.js';

/**
 * One mapping for both forms, told apart by `pods:` or `nodes:`, rather than a union: a union's
 * error would say only "matches none of the forms", where this names the wrong key.
 */
const params = z
  .strictObject({
    pods: podDiskFillFields.pods.optional(),
    nodes: nodeSelectorSchema.optional().describe("the nodes whose filesystem is filled, through node access"),
    container: podDiskFillFields.container,
    count: countSchema.optional().describe('how many of the matching pods or nodes: a number or a percentage (rounded up). @default 1'),
    path: z
      .string({ error: 'path is an absolute directory, like /data' })
      .startsWith('/', { error: 'path is an absolute directory, like /data in a pod or /var/lib on a node' })
      .optional()
      .describe('the directory to fill; the file gameday-fill-<id> is made there. pods: a volume the container mounts (required); nodes: a directory on the node. @default /var/lib on a node'),
    fill: quantityOrPercentSchema.describe('how much: a size to allocate (2Gi) or how full the filesystem should end up (95%)'),
  })
  .superRefine((p, ctx) => {
    requireOneForm(p, ctx, { pods: 'fill a volume from inside the pods, through exec', nodes: 'fill a node filesystem through node access' });
    if (p.pods !== undefined && p.path === undefined) {
      ctx.addIssue({ code: 'custom', path: ['path'], message: 'a fill of pods needs path: the mount path of the volume to fill, like /data' });
    }
    if (p.nodes !== undefined && p.container !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['container'], message: 'container applies to a fill of pods:, not of nodes:' });
    }
  });
type Params = z.output<typeof params>;
type Targets = PodDiskFillTargets | NodeFaultTargets;
type State = PodDiskFillState | NodeFillState;

/**
 * Fills a filesystem with one allocated file (fallocate, dd where unsupported), as runaway logs
 * or images would: a pod's volume from inside the pod (exec, any cluster), or a node's filesystem
 * through node access. The kubelet's eviction thresholds and the pods' writes are what it tests.
 */
export const diskFill: FaultPlugin<Params, Targets, State> = {
  kind: 'diskFill',
  summary: "fill a pod's volume (exec) or a node's filesystem (node access) to a percentage or by a size",
  params,
  ...podsOrNodes(podDiskFill, nodeDiskFill),
};
