import { ObjectStore, type StoredObject, type StoreEvent } from '../store.js';
import type { ApiConnection, WatchEvent } from './api-connection.js';

/** A resource the node side reads, and where the API serves it. */
interface Mirrored {
  readonly resource: string;
  readonly group: string;
  readonly plural: string;
  readonly namespaced: boolean;
}

function mirrored(resource: string, namespaced: boolean): Mirrored {
  const [plural, ...rest] = resource.split('.');
  return { resource, group: rest.join('.'), plural: plural!, namespaced };
}

/**
 * What kubelets, the container runtime and the data plane read: pods and nodes, Services and
 * their EndpointSlices (kube-proxy), NetworkPolicies and Namespaces (policy), ConfigMaps
 * (volumes) and Leases (node heartbeats, and the kv image's leader election).
 */
const READ: readonly Mirrored[] = [
  mirrored('namespaces', false),
  mirrored('nodes', false),
  mirrored('pods', true),
  mirrored('services', true),
  mirrored('configmaps', true),
  mirrored('endpointslices.discovery.k8s.io', true),
  mirrored('networkpolicies.networking.k8s.io', true),
  mirrored('leases.coordination.k8s.io', true),
];

/** What the node side writes: the kubelet's status, its heartbeats and events, the final delete. */
const WRITTEN = new Map<string, Mirrored>([
  ['nodes', mirrored('nodes', false)],
  ['pods', mirrored('pods', true)],
  ['leases.coordination.k8s.io', mirrored('leases.coordination.k8s.io', true)],
  ['events', mirrored('events', true)],
]);

function apiBase(m: Mirrored): string {
  return m.group ? `/apis/${m.group}/v1` : '/api/v1';
}

function collectionPath(m: Mirrored, namespace?: string): string {
  return m.namespaced && namespace ? `${apiBase(m)}/namespaces/${namespace}/${m.plural}` : `${apiBase(m)}/${m.plural}`;
}

function objectPath(m: Mirrored, namespace: string | undefined, name: string): string {
  return `${collectionPath(m, namespace)}/${encodeURIComponent(name)}`;
}

function keyOf(resource: string, namespace: string | undefined, name: string): string {
  return `${resource}|${namespace ?? ''}|${name}`;
}

/**
 * RFC 7386 merge patch that turns `from` into `to`. Keys `to` lacks become null except at the top
 * level, where the node side may simply not know a field the API server owns (a pod's qosClass).
 */
export function mergePatch(from: unknown, to: unknown, top = true): unknown {
  if (!isPlainObject(from) || !isPlainObject(to)) return JSON.stringify(from) === JSON.stringify(to) ? undefined : to;
  const patch: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(to)) {
    const d = mergePatch(from[k], v, false);
    if (d !== undefined) patch[k] = d;
  }
  if (!top) for (const k of Object.keys(from)) if (!(k in to)) patch[k] = null;
  return Object.keys(patch).length > 0 ? patch : undefined;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export interface ApiMirrorOptions {
  readonly connection: ApiConnection;
  /** Nodes whose kubelets run here: their status, their pods' status and their Leases are ours. */
  readonly ownNodes: ReadonlySet<string>;
  /** A write the API server refused for good (not a conflict or an outage), for the log. */
  readonly onRefused?: (what: string, answer: string) => void;
  /**
   * Whether the kubelet owning this node or pod can reach the API server now: while it cannot
   * (stopped, crashed, cut off), what others wrote over its status stands. @default always
   */
  readonly mayPublish?: (resource: 'nodes' | 'pods', object: StoredObject) => boolean;
}

/** How often owned status the API server no longer agrees with is written again (the kubelet's status manager syncs every 10 s). */
const RECONCILE_MS = 2000;

/**
 * The node side's view of a real API server, kept in an ObjectStore so that the kubelets, the
 * container runtime and the data plane run unchanged on either backend:
 * - down: every READ resource is listed and watched (as client-go's informers do) and mirrored
 *   into the store, keeping the API server's uids;
 * - up: what the node side writes to the store (node and pod status, Leases, Events, a pod's final
 *   delete) is sent to the API server, the latest state per object, one request at a time per
 *   object, as a merge patch against what the API server last said.
 * The kubelet owns the status of its node and of its pods: a mirrored change keeps the local
 * status and adds only the conditions the API server's side sets (DisruptionTarget).
 */
export class ApiMirror {
  readonly store = new ObjectStore({ historySize: 5000 });
  /** The API server's latest version of every mirrored or written object. */
  private readonly remote = new Map<string, StoredObject>();
  /** resourceVersions our own writes produced: their watch events are echoes, not news. */
  private readonly echoes = new Set<string>();
  /** Pods the kubelet finished: later watch events for them must not bring them back. */
  private readonly finished = new Set<string>();
  private readonly dirty = new Map<string, { resource: string; namespace: string | undefined; name: string }>();
  private readonly inFlight = new Set<string>();
  private readonly idle = new Set<() => void>();
  private readonly abort = new AbortController();
  private applying = false;
  private unsubscribe: (() => void) | undefined;
  private reconciler: NodeJS.Timeout | undefined;

  constructor(private readonly options: ApiMirrorOptions) {}

  /** Lists every READ resource into the store, then keeps watching; resolves once the first lists are in. */
  async start(): Promise<void> {
    const versions = await Promise.all(READ.map((m) => this.list(m)));
    READ.forEach((m, i) => void this.follow(m, versions[i]!));
    this.unsubscribe = this.store.subscribe('*', (e) => this.localChange(e));
    this.reconciler = setInterval(() => this.reconcile(), RECONCILE_MS);
    this.reconciler.unref();
  }

  stop(): void {
    this.abort.abort();
    this.unsubscribe?.();
    if (this.reconciler) clearInterval(this.reconciler);
  }

  /**
   * Writes again the status of owned nodes and pods that someone else changed on the API server:
   * the node lifecycle controller marks a silent node's pods not ready, and once the kubelet is
   * back they must read ready again, as a real kubelet's status manager sees to.
   */
  private reconcile(): void {
    for (const resource of ['nodes', 'pods'] as const) {
      for (const local of this.store.list(resource)) {
        const key = keyOf(resource, local.metadata.namespace, local.metadata.name);
        const remote = this.remote.get(key);
        if (!remote || !this.owns(resource, local) || this.dirty.has(key) || this.inFlight.has(key)) continue;
        if (this.options.mayPublish && !this.options.mayPublish(resource, local)) continue;
        if (mergePatch(remote.status, local.status) !== undefined) this.enqueue(key, resource, local.metadata.namespace, local.metadata.name);
      }
    }
  }

  private owns(resource: string, object: StoredObject): boolean {
    if (resource === 'nodes') return this.options.ownNodes.has(object.metadata.name);
    return resource === 'pods' && this.options.ownNodes.has((object.spec as { nodeName?: string } | undefined)?.nodeName ?? '') && (object.status as { phase?: string } | undefined)?.phase !== undefined;
  }

  /** Resolves when every local change has been sent (or refused). */
  settled(): Promise<void> {
    if (this.dirty.size === 0 && this.inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.add(resolve));
  }

  private async list(m: Mirrored): Promise<string> {
    const path = collectionPath(m);
    const answer = await this.options.connection.call('GET', path);
    if (answer.status !== 200) throw new Error(`GET ${path}: HTTP ${answer.status} ${answer.body.slice(0, 200)}`);
    const list = JSON.parse(answer.body) as { metadata: { resourceVersion: string }; items: StoredObject[] };
    const seen = new Set<string>();
    for (const item of list.items) {
      seen.add(keyOf(m.resource, item.metadata.namespace, item.metadata.name));
      this.apply(m.resource, 'ADDED', item);
    }
    // A re-list after 410: whatever the list no longer has was deleted while we were not watching.
    for (const o of this.store.list(m.resource)) {
      if (!seen.has(keyOf(m.resource, o.metadata.namespace, o.metadata.name))) this.apply(m.resource, 'DELETED', o);
    }
    return list.metadata.resourceVersion;
  }

  private async follow(m: Mirrored, fromVersion: string): Promise<void> {
    let version = fromVersion;
    let pause = 250;
    while (!this.abort.signal.aborted) {
      try {
        const end = await this.options.connection.watch(collectionPath(m), version, (e) => {
          version = (e.object as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion ?? version;
          if (e.type !== 'BOOKMARK') this.apply(m.resource, e.type as Exclude<WatchEvent['type'], 'BOOKMARK' | 'ERROR'>, e.object as unknown as StoredObject);
        }, this.abort.signal);
        if (end === 'expired') version = await this.list(m);
        pause = 250;
      } catch {
        if (this.abort.signal.aborted) return;
        // The API server is restarting or unreachable: try again, less often while it stays away.
        await new Promise((r) => setTimeout(r, pause));
        pause = Math.min(pause * 2, 5000);
      }
    }
  }

  /** A change the API server reported, into the store without sending it back up. */
  private apply(resource: string, type: 'ADDED' | 'MODIFIED' | 'DELETED', object: StoredObject): void {
    const meta = object.metadata;
    const key = keyOf(resource, meta.namespace, meta.name);
    if (type === 'DELETED') {
      this.remote.delete(key);
      this.finished.delete(meta.uid);
    } else {
      this.remote.set(key, object);
      if (this.echoes.delete(`${key}|${meta.resourceVersion}`)) return;
      if (this.finished.has(meta.uid)) return;
    }
    this.applying = true;
    try {
      const local = this.store.get(resource, meta.namespace, meta.name);
      if (type === 'DELETED') {
        if (local && local.metadata.uid === meta.uid) this.store.remove(resource, meta.namespace, meta.name);
        return;
      }
      if (local && local.metadata.uid !== meta.uid) this.store.remove(resource, meta.namespace, meta.name);
      const current = this.store.get(resource, meta.namespace, meta.name);
      if (!current) {
        this.store.create(resource, object, { uid: meta.uid, creationTimestamp: meta.creationTimestamp });
        return;
      }
      if (this.ownsNodeLease(resource, meta.namespace, meta.name)) return;
      this.store.update(resource, this.keepOwnStatus(resource, current, object));
    } finally {
      this.applying = false;
    }
  }

  private ownsNodeLease(resource: string, namespace: string | undefined, name: string): boolean {
    return resource === 'leases.coordination.k8s.io' && namespace === 'kube-node-lease' && this.options.ownNodes.has(name);
  }

  private keepOwnStatus(resource: string, local: StoredObject, remote: StoredObject): StoredObject {
    if (!this.owns(resource, { ...remote, status: local.status })) return remote;
    const status = { ...(remote.status as Record<string, unknown>), ...(local.status as Record<string, unknown>) };
    const localConditions = ((local.status as { conditions?: { type: string }[] } | undefined)?.conditions) ?? [];
    const remoteConditions = ((remote.status as { conditions?: { type: string }[] } | undefined)?.conditions) ?? [];
    const theirs = remoteConditions.filter((c) => !localConditions.some((l) => l.type === c.type));
    if (theirs.length > 0) status.conditions = [...localConditions, ...theirs];
    return { ...remote, status };
  }

  private localChange(e: StoreEvent): void {
    if (this.applying || !WRITTEN.has(e.resource)) return;
    const meta = e.object.metadata;
    if (e.type === 'DELETED' && e.resource === 'pods') this.finished.add(meta.uid);
    this.enqueue(keyOf(e.resource, meta.namespace, meta.name), e.resource, meta.namespace, meta.name);
  }

  private enqueue(key: string, resource: string, namespace: string | undefined, name: string): void {
    this.dirty.set(key, { resource, namespace, name });
    if (!this.inFlight.has(key)) void this.send(key);
  }

  /** Sends one object's latest local state; repeats while it keeps changing. */
  private async send(key: string): Promise<void> {
    this.inFlight.add(key);
    let pause = 250;
    try {
      for (let target = this.dirty.get(key); target && !this.abort.signal.aborted; target = this.dirty.get(key)) {
        this.dirty.delete(key);
        try {
          await this.push(key, target.resource, target.namespace, target.name);
          pause = 250;
        } catch {
          // Unreachable or overloaded: keep the change and try again.
          if (!this.dirty.has(key)) this.dirty.set(key, target);
          await new Promise((r) => setTimeout(r, pause));
          pause = Math.min(pause * 2, 5000);
        }
      }
    } finally {
      this.inFlight.delete(key);
      if (this.dirty.size === 0 && this.inFlight.size === 0) {
        for (const done of [...this.idle]) {
          this.idle.delete(done);
          done();
        }
      }
    }
  }

  private async push(key: string, resource: string, namespace: string | undefined, name: string): Promise<void> {
    const m = WRITTEN.get(resource)!;
    const local = this.store.get(resource, namespace, name);
    const remote = this.remote.get(key);
    const conn = this.options.connection;
    if (!local) {
      // The kubelet's final delete of a pod whose containers have stopped; old Events just expire.
      if (!remote || resource !== 'pods') return;
      const answer = await conn.call('DELETE', objectPath(m, namespace, name), { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid: remote.metadata.uid } });
      this.check('DELETE', key, answer, [200, 404, 409]);
      return;
    }
    if (!remote) {
      const answer = await conn.call('POST', collectionPath(m, namespace), forCreate(local));
      if (answer.status === 409) {
        const current = await conn.call('GET', objectPath(m, namespace, name));
        if (current.status === 200) this.remember(key, JSON.parse(current.body) as StoredObject);
        this.dirty.set(key, { resource, namespace, name });
        return;
      }
      if (!this.check('POST', key, answer, [201, 200])) return;
      const created = JSON.parse(answer.body) as StoredObject;
      this.remember(key, created);
      this.adoptUid(resource, created);
      return;
    }
    const statusOwner = resource === 'pods' || resource === 'nodes';
    const field = statusOwner ? 'status' : resource === 'leases.coordination.k8s.io' ? 'spec' : undefined;
    const patch = field ? mergePatch(remote[field], local[field]) : eventPatch(remote, local);
    if (patch === undefined) return;
    const path = statusOwner ? `${objectPath(m, namespace, name)}/status` : objectPath(m, namespace, name);
    const answer = await conn.call('PATCH', path, field ? { [field]: patch } : patch, 'application/merge-patch+json');
    if (this.check('PATCH', key, answer, [200, 404])) this.remember(key, JSON.parse(answer.body) as StoredObject);
  }

  /**
   * The API server gave the object it created its own uid; the local copy takes it too, so that
   * what refers to it (a node Lease's owner reference) means the same object on both sides.
   */
  private adoptUid(resource: string, created: StoredObject): void {
    const { namespace, name, uid, creationTimestamp } = created.metadata;
    const local = this.store.get(resource, namespace, name);
    if (!local || local.metadata.uid === uid) return;
    this.applying = true;
    try {
      this.store.remove(resource, namespace, name);
      this.store.create(resource, local, { uid, creationTimestamp });
    } finally {
      this.applying = false;
    }
  }

  private remember(key: string, object: StoredObject): void {
    const known = this.remote.get(key);
    if (known && Number(known.metadata.resourceVersion) > Number(object.metadata.resourceVersion)) return;
    this.remote.set(key, object);
    this.echoes.add(`${key}|${object.metadata.resourceVersion}`);
    if (this.echoes.size > 10_000) this.echoes.delete(this.echoes.values().next().value!);
  }

  /** True for a 2xx; 5xx and 429 throw (to be retried); anything else refused is logged and dropped. */
  private check(method: string, key: string, answer: { status: number; body: string }, accepted: readonly number[]): boolean {
    if (answer.status >= 500 || answer.status === 429) throw new Error(`${method} ${key}: HTTP ${answer.status}`);
    if (!accepted.includes(answer.status)) this.options.onRefused?.(`${method} ${key.replaceAll('|', '/')}`, `HTTP ${answer.status} ${answer.body.slice(0, 300)}`);
    return answer.status >= 200 && answer.status < 300;
  }
}

/** The object as a client creates it: the API server assigns uid, resourceVersion and creationTimestamp. */
function forCreate(local: StoredObject): StoredObject {
  const { uid: _uid, resourceVersion: _rv, creationTimestamp: _ct, generation: _g, ...meta } = local.metadata;
  return { ...local, metadata: meta as StoredObject['metadata'] };
}

function eventPatch(remote: StoredObject, local: StoredObject): unknown {
  const pick = (o: StoredObject) => ({ count: o.count, lastTimestamp: o.lastTimestamp, message: o.message });
  return mergePatch(pick(remote), pick(local));
}
