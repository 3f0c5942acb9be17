import type { LooseJson } from '../../../src/sim/api/loose-json.js';
import * as k8s from '@kubernetes/client-node';
import { expect } from 'chai';
import { startDisruptionController } from '../../../src/sim/controllers/disruption.js';
import { makeReady, pod, rawRequest, startApi, type ApiHarness } from './api-harness.js';

function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 20));
}

function eviction(name: string, deleteOptions?: Record<string, unknown>, apiVersion = 'policy/v1'): unknown {
  return { apiVersion, kind: 'Eviction', metadata: { name, namespace: 'default' }, ...(deleteOptions ? { deleteOptions } : {}) };
}

describe('sim api: eviction and budgets', () => {
  let h: ApiHarness;
  let core: k8s.CoreV1Api;
  let policy: k8s.PolicyV1Api;
  let controller: { stop(): void };

  beforeEach(async () => {
    h = await startApi();
    core = h.kc.makeApiClient(k8s.CoreV1Api);
    policy = h.kc.makeApiClient(k8s.PolicyV1Api);
    controller = startDisruptionController(h.store);
    for (const name of ['web-1', 'web-2', 'web-3']) {
      await core.createNamespacedPod({ namespace: 'default', body: pod(name, { app: 'web' }, { nodeName: 'node-1' }) });
      makeReady(h.store, 'default', name);
    }
  });
  afterEach(async () => {
    controller.stop();
    await h.stop();
  });

  async function budget(name: string, spec: k8s.V1PodDisruptionBudgetSpec): Promise<void> {
    await policy.createNamespacedPodDisruptionBudget({ namespace: 'default', body: { metadata: { name }, spec } });
    await settle();
  }

  it('keeps the budget status current', async () => {
    await budget('web', { minAvailable: 2, selector: { matchLabels: { app: 'web' } } });
    const pdb = await policy.readNamespacedPodDisruptionBudget({ namespace: 'default', name: 'web' });
    expect(pdb.status).to.deep.include({ currentHealthy: 3, desiredHealthy: 2, expectedPods: 3, disruptionsAllowed: 1, observedGeneration: 1 });
    expect(pdb.status!.conditions![0]).to.include({ type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods' });
    makeReady(h.store, 'default', 'web-3', false);
    await settle();
    const after = await policy.readNamespacedPodDisruptionBudget({ namespace: 'default', name: 'web' });
    expect(after.status).to.deep.include({ currentHealthy: 2, disruptionsAllowed: 0 });
    expect(after.status!.conditions![0]).to.include({ status: 'False', reason: 'InsufficientPods' });
  });

  it('evicts while the budget allows, then answers 429 with the exact Status', async () => {
    await budget('web', { minAvailable: 2, selector: { matchLabels: { app: 'web' } } });
    const ok = await rawRequest(h.url, 'POST', '/api/v1/namespaces/default/pods/web-1/eviction', eviction('web-1'));
    expect(ok.status).to.equal(201);
    expect(ok.text).to.equal('{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success","code":201}');
    const evicted = h.store.get('pods', 'default', 'web-1') as LooseJson;
    expect(evicted.metadata.deletionTimestamp).to.be.a('string');
    expect(evicted.metadata.deletionGracePeriodSeconds).to.equal(30);
    expect(evicted.status.conditions).to.deep.include.members([{ type: 'DisruptionTarget', status: 'True', lastProbeTime: null, lastTransitionTime: evicted.status.conditions.find((c: LooseJson) => c.type === 'DisruptionTarget').lastTransitionTime, reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting' }]);
    await settle();
    const blocked = await rawRequest(h.url, 'POST', '/api/v1/namespaces/default/pods/web-2/eviction', eviction('web-2'));
    expect(blocked.status).to.equal(429);
    expect(blocked.text).to.equal(
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Cannot evict pod as it would violate the pod\'s disruption budget.","reason":"TooManyRequests","details":{"causes":[{"reason":"DisruptionBudget","message":"The disruption budget web needs 2 healthy pods and has 2 currently"}]},"code":429}',
    );
    expect(h.store.get('pods', 'default', 'web-2')!.metadata.deletionTimestamp).to.equal(undefined);
  });

  it('spends the budget synchronously: disruptionsAllowed drops and the pod is recorded', async () => {
    await budget('web', { maxUnavailable: 2, selector: { matchLabels: { app: 'web' } } });
    // maxUnavailable needs the controllers' scale; pods without one make the budget fail safe.
    const failSafe = (await policy.readNamespacedPodDisruptionBudget({ namespace: 'default', name: 'web' })).status!;
    expect(failSafe.disruptionsAllowed).to.equal(0);
    expect(failSafe.conditions![0]).to.include({ reason: 'SyncFailed' });
    await policy.deleteNamespacedPodDisruptionBudget({ namespace: 'default', name: 'web' });
    await budget('web', { minAvailable: 1, selector: { matchLabels: { app: 'web' } } });
    controller.stop();
    const res = await rawRequest(h.url, 'POST', '/api/v1/namespaces/default/pods/web-1/eviction', eviction('web-1', { gracePeriodSeconds: 3 }));
    expect(res.status).to.equal(201);
    const pdb = h.store.get('poddisruptionbudgets.policy', 'default', 'web') as LooseJson;
    expect(pdb.status.disruptionsAllowed).to.equal(1);
    expect(Object.keys(pdb.status.disruptedPods)).to.deep.equal(['web-1']);
    expect(h.store.get('pods', 'default', 'web-1')!.metadata.deletionGracePeriodSeconds).to.equal(3);
  });

  it('answers 500 when more than one budget covers the pod', async () => {
    await budget('a', { minAvailable: 1, selector: { matchLabels: { app: 'web' } } });
    await budget('b', { minAvailable: 1, selector: {} });
    const res = await rawRequest(h.url, 'POST', '/api/v1/namespaces/default/pods/web-1/eviction', eviction('web-1', undefined, 'policy/v1beta1'));
    expect(res.status).to.equal(500);
    expect(res.text).to.equal('{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.","code":500}');
  });

  it('deletes Pending and terminating pods without consulting the budget', async () => {
    await budget('web', { minAvailable: 3, selector: { matchLabels: { app: 'web' } } });
    await core.createNamespacedPod({ namespace: 'default', body: pod('web-pending', { app: 'web' }, { nodeName: 'node-1' }) });
    const pending = await rawRequest(h.url, 'POST', '/api/v1/namespaces/default/pods/web-pending/eviction', eviction('web-pending'));
    expect(pending.status).to.equal(201);
    await core.deleteNamespacedPod({ namespace: 'default', name: 'web-1' });
    const terminating = await rawRequest(h.url, 'POST', '/api/v1/namespaces/default/pods/web-1/eviction', eviction('web-1'));
    expect(terminating.status).to.equal(201);
    const blocked = await rawRequest(h.url, 'POST', '/api/v1/namespaces/default/pods/web-2/eviction', eviction('web-2'));
    expect(blocked.status).to.equal(429);
  });

  it('answers 404 for a missing pod and evicts through client-node', async () => {
    const missing = await rawRequest(h.url, 'POST', '/api/v1/namespaces/default/pods/nope/eviction', eviction('nope'));
    expect(missing.status).to.equal(404);
    expect(missing.json.message).to.equal('pods "nope" not found');
    await core.createNamespacedPodEviction({ namespace: 'default', name: 'web-3', body: { metadata: { name: 'web-3', namespace: 'default' }, deleteOptions: { gracePeriodSeconds: 0 } } });
    expect(h.store.get('pods', 'default', 'web-3')).to.equal(undefined);
  });
});
