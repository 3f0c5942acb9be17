import { isDeepStrictEqual } from 'node:util';
import { FieldSet, type Path, type PathElement } from './field-set.js';
import { childOf, type TypeNode } from './types.js';

/**
 * The typed walks of structured-merge-diff that server-side apply is made of, over plain JSON:
 * the set of fields a value sets, the comparison of two values (fields added, modified, removed),
 * the merge of an applied configuration into a live object, and the removal of fields.
 */
type Json = Record<string, unknown>;

const isMap = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Whether a node of this type, holding this value, is one leaf (atomic) rather than a tree. */
function isLeaf(t: TypeNode, v: unknown): boolean {
  switch (t.kind) {
    case 'map':
      return t.atomic;
    case 'list':
      return t.relation === 'atomic';
    case 'deduced':
      return !isMap(v);
    default:
      return true;
  }
}

/** The path element naming an item of a set or keyed list. */
function itemElement(t: Extract<TypeNode, { kind: 'list' }>, item: unknown): PathElement {
  if (t.relation === 'set' || !isMap(item)) return `v:${JSON.stringify(item)}`;
  const key: Json = {};
  for (const k of [...t.keys].sort()) {
    const v = item[k] ?? t.keyDefault(k);
    if (v !== undefined) key[k] = v;
  }
  return `k:${JSON.stringify(key)}`;
}

function indexItems(t: Extract<TypeNode, { kind: 'list' }>, list: unknown): Map<PathElement, unknown> {
  const out = new Map<PathElement, unknown>();
  if (Array.isArray(list)) for (const item of list) if (!out.has(itemElement(t, item))) out.set(itemElement(t, item), item);
  return out;
}

/** The fields a value sets (structured-merge-diff's ToFieldSet). */
export function fieldSetOf(value: unknown, t: TypeNode, set = new FieldSet(), path: Path = []): FieldSet {
  if (isLeaf(t, value) || value === null || value === undefined) {
    if (path.length) set.insert(path);
    return set;
  }
  if (t.kind === 'list') {
    if (!Array.isArray(value)) {
      set.insert(path);
      return set;
    }
    for (const [pe, item] of indexItems(t, value)) {
      fieldSetOf(item, t.element, set, [...path, pe]);
      set.insert([...path, pe]);
    }
    return set;
  }
  if (!isMap(value)) {
    if (path.length) set.insert(path);
    return set;
  }
  for (const [k, v] of Object.entries(value)) {
    const child = [...path, `f:${k}`];
    fieldSetOf(v, childOf(t, k), set, child);
    const declared = t.kind === 'map' && t.field(k) !== undefined;
    if (v === null || (isMap(v) && Object.keys(v).length === 0) || !declared) set.insert(child);
  }
  return set;
}

export interface Comparison {
  readonly added: FieldSet;
  readonly modified: FieldSet;
  readonly removed: FieldSet;
}

/** What changed from `lhs` to `rhs`, field by field (structured-merge-diff's Compare). */
export function compare(lhs: unknown, rhs: unknown, t: TypeNode): Comparison {
  const cmp = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  compareAt(lhs, rhs, t, [], cmp);
  return cmp;
}

const emptyList = (v: unknown): boolean => v === undefined || (Array.isArray(v) && v.length === 0);

function compareAt(lhs: unknown, rhs: unknown, t: TypeNode, path: Path, cmp: Comparison): void {
  // One value on both sides changes nothing below it: the embedded cluster's writers share what they leave unchanged.
  if (lhs === rhs) return;
  const leaf = isLeaf(t, lhs ?? rhs) || (t.kind === 'list' && emptyList(lhs) && emptyList(rhs)) || (lhs !== undefined && rhs !== undefined && isMap(lhs) !== isMap(rhs));
  if (leaf || lhs === null || rhs === null) {
    if (!path.length) return;
    if (lhs === undefined) cmp.added.insert(path);
    else if (rhs === undefined) cmp.removed.insert(path);
    else if (!isDeepStrictEqual(lhs, rhs)) cmp.modified.insert(path);
    return;
  }
  if (t.kind === 'list') {
    const l = indexItems(t, lhs);
    const r = indexItems(t, rhs);
    for (const pe of new Set([...l.keys(), ...r.keys()])) compareAt(l.get(pe), r.get(pe), t.element, [...path, pe], cmp);
  } else {
    const l = isMap(lhs) ? lhs : {};
    const r = isMap(rhs) ? rhs : {};
    for (const k of new Set([...Object.keys(l), ...Object.keys(r)])) compareAt(l[k], r[k], childOf(t, k), [...path, `f:${k}`], cmp);
  }
  if (!path.length) return;
  if (lhs === undefined) cmp.added.insert(path);
  else if (rhs === undefined) cmp.removed.insert(path);
}

/** The live object with an applied configuration merged in: the configuration wins where both set a field. */
export function merge(lhs: unknown, rhs: unknown, t: TypeNode): unknown {
  if (rhs === undefined) return structuredClone(lhs);
  if (lhs === undefined || lhs === null || rhs === null || isLeaf(t, rhs)) return structuredClone(rhs);
  if (t.kind === 'list') {
    if (!Array.isArray(rhs) || !Array.isArray(lhs)) return structuredClone(rhs);
    return mergeList(lhs, rhs, t);
  }
  if (!isMap(rhs) || !isMap(lhs)) return structuredClone(rhs);
  const out: Json = structuredClone(lhs);
  for (const [k, v] of Object.entries(rhs)) out[k] = merge(lhs[k], v, childOf(t, k));
  return out;
}

/** Items in the configuration's order, each live-only item kept after the live item it followed. */
function mergeList(lhs: unknown[], rhs: unknown[], t: Extract<TypeNode, { kind: 'list' }>): unknown[] {
  const live = indexItems(t, lhs);
  const applied = indexItems(t, rhs);
  const liveOrder = [...live.keys()];
  const out: unknown[] = [];
  const emitted = new Set<PathElement>();
  const emitLiveOnlyBefore = (pe: PathElement | undefined): void => {
    for (const l of liveOrder) {
      if (l === pe) return;
      if (!applied.has(l) && !emitted.has(l)) {
        emitted.add(l);
        out.push(structuredClone(live.get(l)));
      }
    }
  };
  for (const [pe, item] of applied) {
    if (live.has(pe)) emitLiveOnlyBefore(pe);
    emitted.add(pe);
    out.push(merge(live.get(pe), item, t.element));
  }
  emitLiveOnlyBefore(undefined);
  return out;
}

/** Removes the fields and items at these paths, and any map or list their removal leaves empty. */
export function removePaths(value: unknown, paths: readonly Path[], t: TypeNode): unknown {
  const out = structuredClone(value);
  for (const path of paths) removeAt(out, path, t);
  return out;
}

function removeAt(value: unknown, path: Path, t: TypeNode): boolean {
  const [pe, ...rest] = path;
  if (pe === undefined) return false;
  if (pe.startsWith('f:') && isMap(value)) {
    const k = pe.slice(2);
    if (!(k in value)) return false;
    if (!rest.length) {
      delete value[k];
      return Object.keys(value).length === 0;
    }
    if (removeAt(value[k], rest, childOf(t, k))) delete value[k];
    return Object.keys(value).length === 0;
  }
  if (t.kind === 'list' && Array.isArray(value)) {
    const at = value.findIndex((item) => itemElement(t, item) === pe);
    if (at < 0) return false;
    if (!rest.length || removeAt(value[at], rest, t.element)) value.splice(at, 1);
    return value.length === 0;
  }
  return false;
}
