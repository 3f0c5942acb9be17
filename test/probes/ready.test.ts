import { expect } from 'chai';
import * as k8s from '@kubernetes/client-node';
import { readyProbe } from '../../src/probes/ready.js';
import { startSim, type SimClients } from '../sim/sim-fixture.js';
import { eventually } from '../support/eventually.js';
import { createAll, startProbe, webApp } from './probe-harness.js';

describe('ready probe (watch-based, embedded cluster)', function () {
  this.timeout(30_000);
  let sim: SimClients;
  let kc: k8s.KubeConfig;

  before(async () => {
    sim = await startSim();
    kc = sim.kubeConfig;
  });
  after(() => sim.cluster.stop());

  it("follows a deployment's ready replicas as it comes up and is scaled down", async () => {
    const probe = await startProbe(readyProbe, { target: 'deployment/shop/web' }, kc);
    try {
      expect(probe.samples[0]).to.include({ ok: false, error: 'workload-missing' });
      await createAll(kc, webApp('shop', 'web', 3));
      await eventually('3 ready', () => probe.samples.at(-1)?.value === 3);
      await sim.apps.patchNamespacedDeploymentScale(
        { namespace: 'shop', name: 'web', body: { spec: { replicas: 1 } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
      await eventually('1 ready', () => probe.samples.at(-1)?.value === 1);
      const values = probe.samples.map((s) => s.value);
      expect(values).to.include.members([0, 3, 1]);
      expect(probe.samples.at(-1)!.detail).to.include({ wanted: 1 });
    } finally {
      await probe.stop();
    }
  });

  it('refuses a target that is not kind/namespace/name', () => {
    const r = readyProbe.params.safeParse({ target: 'pod/shop/web' });
    expect(r.success).to.equal(false);
    expect(JSON.stringify(r.error?.issues)).to.contain('statefulset/shop/db');
  });
});
