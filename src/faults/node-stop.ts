import { z } from 'zod';
import { isNotFound } from '../cluster/api-errors.js';
import { Duration } from '../core/duration.js';
import type { NodeAccess } from '../nodes/node-access.js';
import { nodeSelectorSchema } from '../spec/selector-schemas.js';
import { positiveDurationSchema } from '../spec/value-schemas.js';
import type { FaultContext, FaultPlugin } from './fault.js';
import { countSchema } from './shared/count.js';
import { onEveryNode, planNodeTargets, readNode, requireNodeAccess, type NodeFaultTargets } from './shared/node-fault-targets.js';
import { waitFor } from './shared/wait-for.js';

const params = z.strictObject({
  nodes: nodeSelectorSchema.describe('the nodes to stop'),
  count: countSchema.optional().describe('how many of the matching nodes: a number or a percentage (rounded up). @default 1'),
  mode: z.enum(['stop', 'pause'], { error: 'mode is stop or pause' }).optional().describe('stop: the node dies at once (kind: docker stop; embedded: a crash); pause: it freezes (docker pause). @default stop'),
  notReadyWithin: positiveDurationSchema
    .optional()
    .describe("also verify that Kubernetes notices: the Node's Ready condition must leave True within this (about 50s on a default cluster). @default not waited for"),
  readyTimeout: positiveDurationSchema.optional().describe('how long the revert waits for the restarted node to be Ready again. @default 2m'),
});
type Params = z.output<typeof params>;

async function readyStatus(ctx: FaultContext, node: string): Promise<string> {
  try {
    const n = await readNode(ctx.cluster.kubeConfig, node);
    return n.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? 'Unknown';
  } catch (err) {
    if (isNotFound(err)) return 'gone';
    throw err;
  }
}

function stopping(ctx: FaultContext): NodeAccess & Required<Pick<NodeAccess, 'stop' | 'start'>> {
  const access = requireNodeAccess(ctx, 'nodeStop');
  if (!access.stop || !access.start) throw new Error(`nodeStop: the ${access.provider} node access cannot stop nodes (kind and the embedded cluster can)`);
  return access as NodeAccess & Required<Pick<NodeAccess, 'stop' | 'start'>>;
}

/**
 * Stops or freezes whole nodes, the way a power loss or a hung VM does: kubelet and containers go
 * silent together. Revert starts them and waits until the Node is Ready again.
 */
export const nodeStop: FaultPlugin<Params, NodeFaultTargets, readonly string[]> = {
  kind: 'nodeStop',
  summary: 'stop or pause whole nodes (kind: the node container; embedded: a node crash) and start them again',
  params,
  needsNodeAccess: true,
  permissions: () => [{ why: "nodeStop: read the node's Ready condition", verbs: ['get'], resource: 'nodes' }],

  plan(p, ctx) {
    return planNodeTargets(p, ctx, (nodes) => `${p.mode ?? 'stop'} node${nodes.length === 1 ? '' : 's'} ${nodes.join(', ')}`);
  },

  async inject(ctx, p, t) {
    const access = stopping(ctx);
    await onEveryNode(t.nodes, async (node) => {
      await access.stop(node, p.mode ?? 'stop');
      ctx.log(`node ${node}: ${p.mode === 'pause' ? 'paused' : 'stopped'}`);
    });
    return t.nodes;
  },

  async verify(ctx, p, t) {
    const access = stopping(ctx);
    const seen = await Promise.all(t.nodes.map(async (node) => ({ node, stopped: access.isStopped ? await access.isStopped(node) : undefined })));
    const running = seen.filter((s) => s.stopped === false).map((s) => s.node);
    if (running.length > 0) return { landed: false, message: `${access.provider} reports still running: ${running.join(', ')}`, evidence: seen };
    if (!p.notReadyWithin) return { landed: true, message: `${access.provider} reports stopped: ${t.nodes.join(', ')}`, evidence: seen };
    const result = await waitFor(p.notReadyWithin, ctx.signal, async () => {
      const ready = (await Promise.all(t.nodes.map(async (node) => ({ node, ready: await readyStatus(ctx, node) })))).filter((r) => r.ready === 'True');
      return ready.length === 0 ? true : ready.map((r) => r.node);
    }, 500);
    if (result === true) return { landed: true, message: `stopped and no longer Ready: ${t.nodes.join(', ')}`, evidence: seen };
    return { landed: false, message: `stopped, but still Ready after ${p.notReadyWithin}: ${result.join(', ')}`, evidence: seen };
  },

  async revert(ctx, p, t) {
    const access = stopping(ctx);
    await onEveryNode(t.nodes, (node) => access.start(node, p.mode ?? 'stop'));
    const timeout = p.readyTimeout ?? Duration.minutes(2);
    const result = await waitFor(timeout, ctx.signal, async () => {
      const notReady = (await Promise.all(t.nodes.map(async (node) => ({ node, ready: await readyStatus(ctx, node) })))).filter((r) => r.ready !== 'True' && r.ready !== 'gone');
      return notReady.length === 0 ? true : notReady.map((r) => `${r.node} (Ready=${r.ready})`);
    }, 500);
    if (result !== true) throw new Error(`started, but not Ready within ${timeout}: ${result.join(', ')}`);
    ctx.log(`started and Ready again: ${t.nodes.join(', ')}`);
  },
};
