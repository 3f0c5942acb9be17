import type { z } from 'zod';
import type { FaultPlugin } from '../fault.js';

/** The four steps of one form of a fault, and what it does through the API. */
export type FaultSteps<P, T, S> = Pick<FaultPlugin<P, T, S>, 'plan' | 'inject' | 'verify' | 'revert' | 'permissions'>;

/**
 * A fault with two forms told apart by its params — `pods:` (through the API) or `nodes:`
 * (through node access) — as one set of steps: each goes to the form the params name. Targets
 * and state were made by that same form from the same params, so they fit it.
 */
export function podsOrNodes<P extends { readonly nodes?: unknown }, PP, PT, PS, NP, NT, NS>(
  pods: FaultSteps<PP, PT, PS>,
  nodes: FaultSteps<NP, NT, NS>,
): FaultSteps<P, PT | NT, PS | NS> & { needsNodeAccess(params: P): boolean; permissions(params: P): ReturnType<NonNullable<FaultPlugin['permissions']>> } {
  const onNodes = (p: P): boolean => p.nodes !== undefined;
  return {
    needsNodeAccess: onNodes,
    permissions: (p) => (onNodes(p) ? (nodes.permissions?.(p as unknown as NP) ?? []) : (pods.permissions?.(p as unknown as PP) ?? [])),
    plan: (p, ctx) => (onNodes(p) ? nodes.plan(p as unknown as NP, ctx) : pods.plan(p as unknown as PP, ctx)),
    inject: (ctx, p, t) => (onNodes(p) ? nodes.inject(ctx, p as unknown as NP, t as NT) : pods.inject(ctx, p as unknown as PP, t as PT)),
    verify: (ctx, p, t, s) => (onNodes(p) ? nodes.verify(ctx, p as unknown as NP, t as NT, s as NS) : pods.verify(ctx, p as unknown as PP, t as PT, s as PS)),
    revert: (ctx, p, t, s) =>
      onNodes(p) ? nodes.revert(ctx, p as unknown as NP, t as NT, s as NS | undefined) : pods.revert(ctx, p as unknown as PP, t as PT, s as PS | undefined),
  };
}

/**
 * The params' own check that exactly one form is named, saying what each form does, e.g.
 * `give either pods: (cut pods off with a NetworkPolicy) or nodes: (…), not both`.
 */
export function requireOneForm(p: { readonly pods?: unknown; readonly nodes?: unknown }, ctx: z.RefinementCtx, forms: { readonly pods: string; readonly nodes: string }): void {
  if ((p.pods === undefined) === (p.nodes === undefined)) {
    ctx.addIssue({ code: 'custom', path: [], message: `give either pods: (${forms.pods}) or nodes: (${forms.nodes}), ${p.pods ? 'not both' : 'one of them'}` });
  }
}
