import { CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig, type V1Taint } from '@kubernetes/client-node';
import { z } from 'zod';
import { isConflict, isInvalid, isNotFound } from '../cluster/api-errors.js';
import { chooseCount, selectNodes } from '../plan/select.js';
import { nodeSelectorSchema } from '../spec/selector-schemas.js';
import type { FaultPlugin } from './fault.js';
import { countSchema } from './shared/count.js';

const taintSchema = z
  .strictObject({
    key: z.string().min(1, { error: 'a taint needs a key, like example.com/gameday' }).describe('taint key, e.g. gameday.dev/chaos'),
    value: z.string().optional().describe('taint value (optional)'),
    effect: z
      .enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute'], { error: 'effect is one of NoSchedule, PreferNoSchedule or NoExecute' })
      .describe('NoSchedule keeps new pods off; PreferNoSchedule discourages them; NoExecute also evicts running pods that do not tolerate it'),
  })
  .describe('the taint to add');

const params = z.strictObject({
  nodes: nodeSelectorSchema.describe('which nodes may be tainted'),
  count: countSchema.optional().describe('how many of the matching nodes: a number or a percentage (rounded up). @default 1'),
  taint: taintSchema,
});
type Params = z.output<typeof params>;
type Taint = z.output<typeof taintSchema>;

interface Tainted {
  /** Nodes that got the taint from this fault; nodes that already carried it are left as found. */
  readonly tainted: readonly string[];
}

const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
/** Attempts at a read-modify-write before giving up on a node that changes under us. */
const CONFLICT_RETRIES = 5;

const sameTaint = (a: V1Taint, b: Taint): boolean => a.key === b.key && a.effect === b.effect && (a.value ?? '') === (b.value ?? '');
const taintText = (t: Taint): string => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`;

/**
 * Changes a node's taints by read-modify-write, guarded by a JSON-patch `test` of resourceVersion
 * so a concurrent change (the node lifecycle controller adds and removes taints too) is never
 * overwritten; returns whether `change` changed anything.
 */
async function updateTaints(kubeConfig: KubeConfig, name: string, change: (taints: V1Taint[]) => V1Taint[] | undefined): Promise<boolean> {
  const api = kubeConfig.makeApiClient(CoreV1Api);
  for (let attempt = 1; ; attempt++) {
    const node = await api.readNode({ name });
    const next = change(node.spec?.taints ?? []);
    if (!next) return false;
    const body = [
      { op: 'test', path: '/metadata/resourceVersion', value: node.metadata?.resourceVersion },
      // An empty list is removed rather than written, so a node that had no taints ends with none.
      next.length === 0 ? { op: 'remove', path: '/spec/taints' } : { op: 'add', path: '/spec/taints', value: next },
    ];
    try {
      await api.patchNode({ name, body }, jsonPatch);
      return true;
    } catch (err) {
      // The resourceVersion test failing is answered 422 (a JSON patch that does not apply), a write race 409.
      const conflict = isConflict(err) || isInvalid(err);
      if (!conflict || attempt >= CONFLICT_RETRIES) throw err;
    }
  }
}

/** Adds one taint to nodes; revert removes exactly that taint and nothing else. */
export const nodeTaint: FaultPlugin<Params, string[], Tainted> = {
  kind: 'nodeTaint',
  summary: 'add a taint to nodes (NoSchedule, PreferNoSchedule, or NoExecute which also evicts)',
  params,

  permissions: () => [{ why: 'nodeTaint: read the node and add the taint (patch), and remove it on revert', verbs: ['get', 'patch'], resource: 'nodes' }],

  plan(p, { snapshot, rng }) {
    const nodes = chooseCount(rng, selectNodes(snapshot, p.nodes), p.count ?? 1).map((n) => n.name);
    return { targets: nodes, touches: { nodes, pods: [] }, description: `taint node${nodes.length === 1 ? '' : 's'} ${nodes.join(', ')} with ${taintText(p.taint)}` };
  },

  async inject(ctx, p, nodes) {
    const tainted: string[] = [];
    const taint: V1Taint = { key: p.taint.key, effect: p.taint.effect, ...(p.taint.value !== undefined ? { value: p.taint.value } : {}) };
    for (const name of nodes) {
      const added = await updateTaints(ctx.cluster.kubeConfig, name, (taints) => (taints.some((t) => sameTaint(t, p.taint)) ? undefined : [...taints, taint]));
      if (added) tainted.push(name);
      else ctx.log(`node ${name} already carries ${taintText(p.taint)}; left as found`);
    }
    return { tainted };
  },

  async verify(ctx, p, nodes) {
    const api = ctx.cluster.kubeConfig.makeApiClient(CoreV1Api);
    const missing: string[] = [];
    for (const name of nodes) if (!(await api.readNode({ name })).spec?.taints?.some((t) => sameTaint(t, p.taint))) missing.push(name);
    if (missing.length > 0) return { landed: false, message: `${taintText(p.taint)} missing on ${missing.join(', ')}` };
    return { landed: true, message: `${nodes.join(', ')} carr${nodes.length === 1 ? 'ies' : 'y'} ${taintText(p.taint)}` };
  },

  async revert(ctx, p, nodes, state) {
    // Without state (inject never returned) every target may carry our taint: remove it wherever it is.
    for (const name of state?.tainted ?? nodes) {
      try {
        const removed = await updateTaints(ctx.cluster.kubeConfig, name, (taints) => (taints.some((t) => sameTaint(t, p.taint)) ? taints.filter((t) => !sameTaint(t, p.taint)) : undefined));
        if (removed) ctx.log(`removed ${taintText(p.taint)} from ${name}`);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  },
};
