import { expect } from 'chai';
import { podKill } from '../../src/faults/pod-kill.js';
import { isReady, podsOf } from '../sim/sim-fixture.js';
import { eventually } from '../support/eventually.js';
import { webDeployment, webPod } from '../support/kube-objects.js';
import { planFault, recordingContext, startFaultFixture, type FaultFixture } from './api-fixture.js';

const NS = 'default';

describe('podKill on the embedded cluster', function () {
  this.timeout(30_000);
  let f: FaultFixture;

  before(async () => {
    f = await startFaultFixture();
  });
  after(async () => {
    await f?.cluster.stop();
  });

  it('verifies that the killed Deployment pods are gone and replaced by new ones', async () => {
    await f.apps.createNamespacedDeployment({ namespace: NS, body: webDeployment('cart', 3, { grace: 1 }) });
    await eventually('cart ready', async () => (await podsOf(f.core, NS, 'cart')).filter(isReady).length === 3, 15_000);
    const uidsBefore = (await podsOf(f.core, NS, 'cart')).map((p) => p.metadata?.uid);
    const { params, planned } = await planFault(podKill, { pods: { namespace: NS, labels: { app: 'cart' } }, count: 2, verifyTimeout: '10s' }, f.target);
    const ctx = recordingContext(f.target);
    const killed = await podKill.inject(ctx, params, planned.targets);
    const verdict = await podKill.verify(ctx, params, planned.targets, killed);
    expect(verdict.landed, verdict.message).to.equal(true);
    expect(verdict.message).to.match(/2 replaced by ReplicaSet\/cart-/);
    const fresh = (await podsOf(f.core, NS, 'cart')).filter((p) => !p.metadata?.deletionTimestamp && !uidsBefore.includes(p.metadata?.uid));
    expect(fresh).to.have.length(2);
  });

  it('verifies a StatefulSet pod came back under its own name with a new uid', async () => {
    const tpl = webDeployment('ledger', 2, { grace: 1 }).spec!;
    await f.apps.createNamespacedStatefulSet({ namespace: NS, body: { metadata: { name: 'ledger' }, spec: { serviceName: 'ledger', replicas: 2, selector: tpl.selector, template: tpl.template } } });
    await eventually('ledger ready', async () => (await podsOf(f.core, NS, 'ledger')).filter(isReady).length === 2, 15_000);
    const { params, planned } = await planFault(podKill, { pods: { namespace: NS, names: ['ledger-1'] }, verifyTimeout: '10s' }, f.target);
    const ctx = recordingContext(f.target);
    const killed = await podKill.inject(ctx, params, planned.targets);
    const verdict = await podKill.verify(ctx, params, planned.targets, killed);
    expect(verdict.landed, verdict.message).to.equal(true);
    const back = await f.core.readNamespacedPod({ namespace: NS, name: 'ledger-1' });
    expect(back.metadata?.uid).to.not.equal(killed[0]!.uid);
  });

  it('does not land when the controlling owner never replaces the pod', async () => {
    const owner = await f.core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'no-controller' } } });
    const pod = webPod('orphan', { grace: 0 });
    pod.metadata!.ownerReferences = [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'no-controller', uid: owner.metadata!.uid!, controller: true }];
    await f.core.createNamespacedPod({ namespace: NS, body: pod });
    await eventually('orphan running', async () => (await f.core.readNamespacedPod({ namespace: NS, name: 'orphan' })).status?.phase === 'Running', 10_000);
    const { params, planned } = await planFault(podKill, { pods: { namespace: NS, names: ['orphan'] }, force: true, verifyTimeout: '1s' }, f.target);
    const ctx = recordingContext(f.target);
    const killed = await podKill.inject(ctx, params, planned.targets);
    const verdict = await podKill.verify(ctx, params, planned.targets, killed);
    expect(verdict.landed).to.equal(false);
    expect(verdict.message).to.match(/ConfigMap\/no-controller has replaced 0 of 1/);
  });
});
