import { expect } from 'chai';
import * as k8s from '@kubernetes/client-node';
import { budgetObservation, pdbProbe } from '../../src/probes/pdb.js';
import { startSim, type SimClients } from '../sim/sim-fixture.js';
import { eventually } from '../support/eventually.js';
import { podDisruptionBudget } from '../support/kube-objects.js';
import { createAll, startProbe, webApp } from './probe-harness.js';

describe('pdb probe (watch-based, embedded cluster)', function () {
  this.timeout(30_000);
  let sim: SimClients;
  let kc: k8s.KubeConfig;

  before(async () => {
    sim = await startSim();
    kc = sim.kubeConfig;
    await createAll(kc, [
      ...webApp('shop', 'web', 4),
      podDisruptionBudget('web', { maxUnavailable: 1 }, { namespace: 'shop' }),
    ]);
    await eventually('4 ready web pods', async () => ((await sim.apps.readNamespacedDeployment({ namespace: 'shop', name: 'web' })).status?.readyReplicas ?? 0) >= 4);
  });
  after(() => sim.cluster.stop());

  it('reads the budget at start, then catches the moment ready pods fall below it, naming the pods', async () => {
    const probe = await startProbe(pdbProbe, { target: 'shop/web' }, kc);
    try {
      await eventually('desiredHealthy from the budget', () => probe.samples.at(-1)?.detail?.desiredHealthy === 3);
      expect(probe.samples.at(-1)).to.include({ ok: true, value: 4 });
      // Two pods at once, past the budget: a crash, not an eviction, so nothing stops it.
      const names = (await sim.core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=web' })).items.map((p) => p.metadata!.name!);
      const [killed, survivors] = [names.slice(0, 2), names.slice(2)];
      const deletedAt = Date.now();
      await Promise.all(killed.map((name) => sim.core.deleteNamespacedPod({ namespace: 'shop', name, gracePeriodSeconds: 0 })));
      const broken = await eventually('a below-budget sample', () => probe.samples.find((s) => !s.ok));
      expect(broken.error).to.equal('below-budget');
      expect(broken.value).to.equal(2, 'the two survivors are all that is ready');
      expect(broken.detail).to.include({ desiredHealthy: 3 });
      expect(broken.t).to.be.at.least(deletedAt);
      // The killed pods are gone at once; their replacements are the pods not ready yet.
      const named = await eventually('a below-budget sample naming the pods not ready', () => probe.samples.find((s) => !s.ok && (s.detail?.notReady as string[]).length > 0));
      const notReady = named.detail?.notReady as string[];
      expect(notReady.every((name) => name.startsWith('web-') && !survivors.includes(name) && !killed.includes(name)), notReady.join(', ')).to.equal(true);
      await eventually('back within budget', () => probe.samples.at(-1)?.ok === true && probe.samples.at(-1)?.value === 4);
    } finally {
      await probe.stop();
    }
  });

  it('reports a budget that does not exist as a failed sample', async () => {
    const probe = await startProbe(pdbProbe, { target: 'shop/missing' }, kc);
    await probe.stop();
    expect(probe.samples[0]).to.include({ ok: false, error: 'budget-missing' });
  });

  it('computes desired healthy from the spec while the status lags an edit, and says so', () => {
    const pod = (name: string, ready: boolean): k8s.V1Pod => ({ metadata: { name, labels: { app: 'x' } }, status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } });
    const budget: k8s.V1PodDisruptionBudget = {
      metadata: { name: 'x', generation: 2 },
      spec: { minAvailable: '75%', selector: { matchLabels: { app: 'x' } } },
      status: { observedGeneration: 1, desiredHealthy: 1, currentHealthy: 3, expectedPods: 4, disruptionsAllowed: 2 },
    };
    const o = budgetObservation(budget, [pod('a', true), pod('b', true), pod('c', false), pod('d', false)], 'ns/x');
    expect(o).to.deep.include({ ok: false, value: 2, error: 'below-budget' });
    expect(o.detail).to.deep.include({ desiredHealthy: 3, desiredFrom: 'spec', notReady: ['c', 'd'] });
  });

  it('fails a budget that allows every pod to be disrupted, however many are ready', () => {
    const pod = (name: string): k8s.V1Pod => ({ metadata: { name, labels: { app: 'x' } }, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
    const budget = (spec: k8s.V1PodDisruptionBudgetSpec): k8s.V1PodDisruptionBudget => ({
      metadata: { name: 'x', generation: 1 },
      spec: { ...spec, selector: { matchLabels: { app: 'x' } } },
      status: { observedGeneration: 1, desiredHealthy: 0, currentHealthy: 3, expectedPods: 3, disruptionsAllowed: 3 },
    });
    for (const spec of [{ maxUnavailable: '100%' }, { minAvailable: 0 }]) {
      const o = budgetObservation(budget(spec), [pod('a'), pod('b'), pod('c')], 'ns/x');
      expect(o, JSON.stringify(spec)).to.deep.include({ ok: false, value: 3, error: 'budget-protects-nothing' });
      expect(String(o.detail?.message)).to.contain('lets all 3 of its pods be disrupted at once');
    }
  });

  it('refuses a target that is not namespace/name, saying how to write it', () => {
    const r = pdbProbe.params.safeParse({ target: 'web' });
    expect(r.success).to.equal(false);
    expect(JSON.stringify(r.error?.issues)).to.contain('write it like shop/web');
  });
});
