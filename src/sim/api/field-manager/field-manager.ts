import { ApiError } from '../api-error.js';
import { FieldSet, pathString, type Path } from './field-set.js';
import { DEDUCED, zeroOf, type TypeNode } from './types.js';
import { compare, fieldSetOf, merge, removePaths } from './walk.js';

/**
 * Field ownership, as the real API server's field manager keeps it in `metadata.managedFields`:
 * every write records which manager set which fields (operation Update), and an apply patch
 * (`application/apply-patch+yaml`) merges the manager's configuration, drops what it applied
 * before and no longer does, and refuses to change a field another manager owns unless forced
 * (409, "Apply failed with N conflicts"). Follows structured-merge-diff's Updater and the
 * apiserver's managers around it: fields stripped from every set, timestamps, entry order.
 */
type Json = Record<string, unknown>;

export interface ManagedFieldsEntry {
  readonly manager: string;
  readonly operation: 'Apply' | 'Update';
  readonly apiVersion: string;
  readonly time?: string;
  readonly fieldsType: 'FieldsV1';
  readonly fieldsV1: Record<string, unknown>;
  readonly subresource?: string;
}

interface Owner {
  readonly manager: string;
  readonly operation: 'Apply' | 'Update';
  readonly apiVersion: string;
  readonly subresource?: string;
  time?: string;
  set: FieldSet;
}

/** What a write is: who, through which version and subresource, and which part of the object that endpoint owns. */
export interface WriteScope {
  readonly manager: string;
  readonly apiVersion: string;
  /** `status` for the status subresource: only status is tracked there, and status is not tracked on the main resource. */
  readonly subresource?: string;
  /** Whether the resource has a status subresource (then its main endpoint does not own status). */
  readonly hasStatus: boolean;
  /**
   * A status write also owns the metadata it changes, as upstream's status strategies reset only
   * spec (a Deployment's revision annotation comes with its status). @default false
   */
  readonly statusOwnsMetadata?: boolean;
  /**
   * The objects are as the embedded cluster's own components build them, without the zero values
   * a decoded request has: compared as they are, which spares two deep copies per write. @default false
   */
  readonly inProcess?: boolean;
  readonly type: TypeNode;
}

const STRIPPED: readonly Path[] = [
  ['f:apiVersion'],
  ['f:kind'],
  ['f:metadata'],
  ...['name', 'namespace', 'creationTimestamp', 'selfLink', 'uid', 'clusterName', 'generation', 'managedFields', 'resourceVersion'].map((f) => ['f:metadata', `f:${f}`]),
];
/** Most Update managers kept per object; older ones are merged into `ancient-changes`. */
export const MAX_UPDATE_MANAGERS = 10;

const identity = (o: Pick<Owner, 'manager' | 'operation' | 'apiVersion' | 'subresource'>): string =>
  JSON.stringify([o.manager, o.operation, o.operation === 'Apply' ? '' : o.apiVersion, o.subresource ?? '']);

export const now = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/** An object as the API server's Go types hold it: every struct held by value is there, if only empty. */
function asGo(o: Json | undefined, type: TypeNode): Json {
  return merge(zeroOf(type), o, type) as Json;
}

/** The manager a request without `fieldManager` is recorded as: its User-Agent up to the first `/`. */
export function managerOf(fieldManager: string | null, userAgent: string | undefined): string {
  if (fieldManager) return fieldManager;
  return [...(userAgent ?? '').split('/')[0]!].filter((c) => c >= ' ' && c !== '\u007f').join('').slice(0, 128);
}

function decode(managedFields: unknown): Map<string, Owner> {
  const owners = new Map<string, Owner>();
  if (!Array.isArray(managedFields)) return owners;
  for (const e of managedFields as ManagedFieldsEntry[]) {
    if (!e?.manager && !e?.fieldsV1) continue;
    const owner: Owner = {
      manager: e.manager ?? '',
      operation: e.operation === 'Apply' ? 'Apply' : 'Update',
      apiVersion: e.apiVersion ?? '',
      ...(e.subresource ? { subresource: e.subresource } : {}),
      ...(e.time ? { time: e.time } : {}),
      set: FieldSet.fromFieldsV1(e.fieldsV1),
    };
    owners.set(identity(owner), owner);
  }
  return owners;
}

type EntryKey = Pick<ManagedFieldsEntry, 'manager' | 'operation' | 'apiVersion' | 'time' | 'subresource'>;

/** The order managedFields entries are listed in. */
export function entryOrder(p: EntryKey, q: EntryKey): number {
  const seconds = (o: EntryKey) => (o.time ? Date.parse(o.time) : 0);
  return (
    (p.operation !== q.operation ? (p.operation < q.operation ? -1 : 1) : 0) ||
    seconds(p) - seconds(q) ||
    (p.manager !== q.manager ? (p.manager < q.manager ? -1 : 1) : 0) ||
    (p.apiVersion !== q.apiVersion ? (p.apiVersion < q.apiVersion ? -1 : 1) : 0) ||
    ((p.subresource ?? '') < (q.subresource ?? '') ? -1 : (p.subresource ?? '') > (q.subresource ?? '') ? 1 : 0)
  );
}

function encode(owners: Map<string, Owner>): ManagedFieldsEntry[] {
  const entries = [...owners.values()].filter((o) => !o.set.empty());
  entries.sort(entryOrder);
  return entries.map((o) => ({
    manager: o.manager,
    operation: o.operation,
    apiVersion: o.apiVersion,
    ...(o.time ? { time: o.time } : {}),
    fieldsType: 'FieldsV1',
    fieldsV1: o.set.toFieldsV1(),
    ...(o.subresource ? { subresource: o.subresource } : {}),
  }));
}

/** Only the part of a set this endpoint tracks, without the fields no manager ever owns. */
function scoped(set: FieldSet, scope: WriteScope): FieldSet {
  const out = new FieldSet();
  for (const p of set.paths()) {
    if (STRIPPED.some((s) => s.length === p.length && s.every((pe, i) => pe === p[i]))) continue;
    const isStatus = p[0] === 'f:status';
    if (scope.subresource === 'status' ? !isStatus && !(scope.statusOwnsMetadata && p[0] === 'f:metadata') : scope.hasStatus && isStatus) continue;
    out.insert(p);
  }
  return out;
}

function capUpdateManagers(owners: Map<string, Owner>): void {
  const updates = [...owners.entries()].filter(([, o]) => o.operation === 'Update').sort(([, a], [, b]) => (a.time ?? '').localeCompare(b.time ?? ''));
  while (updates.length > MAX_UPDATE_MANAGERS) {
    const [key, oldest] = updates.shift()!;
    owners.delete(key);
    const ancient: Owner = { manager: 'ancient-changes', operation: 'Update', apiVersion: oldest.apiVersion, set: oldest.set, ...(oldest.time ? { time: oldest.time } : {}) };
    const at = identity(ancient);
    const kept = owners.get(at);
    owners.set(at, kept ? { ...kept, set: kept.set.union(oldest.set) } : ancient);
  }
}

/** The conflicts of a change with the fields other managers own, as the API server words them. */
function conflictError(conflicts: { owner: Owner; path: Path }[]): ApiError {
  const who = (o: Owner) => `"${o.manager}"${o.subresource ? ` with subresource "${o.subresource}"` : ''}${o.operation === 'Update' ? ` using ${o.apiVersion}` : ''}`;
  let message: string;
  if (conflicts.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${who(conflicts[0]!.owner)}: ${pathString(conflicts[0]!.path)}`;
  } else {
    const byManager = new Map<string, { owner: Owner; paths: Path[] }>();
    for (const c of conflicts) {
      const key = identity(c.owner);
      if (!byManager.has(key)) byManager.set(key, { owner: c.owner, paths: [] });
      byManager.get(key)!.paths.push(c.path);
    }
    const lines = [...byManager.values()]
      .sort((a, b) => (identity(a.owner) < identity(b.owner) ? -1 : 1))
      .flatMap(({ owner, paths }) => [`conflicts with ${who(owner)}:`, ...paths.map((p) => `- ${pathString(p)}`)]);
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  }
  return new ApiError(409, 'Conflict', message, {
    causes: conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${who(c.owner)}`, field: pathString(c.path) })),
  });
}

/**
 * Structured-merge-diff's update step: the fields a change takes from other managers (a
 * conflict unless forced) and the fields it removes leave their sets.
 */
function takeFields(owners: Map<string, Owner>, self: string, changed: { added: FieldSet; modified: FieldSet; removed: FieldSet }, force: boolean): void {
  const taken = changed.modified.union(changed.added);
  const conflicts: { owner: Owner; path: Path }[] = [];
  for (const [key, owner] of owners) {
    if (key === self) continue;
    for (const path of owner.set.intersection(taken).paths()) conflicts.push({ owner, path });
  }
  if (conflicts.length && !force) throw conflictError(conflicts);
  for (const [key, owner] of owners) {
    if (key === self) continue;
    owner.set = owner.set.difference(taken).difference(changed.removed);
    if (owner.set.empty()) owners.delete(key);
  }
}

/**
 * A write that is not an apply (create, update, patch): the manager owns what it added or changed,
 * keeps what it owned before unless removed, and takes the changed fields from their owners.
 */
export function trackUpdate(live: Json | undefined, next: Json, scope: WriteScope): ManagedFieldsEntry[] {
  const given = (next.metadata as Json | undefined)?.managedFields;
  const owners = decode(Array.isArray(given) && given.length ? given : (live?.metadata as Json | undefined)?.managedFields);
  const changed = scope.inProcess ? compare(live ?? {}, next, scope.type) : compare(asGo(live, scope.type), asGo(next, scope.type), scope.type);
  const taken = { added: scoped(changed.added, scope), modified: scoped(changed.modified, scope), removed: scoped(changed.removed, scope) };
  const self: Owner = { manager: scope.manager, operation: 'Update', apiVersion: scope.apiVersion, ...(scope.subresource ? { subresource: scope.subresource } : {}), set: new FieldSet() };
  const key = identity(self);
  takeFields(owners, key, taken, true);
  const mine = taken.modified.union(taken.added);
  if (!mine.empty()) {
    const previous = owners.get(key);
    owners.set(key, { ...self, set: previous ? previous.set.difference(taken.removed).union(mine) : mine, time: now() });
  } else if (owners.has(key)) {
    owners.get(key)!.set = owners.get(key)!.set.difference(taken.removed);
  }
  capUpdateManagers(owners);
  return encode(owners);
}

export interface Applied {
  readonly object: Json;
  readonly managedFields: ManagedFieldsEntry[];
}

/**
 * An apply patch: the live object (or nothing, for an apply that creates) with the manager's
 * configuration merged in, the fields it applied last time and no longer applies removed where
 * nobody else owns them, and its field set replaced by the configuration's.
 */
export function apply(live: Json | undefined, config: Json, scope: WriteScope, force: boolean): Applied {
  const owners = decode((live?.metadata as Json | undefined)?.managedFields);
  const base = asGo(live, scope.type);
  // An object nobody has managed yet belongs to `before-first-apply`, so applying over it can conflict.
  if (live && owners.size === 0) {
    const before = scoped(fieldSetOf(live, scope.type), scope);
    if (!before.empty()) owners.set(identity({ manager: 'before-first-apply', operation: 'Update', apiVersion: scope.apiVersion }), { manager: 'before-first-apply', operation: 'Update', apiVersion: scope.apiVersion, set: before });
  }
  const self: Owner = { manager: scope.manager, operation: 'Apply', apiVersion: scope.apiVersion, ...(scope.subresource ? { subresource: scope.subresource } : {}), set: new FieldSet() };
  const key = identity(self);
  const last = owners.get(key)?.set;
  const configSet = scoped(fieldSetOf(config, scope.type), scope);
  let merged = merge(base, config, scope.type) as Json;
  if (last) {
    const othersOwn = (p: Path) => configSet.hasPrefix(p) || [...owners].some(([k, o]) => k !== key && o.set.hasPrefix(p));
    const dropped = last.difference(configSet).paths().filter((p) => !othersOwn(p));
    merged = removePaths(merged, dropped, scope.type) as Json;
  }
  const changed = compare(base, merged, scope.type);
  // An apply that changes nothing in the object does not stamp its manager's time (upstream keeps the old one, or none).
  const unchanged = live !== undefined && changed.added.empty() && changed.modified.empty() && changed.removed.empty();
  const previousTime = owners.get(key)?.time;
  owners.set(key, { ...self, set: configSet, ...(unchanged ? (previousTime ? { time: previousTime } : {}) : { time: now() }) });
  takeFields(owners, key, { added: scoped(changed.added, scope), modified: scoped(changed.modified, scope), removed: scoped(changed.removed, scope) }, force);
  capUpdateManagers(owners);
  return { object: merged, managedFields: encode(owners) };
}

export { DEDUCED };
