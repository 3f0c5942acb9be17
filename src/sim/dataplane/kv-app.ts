import { nowIso } from '../pod-state.js';
import { StoreError, type ObjectStore } from '../store.js';
import type { ContainerApp } from './container-server.js';
import { jsonResponse, type VirtualRequest } from './traffic.js';
import type { PodIdentity } from './web-app.js';

/** The data of each replicated kv group (namespace/lease), shared in-process as replication would. */
export class KvReplicas {
  private readonly groups = new Map<string, Map<string, string>>();

  dataOf(group: string): Map<string, string> {
    let g = this.groups.get(group);
    if (!g) this.groups.set(group, (g = new Map()));
    return g;
  }
}

export interface KvAppOptions {
  readonly pod: PodIdentity;
  readonly store: ObjectStore;
  readonly leaseName: string;
  readonly replicas: KvReplicas;
  readonly leaseDurationMs: number;
  readonly renewMs: number;
  /** False while the pod's node cannot reach the API server (a partition). */
  readonly apiReachable: () => boolean;
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
 * coordination.k8s.io Lease like client-go's leader election. Writes go to the leader; followers
 * answer 503 naming the leader. A leader that cannot renew for a lease duration steps down; a
 * leader shutting down gracefully releases the lease so failover is immediate.
 */
export function kvApp(o: KvAppOptions): ContainerApp {
  const ns = o.pod.namespace;
  const data = o.replicas.dataOf(`${ns}/${o.leaseName}`);
  // Like client-go's `hostname_uuid`: a member recreated under the same name is a new candidate.
  const identity = `${o.pod.name}_${o.pod.uid.slice(0, 8)}`;
  const podOf = (holder: string | undefined): string | undefined => holder?.replace(/_[^_]*$/, '');
  let leader = false;
  let lastRenew = 0;
  let terminating = false;

  function lease(): LeaseSpec | undefined {
    return o.store.get('leases.coordination.k8s.io', ns, o.leaseName)?.spec as LeaseSpec | undefined;
  }

  function expired(spec: LeaseSpec): boolean {
    if (!spec.holderIdentity) return true;
    const renew = spec.renewTime ? Date.parse(spec.renewTime) : 0;
    return renew + (spec.leaseDurationSeconds ?? 0) * 1000 < Date.now();
  }

  function tick(): void {
    if (leader && Date.now() - lastRenew > o.leaseDurationMs) leader = false;
    if (terminating || !o.apiReachable()) return;
    const durationSeconds = Math.max(1, Math.ceil(o.leaseDurationMs / 1000));
    try {
      const current = lease();
      if (!current) {
        o.store.create('leases.coordination.k8s.io', {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: o.leaseName, namespace: ns, uid: '', resourceVersion: '', creationTimestamp: '' },
          spec: { holderIdentity: identity, leaseDurationSeconds: durationSeconds, acquireTime: micro(), renewTime: micro(), leaseTransitions: 0 },
        });
        leader = true;
        lastRenew = Date.now();
        return;
      }
      if (current.holderIdentity !== identity && !expired(current)) {
        leader = false;
        return;
      }
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
      leader = true;
      lastRenew = Date.now();
    } catch (err) {
      if (!(err instanceof StoreError)) throw err;
    }
  }

  tick();
  const timer = setInterval(tick, o.renewMs);
  timer.unref();

  /** The leader's pod name, while its lease is live. */
  function currentLeader(): string | undefined {
    const l = lease();
    return l && !expired(l) ? podOf(l.holderIdentity) : undefined;
  }

  return {
    handle(req: VirtualRequest, state) {
      const path = req.path.split('?')[0]!;
      if (path === '/healthz') return jsonResponse(200, { ok: true });
      if (path === '/readyz') {
        const ready = !state.terminating && currentLeader() !== undefined;
        return jsonResponse(ready ? 200 : 503, { ready, leader: currentLeader() ?? null });
      }
      if (path === '/leader') return jsonResponse(200, { leader: currentLeader() ?? null, self: o.pod.name, identity, isLeader: leader });
      const m = /^\/kv\/(.+)$/.exec(path);
      if (!m) return jsonResponse(404, { error: `no route ${path}; use /kv/<key>, /leader, /healthz, /readyz` });
      const key = decodeURIComponent(m[1]!);
      if (req.method === 'GET') {
        const value = data.get(key);
        return value === undefined ? jsonResponse(404, { error: 'not found', key }) : jsonResponse(200, { key, value, servedBy: o.pod.name });
      }
      if (req.method === 'PUT' || req.method === 'POST' || req.method === 'DELETE') {
        if (!leader) return jsonResponse(503, { error: 'not the leader', leader: currentLeader() ?? null }, { 'x-kv-leader': currentLeader() ?? '' });
        if (req.method === 'DELETE') data.delete(key);
        else data.set(key, req.body.toString('utf8'));
        return jsonResponse(200, { key, ok: true, leader: o.pod.name, at: nowIso() });
      }
      return jsonResponse(405, { error: `method ${req.method} not allowed` });
    },
    onTerminate() {
      terminating = true;
      if (!leader || !o.apiReachable()) return;
      leader = false;
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
      clearInterval(timer);
      leader = false;
    },
  };
}
