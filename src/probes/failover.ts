import type { V1Lease, V1Pod } from '@kubernetes/client-node';
import { z } from 'zod';
import { KubeWatch, startWatches, watchPermission } from '../cluster/kube-watch.js';
import { selectorMatches } from '../cluster/label-selector.js';
import { podIsServing } from '../cluster/pod-serving.js';
import type { ProbePlugin } from './probe.js';
import { workloadSelector, workloadSelectorPermission } from './shared/workload-selector.js';
import { namespacedNameSchema, parseNamespacedName, parseWorkloadRef, podsPath, workloadRefSchema } from './shared/target-ref.js';

const params = z.strictObject({
  target: workloadRefSchema.describe('the workload, as kind/namespace/name, like statefulset/shop/db'),
  via: z
    .union([
      z.strictObject({ lease: namespacedNameSchema.describe('the coordination.k8s.io Lease its members elect a leader through, as namespace/name') }),
      z.strictObject({ readyPods: z.literal(true).describe('serving means: at least one of its pods is ready') }),
    ])
    .optional()
    .describe(
      'what "serving" means. @default a Lease in the workload\'s namespace held by one of its pods (holder identity = pod name, or pod name + "_" + suffix as client-go writes it), else at least one ready pod',
    ),
});
type Params = z.output<typeof params>;

const leasesPath = (namespace: string): string => `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`;

interface Serving {
  readonly serving: boolean;
  /** The leader, or the ready pods, for the evidence. */
  readonly by: string;
  readonly reason?: string;
  /** When a live lease runs out if nobody renews it. */
  readonly expiresAt?: number;
}

/**
 * Time from a workload losing what serves it — its leader (the Lease holder's pod deleted, not
 * ready, or the lease expired or released) or its last ready pod — to a replacement serving. Each
 * completed failover is a sample whose value is its length in ms; one still running when the
 * probe stops is a failed sample with the time so far. `failover(kind/ns/name) < 20s` judges the
 * longest.
 */
export const failoverProbe: ProbePlugin<Params> = {
  kind: 'failover',
  summary: 'time from losing a leader or the last ready pod to a replacement serving (watch-based)',
  params,

  permissions(p) {
    const target = parseWorkloadRef(p.target);
    const explicitLease = p.via && 'lease' in p.via ? parseNamespacedName(p.via.lease) : undefined;
    return [
      workloadSelectorPermission('failover', target),
      watchPermission(`failover probe: watch the pods of namespace ${target.namespace}`, podsPath(target.namespace)),
      ...(p.via === undefined || explicitLease
        ? [watchPermission(`failover probe: watch the leader election's Lease`, leasesPath(explicitLease?.namespace ?? target.namespace), explicitLease?.name)]
        : []),
    ];
  },

  async start(ctx, p) {
    const target = parseWorkloadRef(p.target);
    const { namespace } = target;
    const selector = await workloadSelector(ctx.cluster.kubeConfig, target.collectionPath, target.name, target.text);
    const explicitLease = p.via && 'lease' in p.via ? parseNamespacedName(p.via.lease) : undefined;
    const leaseMode = p.via === undefined || explicitLease !== undefined;
    let chosenLease: string | undefined = explicitLease?.name;
    let synced = false;
    let everServed = false;
    let lost: { at: number; by: string; reason: string } | undefined;
    let current: Serving | undefined;
    let expiryTimer: NodeJS.Timeout | undefined;
    // A holder identity names a pod by name; a StatefulSet reuses names, so remember which pod (uid)
    // it named: its replacement under the same name is not the leader until it wins an election.
    const holderUids = new Map<string, string>();

    const workloadPods = (): V1Pod[] => pods.list().filter((pod) => selectorMatches(selector, pod.metadata?.labels));

    const readServing = (now: number): Serving => {
      const members = workloadPods();
      if (leaseMode && leases) {
        const all = leases.list();
        chosenLease ??= all.find((l) => holderPod(l, members) !== undefined)?.metadata?.name;
        const lease = all.find((l) => l.metadata?.name === chosenLease);
        if (lease) return leaseServing(lease, members, holderUids, now);
        if (explicitLease) return { serving: false, by: '', reason: `lease ${explicitLease.namespace}/${explicitLease.name} does not exist` };
      }
      const ready = members.filter(podIsServing).map((pod) => pod.metadata?.name ?? '?').sort();
      return ready.length > 0 ? { serving: true, by: ready.join(',') } : { serving: false, by: '', reason: 'no ready pod' };
    };

    const observe = (): void => {
      if (!synced) return;
      const now = Date.now();
      const next = readServing(now);
      clearTimeout(expiryTimer);
      if (next.serving && next.expiresAt !== undefined) expiryTimer = setTimeout(observe, Math.max(0, next.expiresAt - now) + 10);
      const previous = current;
      current = next;
      if (!everServed) {
        if (next.serving) {
          everServed = true;
          ctx.emit({ t: now, ok: true, value: 0, detail: { state: 'serving', by: next.by, lease: chosenLease ?? null } });
        } else if (!previous) {
          ctx.emit({ t: now, ok: false, error: 'not-serving', detail: { state: 'not-serving-yet', reason: next.reason } });
        }
        return;
      }
      if (!next.serving && !lost) {
        lost = { at: now, by: previous?.by ?? '', reason: next.reason ?? 'lost' };
        ctx.emit({ t: now, ok: false, error: 'serving-lost', detail: { state: 'lost', lost: lost.by, reason: lost.reason, lease: chosenLease ?? null } });
      } else if (next.serving && lost) {
        const took = now - lost.at;
        ctx.emit({ t: now, ok: true, value: took, detail: { state: 'serving', from: lost.by, to: next.by, lostAt: lost.at, reason: lost.reason, lease: chosenLease ?? null } });
        lost = undefined;
      }
    };

    const watchOptions = { kubeConfig: ctx.cluster.kubeConfig, onChange: observe, onRetry: ctx.log, onGiveUp: (err: Error) => ctx.fail?.(err) };
    const pods = new KubeWatch<V1Pod>({ ...watchOptions, path: podsPath(namespace) });
    const leaseNamespace = explicitLease?.namespace ?? namespace;
    const leases = leaseMode
      ? new KubeWatch<V1Lease>({
          ...watchOptions,
          path: leasesPath(leaseNamespace),
          ...(explicitLease ? { fieldSelector: `metadata.name=${explicitLease.name}` } : {}),
        })
      : undefined;
    const all = leases ? [pods, leases] : [pods];
    await startWatches(all);
    synced = true;
    observe();
    if (chosenLease) ctx.log(`following leader election through lease ${leaseNamespace}/${chosenLease}`);
    return {
      async stop() {
        synced = false;
        clearTimeout(expiryTimer);
        await Promise.all(all.map((w) => w.stop()));
        if (lost) {
          const now = Date.now();
          ctx.emit({ t: now, ok: false, value: now - lost.at, error: 'failover-unfinished', detail: { state: 'lost', lost: lost.by, lostAt: lost.at, reason: lost.reason } });
        }
      },
    };
  },
};

/** The workload pod holding a lease: identity = pod name, or `<pod>_<suffix>` (client-go's hostname_uuid). */
function holderPod(lease: V1Lease, members: readonly V1Pod[]): V1Pod | undefined {
  const holder = lease.spec?.holderIdentity;
  if (!holder) return undefined;
  return members.find((pod) => {
    const name = pod.metadata?.name;
    return name !== undefined && (holder === name || holder.startsWith(`${name}_`));
  });
}

function leaseServing(lease: V1Lease, members: readonly V1Pod[], holderUids: Map<string, string>, now: number): Serving {
  const holder = lease.spec?.holderIdentity;
  if (!holder) return { serving: false, by: '', reason: 'lease released' };
  const renew = lease.spec?.renewTime ? Date.parse(String(lease.spec.renewTime)) : NaN;
  const expiresAt = renew + (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
  if (Number.isFinite(expiresAt) && expiresAt < now) return { serving: false, by: holder, reason: `lease held by ${holder} expired` };
  const pod = holderPod(lease, members);
  if (!pod) return { serving: false, by: holder, reason: `leader ${holder} is not a pod of the workload any more` };
  const name = pod.metadata?.name ?? holder;
  const uid = pod.metadata?.uid ?? '';
  const firstUid = holderUids.get(holder);
  if (firstUid === undefined) holderUids.set(holder, uid);
  else if (firstUid !== uid) return { serving: false, by: name, reason: `leader ${name} was replaced; the lease still names the old pod` };
  if (pod.metadata?.deletionTimestamp) return { serving: false, by: name, reason: `leader ${name} is terminating` };
  if (!podIsServing(pod)) return { serving: false, by: name, reason: `leader ${name} is not ready` };
  return { serving: true, by: name, ...(Number.isFinite(expiresAt) ? { expiresAt } : {}) };
}
