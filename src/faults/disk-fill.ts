import { z } from 'zod';
import { Percent, type Quantity } from '../core/quantity.js';
import type { DiskFill, DiskUsage } from '../nodes/node-access.js';
import { nodeSelectorSchema } from '../spec/selector-schemas.js';
import { quantityOrPercentSchema } from '../spec/value-schemas.js';
import { SLACK_PERCENT, usedShare } from './df-output.js';
import { podDiskFill, podDiskFillFields, type PodDiskFillState, type PodDiskFillTargets } from './disk-fill-pods.js';
import type { FaultPlugin } from './fault.js';
import { countSchema } from './shared/count.js';
import { onEveryNode, planNodeTargets, requireNodeAccess, type NodeFaultTargets, type NodeTargetParams } from './shared/node-fault-targets.js';
import { podsOrNodes, type FaultSteps } from './shared/pods-or-nodes.js';

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
    if ((p.pods === undefined) === (p.nodes === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'give either pods: (fill a volume from inside the pods, through exec) or nodes: (fill a node filesystem through node access), ' + (p.pods ? 'not both' : 'one of them'),
      });
    }
    if (p.pods !== undefined && p.path === undefined) {
      ctx.addIssue({ code: 'custom', path: ['path'], message: 'a fill of pods needs path: the mount path of the volume to fill, like /data' });
    }
    if (p.nodes !== undefined && p.container !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['container'], message: 'container applies to a fill of pods:, not of nodes:' });
    }
  });
type Params = z.output<typeof params>;
type NodeParams = NodeTargetParams & { readonly path?: string; readonly fill: Quantity | Percent };
type Targets = PodDiskFillTargets | NodeFaultTargets;
type State = PodDiskFillState | NodeFillState;

interface Filled {
  readonly fill: DiskFill;
  readonly before: DiskUsage;
}
type NodeFillState = Readonly<Record<string, Filled>>;

const DEFAULT_PATH = '/var/lib';

/** The node half: a file allocated on the node's filesystem through node access. */
const nodeDiskFill: FaultSteps<NodeParams, NodeFaultTargets, NodeFillState> = {
  plan(p, ctx) {
    const how = p.fill instanceof Percent ? `to ${p.fill}` : `with ${p.fill}`;
    return planNodeTargets(p, ctx, (nodes) => `fill ${p.path ?? DEFAULT_PATH} on node${nodes.length === 1 ? '' : 's'} ${nodes.join(', ')} ${how}`);
  },

  async inject(ctx, p, t) {
    const access = requireNodeAccess(ctx, 'diskFill');
    const path = p.path ?? DEFAULT_PATH;
    const amount = p.fill instanceof Percent ? { percent: p.fill.value } : { bytes: (p.fill as Quantity).bytes };
    const state: Record<string, Filled> = {};
    await onEveryNode(t.nodes, async (node) => {
      const before = await access.diskUsage(node, path);
      const fill = await access.fillDisk(node, { id: t.id, path, ...amount });
      state[node] = { fill, before };
      ctx.log(`node ${node}: allocated ${fill.bytes} bytes at ${fill.file}`);
    });
    return state;
  },

  async verify(ctx, p, t, state) {
    const access = requireNodeAccess(ctx, 'diskFill');
    const path = p.path ?? DEFAULT_PATH;
    const seen = await Promise.all(t.nodes.map(async (node) => ({ node, usage: await access.diskUsage(node, path), filled: state[node] })));
    const short = seen.filter(({ usage, filled }) => {
      if (p.fill instanceof Percent) return usedShare(usage) < p.fill.value - SLACK_PERCENT;
      // A size lands when it was allocated in full, or when it took all the free space there was.
      const wanted = (p.fill as Quantity).bytes;
      return !filled || (filled.fill.bytes < wanted && usage.availableBytes > filled.before.availableBytes * (SLACK_PERCENT / 100));
    });
    const describe = (s: (typeof seen)[number]): string => `${s.node} ${usedShare(s.usage).toFixed(1)}% used (${s.usage.availableBytes} bytes free)`;
    if (short.length > 0) return { landed: false, message: `not filled as asked (${p.fill}): ${short.map(describe).join(', ')}`, evidence: seen };
    return { landed: true, message: `filled: ${seen.map(describe).join(', ')}`, evidence: seen };
  },

  async revert(ctx, p, t) {
    const access = requireNodeAccess(ctx, 'diskFill');
    await onEveryNode(t.nodes, async (node) => {
      await access.freeDisk(node, { id: t.id, path: p.path ?? DEFAULT_PATH });
      ctx.log(`node ${node}: fill removed`);
    });
  },
};

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
