/**
 * Strategic merge patch (`application/strategic-merge-patch+json`), the default of `kubectl patch`,
 * `kubectl apply` and cordon. Like a JSON merge patch, except lists of named things merge element
 * by element on their merge key instead of being replaced, and the `$patch`, `$retainKeys`,
 * `$deleteFromPrimitiveList` and `$setElementOrder` directives apply. The merge keys come from the
 * Kubernetes types' `patchMergeKey` tags for the fields gameday and kubectl patch; a list without
 * one is replaced whole, as the real server does.
 */
type Json = Record<string, unknown>;

const MERGE_KEYS: Readonly<Record<string, string>> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  volumes: 'name',
  env: 'name',
  imagePullSecrets: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  tolerations: 'key',
  conditions: 'type',
  addresses: 'type',
  ownerReferences: 'uid',
  hostAliases: 'ip',
  topologySpreadConstraints: 'topologyKey',
  readinessGates: 'conditionType',
};

/** Lists of scalars that merge as sets instead of being replaced. */
const MERGED_PRIMITIVE_LISTS = new Set(['finalizers']);

function isObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Container ports merge on containerPort, Service ports on port: the same field name, two keys. */
function mergeKeyFor(field: string, items: readonly unknown[]): string | undefined {
  if (field === 'ports') return items.some((i) => isObject(i) && 'containerPort' in i) ? 'containerPort' : 'port';
  return MERGE_KEYS[field];
}

/** Where `item` is in `list`, by its merge key; -1 when it is not there. */
function indexIn(list: readonly unknown[], item: unknown, key: string): number {
  return isObject(item) ? list.findIndex((o) => isObject(o) && o[key] === item[key]) : -1;
}

/**
 * The merged list in upstream's order (normalizeElementOrder): the items the patch names, in the
 * order of its `$setElementOrder` list or else of the patch, and the items only the server has, in
 * their old order, interleaved by where each stood before; an item new to the list goes before
 * the server's items it meets.
 */
function inUpstreamOrder(merged: unknown[], order: readonly unknown[], original: readonly unknown[], key: string): unknown[] {
  const byOrder = (list: unknown[], by: readonly unknown[]): unknown[] =>
    list.map((item, i) => ({ item, i, at: indexIn(by, item, key) })).sort((a, b) => (a.at >= 0 && b.at >= 0 ? a.at - b.at : a.i - b.i)).map((x) => x.item);
  const named = byOrder(merged.filter((o) => indexIn(order, o, key) >= 0), order);
  const serverOnly = byOrder(merged.filter((o) => indexIn(order, o, key) < 0), original);
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < serverOnly.length || j < named.length) {
    if (j >= named.length) out.push(serverOnly[i++]);
    else if (i >= serverOnly.length) out.push(named[j++]);
    else {
      const left = indexIn(original, serverOnly[i], key);
      const right = indexIn(original, named[j], key);
      out.push(left >= 0 && right >= 0 && left < right ? serverOnly[i++] : named[j++]);
    }
  }
  return out;
}

function mergeList(field: string, original: unknown, patch: unknown[], deleteFromPrimitive: unknown[] | undefined, setOrder: unknown[] | undefined): unknown {
  const base = Array.isArray(original) ? original : [];
  if (MERGED_PRIMITIVE_LISTS.has(field)) {
    const out = base.filter((v) => !deleteFromPrimitive?.includes(v));
    for (const v of patch) if (!out.includes(v)) out.push(v);
    return out;
  }
  const key = mergeKeyFor(field, [...base, ...patch]);
  if (!key) return structuredClone(patch.filter((p) => !(isObject(p) && p['$patch'] !== undefined)));
  if (patch.some((p) => isObject(p) && p['$patch'] === 'replace')) {
    return structuredClone(patch.filter((p) => !(isObject(p) && p['$patch'] === 'replace')));
  }
  const out: unknown[] = structuredClone(base);
  for (const p of patch) {
    if (!isObject(p)) continue;
    const at = out.findIndex((o) => isObject(o) && o[key] === p[key]);
    if (p['$patch'] === 'delete') {
      if (at >= 0) out.splice(at, 1);
      continue;
    }
    if (at >= 0) out[at] = applyStrategicMergePatch(out[at], p);
    else out.push(applyStrategicMergePatch({}, p));
  }
  return inUpstreamOrder(out, setOrder ?? patch.filter((p) => isObject(p) && p['$patch'] === undefined), base, key);
}

export function applyStrategicMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  if (patch['$patch'] === 'replace') {
    const { $patch: _, ...rest } = patch;
    return structuredClone(rest);
  }
  if (patch['$patch'] === 'delete') return undefined;
  const out: Json = isObject(target) ? structuredClone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) continue;
    if (v === null) {
      delete out[k];
      continue;
    }
    if (Array.isArray(v)) {
      const deletions = patch[`$deleteFromPrimitiveList/${k}`];
      const order = patch[`$setElementOrder/${k}`];
      out[k] = mergeList(k, out[k], v, Array.isArray(deletions) ? deletions : undefined, Array.isArray(order) ? order : undefined);
      continue;
    }
    if (isObject(v)) {
      const merged = applyStrategicMergePatch(out[k], v);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
      continue;
    }
    out[k] = v;
  }
  for (const [k, v] of Object.entries(patch)) {
    const prim = /^\$deleteFromPrimitiveList\/(.+)$/.exec(k);
    if (prim && Array.isArray(v) && !(prim[1]! in patch) && Array.isArray(out[prim[1]!])) {
      out[prim[1]!] = (out[prim[1]!] as unknown[]).filter((x) => !v.includes(x));
    }
    // An order for a list the patch does not change: the list as it is, in that order.
    const ordered = /^\$setElementOrder\/(.+)$/.exec(k);
    const list = ordered ? out[ordered[1]!] : undefined;
    const key = ordered && Array.isArray(list) ? mergeKeyFor(ordered[1]!, list) : undefined;
    if (ordered && key && Array.isArray(v) && !(ordered[1]! in patch)) out[ordered[1]!] = inUpstreamOrder(list as unknown[], v, list as unknown[], key);
  }
  const retain = patch['$retainKeys'];
  if (Array.isArray(retain)) {
    for (const k of Object.keys(out)) if (!retain.includes(k)) delete out[k];
  }
  return out;
}
