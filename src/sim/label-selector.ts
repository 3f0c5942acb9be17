import type { Informer } from './informer.js';
import { INDEX } from './standard-indexes.js';
import type { StoredObject } from './store.js';

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | string;
  readonly values?: readonly string[];
}

export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly LabelSelectorRequirement[];
}

export function requirementMatches(req: LabelSelectorRequirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, req.key);
  const value = labels[req.key];
  switch (req.operator) {
    case 'In':
      return has && (req.values ?? []).includes(value!);
    case 'NotIn':
      return !has || !(req.values ?? []).includes(value!);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
      return has && Number(value) > Number(req.values?.[0]);
    case 'Lt':
      return has && Number(value) < Number(req.values?.[0]);
    default:
      return false;
  }
}

/** metav1.LabelSelector semantics: an empty selector matches everything, a missing one nothing. */
export function selectorMatches(selector: LabelSelector | undefined | null, labels: Readonly<Record<string, string>> | undefined): boolean {
  if (!selector) return false;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const req of selector.matchExpressions ?? []) if (!requirementMatches(req, l)) return false;
  return true;
}

/** The `map[string]string` selector of Services and ReplicationControllers: empty matches nothing. */
export function mapSelectorMatches(selector: Readonly<Record<string, string>> | undefined, labels: Readonly<Record<string, string>> | undefined): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector)) if (l[k] !== v) return false;
  return true;
}

/**
 * Objects of one namespace matching a selector, through the namespaced-label index when the
 * selector has a matchLabels entry (the common case), else by namespace.
 */
export function selectInNamespace(informer: Informer, namespace: string, selector: LabelSelector): StoredObject[] {
  const first = Object.entries(selector.matchLabels ?? {})[0];
  const candidates = first
    ? informer.byIndex(INDEX.label, `${namespace}/${first[0]}=${first[1]}`)
    : informer.byIndex(INDEX.namespace, namespace);
  return candidates.filter((o) => selectorMatches(selector, o.metadata.labels));
}
