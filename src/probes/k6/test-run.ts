import { CoreV1Api, CustomObjectsApi, type KubeConfig, type KubernetesObject, type V1ConfigMap, type V1Pod } from '@kubernetes/client-node';
import { isNotFound } from '../../cluster/api-errors.js';
import { KubeWatch, startWatches, watchPermission } from '../../cluster/kube-watch.js';
import type { Permission } from '../../cluster/rbac.js';
import { errorMessage } from '../../core/errors.js';
import { podsPath } from '../shared/target-ref.js';
import { deleteWithScripts, followContainerLog, ignoreNotFound, k6Labels, k6ObjectName, leftoverSelector, podProgress, type FollowedLog, type K6InClusterOptions } from './in-cluster.js';

/** The k6 operator's custom resource (grafana/k6-operator, api/v1alpha1/testrun_types.go). */
export const TEST_RUN = { group: 'k6.io', version: 'v1alpha1', plural: 'testruns' } as const;

/**
 * `status.stage` as the operator moves a TestRun along (internal/controller/testrun_controller.go):
 * initialization → initialized → created → started → stopped → finished, or error when it
 * refuses the test (arguments it cannot parse, a script its initializer cannot inspect, more
 * runners than the script has VUs).
 */
export type TestRunStage = 'initialization' | 'initialized' | 'created' | 'started' | 'stopped' | 'finished' | 'error';

export const INSTALL_K6_OPERATOR =
  'Install it (https://grafana.com/docs/k6/latest/set-up/set-up-distributed-k6/install-k6-operator/: `helm install k6-operator grafana/k6-operator`, or `curl https://raw.githubusercontent.com/grafana/k6-operator/main/bundle.yaml | kubectl apply -f -`), or leave out `operator` to run k6 as one Job.';

/** The k6 operator is not installed in the cluster: its TestRun resource is not served. */
export class K6OperatorMissingError extends Error {}

export interface K6TestRunOptions extends K6InClusterOptions {
  /** How many runner pods share the test (TestRun `spec.parallelism`). */
  readonly parallelism: number;
  /** Each runner on a node of its own (`spec.separate`). */
  readonly separate?: boolean;
}

/** A runner pod as the TestRun ended: its k6 container's exit code, if it ran, and why its log could not be read, if so. */
export interface RunnerExit {
  readonly pod: string;
  readonly exitCode: number | undefined;
  readonly logError?: string;
}

export type TestRunOutcome = { readonly stage: 'finished'; readonly runners: readonly RunnerExit[] } | { readonly stage: 'error' };

/** The operator labels each runner's Job and pod so (pkg/resources/jobs/runner.go). */
const runnerSelector = (testRun: string): string => `app=k6,k6_cr=${testRun},runner=true`;
const SCRIPT_FILE = 'script.js';

/** What a K6TestRun does in `namespace`. Discovering whether TestRuns are served needs no grant. */
export function k6OperatorPermissions(namespace: string): Permission[] {
  return [
    { why: 'k6 probe (through the k6 operator): the ConfigMap holding the script', verbs: ['create', 'delete'], resource: 'configmaps', namespace },
    { why: 'k6 probe (through the k6 operator): the TestRun handed to the operator', verbs: ['create', 'delete'], resource: 'testruns', group: TEST_RUN.group, namespace },
    watchPermission("k6 probe (through the k6 operator): watch the TestRun's stage", testRunsPath(namespace)),
    watchPermission('k6 probe (through the k6 operator): watch the runner pods start and end', podsPath(namespace)),
    { why: "k6 probe (through the k6 operator): follow the runners' logs, where k6 writes its results", verbs: ['get'], resource: 'pods/log', namespace },
  ];
}

function testRunsPath(namespace: string): string {
  return `/apis/${TEST_RUN.group}/${TEST_RUN.version}/namespaces/${namespace}/${TEST_RUN.plural}`;
}

async function testRunsServed(kubeConfig: KubeConfig): Promise<boolean> {
  try {
    const resources = await kubeConfig.makeApiClient(CustomObjectsApi).getAPIResources({ group: TEST_RUN.group, version: TEST_RUN.version });
    return resources.resources.some((r) => r.name === TEST_RUN.plural);
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/**
 * The TestRuns (and their ConfigMaps, of the same name) that run `runId` made in `namespace` and
 * did not delete because it was killed: `gameday recover` deletes them. Only list and delete,
 * which the probe's own permissions already grant. Returns them as `TestRun namespace/name`.
 */
export async function deleteLeftoverTestRuns(kubeConfig: KubeConfig, namespace: string, runId: string): Promise<string[]> {
  if (!(await testRunsServed(kubeConfig))) return [];
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const list = (await custom.listNamespacedCustomObject({ ...TEST_RUN, namespace, labelSelector: leftoverSelector(runId) })) as { items: KubernetesObject[] };
  const names = list.items.map((t) => t.metadata!.name!);
  return deleteWithScripts(kubeConfig, 'TestRun', namespace, names, (name) => custom.deleteNamespacedCustomObject({ ...TEST_RUN, namespace, name, propagationPolicy: 'Background' }));
}

interface TestRunObject extends KubernetesObject {
  readonly status?: { readonly stage?: string };
}

/**
 * k6 handed to the k6 operator: the script in a ConfigMap, a TestRun whose `parallelism` runner
 * pods each run a segment of the test with k6's JSON output on stdout, read back from their logs.
 * Both objects carry `app.kubernetes.io/managed-by=gameday`; `cleanup()` deletes them (the
 * operator's Jobs go with the TestRun that owns them) and may run any time.
 */
export class K6TestRun {
  readonly name: string;
  private readonly logs = new Map<string, Promise<FollowedLog | undefined>>();
  private readonly logErrors = new Map<string, string>();
  private readonly watches: KubeWatch<KubernetesObject>[] = [];

  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly options: K6TestRunOptions,
  ) {
    this.name = k6ObjectName(options.probe);
  }

  configMap(): V1ConfigMap {
    return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: this.name, namespace: this.options.namespace, labels: this.labels() }, data: { [SCRIPT_FILE]: this.options.script } };
  }

  testRun(): KubernetesObject & { spec: Record<string, unknown> } {
    const env = Object.entries(this.options.env).map(([name, value]) => ({ name, value }));
    return {
      apiVersion: `${TEST_RUN.group}/${TEST_RUN.version}`,
      kind: 'TestRun',
      metadata: { name: this.name, namespace: this.options.namespace, labels: this.labels() },
      spec: {
        parallelism: this.options.parallelism,
        ...(this.options.separate ? { separate: true } : {}),
        script: { configMap: { name: this.name, file: SCRIPT_FILE } },
        // `arguments`, not the newer `args`: every operator release reads it.
        arguments: ['--out', 'json=/dev/stdout', '--no-summary', ...this.options.runArgs].join(' '),
        runner: { image: this.options.image, ...(env.length ? { env } : {}) },
      },
    };
  }

  /** Creates the ConfigMap and the TestRun; a K6OperatorMissingError when TestRuns are not served. */
  async create(): Promise<void> {
    if (!(await this.testRunsServed())) {
      throw new K6OperatorMissingError(`the k6 operator is not installed: the cluster serves no ${TEST_RUN.plural}.${TEST_RUN.group} (${TEST_RUN.group}/${TEST_RUN.version}). ${INSTALL_K6_OPERATOR}`);
    }
    const { namespace } = this.options;
    await this.kubeConfig.makeApiClient(CoreV1Api).createNamespacedConfigMap({ namespace, body: this.configMap() });
    await this.kubeConfig.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({ ...TEST_RUN, namespace, body: this.testRun() });
  }

  /**
   * Watches the TestRun's stage (each change to `onStage`) and its runner pods, following each
   * runner's log once it runs (each line to `onLine`). `outcome` settles once the operator has
   * put the TestRun in stage finished (with the runners' exit codes, their logs read to the end)
   * or error; it rejects when a runner cannot start its image or a watch gives up.
   */
  async follow(onLine: (line: string) => void, onStage: (stage: string) => void): Promise<{ readonly outcome: Promise<TestRunOutcome> }> {
    const { namespace } = this.options;
    let settle!: { resolve: (o: TestRunOutcome) => void; reject: (e: Error) => void };
    const outcome = new Promise<TestRunOutcome>((resolve, reject) => (settle = { resolve, reject }));
    let stage = '';
    const onRunners = (): void => {
      for (const pod of runners.list()) {
        const progress = podProgress(pod, this.options.image);
        if (progress === 'started') void this.followRunner(pod.metadata!.name!, onLine);
        else if (progress !== 'waiting') settle.reject(new Error(`runner ${pod.metadata!.name!}: ${progress}`));
      }
    };
    const onTestRun = (): void => {
      const now = testRuns.list()[0]?.status?.stage ?? '';
      if (now === stage) return;
      stage = now;
      onStage(stage);
      if (stage === 'error') settle.resolve({ stage: 'error' });
      else if (stage === 'finished') this.runnerExits(onLine).then((runners) => settle.resolve({ stage: 'finished', runners }), settle.reject);
    };
    const runners = new KubeWatch<V1Pod>({
      kubeConfig: this.kubeConfig,
      path: podsPath(namespace),
      labelSelector: runnerSelector(this.name),
      onChange: onRunners,
      onRetry: () => undefined,
      onGiveUp: (err) => settle.reject(err),
    });
    const testRuns = new KubeWatch<TestRunObject>({
      kubeConfig: this.kubeConfig,
      path: testRunsPath(namespace),
      fieldSelector: `metadata.name=${this.name}`,
      onChange: onTestRun,
      onRetry: () => undefined,
      onGiveUp: (err) => settle.reject(err),
    });
    this.watches.push(runners, testRuns);
    await startWatches(this.watches);
    onRunners();
    onTestRun();
    void outcome.then(
      () => this.stopWatches(),
      () => this.stopWatches(),
    );
    return { outcome };
  }

  /** Deletes the TestRun (and, through it, the operator's Jobs and pods) and the ConfigMap; idempotent. */
  async cleanup(): Promise<void> {
    await this.stopWatches();
    for (const log of this.logs.values()) (await log)?.abort();
    const { namespace } = this.options;
    await Promise.all([
      ignoreNotFound(this.kubeConfig.makeApiClient(CustomObjectsApi).deleteNamespacedCustomObject({ ...TEST_RUN, namespace, name: this.name, propagationPolicy: 'Background' })),
      ignoreNotFound(this.kubeConfig.makeApiClient(CoreV1Api).deleteNamespacedConfigMap({ namespace, name: this.name })),
    ]);
  }

  private testRunsServed(): Promise<boolean> {
    return testRunsServed(this.kubeConfig);
  }

  private labels(): Record<string, string> {
    return k6Labels(this.options.runId);
  }

  private followRunner(pod: string, onLine: (line: string) => void): Promise<FollowedLog | undefined> {
    let log = this.logs.get(pod);
    if (!log) {
      log = followContainerLog(this.kubeConfig, this.options.namespace, pod, 'k6', onLine).catch((err: unknown) => {
        this.logErrors.set(pod, errorMessage(err));
        return undefined;
      });
      this.logs.set(pod, log);
    }
    return log;
  }

  /** Once the operator says finished: every runner's log read to its end, and its exit code. */
  private async runnerExits(onLine: (line: string) => void): Promise<RunnerExit[]> {
    const pods = await this.kubeConfig.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: this.options.namespace, labelSelector: runnerSelector(this.name) });
    const ended = await Promise.all(pods.items.map((p) => this.followRunner(p.metadata!.name!, onLine)));
    await Promise.all(ended.map((log) => log?.ended));
    return pods.items.map((pod) => ({
      pod: pod.metadata!.name!,
      exitCode: pod.status?.containerStatuses?.find((c) => c.name === 'k6')?.state?.terminated?.exitCode,
      ...(this.logErrors.has(pod.metadata!.name!) ? { logError: this.logErrors.get(pod.metadata!.name!) } : {}),
    }));
  }

  private async stopWatches(): Promise<void> {
    const watches = this.watches.splice(0);
    await Promise.all(watches.map((w) => w.stop()));
  }
}
