import { stat } from 'node:fs/promises';
import path from 'node:path';
import { KubernetesObjectApi, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { HarnessError } from '../core/errors.js';
import { locateEtcdTools } from './locate.js';
import type { EtcdTools } from './components.js';
import type { RealControlPlane } from './real-control-plane.js';

/** One object of the drill, as a manifest names it. */
export interface DrillObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
}

export interface EtcdSnapshotDrillOptions {
  readonly controlPlane: RealControlPlane;
  readonly kubeConfig: KubeConfig;
  /** The disaster: these are deleted after the snapshot. Each must exist when it is taken. */
  readonly delete: readonly DrillObjectRef[];
  /** @default locateEtcdTools() */
  readonly tools?: EtcdTools;
  /** How long the objects may take to come back, and the workloads to be ready again. @default 60 s */
  readonly timeoutMs?: number;
}

/** What the drill found, for a report: RTO, and which objects came back. */
export interface EtcdSnapshotDrillReport {
  readonly snapshot: { readonly file: string; readonly bytes: number };
  /** `Deployment drill/web`, in the order deleted. */
  readonly deleted: readonly string[];
  /** From the restore's start (API server and etcd stopped) until the API server answered with every deleted object again; undefined when one never came back. */
  readonly rtoMs?: number;
  readonly objects: readonly { readonly object: string; readonly cameBack: boolean }[];
  /** Deployments and StatefulSets among them: ready again (ready replicas as wanted, pods Ready, started after the restore), and when. */
  readonly workloads: readonly { readonly object: string; readonly reconciledMs?: number; readonly state: string }[];
}

const POLL_MS = 250;

/**
 * The control plane's backup drill: an etcd snapshot is taken, the objects are deleted, the
 * snapshot is restored into a fresh etcd and the API server restarted on it; the drill then reads
 * which objects came back (RTO: until all did) and waits for the workloads among them to be served
 * again by pods the nodes (re)started after the restore.
 */
export async function runEtcdSnapshotDrill(options: EtcdSnapshotDrillOptions): Promise<EtcdSnapshotDrillReport> {
  const tools = options.tools ?? locateEtcdTools();
  const timeoutMs = options.timeoutMs ?? 60_000;
  const client = KubernetesObjectApi.makeApiClient(options.kubeConfig);
  const read = (ref: DrillObjectRef): Promise<KubernetesObject | undefined> =>
    client.read({ apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) } }).then(
      (o) => o,
      (err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err as Error)),
    );
  for (const ref of options.delete) if (!(await read(ref))) throw new HarnessError(`${describe(ref)} does not exist: the drill deletes only what the snapshot holds`);

  const file = path.join(options.controlPlane.stateDir, `snapshot-${Date.now()}.db`);
  await options.controlPlane.saveEtcdSnapshot(file, tools);
  const bytes = (await stat(file)).size;

  for (const ref of options.delete) {
    await client.delete({ apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) } });
  }
  await until(`the deleted objects gone`, timeoutMs, async () => (await Promise.all(options.delete.map(read))).every((o) => o === undefined));

  const restoreStarted = Date.now();
  await options.controlPlane.restoreEtcdSnapshot(file, tools);
  const back = new Set<DrillObjectRef>();
  let rtoMs: number | undefined;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const ref of options.delete) if (!back.has(ref) && (await read(ref).catch(() => undefined))) back.add(ref);
    if (back.size === options.delete.length) {
      rtoMs = Date.now() - restoreStarted;
      break;
    }
    await sleep(POLL_MS);
  }
  const workloads = await Promise.all(
    options.delete.filter((r) => back.has(r) && (r.kind === 'Deployment' || r.kind === 'StatefulSet')).map((r) => reconciled(client, r, restoreStarted, deadline)),
  );
  return {
    snapshot: { file, bytes },
    deleted: options.delete.map(describe),
    ...(rtoMs !== undefined ? { rtoMs } : {}),
    objects: options.delete.map((r) => ({ object: describe(r), cameBack: back.has(r) })),
    workloads,
  };
}

interface Workload extends KubernetesObject {
  spec?: { replicas?: number; selector?: { matchLabels?: Record<string, string> } };
  status?: { readyReplicas?: number };
}

interface PodState extends KubernetesObject {
  status?: { conditions?: { type: string; status: string }[]; containerStatuses?: { state?: { running?: { startedAt?: string } } }[] };
}

/** Waits until the workload has its replicas Ready in pods whose containers started after the restore: the nodes ran them again. */
async function reconciled(client: KubernetesObjectApi, ref: DrillObjectRef, since: number, deadline: number): Promise<{ object: string; reconciledMs?: number; state: string }> {
  let state = 'not read';
  while (Date.now() < deadline) {
    const w = (await client.read({ apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace ?? 'default' } }).catch(() => undefined)) as Workload | undefined;
    const want = w?.spec?.replicas ?? 1;
    const selector = Object.entries(w?.spec?.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
    const pods = w ? ((await client.list('v1', 'Pod', ref.namespace, undefined, undefined, undefined, undefined, selector).catch(() => ({ items: [] }))).items as PodState[]) : [];
    const fresh = pods.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && (p.status.containerStatuses ?? []).every((c) => Date.parse(c.state?.running?.startedAt ?? '') >= since - 1000));
    state = `${w?.status?.readyReplicas ?? 0}/${want} ready replicas, ${fresh.length} pods Ready and started after the restore`;
    if ((w?.status?.readyReplicas ?? 0) >= want && fresh.length >= want) return { object: describe(ref), reconciledMs: Date.now() - since, state };
    await sleep(POLL_MS);
  }
  return { object: describe(ref), state };
}

async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new HarnessError(`${what}: not within ${timeoutMs / 1000} s`);
    await sleep(POLL_MS);
  }
}

function isNotFound(err: unknown): boolean {
  return (err as { code?: number }).code === 404;
}

function describe(ref: DrillObjectRef): string {
  return `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
