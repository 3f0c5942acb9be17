import { isActive, isDeleting, isPodReady, nowIso, podPhase, setCondition, type Condition } from '../pod-state.js';
import { byControllerUid, INDEX } from '../standard-indexes.js';
import type { StoredObject } from '../store.js';
import type { ControllerContext, RunningController } from './controller-context.js';
import { createAdmittedPod, deletePodGracefully, podFromTemplate, type PodTemplate } from './pod-factory.js';
import { objectKey } from '../informer.js';
import { enqueueOwnersAndDependents } from './owner-queue.js';
import { WorkQueue } from './work-queue.js';

const SOURCE = { component: 'job-controller' };

interface JobSpec {
  completions?: number | null;
  parallelism?: number;
  backoffLimit?: number;
  suspend?: boolean;
  template?: PodTemplate;
}

const finished = (job: StoredObject): boolean =>
  (((job.status as { conditions?: Condition[] } | undefined)?.conditions) ?? []).some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');

/** NonIndexed Jobs: run pods until `completions` succeed, give up after `backoffLimit` failures. */
export function startJobController(ctx: ControllerContext): RunningController {
  const { store, informers, recorder, timings } = ctx;
  const jobs = informers.for('jobs.batch');
  const pods = informers.for('pods').addIndex(INDEX.controller, byControllerUid);
  const queue = new WorkQueue('job-controller', (key) => sync(key));

  function sync(key: string): void {
    const job = jobs.getByKey(key);
    if (!job || isDeleting(job)) return;
    const spec = job.spec as JobSpec;
    const owned = pods.byIndex(INDEX.controller, job.metadata.uid);
    const succeeded = owned.filter((p) => podPhase(p) === 'Succeeded').length;
    const failed = owned.filter((p) => podPhase(p) === 'Failed').length;
    const active = owned.filter(isActive);
    const parallelism = spec.parallelism ?? 1;
    const completions = spec.completions ?? null;
    const backoffLimit = spec.backoffLimit ?? 6;
    const done = finished(job);
    let outcome: Condition | undefined;
    if (!done) {
      if (failed > backoffLimit) {
        outcome = { type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
      } else if (completions === null ? succeeded > 0 && active.length === 0 : succeeded >= completions) {
        outcome = { type: 'Complete', status: 'True' };
      }
    }
    if (outcome?.type === 'Failed') for (const p of active) deletePodGracefully(store, p);
    if (!done && !outcome && !spec.suspend) {
      const remaining = completions === null ? (succeeded > 0 ? 0 : parallelism) : completions - succeeded;
      const toCreate = Math.min(parallelism, remaining) - active.length;
      for (let i = 0; i < toCreate; i++) {
        const pod = createAdmittedPod(ctx, job, podFromTemplate(spec.template ?? {}, {
          namespace: job.metadata.namespace!,
          owner: job,
          generateName: `${job.metadata.name}-`,
          labels: {
            'batch.kubernetes.io/controller-uid': job.metadata.uid,
            'batch.kubernetes.io/job-name': job.metadata.name,
            'controller-uid': job.metadata.uid,
            'job-name': job.metadata.name,
          },
          defaultTolerationSeconds: timings.defaultTolerationSeconds,
        }), SOURCE);
        if (!pod) {
          queue.addAfter(objectKey(job), 1_000);
          break;
        }
        recorder.record(job, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`, SOURCE);
      }
    }
    if (outcome) recorder.record(job, outcome.type === 'Failed' ? 'Warning' : 'Normal', outcome.type === 'Failed' ? 'BackoffLimitExceeded' : 'Completed', outcome.type === 'Failed' ? outcome.message! : 'Job completed', SOURCE);
    const now = nowIso();
    store.mutate('jobs.batch', job.metadata.namespace, job.metadata.name, (o) => {
      const prev = (o.status ?? {}) as Record<string, unknown>;
      const conditions = ((prev.conditions as Condition[] | undefined) ?? []).map((c) => ({ ...c }));
      if (outcome) {
        // Kubernetes 1.31+ sets the terminal criterion condition first, then Complete/Failed.
        setCondition(conditions, { ...outcome, type: outcome.type === 'Complete' ? 'SuccessCriteriaMet' : 'FailureTarget', lastProbeTime: now }, now);
        setCondition(conditions, { ...outcome, lastProbeTime: now }, now);
      }
      o.status = {
        ...prev,
        startTime: prev.startTime ?? now,
        active: outcome || done ? 0 : active.length,
        succeeded,
        failed,
        ready: active.filter(isPodReady).length,
        ...(conditions.length ? { conditions } : {}),
        ...(outcome?.type === 'Complete' ? { completionTime: now } : {}),
      };
      if (!(o.status as Record<string, unknown>).active) delete (o.status as Record<string, unknown>).active;
    });
  }

  const stopWiring = enqueueOwnersAndDependents(jobs, pods, 'Job', queue);
  return {
    stop() {
      stopWiring();
      queue.stop();
    },
  };
}
