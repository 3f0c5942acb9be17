import * as k8s from '@kubernetes/client-node';
import { TEST_RUN } from '../../src/probes/k6/test-run.js';
import { eventually } from '../support/eventually.js';

const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

export interface StandInOptions {
  readonly namespace: string;
  /** How the operator ends the TestRun: through its runners to finished, or refusing it at once. */
  readonly end: 'finished' | 'error';
  /** What runner i (from 1) writes to its log, one k6 JSON line each, and exits with. */
  readonly runner?: (i: number) => { readonly lines: readonly string[]; readonly exitCode: number };
}

interface TestRun extends k8s.KubernetesObject {
  readonly spec: { readonly parallelism: number };
}

/**
 * Plays the k6 operator's part for the first TestRun that appears in `namespace`, as
 * internal/controller/testrun_controller.go does: status.stage initialization → initialized, one
 * runner Job per `parallelism` owned by the TestRun and labelled as pkg/resources/jobs/runner.go
 * labels them → created → started, and once every runner Job has ended → stopped → finished.
 * The runners are busybox pods printing k6's JSON lines: no k6 image runs here. Returns the
 * TestRun as created, once the last stage is written.
 */
export async function playK6Operator(kubeConfig: k8s.KubeConfig, options: StandInOptions): Promise<TestRun> {
  const custom = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  const batch = kubeConfig.makeApiClient(k8s.BatchV1Api);
  const { namespace } = options;
  const testRun = await eventually(
    'a TestRun to hand over',
    async () => ((await custom.listNamespacedCustomObject({ ...TEST_RUN, namespace })) as { items: TestRun[] }).items[0],
    30_000,
  );
  const name = testRun.metadata!.name!;
  const stage = (value: string) => custom.patchNamespacedCustomObjectStatus({ ...TEST_RUN, namespace, name, body: { status: { stage: value } } }, mergePatch);
  await stage('initialization');
  if (options.end === 'error') {
    await stage('error');
    return testRun;
  }
  await stage('initialized');
  const owner = { apiVersion: testRun.apiVersion!, kind: 'TestRun', name, uid: testRun.metadata!.uid!, controller: true, blockOwnerDeletion: true };
  for (let i = 1; i <= testRun.spec.parallelism; i++) {
    const { lines, exitCode } = options.runner?.(i) ?? { lines: [], exitCode: 0 };
    const labels = { app: 'k6', k6_cr: name, runner: 'true' };
    const script = [...lines.map((l) => `echo '${l}'`), `exit ${exitCode}`].join('; ');
    await batch.createNamespacedJob({
      namespace,
      body: {
        metadata: { name: `${name}-${i}`, labels, ownerReferences: [owner] },
        spec: { backoffLimit: 0, template: { metadata: { labels }, spec: { restartPolicy: 'Never', containers: [{ name: 'k6', image: 'busybox:1.36', command: ['sh', '-c', script] }] } } },
      },
    });
  }
  await stage('created');
  await stage('started');
  // FinishJobs in k6_finish.go: every runner Job inactive, failed or not.
  await eventually(
    'every runner Job to end',
    async () => {
      const jobs = await batch.listNamespacedJob({ namespace, labelSelector: `app=k6,k6_cr=${name},runner=true` });
      return jobs.items.length === testRun.spec.parallelism && jobs.items.every((j) => (j.status?.succeeded ?? 0) + (j.status?.failed ?? 0) > 0);
    },
    60_000,
  );
  await stage('stopped');
  await stage('finished');
  return testRun;
}

/** One HTTP request as k6 writes it with --out json: its duration, then whether it failed. */
export function k6RequestLines(time: string, durationMs: number, status: number): string[] {
  const tags = { method: 'GET', name: 'http://web/', url: 'http://web/', status: String(status), scenario: 'default', vu: '1' };
  return [
    JSON.stringify({ type: 'Point', metric: 'http_req_duration', data: { time, value: durationMs, tags } }),
    JSON.stringify({ type: 'Point', metric: 'http_req_failed', data: { time, value: status >= 400 ? 1 : 0, tags } }),
  ];
}
