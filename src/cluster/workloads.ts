import { readFile } from 'node:fs/promises';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { KubernetesObjectApi } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { abortableSleep } from '../core/abortable-sleep.js';
import { Duration } from '../core/duration.js';
import { errorMessage, HarnessError } from '../core/errors.js';
import { isNotFound } from './api-errors.js';
import type { Permission } from './rbac.js';

export interface ApplyWorkloadsOptions {
  /** Aborted on interrupt: stop waiting for rollouts. */
  readonly signal: AbortSignal;
  /** How long Deployments and StatefulSets may take to become available. @default 120000 */
  readonly timeoutMs?: number;
  /** How often rollout status is read while waiting. @default 1000 */
  readonly pollMs?: number;
  readonly log?: (message: string) => void;
}

export interface AppliedWorkloads {
  /** `Deployment shop/web`, in apply order. */
  readonly objects: readonly string[];
  /** Deletes what was applied, newest first; a missing object is already deleted. */
  remove(): Promise<void>;
}

/**
 * Applies the experiment's workload manifests (create, or replace what exists), then waits until
 * every Deployment and StatefulSet among them is available, like `kubectl apply` + `rollout status`.
 * When it throws, what it already applied has been removed.
 *
 * A Namespace that exists already is left as it is, and is not deleted afterwards: it may hold
 * more than the experiment, such as the Role that lets gameday act in it.
 * What is deleted inside it goes in the foreground, so that its pods are gone before the next
 * experiment, as they would be had the namespace itself been deleted.
 */
export async function applyWorkloads(kubeConfig: KubeConfig, files: readonly string[], options: ApplyWorkloadsOptions): Promise<AppliedWorkloads> {
  const client = KubernetesObjectApi.makeApiClient(kubeConfig);
  const manifests = await readManifests(files);
  const applied: KubernetesObject[] = [];
  const keptNamespaces = new Set<string>();
  const remove = async (): Promise<void> => {
    for (const obj of [...applied].reverse()) {
      const propagation = keptNamespaces.has(obj.metadata?.namespace ?? '') ? 'Foreground' : 'Background';
      try {
        await client.delete(obj, undefined, undefined, undefined, undefined, propagation);
      } catch (err) {
        if (!isNotFound(err)) throw new HarnessError(`could not delete ${describe(obj)}: ${errorMessage(err)}`);
      }
    }
    // A namespace terminates for a while after the delete; the next experiment may apply into it.
    await waitGone(client, applied, options);
  };
  try {
    for (const { obj, file } of manifests) {
      const done = await createOrReplace(client, obj).catch((err: unknown) => {
        throw new HarnessError(`${file}: could not apply ${describe(obj)}: ${errorMessage(err)}`);
      });
      if (done === 'kept') {
        keptNamespaces.add(obj.metadata!.name!);
        options.log?.(`${describe(obj)} exists; left as it is`);
        continue;
      }
      applied.push(obj);
      options.log?.(`applied ${describe(obj)}`);
    }
    await waitAvailable(client, applied, options);
  } catch (err) {
    await remove().catch(() => undefined);
    throw err;
  }
  return { objects: applied.map(describe), remove };
}

/** What applyManifests did with each object, in file order: `created Deployment shop/web`. */
export interface AppliedManifest {
  readonly object: string;
  readonly action: 'created' | 'replaced' | 'kept';
}

/**
 * Creates every object in the manifest files, or replaces what exists (a Namespace that exists is
 * kept), without waiting for rollouts and without removing anything afterwards: a drill's `apply`.
 * The first object that cannot be applied stops it, naming the file.
 */
export async function applyManifests(kubeConfig: KubeConfig, files: readonly string[]): Promise<AppliedManifest[]> {
  const client = KubernetesObjectApi.makeApiClient(kubeConfig);
  const done: AppliedManifest[] = [];
  for (const { obj, file } of await readManifests(files)) {
    const action = await createOrReplace(client, obj).catch((err: unknown) => {
      throw new HarnessError(`${file}: could not apply ${describe(obj)} (after ${done.length} applied): ${errorMessage(err)}`);
    });
    done.push({ object: describe(obj), action });
  }
  return done;
}

/** Kinds that live outside namespaces; any other kind is namespaced. */
const CLUSTER_SCOPED_KINDS = new Set([
  'Namespace', 'Node', 'PersistentVolume', 'StorageClass', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'PriorityClass',
  'IngressClass', 'RuntimeClass', 'CSIDriver', 'ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration', 'APIService',
]);

export interface WorkloadNeeds {
  /** What applyWorkloads does with exactly these objects. */
  readonly permissions: readonly Permission[];
  /**
   * The Namespaces the files declare. Created beforehand (with the Roles that live in them),
   * they are only read by a run, which never deletes a namespace it did not create.
   */
  readonly namespaces: readonly KubernetesObject[];
}

/**
 * What applying and removing these workload files needs: for each object, create, and get,
 * update and delete by its name; for each Namespace, get by its name. A namespaced object whose
 * manifest names no namespace is counted in `default`.
 */
export async function workloadNeeds(files: readonly string[]): Promise<WorkloadNeeds> {
  const permissions: Permission[] = [];
  const namespaces: KubernetesObject[] = [];
  for (const { obj } of await readManifests(files)) {
    const name = obj.metadata!.name!;
    const where = objectPlace(obj);
    if (isNamespace(obj)) {
      namespaces.push(obj);
      permissions.push({ why: `workloads: see that Namespace ${name} exists`, verbs: ['get'], resource: where.resource, names: [name] });
      continue;
    }
    permissions.push(
      { why: `workloads: create ${describe(obj)}`, verbs: ['create'], ...where },
      { why: `workloads: read (and wait for), replace and delete ${describe(obj)}`, verbs: ['get', 'update', 'delete'], ...where, names: [name] },
    );
  }
  return { permissions, namespaces };
}

/**
 * Where RBAC places an object of a manifest: its resource, group and namespace. A namespaced
 * object whose manifest names no namespace is counted in `default`.
 */
export function objectPlace(obj: KubernetesObject): { readonly resource: string; readonly group?: string; readonly namespace?: string } {
  const group = obj.apiVersion!.includes('/') ? obj.apiVersion!.split('/')[0]! : '';
  const namespace = CLUSTER_SCOPED_KINDS.has(obj.kind!) ? undefined : (obj.metadata?.namespace ?? 'default');
  return { resource: kindToResource(obj.kind!), ...(group ? { group } : {}), ...(namespace !== undefined ? { namespace } : {}) };
}

/** A kind's resource name, as the API server derives it for the built-in kinds (apimachinery's UnsafeGuessKindToResource). */
function kindToResource(kind: string): string {
  const lower = kind.toLowerCase();
  if (lower.endsWith('endpoints')) return lower;
  if (lower.endsWith('s')) return `${lower}es`;
  if (lower.endsWith('y')) return `${lower.slice(0, -1)}ies`;
  return `${lower}s`;
}

async function readManifests(files: readonly string[]): Promise<{ obj: KubernetesObject; file: string }[]> {
  const out: { obj: KubernetesObject; file: string }[] = [];
  for (const file of files) {
    const docs = parseAllDocuments(await readFile(file, 'utf8'));
    for (const doc of Array.isArray(docs) ? docs : [docs]) {
      if (doc.errors.length > 0) throw new HarnessError(`${file}: not valid YAML: ${doc.errors[0]!.message}`);
      const obj = doc.toJS() as KubernetesObject | null;
      if (obj === null || obj === undefined) continue;
      if (!obj.kind || !obj.apiVersion || !obj.metadata?.name) throw new HarnessError(`${file}: every document needs apiVersion, kind and metadata.name`);
      out.push({ obj, file });
    }
  }
  return out;
}

/** Creates the object, or replaces it; a Namespace that exists is kept as it is. */
async function createOrReplace(client: KubernetesObjectApi, obj: KubernetesObject): Promise<'created' | 'replaced' | 'kept'> {
  const header = headerOf(obj);
  let existing: KubernetesObject | undefined;
  try {
    existing = await client.read(header);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  if (!existing) {
    await client.create(obj);
    return 'created';
  }
  if (isNamespace(obj)) return 'kept';
  // Replace needs the current resourceVersion, or the API server refuses it as a conflict.
  await client.replace({ ...obj, metadata: { ...obj.metadata, resourceVersion: existing.metadata?.resourceVersion } });
  return 'replaced';
}

function isNamespace(obj: KubernetesObject): boolean {
  return obj.apiVersion === 'v1' && obj.kind === 'Namespace';
}

interface RolloutStatus {
  readonly metadata?: { readonly generation?: number };
  readonly spec?: { readonly replicas?: number };
  readonly status?: { readonly observedGeneration?: number; readonly availableReplicas?: number; readonly readyReplicas?: number; readonly updatedReplicas?: number };
}

function isRollout(obj: KubernetesObject): boolean {
  return obj.apiVersion === 'apps/v1' && (obj.kind === 'Deployment' || obj.kind === 'StatefulSet');
}

/** What is still missing for the rollout to count as available, or undefined when it is. */
function rolloutGap(kind: string, o: RolloutStatus): string | undefined {
  const want = o.spec?.replicas ?? 1;
  const s = o.status ?? {};
  if ((s.observedGeneration ?? 0) < (o.metadata?.generation ?? 0)) return 'the controller has not seen the latest spec yet';
  const have = kind === 'Deployment' ? (s.availableReplicas ?? 0) : (s.readyReplicas ?? 0);
  const label = kind === 'Deployment' ? 'available' : 'ready';
  return have >= want ? undefined : `${have}/${want} replicas ${label}`;
}

async function waitAvailable(client: KubernetesObjectApi, objects: readonly KubernetesObject[], options: ApplyWorkloadsOptions): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const deadline = Date.now() + timeoutMs;
  let pending = objects.filter(isRollout);
  const gaps = new Map<KubernetesObject, string>();
  while (pending.length > 0) {
    const still: KubernetesObject[] = [];
    for (const obj of pending) {
      const current = (await client.read(headerOf(obj))) as RolloutStatus;
      const gap = rolloutGap(obj.kind!, current);
      if (gap === undefined) {
        options.log?.(`${describe(obj)} is available`);
        continue;
      }
      gaps.set(obj, gap);
      still.push(obj);
    }
    pending = still;
    if (pending.length === 0) return;
    if (options.signal.aborted) throw new HarnessError(`stopped waiting for workloads: ${String(options.signal.reason ?? 'aborted')}`);
    if (Date.now() >= deadline) {
      const what = pending.map((o) => `${describe(o)} (${gaps.get(o)})`).join(', ');
      throw new HarnessError(`workloads were not available within ${Duration.millis(timeoutMs)}: ${what}`);
    }
    await abortableSleep(Math.min(options.pollMs ?? 1000, deadline - Date.now()), options.signal);
  }
}

async function waitGone(client: KubernetesObjectApi, objects: readonly KubernetesObject[], options: ApplyWorkloadsOptions): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  let left = [...objects];
  while (left.length > 0) {
    const still: KubernetesObject[] = [];
    for (const obj of left) {
      try {
        await client.read(headerOf(obj));
        still.push(obj);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    left = still;
    if (left.length === 0) return;
    if (Date.now() >= deadline) throw new HarnessError(`workloads were still being deleted after ${Duration.millis(options.timeoutMs ?? 120_000)}: ${left.map(describe).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, Math.min(options.pollMs ?? 250, 250)));
  }
}

/** What `read` and `delete` need to find an object: its type and name, nothing of its content. */
function headerOf(obj: KubernetesObject): { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } } {
  return { apiVersion: obj.apiVersion!, kind: obj.kind!, metadata: { name: obj.metadata!.name!, ...(obj.metadata!.namespace ? { namespace: obj.metadata!.namespace } : {}) } };
}

function describe(obj: KubernetesObject): string {
  const ns = obj.metadata?.namespace;
  return `${obj.kind} ${ns ? `${ns}/` : ''}${obj.metadata?.name}`;
}
