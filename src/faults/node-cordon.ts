import { CoreV1Api } from '@kubernetes/client-node';
import { z } from 'zod';
import { chooseCount, selectNodes } from '../plan/select.js';
import { nodeSelectorSchema } from '../spec/selector-schemas.js';
import type { FaultPlugin } from './fault.js';
import { cordonNode, NODE_CORDON_PERMISSIONS, uncordonNode } from './shared/cordon.js';
import { countSchema } from './shared/count.js';

const params = z.strictObject({
  nodes: nodeSelectorSchema.describe('which nodes may be cordoned'),
  count: countSchema.optional().describe('how many of the matching nodes: a number or a percentage (rounded up). @default 1'),
});
type Params = z.output<typeof params>;

interface Cordoned {
  /** The nodes this fault cordoned; nodes that were already unschedulable are left out (and left cordoned). */
  readonly cordoned: readonly string[];
  readonly alreadyCordoned: readonly string[];
}

/** Marks nodes unschedulable: running pods stay, new pods go elsewhere. */
export const nodeCordon: FaultPlugin<Params, string[], Cordoned> = {
  kind: 'nodeCordon',
  summary: 'mark nodes unschedulable (kubectl cordon); running pods stay, new ones go elsewhere',
  params,

  permissions: () => NODE_CORDON_PERMISSIONS('nodeCordon'),

  plan(p, { snapshot, rng }) {
    const nodes = chooseCount(rng, selectNodes(snapshot, p.nodes), p.count ?? 1).map((n) => n.name);
    return { targets: nodes, touches: { nodes, pods: [] }, description: `cordon node${nodes.length === 1 ? '' : 's'} ${nodes.join(', ')}` };
  },

  async inject(ctx, _p, nodes) {
    const cordoned: string[] = [];
    const alreadyCordoned: string[] = [];
    for (const name of nodes) {
      if (await cordonNode(ctx.cluster.kubeConfig, name)) cordoned.push(name);
      else alreadyCordoned.push(name);
    }
    if (alreadyCordoned.length > 0) ctx.log(`already unschedulable, left as found: ${alreadyCordoned.join(', ')}`);
    return { cordoned, alreadyCordoned };
  },

  async verify(ctx, _p, nodes) {
    const api = ctx.cluster.kubeConfig.makeApiClient(CoreV1Api);
    const schedulable: string[] = [];
    for (const name of nodes) if (!(await api.readNode({ name })).spec?.unschedulable) schedulable.push(name);
    if (schedulable.length > 0) return { landed: false, message: `still schedulable: ${schedulable.join(', ')}` };
    return { landed: true, message: `unschedulable: ${nodes.join(', ')}` };
  },

  async revert(ctx, _p, nodes) {
    for (const name of nodes) if (await uncordonNode(ctx.cluster.kubeConfig, name)) ctx.log(`uncordoned ${name}`);
  },
};
