import { Percent, type Quantity } from '../../core/quantity.js';
import type { DiskFill, DiskUsage } from '../../nodes/node-access.js';
import { onEveryNode, planNodeTargets, requireNodeAccess, type NodeFaultTargets, type NodeTargetParams } from '../shared/node-fault-targets.js';
import type { FaultSteps } from '../shared/pods-or-nodes.js';
import { SLACK_PERCENT, usedShare } from './df-output.js';

type NodeParams = NodeTargetParams & { readonly path?: string; readonly fill: Quantity | Percent };

interface Filled {
  readonly fill: DiskFill;
  readonly before: DiskUsage;
}
export type NodeFillState = Readonly<Record<string, Filled>>;

const DEFAULT_PATH = '/var/lib';

/** The node half: a file allocated on the node's filesystem through node access. */
export const nodeDiskFill: FaultSteps<NodeParams, NodeFaultTargets, NodeFillState> = {
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
