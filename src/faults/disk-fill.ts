import { z } from 'zod';
import { Percent, type Quantity } from '../core/quantity.js';
import type { DiskFill, DiskUsage } from '../nodes/node-access.js';
import { nodeSelectorSchema } from '../spec/selector-schemas.js';
import { quantityOrPercentSchema } from '../spec/value-schemas.js';
import { countSchema } from './count.js';
import type { FaultPlugin } from './fault.js';
import { onEveryNode, planNodeTargets, requireNodeAccess, type NodeFaultTargets } from './node-fault-targets.js';

const params = z.strictObject({
  nodes: nodeSelectorSchema.describe("the nodes whose filesystem is filled"),
  count: countSchema.optional().describe('how many of the matching nodes: a number or a percentage (rounded up). @default 1'),
  path: z.string().startsWith('/', { error: 'path is an absolute directory on the node, like /var/lib' }).optional().describe('a directory on the filesystem to fill; the file gameday-fill-<id> is made there. @default /var/lib'),
  fill: quantityOrPercentSchema.describe('how much: a size to allocate (2Gi) or how full the filesystem should end up (95%)'),
});
type Params = z.output<typeof params>;

interface Filled {
  readonly fill: DiskFill;
  readonly before: DiskUsage;
}
type State = Readonly<Record<string, Filled>>;

const DEFAULT_PATH = '/var/lib';
/** Rounding of df and of the filesystem's blocks: a fill within this of its target has landed. */
const SLACK_PERCENT = 1;

const usedShare = (u: DiskUsage): number => (100 * u.usedBytes) / Math.max(1, u.usedBytes + u.availableBytes);

/**
 * Fills a node's filesystem with one allocated file (fallocate, dd where unsupported), as runaway
 * logs or images would; the kubelet's eviction thresholds and the pods' writes are what it tests.
 */
export const diskFill: FaultPlugin<Params, NodeFaultTargets, State> = {
  kind: 'diskFill',
  summary: "fill a node's filesystem to a percentage or by a size (a file allocated through node access)",
  params,
  needsNodeAccess: true,

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
