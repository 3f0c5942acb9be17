import { Admission } from '../api/admission.js';
import { ApiError } from '../api/api-error.js';
import { findResource } from '../api/resources.js';
import { randomSuffix, type ObjectStore, type OwnerReference, type StoredObject } from '../store.js';
import type { ControllerContext } from './controller-context.js';
import { isTerminal, nowIso } from '../pod-state.js';

const POD_RESOURCE = findResource('', 'v1', 'pods')!;

export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
}

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

export function controllerRef(owner: StoredObject): OwnerReference {
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true };
}

/**
 * What the DefaultTolerationSeconds admission plugin adds to every pod. Controllers here write
 * the store directly, past the API server's admission, so they apply it themselves.
 */
export function addDefaultTolerations(spec: Record<string, unknown>, seconds: number): void {
  const tolerations = ((spec.tolerations as Toleration[] | undefined) ?? []).slice();
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    const covered = tolerations.some((t) => (t.key === key || (!t.key && t.operator === 'Exists')) && (!t.effect || t.effect === 'NoExecute'));
    if (!covered) tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds });
  }
  spec.tolerations = tolerations;
}

export interface NewPodOptions {
  readonly namespace: string;
  readonly owner: StoredObject;
  readonly name?: string;
  readonly generateName?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
  readonly defaultTolerationSeconds: number;
  /** Applied to the spec after the template's defaults. */
  readonly specPatch?: Record<string, unknown>;
}

function qosClass(spec: Record<string, unknown>): string {
  const containers = (spec.containers as { resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> } }[] | undefined) ?? [];
  let any = false;
  let guaranteed = containers.length > 0;
  for (const c of containers) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    if (Object.keys(req).length || Object.keys(lim).length) any = true;
    for (const r of ['cpu', 'memory']) if (lim[r] === undefined || (req[r] !== undefined && req[r] !== lim[r])) guaranteed = false;
  }
  return !any ? 'BestEffort' : guaranteed ? 'Guaranteed' : 'Burstable';
}

/** A pod as a controller creates it from its template, with the defaults the API server would fill in. */
export function podFromTemplate(template: PodTemplate, o: NewPodOptions): StoredObject {
  const spec = structuredClone(template.spec ?? {}) as Record<string, unknown>;
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.serviceAccountName ??= 'default';
  Object.assign(spec, o.specPatch ?? {});
  addDefaultTolerations(spec, o.defaultTolerationSeconds);
  const labels = { ...(template.metadata?.labels ?? {}), ...(o.labels ?? {}) };
  const annotations = { ...(template.metadata?.annotations ?? {}), ...(o.annotations ?? {}) };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: o.name ?? '',
      ...(o.generateName ? { generateName: o.generateName } : {}),
      namespace: o.namespace,
      uid: '',
      resourceVersion: '',
      creationTimestamp: '',
      labels,
      ...(Object.keys(annotations).length ? { annotations } : {}),
      ownerReferences: [controllerRef(o.owner)],
    },
    spec,
    status: { phase: 'Pending', qosClass: qosClass(spec) },
  };
}

/**
 * Graceful pod deletion as the API server performs it: a pod that never ran (unscheduled) or has
 * finished goes at once; otherwise it gets a deletionTimestamp and its kubelet finishes the job.
 */
export function deletePodGracefully(store: ObjectStore, pod: StoredObject, graceSeconds?: number): void {
  const spec = pod.spec as { nodeName?: string; terminationGracePeriodSeconds?: number };
  const grace = graceSeconds ?? spec.terminationGracePeriodSeconds ?? 30;
  if (!spec.nodeName || isTerminal(pod) || grace === 0) {
    store.remove('pods', pod.metadata.namespace, pod.metadata.name);
    return;
  }
  store.mutate('pods', pod.metadata.namespace, pod.metadata.name, (p) => {
    const current = p.metadata.deletionGracePeriodSeconds;
    if (current !== undefined && current <= grace) return false;
    p.metadata.deletionGracePeriodSeconds = grace;
    p.metadata.deletionTimestamp = new Date(Date.now() + grace * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    return true;
  });
}

/** Deletes any object: pods gracefully, others at once unless finalizers hold them. */
export function deleteObject(store: ObjectStore, resource: string, o: StoredObject): void {
  if (resource === 'pods') return deletePodGracefully(store, o);
  if (o.metadata.finalizers?.length) {
    if (!o.metadata.deletionTimestamp) {
      store.mutate(resource, o.metadata.namespace, o.metadata.name, (x) => {
        x.metadata.deletionTimestamp = nowIso();
        x.metadata.deletionGracePeriodSeconds = 0;
      });
    }
    return;
  }
  store.remove(resource, o.metadata.namespace, o.metadata.name);
}

/**
 * Creates a controller's pod through the admission the API server would run on it (LimitRange
 * defaults, PriorityClass resolution, ResourceQuota), so that a pod the namespace's policy refuses
 * is not created: the owner gets the FailedCreate event the real controller records, and the
 * controller tries again on its next sync. Returns the pod, or undefined when it was refused.
 */
export function createAdmittedPod(
  ctx: Pick<ControllerContext, 'store' | 'recorder' | 'timings'>,
  owner: StoredObject,
  pod: StoredObject,
  source: { component: string },
  refusal: (message: string) => string = (message) => `Error creating: ${message}`,
): StoredObject | undefined {
  const meta = pod.metadata;
  if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${randomSuffix()}`;
  try {
    new Admission({ store: ctx.store, defaultTolerationSeconds: ctx.timings.defaultTolerationSeconds }).admitCreate(POD_RESOURCE, pod);
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    ctx.recorder.record(owner, 'Warning', 'FailedCreate', refusal(err.message), source);
    return undefined;
  }
  return ctx.store.create('pods', pod);
}
