import * as k8s from '@kubernetes/client-node';
import { expect } from 'chai';
import { execa } from 'execa';
import path from 'node:path';
import { connectKubeconfig } from '../../src/cluster/connect.js';
import type { ClusterTarget } from '../../src/cluster/target.js';
import { httpProbe } from '../../src/probes/http.js';
import { replicasProbe } from '../../src/probes/ready.js';
import { collectingContext } from '../probes/collecting-context.js';
import { eventually } from '../support/eventually.js';
import { httpService, requestsPerSecondAutoscaler, webDeployment } from '../support/kube-objects.js';
import { kubectlBinary } from '../support/kubectl.js';
import { FAST_NODE_TIMINGS, useRealCluster } from './real-cluster.js';

interface PodView {
  metadata: { name: string; deletionTimestamp?: string };
  status: { phase?: string; conditions?: { type: string; status: string }[] };
}

/**
 * The real HPA controller (kube-controller-manager's) scaling a gameday/web Deployment from the
 * metrics gameday's node side serves as an aggregated API server: the real API server proxies
 * `metrics.k8s.io` and `custom.metrics.k8s.io` to it through the APIServices the cluster
 * registers at start-up, and authorization of each proxied request goes back to it.
 */
describe('the real HPA controller on gameday’s metrics APIs', function () {
  this.timeout(120_000);
  // Rates over 2 s, an HPA sync every second, and a 3 s scale-down window (the controller's flag).
  const real = useRealCluster({ timings: { ...FAST_NODE_TIMINGS, metricsWindowMs: 2000, hpaSyncPeriodMs: 1000, hpaDownscaleStabilizationMs: 3000 } });
  let target: ClusterTarget;
  const kubectl = (...args: string[]) => execa(kubectlBinary('default')!, args, { env: { KUBECONFIG: real.kubeconfig, KUBECACHEDIR: path.join(real.dir, 'cache'), HOME: real.dir }, timeout: 30_000 });
  const readyPods = async (): Promise<string[]> => {
    const list = JSON.parse((await kubectl('get', 'pods', '-l', 'app=web', '-o', 'json')).stdout) as { items: PodView[] };
    return list.items.filter((p) => !p.metadata.deletionTimestamp && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).map((p) => p.metadata.name).sort();
  };

  before(async () => {
    const env = { GAMEDAY_CPU_PER_REQUEST: '10m', GAMEDAY_BASE_MEMORY: '24Mi', GAMEDAY_MEMORY_PER_REQUEST: '1Mi' };
    await real.cluster.apps.createNamespacedDeployment({ namespace: 'default', body: webDeployment('web', 2, { env }) });
    await real.cluster.core.createNamespacedService({ namespace: 'default', body: httpService('web') });
    await eventually('two web pods Ready', async () => (await readyPods()).length === 2, 30_000);
    target = await connectKubeconfig({ kubeconfig: real.kubeconfig, context: 'gameday-sim' });
  });
  after(async () => {
    await target?.close();
  });

  it('registers both metrics APIs with the aggregator, Available once it reached their discovery', async () => {
    const registration = real.cluster.kubeConfig.makeApiClient(k8s.ApiregistrationV1Api);
    for (const name of ['v1beta1.metrics.k8s.io', 'v1beta2.custom.metrics.k8s.io']) {
      const api = await registration.readAPIService({ name });
      expect(api.spec?.service, name).to.deep.equal({ namespace: 'kube-system', name: 'gameday-metrics', port: 443 });
      expect(api.status?.conditions?.find((c) => c.type === 'Available'), name).to.deep.include({ status: 'True', reason: 'Passed', message: 'all checks passed' });
    }
    const versions = (await kubectl('api-versions')).stdout.trim().split('\n');
    expect(versions).to.include.members(['metrics.k8s.io/v1beta1', 'custom.metrics.k8s.io/v1beta2']);
    // The aggregator's discovery came from the metrics server's own documents.
    const resources = (await kubectl('api-resources', '--api-group=metrics.k8s.io', '--no-headers')).stdout.trim().split('\n').map((l) => l.split(/\s+/)[0]);
    expect(resources.sort()).to.deep.equal(['nodes', 'pods']);
  });

  it('kubectl top reads the pods’ and nodes’ usage through the real API server', async () => {
    const pods = await readyPods();
    const rows = await eventually('a metrics row per pod', async () => {
      const top = await kubectl('top', 'pods', '-l', 'app=web', '--no-headers');
      const r = top.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/)).sort((a, b) => a[0]!.localeCompare(b[0]!));
      return r.length === pods.length && r;
    });
    // Idle: no CPU, and the base memory the knob gives.
    expect(rows).to.deep.equal(pods.map((p) => [p, '0m', '24Mi']));
    const nodes = (await kubectl('top', 'nodes', '--no-headers')).stdout.trim().split('\n').map((l) => l.split(/\s+/)[0]);
    expect(nodes.sort()).to.deep.equal(['gameday-control-plane', 'gameday-worker', 'gameday-worker2', 'gameday-worker3']);
    // As the HPA controller's own service account, the request is authorized twice: by the API
    // server, and by the metrics server through a SubjectAccessReview (upstream's bootstrap role).
    const asHpa = await kubectl('top', 'pods', '-l', 'app=web', '--no-headers', '--as=system:serviceaccount:kube-system:horizontal-pod-autoscaler');
    expect(asHpa.stdout.trim().split('\n')).to.have.length(pods.length);
    const custom = JSON.parse((await kubectl('get', '--raw', '/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/requests_per_second?labelSelector=app%3Dweb')).stdout);
    expect(custom.kind).to.equal('MetricValueList');
    expect(custom.items.map((i: { describedObject: { name: string } }) => i.describedObject.name).sort()).to.deep.equal(pods);
  });

  it('scales 2 up on requests per second under load, within upstream’s scale-up limit, and back to 2 once the load ends', async () => {
    const autoscaling = real.cluster.kubeConfig.makeApiClient(k8s.AutoscalingV2Api);
    // No behavior: the controller's flags and its built-in scale-up limit decide.
    await autoscaling.createNamespacedHorizontalPodAutoscaler({ namespace: 'default', body: requestsPerSecondAutoscaler('web') });
    const series = collectingContext({ cluster: target });
    const replicas = await replicasProbe.start(series, { target: 'deployment/default/web' });
    const counts = (): number[] => series.samples.map((s) => Number(s.value)).filter((n, i, a) => i === 0 || n !== a[i - 1]);
    try {
      // 60/s through the API server's service proxy: 30/s a pod against a target of 10/s.
      const load = await httpProbe.start(collectingContext({ cluster: target }), httpProbe.params.parse({ service: 'default/web:80', rate: '60/s', timeout: '2s' }));
      try {
        await eventually('6 replicas', () => counts().at(-1)! >= 6, 40_000);
        const hpa = await autoscaling.readNamespacedHorizontalPodAutoscaler({ namespace: 'default', name: 'web' });
        expect(hpa.status?.conditions?.find((c) => c.type === 'ScalingActive')).to.deep.include({ status: 'True', reason: 'ValidMetricFound' });
        expect(hpa.status?.currentMetrics?.[0]?.pods?.metric.name).to.equal('requests_per_second');
      } finally {
        await load.stop();
      }
      await eventually('2 replicas again', () => counts().at(-1) === 2, 30_000);
    } finally {
      await replicas.stop();
    }
    const steps = counts();
    const peak = steps.indexOf(Math.max(...steps));
    expect(steps[0]).to.equal(2);
    // Without a behavior, each step up is at most max(2 × current, 4) (calculateScaleUpLimit).
    expect(steps.slice(0, peak + 1).every((n, i, a) => i === 0 || (n > a[i - 1]! && n <= Math.max(2 * a[i - 1]!, 4))), `rising: ${steps.join(' → ')}`).to.equal(true);
    expect(steps.slice(peak).every((n, i, a) => i === 0 || (n < a[i - 1]! && n >= 2)), `falling: ${steps.join(' → ')}`).to.equal(true);
    const events = (await real.cluster.core.listNamespacedEvent({ namespace: 'default', fieldSelector: 'involvedObject.kind=HorizontalPodAutoscaler,reason=SuccessfulRescale' })).items;
    const messages = events.map((e) => e.message);
    expect(messages).to.include(`New size: ${steps[1]}; reason: pods metric requests_per_second above target`);
    expect(messages).to.include('New size: 2; reason: All metrics below target');
    expect(events.every((e) => e.source?.component === 'horizontal-pod-autoscaler' || e.reportingComponent === 'horizontal-pod-autoscaler')).to.equal(true);
  });
});
