import { expect } from 'chai';
import * as k8s from '@kubernetes/client-node';
import { failoverProbe } from '../../src/probes/failover.js';
import { startSim, type SimClients } from '../sim/sim-fixture.js';
import { eventually } from '../support/eventually.js';
import { kvStatefulSet, namespace } from '../support/kube-objects.js';
import { createAll, startProbe } from './probe-harness.js';

describe('failover probe (watch-based, embedded cluster, gameday/kv leader election)', function () {
  this.timeout(30_000);
  let sim: SimClients;
  let kc: k8s.KubeConfig;

  before(async () => {
    sim = await startSim();
    kc = sim.kubeConfig;
    await createAll(kc, [namespace('shop'), kvStatefulSet('db', { namespace: 'shop' }), kvStatefulSet('cache', { namespace: 'shop' })]);
    for (const name of ['db', 'cache']) {
      await eventually(`3 ready ${name} members`, async () => ((await sim.apps.readNamespacedStatefulSet({ namespace: 'shop', name })).status?.readyReplicas ?? 0) >= 3);
    }
  });
  after(() => sim.cluster.stop());

  const leader = async (lease: string): Promise<string> =>
    ((await sim.coordination.readNamespacedLease({ namespace: 'shop', name: lease })).spec?.holderIdentity ?? '').replace(/_[^_]*$/, '');

  it('finds the Lease its pods hold and measures the time from losing the leader to a new one serving', async () => {
    const probe = await startProbe(failoverProbe, { target: 'statefulset/shop/db' }, kc);
    try {
      const first = probe.samples[0]!;
      const old = await leader('db-leader');
      expect(first).to.deep.include({ ok: true, value: 0, detail: { state: 'serving', by: old, lease: 'db-leader' } });
      await sim.core.deleteNamespacedPod({ namespace: 'shop', name: old });
      const done = await eventually('a completed failover', () => probe.samples.find((s) => s.ok && (s.value ?? 0) > 0), 10_000);
      const lost = probe.samples.find((s) => s.error === 'serving-lost')!;
      expect(lost.detail).to.include({ lost: old, reason: `leader ${old} is terminating` });
      expect(done.value).to.equal(done.t - lost.t);
      expect(done.detail).to.include({ from: old, lostAt: lost.t });
      expect(done.detail?.to).to.equal(await leader('db-leader')).and.not.equal(old);
    } finally {
      await probe.stop();
    }
  });

  it('reports a failover still running at stop as failed, with the time so far', async () => {
    const probe = await startProbe(failoverProbe, { target: 'statefulset/shop/cache', via: { lease: 'shop/cache-leader' } }, kc);
    const old = await leader('cache-leader');
    await sim.apps.patchNamespacedStatefulSetScale(
      { namespace: 'shop', name: 'cache', body: { spec: { replicas: 0 } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    const lost = await eventually('the leader lost', () => probe.samples.find((s) => s.error === 'serving-lost'));
    const unservedMs = 300;
    await new Promise((resolve) => setTimeout(resolve, unservedMs));
    await probe.stop();
    const last = probe.samples.at(-1)!;
    expect(last).to.include({ ok: false, error: 'failover-unfinished' });
    expect(last.detail).to.include({ lost: old, lostAt: lost.t });
    expect(last.value, 'the time from losing the leader to the stop').to.equal(last.t - lost.t).and.to.be.at.least(unservedMs);
  });

  it('refuses to start on a workload that does not exist, saying so', async () => {
    let message = '';
    await startProbe(failoverProbe, { target: 'deployment/shop/nothing' }, kc).catch((e: Error) => (message = e.message));
    expect(message).to.contain('deployment/shop/nothing does not exist');
  });
});
