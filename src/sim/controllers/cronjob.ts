import type { LooseJson } from '../api/loose-json.js';
import { Admission } from '../api/admission.js';
import { ApiError } from '../api/api-error.js';
import { findResource } from '../api/resources.js';
import { isDeleting } from '../pod-state.js';
import { byControllerUid, INDEX } from '../standard-indexes.js';
import { StoreError, type StoredObject } from '../store.js';
import type { ControllerContext, RunningController } from './controller-context.js';
import { CronSchedule } from '../cron-schedule.js';
import { enqueueOwnersAndDependents } from './owner-queue.js';
import { controllerRef, deleteObject } from './pod-factory.js';
import { WorkQueue } from './work-queue.js';

/**
 * The CronJob controller (kube-controller-manager's cronjob_controllerv2): at each scheduled time
 * it creates a Job named `<cronjob>-<minutes since the epoch>` from `jobTemplate`, unless the
 * CronJob is suspended, the start is later than `startingDeadlineSeconds`, or a previous Job still
 * runs under `concurrencyPolicy: Forbid` (`Replace` deletes it first). It keeps `status.active`,
 * `lastScheduleTime` and `lastSuccessfulTime`, and deletes finished Jobs beyond the history limits.
 */
const SOURCE = { component: 'cronjob-controller' };
const JOBS = findResource('batch', 'v1', 'jobs')!;
/** Past this many missed start times the controller warns, as the real one does. */
const TOO_MANY_MISSED = 100;
/** Missed starts stepped through one by one before only the recent window is searched. */
const STEP_LIMIT = 100_000;
const RECENT_WINDOW_MS = 100 * 3_600_000;

type Json = LooseJson;

function finishedAs(job: StoredObject): 'Complete' | 'Failed' | undefined {
  const c = ((job.status as Json | undefined)?.conditions ?? []) as Json[];
  if (c.some((x) => x.type === 'Complete' && x.status === 'True')) return 'Complete';
  if (c.some((x) => x.type === 'Failed' && x.status === 'True')) return 'Failed';
  return undefined;
}

function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

/** Go's RFC1123Z, in UTC: the format of the MissSchedule event. */
function rfc1123z(ms: number): string {
  return new Date(ms).toUTCString().replace('GMT', '+0000');
}

function jobRef(job: StoredObject): Json {
  return { kind: 'Job', namespace: job.metadata.namespace, name: job.metadata.name, uid: job.metadata.uid, apiVersion: 'batch/v1', resourceVersion: job.metadata.resourceVersion };
}

export function startCronJobController(ctx: ControllerContext): RunningController {
  const { store, informers, recorder, timings } = ctx;
  const cronJobs = informers.for('cronjobs.batch');
  const jobs = informers.for('jobs.batch').addIndex(INDEX.controller, byControllerUid);
  const admission = new Admission({ store, defaultTolerationSeconds: timings.defaultTolerationSeconds });
  const queue = new WorkQueue('cronjob-controller', (key) => sync(key));

  /** The most recent start time in (earliest, now], and how many were missed since earliest. */
  function mostRecent(schedule: CronSchedule, earliest: number, now: number): { at?: number; missed: number } {
    let at: number | undefined;
    let missed = 0;
    for (let t = schedule.next(earliest); t !== undefined && t <= now; t = schedule.next(t)) {
      at = t;
      // So many starts missed means a schedule of minutes: the latest lies in the last hundred hours.
      if (++missed === STEP_LIMIT && earliest < now - RECENT_WINDOW_MS) return { ...mostRecent(schedule, now - RECENT_WINDOW_MS, now), missed };
    }
    return at === undefined ? { missed } : { at, missed };
  }

  function sync(key: string): void {
    const cj = cronJobs.getByKey(key) as Json | undefined;
    if (!cj || isDeleting(cj as StoredObject)) return;
    const spec = (cj.spec ?? {}) as Json;
    const namespace = cj.metadata.namespace as string;
    const owned = jobs.byIndex(INDEX.controller, cj.metadata.uid as string);
    const status = structuredClone((cj.status ?? {}) as Json);
    let active = ((status.active ?? []) as Json[]).filter((ref) => owned.some((j) => j.metadata.uid === ref.uid && !finishedAs(j)));
    for (const job of owned) {
      const outcome = finishedAs(job);
      const listed = ((status.active ?? []) as Json[]).some((ref) => ref.uid === job.metadata.uid);
      if (outcome && listed) {
        recorder.record(cj as StoredObject, 'Normal', 'SawCompletedJob', `Saw completed job: ${job.metadata.name}, status: ${outcome}`, SOURCE);
        const done = (job.status as Json | undefined)?.completionTime as string | undefined;
        if (outcome === 'Complete' && done && (!status.lastSuccessfulTime || Date.parse(done) > Date.parse(status.lastSuccessfulTime))) status.lastSuccessfulTime = done;
      } else if (!outcome && !active.some((ref) => ref.uid === job.metadata.uid) && !isDeleting(job)) {
        active.push(jobRef(job));
      }
    }
    removeOldJobs(cj, owned.filter((j) => !isDeleting(j)));

    const now = Date.now();
    let requeueAt: number | undefined;
    if (!spec.suspend) {
      let schedule: CronSchedule | undefined;
      try {
        schedule = CronSchedule.parse(String(spec.schedule), spec.timeZone as string | undefined);
      } catch (err) {
        recorder.record(cj as StoredObject, 'Warning', 'UnparseableSchedule', `unparseable schedule: ${JSON.stringify(spec.schedule)} : ${(err as Error).message}`, SOURCE);
      }
      if (schedule) {
        const last = status.lastScheduleTime ? Date.parse(status.lastScheduleTime) : Date.parse(cj.metadata.creationTimestamp);
        const deadline = spec.startingDeadlineSeconds as number | undefined;
        const earliest = deadline !== undefined && deadline !== null ? Math.max(last, now - deadline * 1000) : last;
        const { at, missed } = mostRecent(schedule, earliest, now);
        if (missed > TOO_MANY_MISSED) {
          recorder.record(cj as StoredObject, 'Warning', 'TooManyMissedTimes', `too many missed start times: ${missed}. Set or decrease .spec.startingDeadlineSeconds or check clock skew`, SOURCE);
        }
        if (at !== undefined) active = start(cj, at, active, status, now);
        requeueAt = schedule.next(now);
      }
    }
    const next: Json = { ...status, active };
    if (!active.length) delete next.active;
    if (JSON.stringify(next) !== JSON.stringify(cj.status ?? {})) store.mutate('cronjobs.batch', namespace, cj.metadata.name as string, (o) => void (o.status = next));
    if (requeueAt !== undefined) queue.addAfter(key, requeueAt - Date.now() + 100);
  }

  /** One scheduled start: the concurrency policy's verdict, then the Job. Returns the new active list. */
  function start(cj: Json, at: number, active: Json[], status: Json, now: number): Json[] {
    const spec = cj.spec as Json;
    const name = `${String(cj.metadata.name)}-${Math.floor(at / 60_000)}`;
    if (active.some((ref) => ref.name === name)) return active;
    const deadline = spec.startingDeadlineSeconds as number | undefined;
    if (deadline !== undefined && deadline !== null && at < now - deadline * 1000) {
      recorder.record(cj as StoredObject, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${rfc1123z(at)}`, SOURCE);
      return active;
    }
    const policy = spec.concurrencyPolicy ?? 'Allow';
    if (policy === 'Forbid' && active.length) {
      recorder.record(cj as StoredObject, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid', SOURCE);
      return active;
    }
    if (policy === 'Replace') {
      for (const ref of active) {
        const job = store.get('jobs.batch', ref.namespace, ref.name);
        if (job) deleteObject(store, 'jobs.batch', job);
        recorder.record(cj as StoredObject, 'Normal', 'SuccessfulDelete', `Deleted job ${String(ref.name)}`, SOURCE);
      }
      active = [];
    }
    const template = (spec.jobTemplate ?? {}) as Json;
    const job: Json = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name,
        namespace: cj.metadata.namespace,
        labels: { ...(template.metadata?.labels ?? {}) },
        annotations: { ...(template.metadata?.annotations ?? {}), 'batch.kubernetes.io/cronjob-scheduled-timestamp': rfc3339(at) },
        ownerReferences: [controllerRef(cj as StoredObject)],
      },
      spec: structuredClone(template.spec ?? {}),
    };
    try {
      admission.admitCreate(JOBS, job as StoredObject);
    } catch (err) {
      // Refused at admission (a quota): the real controller's FailedCreate, and a try at the next start.
      if (!(err instanceof ApiError)) throw err;
      recorder.record(cj as StoredObject, 'Warning', 'FailedCreate', `Error creating job: ${err.message}`, SOURCE);
      return active;
    }
    try {
      const created = store.create('jobs.batch', job as StoredObject, { uid: job.metadata.uid });
      recorder.record(cj as StoredObject, 'Normal', 'SuccessfulCreate', `Created job ${name}`, SOURCE);
      active = [...active, jobRef(created)];
    } catch (err) {
      // Created already by an earlier pass whose status write was lost: the next sync lists it.
      if (!(err instanceof StoreError && err.reason === 'AlreadyExists')) throw err;
    }
    status.lastScheduleTime = rfc3339(at);
    return active;
  }

  /** Finished Jobs beyond successfulJobsHistoryLimit / failedJobsHistoryLimit go, oldest first. */
  function removeOldJobs(cj: Json, owned: StoredObject[]): void {
    const spec = cj.spec as Json;
    for (const [outcome, limit] of [['Complete', spec.successfulJobsHistoryLimit ?? 3], ['Failed', spec.failedJobsHistoryLimit ?? 1]] as const) {
      const finished = owned.filter((j) => finishedAs(j) === outcome);
      if (finished.length <= limit) continue;
      const startOf = (j: StoredObject) => Date.parse(((j.status as Json | undefined)?.startTime as string | undefined) ?? j.metadata.creationTimestamp);
      finished.sort((a, b) => startOf(a) - startOf(b) || a.metadata.name.localeCompare(b.metadata.name));
      for (const job of finished.slice(0, finished.length - limit)) {
        deleteObject(store, 'jobs.batch', job);
        recorder.record(cj as StoredObject, 'Normal', 'SuccessfulDelete', `Deleted job ${job.metadata.name}`, SOURCE);
      }
    }
  }

  const stopWiring = enqueueOwnersAndDependents(cronJobs, jobs, 'CronJob', queue);
  return {
    stop() {
      stopWiring();
      queue.stop();
    },
  };
}
