/**
 * A deep copy of a JSON-like value, several times faster than `structuredClone` for the plain
 * objects the store keeps, and sharing strings instead of copying them (strings are immutable, so
 * every version of an object can point at the same ones; each is flattened on the way). Anything
 * that is not a plain object or array (a Date, a Map) is handed to `structuredClone`.
 */
export function jsonClone<T>(value: T): T {
  if (typeof value === 'string') return flatString(value) as T;
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = jsonClone(value[i] as unknown);
    return out as T;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return structuredClone(value);
  const out: Record<string, unknown> = {};
  for (const key in value) out[key] = jsonClone((value as Record<string, unknown>)[key]);
  return out as T;
}

/**
 * The same string, stored flat. V8 keeps a string built by concatenation as a tree of its pieces
 * until something reads it: node's randomUUID() is a tree of 16 pieces, about 490 bytes instead of
 * 70, and names and messages built from templates are trees too. Reading a character flattens the
 * tree in place, so the store keeps each such string at its plain size.
 */
export function flatString(s: string): string {
  s.charCodeAt(0);
  return s;
}

/**
 * Whether two JSON values would serialize to the same text, without serializing them: object keys
 * are compared in order and keys whose value is `undefined` are skipped, as `JSON.stringify`
 * does. The store compares every write with the stored version, so this runs on every change.
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  a = nonFiniteAsNull(a);
  b = nonFiniteAsNull(b);
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bs = b as unknown[];
    if (a.length !== bs.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(arrayItem(a[i]), arrayItem(bs[i]))) return false;
    return true;
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao);
  const bk = Object.keys(bo);
  let i = 0;
  let j = 0;
  for (;;) {
    while (i < ak.length && ao[ak[i]!] === undefined) i++;
    while (j < bk.length && bo[bk[j]!] === undefined) j++;
    if (i === ak.length || j === bk.length) return i === ak.length && j === bk.length;
    if (ak[i] !== bk[j] || !jsonEqual(ao[ak[i]!], bo[bk[j]!])) return false;
    i++;
    j++;
  }
}

/** `JSON.stringify` writes NaN and the infinities as null. */
function nonFiniteAsNull(v: unknown): unknown {
  return typeof v === 'number' && !Number.isFinite(v) ? null : v;
}

/** `JSON.stringify` writes an `undefined` array item as null. */
function arrayItem(v: unknown): unknown {
  return v === undefined ? null : v;
}

/**
 * `jsonEqual(next, previous)`, and on the way every object or array inside `next` that equals its
 * counterpart in `previous` is replaced by that counterpart. The store calls it on a fresh copy
 * before keeping it, so consecutive versions of an object share what a write left unchanged
 * (a status write shares the whole spec) instead of holding a copy each.
 */
export function shareUnchanged(next: unknown, previous: unknown): boolean {
  if (typeof next !== 'object' || typeof previous !== 'object' || next === null || previous === null) return jsonEqual(next, previous);
  if (next === previous) return true;
  if (Array.isArray(next) !== Array.isArray(previous)) return false;
  if (Array.isArray(next)) {
    const prev = previous as unknown[];
    let equal = next.length === prev.length;
    for (let i = 0; i < next.length && i < prev.length; i++) {
      if (!shareUnchanged(arrayItem(next[i]), arrayItem(prev[i]))) equal = false;
      else if (typeof next[i] === 'object' && next[i] !== null) next[i] = prev[i];
    }
    return equal;
  }
  const n = next as Record<string, unknown>;
  const p = previous as Record<string, unknown>;
  let equal = true;
  for (const key in n) {
    const v = n[key];
    if (!(key in p)) {
      if (v !== undefined) equal = false;
      continue;
    }
    if (!shareUnchanged(v, p[key])) equal = false;
    else if (typeof v === 'object' && v !== null) n[key] = p[key];
  }
  // Same values key by key; what is left is the key order and keys only `previous` has.
  return equal && jsonEqual(n, p);
}
