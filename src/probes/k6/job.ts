import { BatchV1Api, CoreV1Api, type KubeConfig, type V1ConfigMap, type V1Job, type V1Pod } from '@kubernetes/client-node';
import { KubeWatch, watchPermission } from '../../cluster/kube-watch.js';
import type { Permission } from '../../cluster/rbac.js';
import { podsPath } from '../shared/target-ref.js';
import { deleteWithScripts, followContainerLog, ignoreNotFound, k6Labels, k6ObjectName, leftoverSelector, podProgress, type FollowedLog, type K6InClusterOptions } from './in-cluster.js';

export interface K6JobOptions extends K6InClusterOptions {
  /** How long the pod may take to start (image pull included). @default 120000 */
  readonly startTimeoutMs?: number;
}

export { MANAGED_BY } from './in-cluster.js';
const SCRIPT_DIR = '/gameday';
const SCRIPT_FILE = 'script.js';

/**
 * What a K6Job does in `namespace`: its ConfigMap and Job, and its pod's start and log; and what
 * `gameday recover` does there (deleteLeftoverJobs): list the Jobs, delete them and their
 * ConfigMaps. A background deletion leaves the Job's pods to the garbage collector, which needs
 * no grant of ours.
 */
export function k6JobPermissions(namespace: string): Permission[] {
  return [
    { why: 'k6 probe (as a Job): the ConfigMap holding the script', verbs: ['create', 'delete'], resource: 'configmaps', namespace },
    { why: 'k6 probe (as a Job): the Job running k6', verbs: ['create', 'delete'], resource: 'jobs', group: 'batch', namespace },
    { why: 'gameday recover: look for the k6 Jobs a killed run left', verbs: ['list'], resource: 'jobs', group: 'batch', namespace },
    watchPermission("k6 probe (as a Job): watch the Job's pod start", podsPath(namespace)),
    { why: "k6 probe (as a Job): follow the pod's log, where k6 writes its results", verbs: ['get'], resource: 'pods/log', namespace },
  ];
}

/**
 * The Jobs (and their ConfigMaps, of the same name) that run `runId` made in `namespace` and did
 * not delete because it was killed: `gameday recover` deletes them, their pods through the garbage
 * collector. Returns them as `Job namespace/name`.
 */
export async function deleteLeftoverJobs(kubeConfig: KubeConfig, namespace: string, runId: string): Promise<string[]> {
  const batch = kubeConfig.makeApiClient(BatchV1Api);
  const names = (await batch.listNamespacedJob({ namespace, labelSelector: leftoverSelector(runId) })).items.map((j) => j.metadata!.name!);
  return deleteWithScripts(kubeConfig, 'Job', namespace, names, (name) => batch.deleteNamespacedJob({ namespace, name, propagationPolicy: 'Background' }));
}

/**
 * k6 as an in-cluster batch/v1 Job: the script in a ConfigMap, k6 writing its JSON output to
 * stdout, read back from the pod's log as it is written. Both objects carry
 * `app.kubernetes.io/managed-by=gameday` and the run's id, and are deleted by `cleanup()`, which
 * may run any time.
 */
export class K6Job {
  readonly name: string;
  private log: FollowedLog | undefined;

  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly options: K6JobOptions,
  ) {
    this.name = k6ObjectName(options.probe);
  }

  configMap(): V1ConfigMap {
    return {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: this.name, namespace: this.options.namespace, labels: this.labels() },
      data: { [SCRIPT_FILE]: this.options.script },
    };
  }

  job(): V1Job {
    const env = Object.entries(this.options.env).map(([name, value]) => ({ name, value }));
    return {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: this.name, namespace: this.options.namespace, labels: this.labels() },
      spec: {
        backoffLimit: 0,
        template: {
          metadata: { labels: this.labels() },
          spec: {
            restartPolicy: 'Never',
            containers: [
              {
                name: 'k6',
                image: this.options.image,
                args: ['run', '--quiet', '--no-summary', '--out', 'json=/dev/stdout', ...this.options.runArgs, `${SCRIPT_DIR}/${SCRIPT_FILE}`],
                env,
                volumeMounts: [{ name: 'script', mountPath: SCRIPT_DIR, readOnly: true }],
              },
            ],
            volumes: [{ name: 'script', configMap: { name: this.name } }],
          },
        },
      },
    };
  }

  async create(): Promise<void> {
    const core = this.kubeConfig.makeApiClient(CoreV1Api);
    const batch = this.kubeConfig.makeApiClient(BatchV1Api);
    await core.createNamespacedConfigMap({ namespace: this.options.namespace, body: this.configMap() });
    await batch.createNamespacedJob({ namespace: this.options.namespace, body: this.job() });
  }

  /**
   * Waits for the Job's pod to start, then follows its log, calling `onLine` per line. Resolves
   * once the log is open, with `ended` for when it closes; rejects with why the cluster cannot run k6.
   */
  async follow(onLine: (line: string) => void): Promise<{ readonly ended: Promise<void> }> {
    const pod = await this.startedPod();
    this.log = await followContainerLog(this.kubeConfig, this.options.namespace, pod, 'k6', onLine);
    return { ended: this.log.ended };
  }

  /** Deletes the Job (and, through it, its pod) and the ConfigMap; idempotent. */
  async cleanup(): Promise<void> {
    this.log?.abort();
    const core = this.kubeConfig.makeApiClient(CoreV1Api);
    const batch = this.kubeConfig.makeApiClient(BatchV1Api);
    const { namespace } = this.options;
    await Promise.all([
      ignoreNotFound(batch.deleteNamespacedJob({ namespace, name: this.name, propagationPolicy: 'Background' })),
      ignoreNotFound(core.deleteNamespacedConfigMap({ namespace, name: this.name })),
    ]);
  }

  private labels(): Record<string, string> {
    return { ...k6Labels(this.options.runId), 'gameday.dev/k6-job': this.name };
  }

  /** The pod's name once its k6 container runs or has run. */
  private async startedPod(): Promise<string> {
    const timeoutMs = this.options.startTimeoutMs ?? 120_000;
    let settle: { resolve: (pod: string) => void; reject: (err: Error) => void } | undefined;
    const result = new Promise<string>((resolve, reject) => (settle = { resolve, reject }));
    const check = (): void => {
      for (const pod of pods.list()) {
        const verdict = podProgress(pod, this.options.image);
        if (verdict === 'waiting') continue;
        if (verdict === 'started') settle?.resolve(pod.metadata!.name!);
        else settle?.reject(new Error(verdict));
      }
    };
    const pods = new KubeWatch<V1Pod>({
      kubeConfig: this.kubeConfig,
      path: podsPath(this.options.namespace),
      labelSelector: `job-name=${this.name}`,
      onChange: check,
      onRetry: () => undefined,
      onGiveUp: (err) => settle?.reject(err),
    });
    const timer = setTimeout(() => settle?.reject(new Error(`its pod did not start within ${timeoutMs / 1000}s`)), timeoutMs);
    try {
      await pods.start();
      check();
      return await result;
    } finally {
      clearTimeout(timer);
      await pods.stop();
    }
  }
}
