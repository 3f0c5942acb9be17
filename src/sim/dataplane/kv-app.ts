import { nowIso } from '../pod-state.js';
import { StoreError, type ObjectStore } from '../store.js';
import type { ReplicationMode } from './behaviour-knobs.js';
import type { ContainerApp } from './container-server.js';
import { KvDisk, type KvEntry, type KvFilesystem } from './kv-storage.js';
import { jsonResponse, type VirtualRequest, type VirtualResponse } from './traffic.js';
import type { PodIdentity } from './web-app.js';

/**
 * One member's copy of the data: what it has applied, and from which leader. A member follows one
 * leader at a time; replication from any other (a deposed leader's late shipments) is refused, as a
 * real store refuses entries from an old term. With a volume, every apply is written there before
 * it counts, and a member starts from what its volume holds.
 */
class KvMember {
  readonly data = new Map<string, KvEntry>();
  /** Log position of the newest entry applied. */
  applied = 0;
  /** A snapshot was restored into the group's data (GAMEDAY_KV_AWAIT_RESTORE waits for one). */
  restored = false;
  /** Identity of the leader this member copied its data from; undefined until its first sync. */
  following: string | undefined;
  /** The leader's write path, for followers to forward writes to (an etcd follower proxies them); resolves with its log position. */
  write: ((key: string, value: string | undefined) => Promise<number>) | undefined;
  /** The leader's restore path: its data becomes the snapshot's, and its followers resync. */
  restore: ((snapshot: KvSnapshot) => number) | undefined;

  constructor(
    readonly identity: string,
    private readonly disk?: KvDisk,
  ) {
    if (!disk) return;
    const stored = disk.load();
    for (const [k, e] of stored.data) this.data.set(k, e);
    this.applied = stored.applied;
    this.restored = stored.restored;
  }

  /** On the volume first: an entry the disk refused (ENOSPC) is not applied. */
  apply(key: string, entry: KvEntry | undefined, version: number): void {
    const applied = Math.max(this.applied, version);
    this.disk?.put(key, entry, { applied, restored: this.restored });
    if (entry) this.data.set(key, entry);
    else this.data.delete(key);
    this.applied = applied;
  }

  /**
   * Catching up with a new leader: whatever this member had that the leader lacks is gone, and
   * only the records that differ are written (a member restored from its volume rewrites little).
   */
  copyFrom(leader: KvMember): void {
    this.replaceData(leader.data, leader.applied, leader.restored);
    this.following = leader.identity;
  }

  replaceData(data: ReadonlyMap<string, KvEntry>, applied: number, restored: boolean): void {
    this.restored = restored;
    for (const k of [...this.data.keys()]) if (!data.has(k)) this.apply(k, undefined, 0);
    for (const [k, e] of data) {
      const mine = this.data.get(k);
      if (mine?.version !== e.version || mine.value !== e.value) this.apply(k, e, 0);
    }
    this.applied = applied;
    this.disk?.writeMeta({ applied, restored });
  }
}

/** A member's data as `GET /snapshot` serves it and `POST /restore` takes it back. */
export interface KvSnapshot {
  readonly applied: number;
  readonly entries: readonly { readonly key: string; readonly value: string; readonly version: number }[];
}

/** The live members of each replicated kv group (namespace/lease): the network they replicate over, in-process. */
export class KvReplicas {
  private readonly groups = new Map<string, Map<string, KvMember>>();

  join(group: string, identity: string, disk?: KvDisk): KvMember {
    let g = this.groups.get(group);
    if (!g) this.groups.set(group, (g = new Map()));
    const member = new KvMember(identity, disk);
    g.set(identity, member);
    return member;
  }

  leave(group: string, member: KvMember): void {
    this.groups.get(group)?.delete(member.identity);
  }

  members(group: string): KvMember[] {
    return [...(this.groups.get(group)?.values() ?? [])];
  }

  member(group: string, identity: string | undefined): KvMember | undefined {
    return identity === undefined ? undefined : this.groups.get(group)?.get(identity);
  }
}

export interface KvAppOptions {
  readonly pod: PodIdentity;
  readonly store: ObjectStore;
  readonly leaseName: string;
  readonly replicas: KvReplicas;
  /** How the leader ships writes to followers (the GAMEDAY_KV_REPLICATION knobs). */
  readonly replication: { readonly mode: ReplicationMode; readonly delayMs: number };
  readonly leaseDurationMs: number;
  readonly renewMs: number;
  /** False while the pod's node cannot reach the API server (a partition). */
  readonly apiReachable: () => boolean;
  /**
   * The container's filesystem and the directory on its volume (the first mount backed by a claim)
   * where the member keeps its data. @default none: the data lives and dies with the process
   */
  readonly dataDir?: { readonly fs: KvFilesystem; readonly path: string };
  /** GAMEDAY_KV_AWAIT_RESTORE: the group serves nothing and is not ready until a snapshot is restored into it. @default false */
  readonly awaitRestore?: boolean;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

const micro = (): string => new Date().toISOString().replace('Z', '000Z');

/**
 * gameday/kv: a replicated key-value store whose members elect a leader through a
 * coordination.k8s.io Lease like client-go's leader election. A leader that cannot renew for a
 * lease duration steps down; a leader shutting down gracefully releases the lease so failover is
 * immediate.
 *
 * Writes go to the leader; a follower forwards them to it, as an etcd follower does. The leader
 * numbers each write (its log position, `x-kv-version`) and replicates it: `sync` acknowledges
 * once every live follower has applied it, `async` acknowledges at once and ships it after the
 * replication delay. Reads are served by whichever member answers, from its own copy, so a
 * follower's may be stale (`x-kv-applied` says how far it has got). A new leader keeps only what
 * reached it, and its followers resync from it, so asynchronous replication loses acknowledged
 * writes on failover, as a real store does. A member that never synced (a fresh pod) does not
 * stand for election while a member that did is alive.
 */
export function kvApp(o: KvAppOptions): ContainerApp {
  const ns = o.pod.namespace;
  const group = `${ns}/${o.leaseName}`;
  // Like client-go's `hostname_uuid`: a member recreated under the same name is a new candidate.
  const identity = `${o.pod.name}_${o.pod.uid.slice(0, 8)}`;
  const self = o.replicas.join(group, identity, o.dataDir ? new KvDisk(o.dataDir.fs, o.dataDir.path) : undefined);
  const podOf = (holder: string | undefined): string | undefined => holder?.replace(/_[^_]*$/, '');
  let leader = false;
  let lastRenew = 0;
  let terminating = false;
  let alive = true;
  const shipments = new Set<NodeJS.Timeout>();

  function lease(): LeaseSpec | undefined {
    return o.store.get('leases.coordination.k8s.io', ns, o.leaseName)?.spec as LeaseSpec | undefined;
  }

  function expired(spec: LeaseSpec): boolean {
    if (!spec.holderIdentity) return true;
    const renew = spec.renewTime ? Date.parse(spec.renewTime) : 0;
    return renew + (spec.leaseDurationSeconds ?? 0) * 1000 < Date.now();
  }

  /** The live leader's identity, while its lease is live. */
  function leaderIdentity(): string | undefined {
    const l = lease();
    return l && !expired(l) ? l.holderIdentity : undefined;
  }

  /**
   * Whether this member may campaign: one that never synced waits to copy from a member that did,
   * and, like Raft's vote rule, from one whose log (restored from its volume) is further along.
   */
  function mayCampaign(): boolean {
    if (self.following !== undefined) return true;
    return !o.replicas.members(group).some((m) => m !== self && (m.following !== undefined || m.applied > self.applied));
  }

  /** A follower catching up; one whose volume refuses the data stays behind and tries again at the next heartbeat. */
  function catchUp(member: KvMember, from: KvMember): void {
    try {
      member.copyFrom(from);
    } catch (err) {
      if (!isFilesystemError(err)) throw err;
    }
  }

  function becomeLeader(): void {
    if (!leader) {
      self.following = identity;
      self.write = write;
      self.restore = restore;
      // Its first heartbeat brings every live member in line with it, as a new Raft leader's
      // AppendEntries does: what they had beyond its log is gone.
      for (const m of o.replicas.members(group)) if (m !== self) catchUp(m, self);
    }
    leader = true;
    lastRenew = Date.now();
  }

  function stepDown(): void {
    leader = false;
    self.write = undefined;
    self.restore = undefined;
  }

  function tick(): void {
    if (leader && Date.now() - lastRenew > o.leaseDurationMs) stepDown();
    // Followers hear of a new leader from the leader itself, over the peer network, not the API.
    if (!leader && !terminating) follow(leaderIdentity());
    if (terminating || !o.apiReachable()) return;
    const durationSeconds = Math.max(1, Math.ceil(o.leaseDurationMs / 1000));
    try {
      const current = lease();
      if (!current) {
        if (!mayCampaign()) return;
        o.store.create('leases.coordination.k8s.io', {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: o.leaseName, namespace: ns, uid: '', resourceVersion: '', creationTimestamp: '' },
          spec: { holderIdentity: identity, leaseDurationSeconds: durationSeconds, acquireTime: micro(), renewTime: micro(), leaseTransitions: 0 },
        });
        becomeLeader();
        return;
      }
      if (current.holderIdentity !== identity && !expired(current)) {
        if (leader) stepDown();
        return;
      }
      if (current.holderIdentity !== identity && !mayCampaign()) return;
      o.store.mutate('leases.coordination.k8s.io', ns, o.leaseName, (l) => {
        const spec = l.spec as LeaseSpec;
        if (spec.holderIdentity !== identity) {
          spec.leaseTransitions = (spec.leaseTransitions ?? 0) + 1;
          spec.acquireTime = micro();
          spec.holderIdentity = identity;
        }
        spec.leaseDurationSeconds = durationSeconds;
        spec.renewTime = micro();
      });
      becomeLeader();
    } catch (err) {
      if (!(err instanceof StoreError)) throw err;
    }
  }

  /** A follower of a leader it has not synced from takes a full copy of the leader's data. */
  function follow(leaderId: string | undefined): void {
    if (leaderId === undefined || self.following === leaderId) return;
    const source = o.replicas.member(group, leaderId);
    if (source && source.following === leaderId) catchUp(self, source);
  }

  /** The leader's write: numbered, applied here, then replicated per the mode. */
  async function write(key: string, value: string | undefined): Promise<number> {
    const version = self.applied + 1;
    const entry: KvEntry | undefined = value === undefined ? undefined : { value, version };
    self.apply(key, entry, version);
    const ship = (): void => {
      for (const m of o.replicas.members(group)) {
        if (m === self || m.following !== identity) continue;
        // A follower whose volume is full misses the entry, and is stale from then on.
        try {
          m.apply(key, entry, version);
        } catch (err) {
          if (!isFilesystemError(err)) throw err;
        }
      }
    };
    const { mode, delayMs } = o.replication;
    if (mode === 'async') {
      const timer = setTimeout(() => {
        shipments.delete(timer);
        ship();
      }, delayMs);
      timer.unref();
      shipments.add(timer);
    } else {
      if (delayMs > 0) await new Promise<void>((resolve) => setTimeout(resolve, delayMs).unref());
      // A leader that died or stepped down while waiting never acknowledges.
      if (!alive || !leader) throw new NotLeader();
      ship();
    }
    return version;
  }

  /** The leader's restore: its data becomes the snapshot's, and every follower resyncs from it. */
  function restore(snapshot: KvSnapshot): number {
    const data = new Map(snapshot.entries.map((e) => [e.key, { value: e.value, version: e.version }] as const));
    self.replaceData(data, Math.max(snapshot.applied, ...snapshot.entries.map((e) => e.version)), true);
    for (const m of o.replicas.members(group)) if (m !== self && m.following === identity) catchUp(m, self);
    return data.size;
  }

  tick();
  const timer = setInterval(tick, o.renewMs);
  timer.unref();

  /** The leader's pod name, while its lease is live. */
  const currentLeader = (): string | undefined => podOf(leaderIdentity());

  function served(extra: Record<string, string> = {}): Record<string, string> {
    return { 'x-pod-name': o.pod.name, 'x-kv-role': leader ? 'leader' : 'follower', 'x-kv-applied': String(self.applied), ...extra };
  }

  async function handleWrite(req: VirtualRequest, key: string): Promise<VirtualResponse> {
    const value = req.method === 'DELETE' ? undefined : req.body.toString('utf8');
    const target = leaderMember();
    const leaderPod = leader ? o.pod.name : currentLeader();
    if (!target?.write) return jsonResponse(503, { error: 'no leader', leader: leaderPod ?? null }, served({ 'x-kv-leader': leaderPod ?? '' }));
    if (awaitingRestore(target)) return awaitingRestoreResponse();
    try {
      const version = await target.write(key, value);
      return jsonResponse(200, { key, ok: true, version, leader: leaderPod, at: nowIso() }, served({ 'x-kv-version': String(version), 'x-kv-leader': leaderPod ?? '' }));
    } catch (err) {
      if (isFilesystemError(err)) return jsonResponse(507, { error: `the leader could not write to its volume: ${err.message}`, key }, served());
      if (!(err instanceof NotLeader)) throw err;
      return jsonResponse(503, { error: 'the leader stepped down before the write was replicated', key }, served());
    }
  }

  /** This member when it leads, else the live leader (followers forward to it, in-process like replication). */
  function leaderMember(): KvMember | undefined {
    return leader ? self : o.replicas.member(group, leaderIdentity());
  }

  function awaitingRestore(member: KvMember): boolean {
    return o.awaitRestore === true && !member.restored;
  }

  function awaitingRestoreResponse(): VirtualResponse {
    return jsonResponse(503, { error: 'awaiting restore: POST a snapshot to /restore (kvctl snapshot restore <url>) first' }, served());
  }

  /** `GET /snapshot`: the leader's data at its current log position, as `etcdctl snapshot save` takes it from one member. */
  function snapshot(): VirtualResponse {
    const source = leaderMember();
    if (!source?.write) return jsonResponse(503, { error: 'no leader to take a snapshot from', leader: currentLeader() ?? null }, served());
    const entries = [...source.data].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, e]) => ({ key, value: e.value, version: e.version }));
    const body: KvSnapshot & { member: string | undefined; takenAt: string } = { member: leader ? o.pod.name : currentLeader(), takenAt: nowIso(), applied: source.applied, entries };
    return jsonResponse(200, body, served());
  }

  /** `POST /restore`: the snapshot becomes the group's data, at the leader; followers resync from it. */
  function restoreFrom(req: VirtualRequest): VirtualResponse {
    const target = leaderMember();
    if (!target?.restore) return jsonResponse(503, { error: 'no leader to restore into', leader: currentLeader() ?? null }, served());
    const parsed = parseSnapshot(req.body.toString('utf8'));
    if (typeof parsed === 'string') return jsonResponse(400, { error: parsed });
    try {
      const records = target.restore(parsed);
      return jsonResponse(200, { ok: true, records, applied: target.applied, leader: leader ? o.pod.name : currentLeader() }, served());
    } catch (err) {
      if (!isFilesystemError(err)) throw err;
      return jsonResponse(507, { error: `the leader could not write the snapshot to its volume: ${err.message}` }, served());
    }
  }

  return {
    handle(req: VirtualRequest, state) {
      const [path, query = ''] = req.path.split('?') as [string, string?];
      if (path === '/healthz') return jsonResponse(200, { ok: true });
      if (path === '/readyz') {
        // Ready once it serves the live leader's data: a member still on a dead leader's is not.
        const live = leaderIdentity();
        const ready = !state.terminating && live !== undefined && self.following === live && !awaitingRestore(self);
        return jsonResponse(ready ? 200 : 503, { ready, leader: currentLeader() ?? null, ...(awaitingRestore(self) ? { awaitingRestore: true } : {}) });
      }
      if (path === '/leader') return jsonResponse(200, { leader: currentLeader() ?? null, self: o.pod.name, identity, isLeader: leader, applied: self.applied });
      if (path === '/snapshot') return req.method === 'GET' ? snapshot() : jsonResponse(405, { error: `method ${req.method} not allowed on /snapshot; take one with GET` });
      if (path === '/restore') return req.method === 'POST' ? restoreFrom(req) : jsonResponse(405, { error: `method ${req.method} not allowed on /restore; POST a snapshot` });
      if (awaitingRestore(self)) return awaitingRestoreResponse();
      if (path === '/kv' || path === '/kv/') {
        if (req.method !== 'GET') return jsonResponse(405, { error: `method ${req.method} not allowed on /kv; list with GET /kv?prefix=<p>` });
        const prefix = new URLSearchParams(query).get('prefix') ?? '';
        const items = [...self.data].filter(([k]) => k.startsWith(prefix)).sort(([a], [b]) => (a < b ? -1 : 1));
        return jsonResponse(200, { items: items.map(([key, e]) => ({ key, value: e.value, version: e.version })) }, served());
      }
      const m = /^\/kv\/(.+)$/.exec(path);
      if (!m) return jsonResponse(404, { error: `no route ${path}; use /kv/<key>, /kv?prefix=<p>, /snapshot, /restore, /leader, /healthz, /readyz` });
      const key = decodeURIComponent(m[1]!);
      if (req.method === 'GET') {
        const entry = self.data.get(key);
        return entry === undefined
          ? jsonResponse(404, { error: 'not found', key }, served())
          : jsonResponse(200, { key, value: entry.value, version: entry.version, servedBy: o.pod.name }, served({ 'x-kv-version': String(entry.version) }));
      }
      if (req.method === 'PUT' || req.method === 'POST' || req.method === 'DELETE') return handleWrite(req, key);
      return jsonResponse(405, { error: `method ${req.method} not allowed` });
    },
    onTerminate() {
      terminating = true;
      if (!leader || !o.apiReachable()) return;
      stepDown();
      // client-go's ReleaseOnCancel: give the lease up so a follower takes over at once.
      o.store.mutate('leases.coordination.k8s.io', ns, o.leaseName, (l) => {
        const spec = l.spec as LeaseSpec;
        if (spec.holderIdentity !== identity) return false;
        spec.holderIdentity = '';
        spec.leaseDurationSeconds = 1;
        spec.renewTime = micro();
        return true;
      });
    },
    stop() {
      // The process is gone: nothing it had not shipped yet will ever leave it.
      alive = false;
      clearInterval(timer);
      for (const t of shipments) clearTimeout(t);
      shipments.clear();
      stepDown();
      o.replicas.leave(group, self);
    },
  };
}

class NotLeader extends Error {}

/** What the volume threw (ENOSPC, EROFS): the request fails, the member goes on. */
function isFilesystemError(err: unknown): err is Error & { readonly code: string } {
  return err instanceof Error && typeof (err as { code?: unknown }).code === 'string';
}

/** A snapshot as `GET /snapshot` wrote it, or what is wrong with the body. */
export function parseSnapshot(text: string): KvSnapshot | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'the body is not JSON: POST what GET /snapshot returned';
  }
  const s = parsed as Partial<KvSnapshot> | null;
  if (!s || typeof s.applied !== 'number' || !Array.isArray(s.entries)) return 'not a snapshot: it needs "applied" (a number) and "entries" (a list), as GET /snapshot writes them';
  const bad = s.entries.findIndex((e: unknown) => {
    const x = e as Partial<KvSnapshot['entries'][number]> | null;
    return !x || typeof x.key !== 'string' || typeof x.value !== 'string' || typeof x.version !== 'number';
  });
  if (bad >= 0) return `entries[${bad}] needs "key" and "value" (strings) and "version" (a number)`;
  return { applied: s.applied, entries: s.entries };
}
