import type { KubernetesObject } from '@kubernetes/client-node';
import { z } from 'zod';
import { KubeWatch, watchPermission } from '../cluster/kube-watch.js';
import type { ProbePlugin } from './probe.js';
import { parseWorkloadRef, workloadRefSchema, type WorkloadKind } from './shared/target-ref.js';

const params = z.strictObject({
  target: workloadRefSchema.describe('the workload, as kind/namespace/name, like deployment/shop/web'),
});
type Params = z.output<typeof params>;

interface WorkloadStatus {
  readonly replicas?: number;
  readonly readyReplicas?: number;
  readonly availableReplicas?: number;
  readonly updatedReplicas?: number;
  readonly numberReady?: number;
  readonly desiredNumberScheduled?: number;
}

type Workload = KubernetesObject & { spec?: { replicas?: number }; status?: WorkloadStatus };

/**
 * A probe that watches a workload and takes a sample whenever one of its counts changes, its
 * value being the count `valueOf` reads: ready replicas for `ready(…)`, wanted replicas for
 * `replicas(…)`.
 */
function workloadCountProbe(kind: string, summary: string, valueOf: (kind: WorkloadKind, w: Workload) => number): ProbePlugin<Params> {
  return {
    kind,
    summary,
    params,

    permissions(p) {
      const target = parseWorkloadRef(p.target);
      return [watchPermission(`${kind} probe: watch ${target.text}`, target.collectionPath, target.name)];
    },

    async start(ctx, p) {
      const target = parseWorkloadRef(p.target);
      const { kind: workloadKind, name } = target;
      let synced = false;
      let last = '';
      const observe = (): void => {
        if (!synced) return;
        const workload = workloads.list().find((w) => w.metadata?.name === name);
        const observation = workload
          ? { ok: true, value: valueOf(workloadKind, workload), detail: { wanted: wantedOf(workloadKind, workload), ...replicaCounts(workload.status) } }
          : { ok: false, value: 0, error: 'workload-missing', detail: { message: `${target.text} does not exist` } };
        const key = JSON.stringify(observation);
        if (key === last) return;
        last = key;
        ctx.emit({ t: Date.now(), ...observation });
      };
      const workloads = new KubeWatch<Workload>({
        kubeConfig: ctx.cluster.kubeConfig,
        path: target.collectionPath,
        fieldSelector: `metadata.name=${name}`,
        onChange: observe,
        onRetry: ctx.log,
        onGiveUp: (err) => ctx.fail?.(err),
      });
      await workloads.start();
      synced = true;
      observe();
      return {
        async stop() {
          synced = false;
          await workloads.stop();
        },
      };
    },
  };
}

/** Takes a sample whenever a workload's ready replicas (a DaemonSet's ready pods) change: `ready(deployment/shop/web) >= 3`. */
export const readyProbe = workloadCountProbe('ready', "a workload's ready replicas, at every change (watch-based)", readyOf);

/**
 * Takes a sample whenever the replicas a workload asks for change (spec.replicas; a DaemonSet's
 * desired pods), so an autoscaler's decisions form a series: `replicas(deployment/shop/web) <= 10`.
 */
export const replicasProbe = workloadCountProbe('replicas', 'the replicas a workload asks for (what an autoscaler set), at every change (watch-based)', wantedOf);

function readyOf(kind: WorkloadKind, w: Workload): number {
  return (kind === 'daemonset' ? w.status?.numberReady : w.status?.readyReplicas) ?? 0;
}

function wantedOf(kind: WorkloadKind, w: Workload): number {
  return (kind === 'daemonset' ? w.status?.desiredNumberScheduled : w.spec?.replicas) ?? (kind === 'daemonset' ? 0 : 1);
}

/** The counts a person reads next to ready replicas; the rest of the status is noise as evidence. */
function replicaCounts(status: WorkloadStatus | undefined): WorkloadStatus {
  const { replicas, readyReplicas, availableReplicas, updatedReplicas, numberReady, desiredNumberScheduled } = status ?? {};
  return Object.fromEntries(Object.entries({ replicas, readyReplicas, availableReplicas, updatedReplicas, numberReady, desiredNumberScheduled }).filter(([, v]) => v !== undefined));
}
