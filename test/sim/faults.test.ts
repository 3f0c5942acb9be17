import { expect } from 'chai';
import { eventually } from '../support/eventually.js';
import { httpService, kvStatefulSet, webDeployment } from '../support/kube-objects.js';
import { isReady, podsOf, startSim, type SimClients } from './sim-fixture.js';

interface FaultReply {
  readonly id: string;
  readonly message: string;
  readonly [field: string]: unknown;
}

async function post(url: string, body: unknown): Promise<{ status: number; json: FaultReply }> {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, json: (await r.json()) as FaultReply };
}

describe('sim data plane and node faults', function () {
  this.timeout(20_000);
  let sim: SimClients;
  before(async () => {
    sim = await startSim();
  });
  after(() => sim.cluster.stop());

  it('fails an in-flight request when its pod is killed', async () => {
    await sim.apps.createNamespacedDeployment({ namespace: 'default', body: webDeployment('slowweb', 1, { env: { GAMEDAY_LATENCY: '3s' } }) });
    await sim.core.createNamespacedService({ namespace: 'default', body: httpService('slowweb') });
    const [pod] = await eventually('slowweb ready', async () => {
      const pods = await podsOf(sim.core, 'default', 'slowweb');
      return pods.length === 1 && isReady(pods[0]!) ? pods : undefined;
    });
    const local = await eventually('local port', () => sim.cluster.localServiceUrl('default', 'slowweb', 80));
    await eventually('endpoint ready', async () => (await sim.core.readNamespacedEndpoints({ namespace: 'default', name: 'slowweb' })).subsets?.[0]?.addresses?.length === 1);
    await new Promise((r) => setTimeout(r, 2 * sim.cluster.timings.endpointPropagationMs));
    const throughProxy = fetch(`${sim.cluster.url}/api/v1/namespaces/default/services/slowweb:http/proxy/slow`).then((r) => r.status);
    const throughLocal = fetch(`${local}/slow`).then((r) => `status ${r.status}`, (err: Error) => `failed: ${err.message}`);
    await new Promise((r) => setTimeout(r, 200));
    await sim.core.deleteNamespacedPod({ namespace: 'default', name: pod!.metadata!.name!, gracePeriodSeconds: 0 });
    expect(await throughProxy).to.equal(503);
    expect(await throughLocal).to.match(/^failed/);
  });

  it('answers 503 "no endpoints available" when a Service has no ready pods', async () => {
    await sim.core.createNamespacedService({ namespace: 'default', body: httpService('empty') });
    const r = await fetch(`${sim.cluster.url}/api/v1/namespaces/default/services/empty:http/proxy/`);
    expect(r.status).to.equal(503);
    expect(((await r.json()) as { message: string }).message).to.equal('no endpoints available for service "empty"');
  });

  it('blocks traffic through the Service port with a deny-all NetworkPolicy, and lets it through once removed', async () => {
    await sim.apps.createNamespacedDeployment({ namespace: 'default', body: webDeployment('guarded', 2) });
    await sim.core.createNamespacedService({ namespace: 'default', body: httpService('guarded') });
    const local = await eventually('local port', () => sim.cluster.localServiceUrl('default', 'guarded', 80));
    await eventually('guarded serving', async () => (await fetch(`${local}/`, { signal: AbortSignal.timeout(1000) })).status === 200);
    await sim.networking.createNamespacedNetworkPolicy({ namespace: 'default', body: {
      metadata: { name: 'deny-guarded' },
      spec: { podSelector: { matchLabels: { app: 'guarded' } }, policyTypes: ['Ingress'] },
    } });
    const blocked = await fetch(`${local}/`, { signal: AbortSignal.timeout(500) }).then((r) => `status ${r.status}`, (err: Error) => `failed: ${err.name}`);
    expect(blocked).to.match(/^failed/);
    await sim.networking.deleteNamespacedNetworkPolicy({ namespace: 'default', name: 'deny-guarded' });
    expect((await fetch(`${local}/`, { signal: AbortSignal.timeout(1000) })).status).to.equal(200);
  });

  it('marks a partitioned node NotReady/unreachable and evicts its pods after their toleration', async () => {
    await sim.apps.createNamespacedDeployment({ namespace: 'default', body: webDeployment('victim', 3) });
    await eventually('victim ready', async () => (await podsOf(sim.core, 'default', 'victim')).filter(isReady).length === 3);
    const node = 'gameday-worker2';
    const doomed = (await podsOf(sim.core, 'default', 'victim')).find((p) => p.spec?.nodeName === node)!;
    const fault = await post(`${sim.cluster.url}/gameday/v1/nodes/${node}/faults`, { type: 'partition', from: 'control-plane' });
    expect(fault.status).to.equal(201);
    expect(fault.json).to.include({ node, type: 'partition', from: 'control-plane' });
    try {
      const n = await eventually('node unknown', async () => {
        const n = await sim.core.readNode({ name: node });
        return n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'Unknown' ? n : undefined;
      });
      expect(n.status?.conditions?.find((c) => c.type === 'Ready')?.reason).to.equal('NodeStatusUnknown');
      await eventually('unreachable taint', async () => (await sim.core.readNode({ name: node })).spec?.taints?.some((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute'));
      const evicted = await eventually('pod marked for deletion', async () => {
        const p = await sim.core.readNamespacedPod({ namespace: 'default', name: doomed.metadata!.name! });
        return p.metadata?.deletionTimestamp ? p : undefined;
      });
      expect(evicted.status?.conditions?.find((c) => c.type === 'DisruptionTarget')?.reason).to.equal('DeletionByTaintManager');
      const replaced = await eventually('replacement elsewhere', async () => {
        const pods = (await podsOf(sim.core, 'default', 'victim')).filter((p) => !p.metadata?.deletionTimestamp && isReady(p));
        return pods.length === 3 ? pods : undefined;
      });
      expect(replaced.every((p) => p.spec?.nodeName !== node)).to.equal(true);
    } finally {
      const r = await fetch(`${sim.cluster.url}/gameday/v1/nodes/${node}/faults/${fault.json.id}`, { method: 'DELETE' });
      expect(await r.json()).to.include({ reverted: true });
    }
    await eventually('node ready again', async () => (await sim.core.readNode({ name: node })).status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True');
    // Back in touch, the kubelet finishes the deletion the API asked for while it was cut off.
    await eventually('stuck pod gone', async () => (await podsOf(sim.core, 'default', 'victim')).every((p) => p.metadata?.name !== doomed.metadata?.name));
    const again = await fetch(`${sim.cluster.url}/gameday/v1/nodes/${node}/faults/${fault.json.id}`, { method: 'DELETE' });
    expect(again.status).to.equal(200);
    expect(await again.json()).to.deep.equal({ reverted: false });
  });

  it('reports DiskPressure on a filled node and evicts its pods', async () => {
    const node = 'gameday-worker3';
    await sim.apps.createNamespacedDeployment({ namespace: 'default', body: webDeployment('tenant', 1, { nodeSelector: { 'kubernetes.io/hostname': node } }) });
    const [pod] = await eventually('tenant ready', async () => {
      const pods = await podsOf(sim.core, 'default', 'tenant');
      return pods.length === 1 && isReady(pods[0]!) ? pods : undefined;
    });
    const fill = await post(`${sim.cluster.url}/gameday/v1/nodes/${node}/faults`, { type: 'disk-fill', path: '/var/lib', percent: 95 });
    expect(fill.status).to.equal(201);
    const fs = (await (await fetch(`${sim.cluster.url}/gameday/v1/nodes/${node}/filesystem`)).json()) as { usedBytes: number; capacityBytes: number };
    expect(fs.usedBytes / fs.capacityBytes).to.be.closeTo(0.95, 0.001);
    try {
      await eventually('disk pressure', async () => (await sim.core.readNode({ name: node })).status?.conditions?.find((c) => c.type === 'DiskPressure')?.status === 'True');
      await eventually('disk-pressure taint', async () => (await sim.core.readNode({ name: node })).spec?.taints?.some((t) => t.key === 'node.kubernetes.io/disk-pressure'));
      const evicted = await eventually('evicted', async () => {
        const p = await sim.core.readNamespacedPod({ namespace: 'default', name: pod!.metadata!.name! });
        return p.status?.reason === 'Evicted' ? p : undefined;
      });
      expect(evicted.status?.phase).to.equal('Failed');
      expect(evicted.status?.message).to.match(/^The node was low on resource: ephemeral-storage\./);
    } finally {
      await fetch(`${sim.cluster.url}/gameday/v1/nodes/${node}/faults/${fill.json.id}`, { method: 'DELETE' });
    }
    await eventually('pressure gone', async () => (await sim.core.readNode({ name: node })).status?.conditions?.find((c) => c.type === 'DiskPressure')?.status === 'False');
    await eventually('replacement ready', async () => (await podsOf(sim.core, 'default', 'tenant')).some((p) => isReady(p) && p.status?.phase === 'Running'));
  });

  it('rejects malformed fault requests with a Status body', async () => {
    const bad = await post(`${sim.cluster.url}/gameday/v1/nodes/gameday-worker/faults`, { type: 'meltdown' });
    expect(bad.status).to.equal(400);
    expect(bad.json).to.include({ kind: 'Status', reason: 'BadRequest', code: 400 });
    expect(bad.json.message).to.include('partition');
    const missing = await post(`${sim.cluster.url}/gameday/v1/nodes/nope/faults`, { type: 'crash' });
    expect(missing.status).to.equal(404);
    const noAmount = await post(`${sim.cluster.url}/gameday/v1/nodes/gameday-worker/faults`, { type: 'disk-fill' });
    expect(noAmount.status).to.equal(400);
  });

  it('elects a kv leader through a Lease and a new one after the leader pod is killed', async () => {
    await sim.core.createNamespacedService({ namespace: 'default', body: httpService('kv') });
    await sim.apps.createNamespacedStatefulSet({ namespace: 'default', body: kvStatefulSet('kv', { podManagementPolicy: 'Parallel' }) });
    const identity = await eventually('leader elected', async () => {
      const lease = await sim.coordination.readNamespacedLease({ namespace: 'default', name: 'kv-leader' });
      return lease.spec?.holderIdentity || undefined;
    });
    expect(identity).to.match(/^kv-[012]_/);
    const leader = identity.split('_')[0]!;
    await eventually('kv ready', async () => (await podsOf(sim.core, 'default', 'kv')).filter(isReady).length === 3);
    const proxy = `${sim.cluster.url}/api/v1/namespaces/default/services/kv:http/proxy`;
    const put = async (): Promise<number[]> => {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await fetch(`${proxy}/kv/color`, { method: 'PUT', body: 'blue' })).status);
      return statuses;
    };
    await eventually('the Service routes to the members', async () => (await fetch(`${proxy}/healthz`)).status === 200);
    const statuses = await put();
    // Whichever member the Service picks, the write reaches the leader: followers forward it.
    expect(statuses).to.deep.equal([200, 200, 200]);
    const read = (await (await fetch(`${proxy}/kv/color`)).json()) as { value: string };
    expect(read.value).to.equal('blue');

    await sim.core.deleteNamespacedPod({ namespace: 'default', name: leader, gracePeriodSeconds: 0 });
    const next = await eventually('new leader', async () => {
      const lease = await sim.coordination.readNamespacedLease({ namespace: 'default', name: 'kv-leader' });
      const holder = lease.spec?.holderIdentity;
      return holder && holder !== identity ? lease : undefined;
    });
    expect(next.spec?.leaseTransitions).to.be.at.least(1);
  });
});
