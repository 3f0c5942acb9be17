import type { V1LabelSelector, V1LabelSelectorRequirement } from '@kubernetes/client-node';

/**
 * Whether labels match a metav1.LabelSelector (matchLabels and matchExpressions), as the API
 * server and its controllers decide it. A nil selector matches nothing and an empty one matches
 * everything: a policy/v1 PodDisruptionBudget with `selector: {}` covers every pod of its
 * namespace, one with no selector none. A selector Kubernetes would refuse to parse (an unknown
 * operator, In without values, Exists with values) matches nothing, as it does for the
 * disruption controller and the Eviction API.
 */
export function selectorMatches(selector: V1LabelSelector | undefined | null, labels: Readonly<Record<string, string>> | undefined): boolean {
  if (!selector) return false;
  const have = labels ?? {};
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (!Object.hasOwn(have, key) || have[key] !== value) return false;
  return (selector.matchExpressions ?? []).every((e) => requirementMatches(e, have));
}

function requirementMatches(e: V1LabelSelectorRequirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.hasOwn(labels, e.key);
  const values = e.values ?? [];
  switch (e.operator) {
    case 'In':
      return values.length > 0 && has && values.includes(labels[e.key]!);
    case 'NotIn':
      return values.length > 0 && (!has || !values.includes(labels[e.key]!));
    case 'Exists':
      return values.length === 0 && has;
    case 'DoesNotExist':
      return values.length === 0 && !has;
    default:
      return false;
  }
}
