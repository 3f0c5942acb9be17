import { objectKey } from '../informer.js';
import { selectorMatches, type LabelSelector } from '../label-selector.js';
import { availability, isActive, isPodReady, podPhase, type Condition } from '../pod-state.js';
import { byControllerUid, INDEX } from '../standard-indexes.js';
import type { StoredObject } from '../store.js';
import type { ControllerContext, RunningController } from './controller-context.js';
import { createAdmittedPod, deletePodGracefully, podFromTemplate, type PodTemplate } from './pod-factory.js';
import { enqueueOwnersAndDependents } from './owner-queue.js';
import { WorkQueue } from './work-queue.js';

const SOURCE = { component: 'replicaset-controller' };
/** How long after a create the API server refused (a quota, a LimitRange) the set tries again. */
const REFUSED_RETRY_MS = 1_000;
/** The real controller's slow-start burst limit per sync. */
const BURST = 500;

interface ReplicaSetSpec {
  replicas?: number;
  minReadySeconds?: number;
  selector?: LabelSelector;
  template?: PodTemplate;
}

/** Deletion order of the real controller: unscheduled, then pending, then not ready, then newest. */
function deletionRank(pod: StoredObject): number[] {
  const scheduled = (pod.spec as { nodeName?: string }).nodeName ? 1 : 0;
  const phase = podPhase(pod);
  const running = phase === 'Running' ? 2 : phase === 'Unknown' ? 1 : 0;
  const ready = isPodReady(pod) ? 1 : 0;
  const created = -Date.parse(pod.metadata.creationTimestamp);
  return [scheduled, running, ready, created];
}

function compareRank(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

export function startReplicaSetController(ctx: ControllerContext): RunningController {
  const { store, informers, recorder, timings } = ctx;
  const rsets = informers.for('replicasets.apps');
  const pods = informers.for('pods').addIndex(INDEX.controller, byControllerUid);

  const queue = new WorkQueue('replicaset-controller', (key) => sync(key));

  function sync(key: string): void {
    const rs = rsets.getByKey(key);
    if (!rs || rs.metadata.deletionTimestamp) return;
    const spec = rs.spec as ReplicaSetSpec;
    const owned = pods.byIndex(INDEX.controller, rs.metadata.uid);
    const active = owned.filter(isActive);
    const want = spec.replicas ?? 1;
    const diff = want - active.length;
    const ns = rs.metadata.namespace!;
    if (diff > 0) {
      const n = Math.min(diff, BURST);
      let refused = false;
      for (let i = 0; i < n && !refused; i++) {
        const template = podFromTemplate(spec.template ?? {}, {
          namespace: ns,
          owner: rs,
          generateName: `${rs.metadata.name}-`,
          defaultTolerationSeconds: timings.defaultTolerationSeconds,
        });
        const pod = createAdmittedPod(ctx, rs, template, SOURCE);
        if (pod) recorder.record(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`, SOURCE);
        else refused = true;
      }
      // A refused create is retried later, as the real controller's rate-limited queue does.
      if (refused) queue.addAfter(key, REFUSED_RETRY_MS);
      else if (diff > n) queue.add(key);
    } else if (diff < 0) {
      const victims = active.sort((a, b) => compareRank(deletionRank(a), deletionRank(b))).slice(0, -diff);
      for (const pod of victims) {
        deletePodGracefully(store, pod);
        recorder.record(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`, SOURCE);
      }
    }
    writeStatus(rs, spec, active);
  }

  function writeStatus(rs: StoredObject, spec: ReplicaSetSpec, active: StoredObject[]): void {
    const minReady = spec.minReadySeconds ?? 0;
    const templateLabels = spec.template?.metadata?.labels ?? {};
    let ready = 0;
    let available = 0;
    let labeled = 0;
    let nextCheck = Infinity;
    for (const p of active) {
      if (isPodReady(p)) ready++;
      const a = availability(p, minReady);
      if (a.available) available++;
      else if (a.waitMs > 0) nextCheck = Math.min(nextCheck, a.waitMs);
      if (selectorMatches({ matchLabels: templateLabels }, p.metadata.labels)) labeled++;
    }
    if (Number.isFinite(nextCheck)) queue.addAfter(objectKey(rs), nextCheck + 10);
    store.mutate('replicasets.apps', rs.metadata.namespace, rs.metadata.name, (o) => {
      const status = (o.status ?? {}) as Record<string, unknown>;
      const conditions = ((status.conditions as Condition[] | undefined) ?? []).filter((c) => c.type !== 'ReplicaFailure');
      o.status = {
        replicas: active.length,
        fullyLabeledReplicas: labeled,
        readyReplicas: ready,
        availableReplicas: available,
        observedGeneration: o.metadata.generation ?? 1,
        ...(conditions.length ? { conditions } : {}),
      };
    });
  }

  const stopWiring = enqueueOwnersAndDependents(rsets, pods, 'ReplicaSet', queue);
  return {
    stop() {
      stopWiring();
      queue.stop();
    },
  };
}
