import { Writable } from 'node:stream';
import { CoreV1Api, Log, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { isNotFound } from '../../cluster/api-errors.js';
import { errorMessage } from '../../core/errors.js';

/** Labels on everything the k6 probe creates in a cluster. */
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'gameday' } as const;

/** The label with the run's id on what the k6 probe creates, so `gameday recover` finds what a killed run left. */
export const RUN_ID_LABEL = 'gameday.dev/run-id';

/** The labels of what the k6 probe creates: gameday's mark, and the run's id when there is one. */
export function k6Labels(runId: string | undefined): Record<string, string> {
  return { ...MANAGED_BY, ...(runId ? { [RUN_ID_LABEL]: runId } : {}) };
}

/** The label selector of what run `runId` created, for `gameday recover`. */
export function leftoverSelector(runId: string): string {
  return Object.entries(k6Labels(runId)).map(([k, v]) => `${k}=${v}`).join(',');
}

/** What k6 needs to run in a cluster, as a Job or through the k6 operator. */
export interface K6InClusterOptions {
  readonly namespace: string;
  /** The run's id, as a label on every object, for `gameday recover`. */
  readonly runId?: string;
  /** The probe's name, for the objects' names. */
  readonly probe: string;
  /** The k6 image. */
  readonly image: string;
  /** The bundled script (one ES module). */
  readonly script: string;
  /** Arguments after `k6 run`, before the script (`--vus 10`…); none contains a space. */
  readonly runArgs: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

/** The name of the objects one probe's run creates: the probe's name, made unique. */
export function k6ObjectName(probe: string): string {
  const slug = probe.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 30) || 'probe';
  return `gameday-k6-${slug}-${Math.random().toString(36).slice(2, 7)}`;
}

/** Waiting reasons that mean the container will not start by waiting longer. */
const CANNOT_RUN = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull', 'CreateContainerConfigError', 'CreateContainerError']);

/** Whether the k6 container of a pod has started, is still waiting, or why it cannot start. */
export function podProgress(pod: V1Pod, image: string): 'waiting' | 'started' | string {
  const phase = pod.status?.phase;
  const container = pod.status?.containerStatuses?.find((c) => c.name === 'k6');
  const waiting = container?.state?.waiting;
  if (waiting?.reason && CANNOT_RUN.has(waiting.reason)) return `its pod cannot start ${image}: ${waiting.reason}${waiting.message ? ` (${waiting.message})` : ''}`;
  if (phase === 'Running' || phase === 'Succeeded' || phase === 'Failed') return 'started';
  return 'waiting';
}

/** A pod's log being followed: `ended` settles when the log closes, `abort()` closes it early. */
export interface FollowedLog {
  readonly ended: Promise<void>;
  abort(): void;
}

/**
 * Follows the log of one container, where k6 writes its JSON output, calling `onLine` per line.
 * Resolves once the log is open; rejects with why it cannot be read.
 */
export async function followContainerLog(kubeConfig: KubeConfig, namespace: string, pod: string, container: string, onLine: (line: string) => void): Promise<FollowedLog> {
  let partial = '';
  let finish!: () => void;
  const ended = new Promise<void>((resolve) => (finish = resolve));
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) onLine(line);
      done();
    },
    final(done) {
      if (partial) onLine(partial);
      done();
    },
  });
  sink.on('finish', () => finish());
  sink.on('close', () => finish());
  let request: AbortController;
  try {
    request = await new Log(kubeConfig).log(namespace, pod, container, sink, { follow: true });
  } catch (err) {
    throw new Error(`cannot read the log of pod ${namespace}/${pod}: ${errorMessage(err)}`);
  }
  return { ended, abort: () => request.abort() };
}

/**
 * Deletes what a killed run left in `namespace`: each object `names` lists (through
 * `deleteObject`) and the ConfigMap of the same name that holds its script. Returns them as
 * `Kind namespace/name`, for `gameday recover` to say.
 */
export async function deleteWithScripts(kubeConfig: KubeConfig, kind: string, namespace: string, names: readonly string[], deleteObject: (name: string) => Promise<unknown>): Promise<string[]> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const deleted: string[] = [];
  for (const name of names) {
    await Promise.all([ignoreNotFound(deleteObject(name)), ignoreNotFound(core.deleteNamespacedConfigMap({ namespace, name }))]);
    deleted.push(`${kind} ${namespace}/${name}`);
  }
  return deleted;
}

/** Gone already is as good as deleted. */
export async function ignoreNotFound(request: Promise<unknown>): Promise<void> {
  try {
    await request;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}
