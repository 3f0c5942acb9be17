import * as k8s from '@kubernetes/client-node';
import { expect } from 'chai';
import { execa } from 'execa';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterTarget } from '../../src/cluster/target.js';
import { httpProbe } from '../../src/probes/http.js';
import { replicasProbe } from '../../src/probes/ready.js';
import { collectingContext, embeddedTarget } from '../probes/collecting-context.js';
import { eventually } from '../support/eventually.js';
import { httpService, requestsPerSecondAutoscaler, webDeployment } from '../support/kube-objects.js';
import { kubectlBinary } from '../support/kubectl.js';
import { isReady, podsOf, startSim, type SimClients } from './sim-fixture.js';

/**
 * Autoscaling on the embedded cluster end to end: pods use CPU and memory as they serve, the
 * metrics APIs report it to the real kubectl, and the HPA controller scales a Deployment on a
 * custom metric under an http probe's ramp, then back down once its stabilization window passes.
 */
describe('autoscaling on the embedded cluster', function () {
  this.timeout(60_000);
  let sim: SimClients;
  let target: ClusterTarget;
  let autoscaling: k8s.AutoscalingV2Api;
  let dir: string;
  const kubectl = (...args: string[]) => execa(kubectlBinary('default')!, args, { env: { KUBECONFIG: join(dir, 'kubeconfig'), KUBECACHEDIR: join(dir, 'cache'), HOME: dir }, timeout: 30_000 });

  before(async () => {
    // Rates over 1 s and an HPA sync every 0.5 s, so a ramp of a few seconds is enough.
    sim = await startSim({ metricsWindowMs: 1000, hpaSyncPeriodMs: 500 });
    target = await embeddedTarget(sim.cluster);
    autoscaling = sim.kubeConfig.makeApiClient(k8s.AutoscalingV2Api);
    dir = mkdtempSync(join(tmpdir(), 'gameday-autoscaling-'));
    await sim.cluster.writeKubeconfig(join(dir, 'kubeconfig'));
    const env = { GAMEDAY_CPU_PER_REQUEST: '10m', GAMEDAY_BASE_MEMORY: '24Mi', GAMEDAY_MEMORY_PER_REQUEST: '1Mi' };
    await sim.apps.createNamespacedDeployment({ namespace: 'default', body: webDeployment('web', 2, { env }) });
    await sim.core.createNamespacedService({ namespace: 'default', body: httpService('web') });
    await eventually('web ready', async () => (await podsOf(sim.core, 'default', 'web')).filter(isReady).length === 2);
  });
  after(async () => {
    await target?.close();
    await sim?.cluster.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('kubectl top shows each pod’s and node’s usage from metrics.k8s.io', async () => {
    const pods = (await podsOf(sim.core, 'default', 'web')).map((p) => p.metadata!.name!).sort();
    const top = await kubectl('top', 'pods', '-l', 'app=web', '--no-headers');
    const rows = top.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/)).sort((a, b) => a[0]!.localeCompare(b[0]!));
    // Idle: no CPU, and the base memory the knob gives.
    expect(rows).to.deep.equal(pods.map((p) => [p, '0m', '24Mi']));
    const nodes = await kubectl('top', 'nodes');
    // kubectl 1.32 renamed the percentage columns CPU(%) and MEMORY(%).
    expect(nodes.stdout.split('\n')[0]).to.match(/^NAME\s+CPU\(cores\)\s+CPU(?:%|\(%\))\s+MEMORY\(bytes\)\s+MEMORY(?:%|\(%\))/);
    expect(nodes.stdout).to.contain('gameday-worker');
  });

  it('answers single objects, named pods and unknown metrics as metrics-server and a custom metrics adapter do', async () => {
    const pod = (await podsOf(sim.core, 'default', 'web'))[0]!.metadata!.name!;
    const metrics = JSON.parse((await kubectl('get', '--raw', `/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/${pod}`)).stdout);
    expect(metrics).to.deep.include({ kind: 'PodMetrics', apiVersion: 'metrics.k8s.io/v1beta1', containers: [{ name: 'web', usage: { cpu: '0n', memory: '24576Ki' } }] });
    // The window is the metrics window (1 s here), or the process's age while it is younger.
    expect(Number(/^(\d+(?:\.\d+)?)s$/.exec(metrics.window)![1])).to.be.within(0.001, 1);
    const inflight = JSON.parse((await kubectl('get', '--raw', `/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/${pod}/inflight_requests`)).stdout);
    expect(inflight.kind).to.equal('MetricValueList');
    expect(inflight.items).to.have.length(1);
    expect(inflight.items[0]).to.deep.include({ describedObject: { kind: 'Pod', namespace: 'default', name: pod, apiVersion: '/v1' }, metric: { name: 'inflight_requests' }, value: '0' });
    const unknown = await kubectl('get', '--raw', '/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/queue_length').catch((err: { stderr: string }) => err);
    expect(unknown.stderr).to.contain('the server could not find the metric queue_length for pods');
    const gone = await kubectl('get', '--raw', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/nope').catch((err: { stderr: string }) => err);
    expect(gone.stderr).to.contain('pods.metrics.k8s.io "nope" not found');
  });

  it('lists the metrics APIs in discovery as the aggregated APIs appear, and autoscaling at v2 (preferred) and v1', async () => {
    const versions = (await kubectl('api-versions')).stdout.trim().split('\n');
    expect(versions).to.include.members(['autoscaling/v2', 'autoscaling/v1', 'metrics.k8s.io/v1beta1', 'custom.metrics.k8s.io/v1beta2']);
    const group = JSON.parse((await kubectl('get', '--raw', '/apis/autoscaling')).stdout);
    expect(group.versions.map((v: { version: string }) => v.version)).to.deep.equal(['v2', 'v1']);
    expect(group.preferredVersion.version).to.equal('v2');
    const custom = JSON.parse((await kubectl('get', '--raw', '/apis/custom.metrics.k8s.io/v1beta2')).stdout);
    expect(custom.resources.map((r: { name: string }) => r.name)).to.deep.equal(['pods/requests_per_second', 'pods/inflight_requests', 'pods/p90_latency_ms']);
  });

  it('kubectl autoscale writes through autoscaling/v1; the object reads the same in v2', async () => {
    await sim.apps.createNamespacedDeployment({ namespace: 'default', body: webDeployment('api', 0) });
    await kubectl('autoscale', 'deployment', 'api', '--min=1', '--max=3', '--cpu-percent=50');
    const v1 = JSON.parse((await kubectl('get', '--raw', '/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/api')).stdout);
    expect(v1).to.deep.include({ apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler' });
    expect(v1.spec).to.deep.equal({ scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' }, minReplicas: 1, maxReplicas: 3, targetCPUUtilizationPercentage: 50 });
    const v2 = await autoscaling.readNamespacedHorizontalPodAutoscaler({ namespace: 'default', name: 'api' });
    expect(v2.spec?.metrics).to.deep.equal([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }]);
    // A target scaled to zero turns autoscaling off, as upstream's controller does.
    const disabled = await eventually('a ScalingDisabled condition', async () => {
      const h = await autoscaling.readNamespacedHorizontalPodAutoscaler({ namespace: 'default', name: 'api' });
      return h.status?.conditions?.find((c) => c.type === 'ScalingActive' && c.reason === 'ScalingDisabled');
    });
    expect(disabled).to.deep.include({ status: 'False', message: 'scaling is disabled since the replica count of the target is zero' });
    await kubectl('delete', 'hpa,deployment', 'api');
  });

  it('scales 2 → 6 on requests per second under a ramp, and back to 2 after the stabilization window', async () => {
    await autoscaling.createNamespacedHorizontalPodAutoscaler({ namespace: 'default', body: requestsPerSecondAutoscaler('web', { scaleDown: { stabilizationWindowSeconds: 2 } }) });
    const replicas: { t: number; n: number }[] = [];
    const sampler = setInterval(() => {
      const n = (sim.cluster.store.get('deployments.apps', 'default', 'web')?.spec as { replicas: number }).replicas;
      if (replicas.at(-1)?.n !== n) replicas.push({ t: Date.now(), n });
    }, 20);
    const watched = collectingContext({ cluster: target });
    const replicasSeries = await replicasProbe.start(watched, { target: 'deployment/default/web' });
    try {
      const ctx = collectingContext({ cluster: target });
      // At the top of the ramp 120/s over 2 pods is 60/s each against a target of 10/s: the HPA
      // wants 12, and the default scale-up policy (4 pods or 100% per 15 s, whichever is more)
      // lets it add 4 in those 15 s, however many steps the ramp takes it there in.
      const load = await httpProbe.start(ctx, httpProbe.params.parse({ service: 'default/web:80', rate: ['ramp 120/s over 2s', 'hold 4s', '0/s'], timeout: '2s' }));
      await eventually('6 replicas', () => replicas.at(-1)!.n === 6, 6_000);
      const hpa = await eventually('the HPA to report its metric', async () => {
        const h = await autoscaling.readNamespacedHorizontalPodAutoscaler({ namespace: 'default', name: 'web' });
        return h.status?.currentMetrics?.[0]?.pods?.current?.averageValue !== undefined && h;
      });
      expect(hpa.status!.conditions!.find((c) => c.type === 'ScalingActive')).to.deep.include({ status: 'True', reason: 'ValidMetricFound' });
      const get = await kubectl('get', 'hpa', 'web');
      expect(get.stdout).to.match(/^NAME\s+REFERENCE\s+TARGETS\s+MINPODS\s+MAXPODS\s+REPLICAS\s+AGE\n/);
      expect(get.stdout).to.match(/\nweb\s+Deployment\/web\s+\S+\/10\s+2\s+8\s+\d\s+\d+s$/);
      const busy = await kubectl('top', 'pods', '-l', 'app=web', '--no-headers');
      // 10m per request at tens of requests a second per pod.
      expect(busy.stdout.split('\n').some((l) => /\s[1-9]\d{2,}m\s/.test(l))).to.equal(true);
      await eventually('the load to end', () => ctx.samples.length >= 600, 15_000);
      const quiet = Date.now();
      await load.stop();
      await eventually('2 replicas again', () => replicas.at(-1)!.n === 2, 15_000);
      const series = replicas.map((r) => r.n);
      const peak = series.indexOf(6);
      expect(series.slice(0, peak + 1).every((n, i, a) => i === 0 || n > a[i - 1]!), `rising to 6: ${series.join(' → ')}`).to.equal(true);
      // Down as the highest recommendation of the last 2 s falls with the measured rate, never below the minimum.
      expect(series.slice(peak + 1).every((n, i, a) => n >= 2 && n < (i === 0 ? 6 : a[i - 1]!)), `falling to 2: ${series.join(' → ')}`).to.equal(true);
      // The recommendations made while the last second's requests still counted (≥ 6 until at least
      // half a sync before the load ended) hold the size for the 2 s window.
      expect(replicas[peak + 1]!.t - quiet).to.be.at.least(1_500);
    } finally {
      clearInterval(sampler);
      await replicasSeries.stop();
    }
    // replicas(deployment/default/web) reads the same series from the API.
    expect(watched.samples.map((x) => x.value).filter((n, i, a) => i === 0 || n !== a[i - 1])).to.deep.equal(replicas.map((r) => r.n));
    const events = (await sim.core.listNamespacedEvent({ namespace: 'default' })).items.filter((e) => e.involvedObject.kind === 'HorizontalPodAutoscaler' && e.reason === 'SuccessfulRescale')
      // In the order they were written (each message is new, so none was updated since).
      .sort((a, b) => Number(a.metadata!.resourceVersion) - Number(b.metadata!.resourceVersion));
    // One event per change the deployment saw, each with upstream's message for its direction.
    expect(events.map((e) => e.message)).to.deep.equal(
      replicas.slice(1).map(({ n }, i) => `New size: ${n}; reason: ${n > replicas[i]!.n ? 'pods metric requests_per_second above target' : 'All metrics below target'}`),
    );
    expect(events.every((e) => e.source?.component === 'horizontal-pod-autoscaler')).to.equal(true);
  });
});
