import { requirementMatches, type LabelSelectorRequirement } from './label-selector.js';
import type { StoredObject } from './store.js';

export interface NodeSelectorTerm {
  matchExpressions?: LabelSelectorRequirement[];
  matchFields?: LabelSelectorRequirement[];
}

export interface PodPlacementSpec {
  nodeSelector?: Record<string, string>;
  affinity?: { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: NodeSelectorTerm[] } } };
}

function termMatches(term: NodeSelectorTerm, node: StoredObject): boolean {
  const labels = node.metadata.labels ?? {};
  const fields = { 'metadata.name': node.metadata.name };
  const exprs = term.matchExpressions ?? [];
  const fieldExprs = term.matchFields ?? [];
  if (exprs.length === 0 && fieldExprs.length === 0) return false;
  return exprs.every((r) => requirementMatches(r, labels)) && fieldExprs.every((r) => requirementMatches(r, fields));
}

/** nodeSelector plus required node affinity (terms are ORed, requirements in a term ANDed). */
export function nodeMatchesPod(spec: PodPlacementSpec, node: StoredObject): boolean {
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries(spec.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const terms = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  return !terms || nodeSelectorTermsMatch(terms, node);
}

/** A NodeSelector: its terms are ORed, the requirements within a term ANDed. */
export function nodeSelectorTermsMatch(terms: readonly NodeSelectorTerm[], node: StoredObject): boolean {
  return terms.some((t) => termMatches(t, node));
}

/** The node a DaemonSet pod is pinned to through `matchFields metadata.name In [node]`. */
export function pinnedNodeName(spec: PodPlacementSpec): string | undefined {
  for (const term of spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
    for (const f of term.matchFields ?? []) if (f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0];
  }
  return undefined;
}
