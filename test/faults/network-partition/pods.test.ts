import { expect } from 'chai';
import { rawRequest, serviceProxyPath } from '../../../src/cluster/raw-request.js';
import { SeededRandom } from '../../../src/core/rng.js';
import { podPartition, podPartitionParams } from '../../../src/faults/network-partition/pods.js';
import { isReady, podsOf } from '../../sim/sim-fixture.js';
import { eventually } from '../../support/eventually.js';
import { httpService, webDeployment, webPod } from '../../support/kube-objects.js';
import { clusterState, recordingContext, startFaultFixture, type FaultFixture } from '../api-fixture.js';

const NS = 'default';

describe('networkPartition (pods) on the embedded cluster', function () {
  this.timeout(40_000);
  let f: FaultFixture;

  before(async () => {
    f = await startFaultFixture();
    await f.apps.createNamespacedDeployment({ namespace: NS, body: webDeployment('api', 2, { grace: 1 }) });
    await f.core.createNamespacedService({ namespace: NS, body: httpService('api') });
    await eventually('api ready', async () => (await podsOf(f.core, NS, 'api')).filter(isReady).length === 2, 15_000);
  });
  after(async () => {
    await f?.cluster.stop();
  });

  const plan = async (input: unknown) => {
    const params = podPartitionParams.parse(input);
    return { params, planned: podPartition.plan(params, { snapshot: await f.target.snapshot(), rng: new SeededRandom(11) }) };
  };
  const apiAnswers = async (): Promise<boolean> => (await rawRequest(f.kubeConfig, serviceProxyPath(NS, 'api', 'http', '/'), { signal: AbortSignal.timeout(3000) }).catch(() => ({ status: 0 }))).status === 200;

  it('cuts the pods off (proven with real requests), and revert restores policies and labels exactly', async () => {
    await eventually('api answers', apiAnswers);
    const before = await clusterState(f);
    const { params, planned } = await plan({ pods: { namespace: NS, labels: { app: 'api' } } });
    expect(planned.targets.pods).to.have.length(2);
    const ctx = recordingContext(f.target);
    const state = await podPartition.inject(ctx, params, planned.targets);
    const verdict = await podPartition.verify(ctx, params, planned.targets, state);
    expect(verdict.landed, verdict.message).to.equal(true);
    expect(state.proof).to.include({ reachableBefore: true, blockedAfter: true });
    // The workload's own Service is cut off too: the policy, not the probe Service, did it.
    expect(await apiAnswers()).to.equal(false);
    const policy = await f.networking.readNamespacedNetworkPolicy({ namespace: NS, name: state.policy });
    expect(policy.metadata?.labels).to.include({ 'app.kubernetes.io/managed-by': 'gameday' });
    expect(policy.spec?.policyTypes).to.deep.equal(['Ingress', 'Egress']);

    await podPartition.revert(ctx, params, planned.targets, state);
    await podPartition.revert(ctx, params, planned.targets, undefined);
    expect(await clusterState(f)).to.deep.equal(before);
    await eventually('api answers again', apiAnswers);
  });

  it('egress only: proves enforcement, then leaves ingress open', async () => {
    const before = await clusterState(f);
    const { params, planned } = await plan({ pods: { namespace: NS, labels: { app: 'api' } }, count: 1, direction: 'egress' });
    const ctx = recordingContext(f.target);
    const state = await podPartition.inject(ctx, params, planned.targets);
    expect((await podPartition.verify(ctx, params, planned.targets, state)).landed).to.equal(true);
    expect((await f.networking.readNamespacedNetworkPolicy({ namespace: NS, name: state.policy })).spec?.policyTypes).to.deep.equal(['Egress']);
    await eventually('api answers with egress denied', apiAnswers);
    await podPartition.revert(ctx, params, planned.targets, state);
    expect(await clusterState(f)).to.deep.equal(before);
  });

  it('does not land when the deny policy has no effect (an allow-all policy for the same pods outweighs it)', async () => {
    await f.networking.createNamespacedNetworkPolicy({
      namespace: NS,
      body: { metadata: { name: 'allow-all' }, spec: { podSelector: { matchLabels: { app: 'api' } }, policyTypes: ['Ingress'], ingress: [{}] } },
    });
    const { params, planned } = await plan({ pods: { namespace: NS, labels: { app: 'api' } }, direction: 'ingress', verifyTimeout: '2s' });
    const ctx = recordingContext(f.target);
    const state = await podPartition.inject(ctx, params, planned.targets);
    const verdict = await podPartition.verify(ctx, params, planned.targets, state);
    expect(verdict.landed).to.equal(false);
    expect(verdict.message).to.match(/does not enforce NetworkPolicy, or another policy allows/);
    expect(state.proof).to.include({ reachableBefore: true, blockedAfter: false });
    await podPartition.revert(ctx, params, planned.targets, state);
    await f.networking.deleteNamespacedNetworkPolicy({ namespace: NS, name: 'allow-all' });
  });

  it('does not land when it cannot check: pods that declare no port cannot be probed', async () => {
    const portless = webPod('portless', { grace: 0 });
    portless.spec!.containers[0]!.ports = [];
    await f.core.createNamespacedPod({ namespace: NS, body: portless });
    await eventually('portless running', async () => (await f.core.readNamespacedPod({ namespace: NS, name: 'portless' })).status?.phase === 'Running', 10_000);
    const { params, planned } = await plan({ pods: { namespace: NS, names: ['portless'] }, verifyTimeout: '1s' });
    const ctx = recordingContext(f.target);
    const state = await podPartition.inject(ctx, params, planned.targets);
    const verdict = await podPartition.verify(ctx, params, planned.targets, state);
    expect(verdict.landed).to.equal(false);
    expect(verdict.message).to.match(/cannot prove the partition/);
    await podPartition.revert(ctx, params, planned.targets, state);
  });
});
