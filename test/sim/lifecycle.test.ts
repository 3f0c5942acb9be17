import { expect } from 'chai';
import { eventually } from '../support/eventually.js';
import { httpService, webDeployment } from '../support/kube-objects.js';
import { isReady, podsOf, startSim, type SimClients } from './sim-fixture.js';

describe('sim kubelet lifecycle', function () {
  this.timeout(20_000);
  let sim: SimClients;
  before(async () => {
    sim = await startSim();
  });
  after(() => sim.cluster.stop());

  async function inFlightDuringDelete(app: string, shutdown: 'graceful' | 'drop'): Promise<string> {
    await sim.apps.createNamespacedDeployment({ namespace: 'default', body: webDeployment(app, 1, { grace: 5, env: { GAMEDAY_LATENCY: '800ms', GAMEDAY_SHUTDOWN: shutdown, GAMEDAY_SHUTDOWN_DELAY: '1s' } }) });
    await sim.core.createNamespacedService({ namespace: 'default', body: httpService(app) });
    const [pod] = await eventually(`${app} ready`, async () => {
      const pods = await podsOf(sim.core, 'default', app);
      return pods.length === 1 && isReady(pods[0]!) ? pods : undefined;
    });
    const local = await eventually('local port', () => sim.cluster.localServiceUrl('default', app, 80));
    await eventually('endpoint ready', async () => (await sim.core.readNamespacedEndpoints({ namespace: 'default', name: app })).subsets?.[0]?.addresses?.length === 1);
    await new Promise((r) => setTimeout(r, 2 * sim.cluster.timings.endpointPropagationMs));
    const request = fetch(`${local}/work`).then((r) => `status ${r.status}`, () => 'failed');
    await new Promise((r) => setTimeout(r, 100));
    await sim.core.deleteNamespacedPod({ namespace: 'default', name: pod!.metadata!.name! });
    return request;
  }

  it('lets a graceful pod finish in-flight requests on SIGTERM while a dropping one fails them', async () => {
    expect(await inFlightDuringDelete('polite', 'graceful')).to.equal('status 200');
    expect(await inFlightDuringDelete('rude', 'drop')).to.equal('failed');
  });

  it("keeps its own bookkeeping out of users' Services: local ports are listed in kube-system/gameday-local-ports", async () => {
    await sim.core.createNamespacedService({ namespace: 'default', body: httpService('listed') });
    const local = await eventually('local port', () => sim.cluster.localServiceUrl('default', 'listed', 80));
    const listed = await eventually('listed', async () => (await sim.core.readNamespacedConfigMap({ namespace: 'kube-system', name: 'gameday-local-ports' })).data?.['default.listed']);
    expect(JSON.parse(listed)).to.deep.equal({ 80: Number(new URL(local).port) });
    expect((await sim.core.readNamespacedService({ namespace: 'default', name: 'listed' })).metadata!.annotations).to.equal(undefined);
    await sim.core.deleteNamespacedService({ namespace: 'default', name: 'listed' });
    await eventually('unlisted', async () => (await sim.core.readNamespacedConfigMap({ namespace: 'kube-system', name: 'gameday-local-ports' })).data?.['default.listed'] === undefined);
  });

  it('restarts a container whose liveness probe fails and counts the restart', async () => {
    const body = webDeployment('sleepy', 1, { env: { GAMEDAY_STARTUP_DELAY: '10s' } });
    body.spec!.template.spec!.containers[0]!.livenessProbe = { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 1, failureThreshold: 1 };
    await sim.apps.createNamespacedDeployment({ namespace: 'default', body });
    const pod = await eventually('restarted', async () => (await podsOf(sim.core, 'default', 'sleepy')).find((p) => (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1));
    expect(pod.status?.containerStatuses?.[0]?.lastState?.terminated?.exitCode).to.equal(137);
    const events = await sim.core.listNamespacedEvent({ namespace: 'default', fieldSelector: `involvedObject.name=${pod.metadata!.name}` });
    expect(events.items.map((e) => e.message)).to.include('Container web failed liveness probe, will be restarted');
    expect(events.items.some((e) => e.reason === 'Unhealthy' && e.message?.startsWith('Liveness probe failed: Get "http://'))).to.equal(true);
  });

  it('takes a crashed node\'s pods down and restarts them when the node comes back', async () => {
    const node = 'gameday-worker';
    const body = webDeployment('pinned', 1, { nodeSelector: { 'kubernetes.io/hostname': node } });
    // Tolerating the lost node for a minute: the pod must wait for the node, not be evicted (1 s here) while the test looks.
    body.spec!.template.spec!.tolerations = ['unreachable', 'not-ready'].map((t) => ({ key: `node.kubernetes.io/${t}`, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 }));
    await sim.apps.createNamespacedDeployment({ namespace: 'default', body });
    await sim.core.createNamespacedService({ namespace: 'default', body: httpService('pinned') });
    const [pod] = await eventually('pinned ready', async () => {
      const pods = await podsOf(sim.core, 'default', 'pinned');
      return pods.length === 1 && isReady(pods[0]!) ? pods : undefined;
    });
    const crash = sim.cluster.nodeFaults.inject(node, { type: 'crash' });
    const proxied = await fetch(`${sim.cluster.url}/api/v1/namespaces/default/services/pinned:http/proxy/`);
    expect(proxied.status).to.equal(503, 'the pod process is gone even though the API still says Running');
    await eventually('node unknown', async () => (await sim.core.readNode({ name: node })).status?.conditions?.find((c) => c.type === 'Ready')?.status === 'Unknown');
    await eventually('pod marked not ready', async () => !isReady(await sim.core.readNamespacedPod({ namespace: 'default', name: pod!.metadata!.name! })));
    expect(sim.cluster.nodeFaults.revert(node, crash.id)).to.include({ reverted: true });
    const back = await eventually('pod back', async () => {
      const p = await sim.core.readNamespacedPod({ namespace: 'default', name: pod!.metadata!.name! });
      return isReady(p) && (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1 ? p : undefined;
    });
    expect(back.spec?.nodeName).to.equal(node);
  });

  it('keeps containers serving while the kubelet is stopped, but the node goes NotReady', async () => {
    const node = 'gameday-worker3';
    await sim.apps.createNamespacedDeployment({ namespace: 'default', body: webDeployment('orphaned', 1, { nodeSelector: { 'kubernetes.io/hostname': node } }) });
    const pod = await eventually('orphaned ready', async () => (await podsOf(sim.core, 'default', 'orphaned')).find(isReady));
    // Straight to the pod: the Service stops routing to it once the node's pods are marked not ready.
    const direct = `${sim.cluster.url}/api/v1/namespaces/default/pods/${pod.metadata!.name}:8080/proxy/`;
    await eventually('served', async () => (await fetch(direct, { signal: AbortSignal.timeout(1000) })).status === 200);
    const stop = sim.cluster.nodeFaults.inject(node, { type: 'kubelet-stop' });
    try {
      await eventually('node unknown', async () => (await sim.core.readNode({ name: node })).status?.conditions?.find((c) => c.type === 'Ready')?.status === 'Unknown');
      const lease = await sim.coordination.readNamespacedLease({ namespace: 'kube-node-lease', name: node });
      expect(Date.now() - new Date(lease.spec!.renewTime!).getTime()).to.be.greaterThan(1000);
      const served = await fetch(direct, { signal: AbortSignal.timeout(1000) }).then((r) => `status ${r.status}`, (err: Error) => `failed: ${err.message}`);
      expect(served).to.equal('status 200', 'the container still answers with its node NotReady and its kubelet stopped');
    } finally {
      sim.cluster.nodeFaults.revert(node, stop.id);
    }
    await eventually('node ready', async () => (await sim.core.readNode({ name: node })).status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True');
  });

  it('adds node latency to requests reaching pods on that node', async () => {
    const node = 'gameday-worker2';
    await sim.apps.createNamespacedDeployment({ namespace: 'default', body: webDeployment('lagged', 1, { nodeSelector: { 'kubernetes.io/hostname': node } }) });
    await sim.core.createNamespacedService({ namespace: 'default', body: httpService('lagged') });
    await eventually('lagged ready', async () => (await podsOf(sim.core, 'default', 'lagged')).some(isReady));
    const url = `${sim.cluster.url}/api/v1/namespaces/default/services/lagged:http/proxy/`;
    await eventually('routable', async () => (await fetch(url)).status === 200);
    const f = sim.cluster.nodeFaults.inject(node, { type: 'latency', delayMs: 400 });
    const t0 = Date.now();
    expect((await fetch(url)).status).to.equal(200);
    const slow = Date.now() - t0;
    sim.cluster.nodeFaults.revert(node, f.id);
    expect(slow).to.be.at.least(400);
    expect(sim.cluster.nodeFaults.list(node)).to.deep.equal([]);
  });
});
