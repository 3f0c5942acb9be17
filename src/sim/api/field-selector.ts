import type { StoredObject } from '../store.js';
import { ApiError } from './api-error.js';

/**
 * Field selectors (`spec.nodeName=node-1,status.phase!=Failed`). The real server allows a fixed
 * set of fields per kind; any dotted path into the object is accepted here, a missing field
 * reading as the empty string as it does there (so `spec.nodeName=` finds unscheduled pods).
 */
export type FieldMatcher = (obj: StoredObject) => boolean;

interface FieldRequirement {
  readonly path: readonly string[];
  readonly equal: boolean;
  readonly value: string;
}

function unescape(value: string): string {
  return value.replace(/\\(.)/g, '$1');
}

/** Splits on commas not preceded by a backslash escape. */
function splitTerms(selector: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < selector.length; i++) {
    const ch = selector[i]!;
    if (ch === '\\' && i + 1 < selector.length) {
      cur += ch + selector[++i];
    } else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((t) => t.trim()).filter((t) => t !== '');
}

export function fieldValue(obj: StoredObject, path: readonly string[]): string {
  let cur: unknown = obj;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as Record<string, unknown>)[p];
  }
  if (cur === undefined || cur === null) return '';
  return typeof cur === 'object' ? JSON.stringify(cur) : String(cur);
}

export function parseFieldSelector(selector: string | null | undefined): FieldMatcher {
  if (!selector || !selector.trim()) return () => true;
  const reqs: FieldRequirement[] = splitTerms(selector).map((term) => {
    const m = /^([^!=]+?)\s*(==|!=|=)\s*(.*)$/.exec(term);
    if (!m) throw ApiError.badRequest(`invalid selector: '${selector}'; can't understand '${term}'`);
    return { path: m[1]!.split('.'), equal: m[2] !== '!=', value: unescape(m[3]!) };
  });
  return (obj) => reqs.every((r) => (fieldValue(obj, r.path) === r.value) === r.equal);
}

/** The value a simple `metadata.name=x` or `spec.nodeName=x` term asks for, so a list can use an index instead of scanning. */
export function exactField(selector: string | null | undefined, field: string): string | undefined {
  if (!selector) return undefined;
  for (const term of splitTerms(selector)) {
    const m = /^([^!=]+?)\s*(==|=)\s*(.*)$/.exec(term);
    if (m && m[1] === field) return unescape(m[3]!);
  }
  return undefined;
}
