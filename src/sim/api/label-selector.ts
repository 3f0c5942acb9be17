import { selectorMatches } from '../label-selector.js';
import { ApiError } from './api-error.js';

/**
 * Label selectors in both forms: the query string (`app=web,tier notin (db),!canary`) that list and
 * watch take, and the structured `metav1.LabelSelector` (matchLabels, matchExpressions) that
 * Deployments and PodDisruptionBudgets carry.
 */
export type Labels = Readonly<Record<string, string>> | undefined;

interface Requirement {
  readonly key: string;
  readonly op: 'in' | 'notin' | 'exists' | '!';
  readonly values: readonly string[];
}

export type LabelMatcher = (labels: Labels) => boolean;

export interface LabelSelectorObject {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

function matches(reqs: readonly Requirement[], labels: Labels): boolean {
  for (const r of reqs) {
    const v = labels?.[r.key];
    switch (r.op) {
      case 'exists':
        if (v === undefined) return false;
        break;
      case '!':
        if (v !== undefined) return false;
        break;
      case 'in':
        if (v === undefined || !r.values.includes(v)) return false;
        break;
      case 'notin':
        if (v !== undefined && r.values.includes(v)) return false;
        break;
    }
  }
  return true;
}

/** Splits on commas that are not inside a parenthesised value set. */
function splitTerms(selector: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((t) => t.trim()).filter((t) => t !== '');
}

function parseTerm(term: string, selector: string): Requirement {
  const set = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(term);
  if (set) return { key: set[1]!, op: set[2] as 'in' | 'notin', values: set[3]!.split(',').map((v) => v.trim()).filter((v) => v !== '') };
  const cmp = /^([^!=\s]+)\s*(==|!=|=)\s*(\S*)$/.exec(term);
  if (cmp) return { key: cmp[1]!, op: cmp[2] === '!=' ? 'notin' : 'in', values: [cmp[3]!] };
  const not = /^!\s*([^!=\s()]+)$/.exec(term);
  if (not) return { key: not[1]!, op: '!', values: [] };
  if (/^[^!=\s()]+$/.test(term)) return { key: term, op: 'exists', values: [] };
  throw ApiError.badRequest(`unable to parse requirement: found '${term}', expected: in, notin, =, ==, !=, gt, lt in selector "${selector}"`);
}

/** Parses a `labelSelector` query parameter; throws a 400 ApiError when it cannot be parsed. */
export function parseLabelSelector(selector: string | null | undefined): LabelMatcher {
  if (!selector || !selector.trim()) return () => true;
  const reqs = splitTerms(selector).map((t) => parseTerm(t, selector));
  return (labels) => matches(reqs, labels);
}

/**
 * A structured selector. `null`/absent matches nothing, an empty selector matches everything —
 * the policy/v1 PodDisruptionBudget rule. The controllers' matcher, so API and controllers agree.
 */
export function labelSelectorMatcher(selector: LabelSelectorObject | null | undefined): LabelMatcher {
  return (labels) => selectorMatches(selector, labels);
}

/** `app=web,tier in (a,b)`: how kubectl prints a structured selector. */
export function formatLabelSelector(selector: LabelSelectorObject | null | undefined): string {
  if (!selector) return '<none>';
  const parts = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of selector.matchExpressions ?? []) {
    const values = [...(e.values ?? [])].sort().join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${values})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${values})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.length ? parts.join(',') : '<none>';
}
