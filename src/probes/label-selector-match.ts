import type { V1LabelSelector } from '@kubernetes/client-node';

/**
 * Whether labels match a Kubernetes label selector (matchLabels and matchExpressions), as the
 * API server would. Probes watch a whole namespace and match here, so a budget or Service whose
 * selector changes mid-run is followed without re-opening a watch. A null selector matches
 * nothing; an empty one matches everything (policy/v1 and Service semantics).
 */
export function matchesSelector(selector: V1LabelSelector | undefined | null, labels: Readonly<Record<string, string>> | undefined): boolean {
  if (!selector) return false;
  const have = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (have[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const value = have[e.key];
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (value === undefined || !values.includes(value)) return false;
        break;
      case 'NotIn':
        if (value !== undefined && values.includes(value)) return false;
        break;
      case 'Exists':
        if (value === undefined) return false;
        break;
      case 'DoesNotExist':
        if (value !== undefined) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}
