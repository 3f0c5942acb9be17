import { objectKey } from '../informer.js';
import { nodeMatchesPod, pinnedNodeName, type PodPlacementSpec } from '../node-affinity.js';
import { availability, isDeleting, isPodReady, isTerminal } from '../pod-state.js';
import { byControllerUid, INDEX } from '../standard-indexes.js';
import type { StoredObject } from '../store.js';
import { nodeTaints, untoleratedTaint } from '../taints.js';
import type { ControllerContext, RunningController } from './controller-context.js';
import { createAdmittedPod, deletePodGracefully, podFromTemplate, type PodTemplate, type Toleration } from './pod-factory.js';
import { resolveIntOrPercent, templateHash } from './template-hash.js';
import { enqueueOwnersAndDependents } from './owner-queue.js';
import { WorkQueue } from './work-queue.js';

const SOURCE = { component: 'daemonset-controller' };
const REVISION_LABEL = 'controller-revision-hash';

/** The tolerations the real DaemonSet controller adds, so daemons stay on sick and cordoned nodes. */
const DAEMON_TOLERATIONS: readonly Toleration[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
];

interface DaemonSetSpec {
  selector?: unknown;
  template?: PodTemplate;
  minReadySeconds?: number;
  updateStrategy?: { type?: string; rollingUpdate?: { maxUnavailable?: number | string } };
}

function withDaemonTolerations(spec: Record<string, unknown>): Toleration[] {
  const own = (spec.tolerations as Toleration[] | undefined) ?? [];
  const extra = DAEMON_TOLERATIONS.filter((d) => !own.some((t) => t.key === d.key && t.effect === d.effect));
  return [...own, ...extra];
}

export function startDaemonSetController(ctx: ControllerContext): RunningController {
  const { store, informers, recorder, timings } = ctx;
  const sets = informers.for('daemonsets.apps');
  const nodes = informers.for('nodes');
  const pods = informers.for('pods').addIndex(INDEX.controller, byControllerUid);
  const queue = new WorkQueue('daemonset-controller', (key) => sync(key));

  function shouldRun(template: PodTemplate, node: StoredObject): boolean {
    const spec = (template.spec ?? {}) as PodPlacementSpec & Record<string, unknown>;
    if (!nodeMatchesPod(spec, node)) return false;
    return !untoleratedTaint(withDaemonTolerations(spec), nodeTaints(node), ['NoSchedule', 'NoExecute']);
  }

  function sync(key: string): void {
    const ds = sets.getByKey(key);
    if (!ds || isDeleting(ds)) return;
    const spec = ds.spec as DaemonSetSpec;
    const template = spec.template ?? {};
    const revision = templateHash(template);
    const byNode = new Map<string, StoredObject[]>();
    for (const p of pods.byIndex(INDEX.controller, ds.metadata.uid)) {
      const pspec = p.spec as PodPlacementSpec & { nodeName?: string };
      const node = pspec.nodeName ?? pinnedNodeName(pspec);
      if (!node) continue;
      const list = byNode.get(node) ?? [];
      list.push(p);
      byNode.set(node, list);
    }
    let desired = 0;
    let current = 0;
    let misscheduled = 0;
    let ready = 0;
    let available = 0;
    let updated = 0;
    const staleHealthy: StoredObject[] = [];
    let unavailable = 0;
    for (const node of nodes.list()) {
      const name = node.metadata.name;
      const run = shouldRun(template, node);
      const live = (byNode.get(name) ?? []).filter((p) => !isDeleting(p));
      byNode.delete(name);
      for (const failed of live.filter(isTerminal)) {
        deletePodGracefully(store, failed);
        recorder.record(ds, 'Warning', 'FailedDaemonPod', `Found failed daemon pod ${failed.metadata.namespace}/${failed.metadata.name} on node ${name}, will try to kill it`, SOURCE);
      }
      const running = live.filter((p) => !isTerminal(p));
      if (run) {
        desired++;
        if (running.length === 0) {
          createPod(ds, template, name, revision);
          unavailable++;
          continue;
        }
        current++;
        const pod = running[0]!;
        for (const extra of running.slice(1)) deletePodGracefully(store, extra);
        const isUpdated = pod.metadata.labels?.[REVISION_LABEL] === revision;
        if (isUpdated) updated++;
        if (isPodReady(pod)) ready++;
        const a = availability(pod, spec.minReadySeconds ?? 0);
        if (a.available) {
          available++;
          if (!isUpdated) staleHealthy.push(pod);
        } else {
          unavailable++;
          if (a.waitMs > 0) queue.addAfter(key, a.waitMs + 10);
          if (!isUpdated) deletePodGracefully(store, pod);
        }
      } else if (running.length > 0) {
        misscheduled++;
        for (const p of running) deletePodGracefully(store, p);
      }
    }
    for (const orphans of byNode.values()) for (const p of orphans) if (!isDeleting(p)) deletePodGracefully(store, p);

    if ((spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate') {
      const maxUnavailable = Math.max(1, resolveIntOrPercent(spec.updateStrategy?.rollingUpdate?.maxUnavailable, '1', desired, true));
      for (const pod of staleHealthy.slice(0, Math.max(0, maxUnavailable - unavailable))) deletePodGracefully(store, pod);
    }

    store.mutate('daemonsets.apps', ds.metadata.namespace, ds.metadata.name, (o) => {
      o.status = {
        observedGeneration: o.metadata.generation ?? 1,
        desiredNumberScheduled: desired,
        currentNumberScheduled: current,
        numberMisscheduled: misscheduled,
        numberReady: ready,
        numberAvailable: available,
        numberUnavailable: Math.max(0, desired - available),
        updatedNumberScheduled: updated,
      };
    });
  }

  function createPod(ds: StoredObject, template: PodTemplate, node: string, revision: string): void {
    const spec = structuredClone(template.spec ?? {}) as Record<string, unknown>;
    const affinity = (spec.affinity as Record<string, unknown> | undefined) ?? {};
    const pod = createAdmittedPod(ctx, ds, podFromTemplate({ ...template, spec }, {
      namespace: ds.metadata.namespace!,
      owner: ds,
      generateName: `${ds.metadata.name}-`,
      labels: { [REVISION_LABEL]: revision, 'pod-template-generation': String(ds.metadata.generation ?? 1) },
      defaultTolerationSeconds: timings.defaultTolerationSeconds,
      specPatch: {
        tolerations: withDaemonTolerations(spec),
        affinity: {
          ...affinity,
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [node] }] }],
            },
          },
        },
      },
    }), SOURCE);
    if (!pod) {
      queue.addAfter(objectKey(ds), 1_000);
      return;
    }
    recorder.record(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`, SOURCE);
  }

  function enqueueAll(): void {
    for (const ds of sets.list()) queue.add(objectKey(ds));
  }

  const stopWiring = enqueueOwnersAndDependents(sets, pods, 'DaemonSet', queue);
  const offN = nodes.onChange((type, node, old) => {
    // Heartbeats do not change where daemons belong; labels and taints do.
    const placement = (n: StoredObject | undefined): string => JSON.stringify([n?.metadata.labels, nodeTaints(n)]);
    if (type !== 'MODIFIED' || placement(node) !== placement(old)) enqueueAll();
  });
  return {
    stop() {
      stopWiring();
      offN();
      queue.stop();
    },
  };
}
