import { expect } from 'chai';
import type * as k8s from '@kubernetes/client-node';
import { nodeDrain, type DrainState } from '../../src/faults/node-drain.js';
import { runCli, tempDir } from '../cli/cli-process.js';
import { isReady, podsOf } from '../sim/sim-fixture.js';
import { eventually } from '../support/eventually.js';
import { watchHealthy } from '../support/healthy-watch.js';
import { podDisruptionBudget, webDeployment } from '../support/kube-objects.js';
import { clusterState, planFault, recordingContext, startFaultFixture, type FaultFixture } from './api-fixture.js';

const NS = 'default';

async function deployWithBudget(f: FaultFixture, name: string, replicas: number, budget: { maxUnavailable?: number; minAvailable?: number }): Promise<void> {
  await f.apps.createNamespacedDeployment({ namespace: NS, body: webDeployment(name, replicas, { grace: 1 }) });
  await f.policy.createNamespacedPodDisruptionBudget({ namespace: NS, body: podDisruptionBudget(name, budget) });
  await eventually(`${name} ready`, async () => (await podsOf(f.core, NS, name)).filter(isReady).length === replicas, 15_000);
  await eventually(`${name} budget observed`, async () => (await f.policy.readNamespacedPodDisruptionBudget({ namespace: NS, name })).status?.expectedPods === replicas);
}

async function nodeOf(f: FaultFixture, app: string): Promise<string> {
  const pods = await podsOf(f.core, NS, app);
  return pods.find((p) => p.spec?.nodeName)!.spec!.nodeName!;
}

const podsOn = async (f: FaultFixture, node: string, app: string): Promise<k8s.V1Pod[]> =>
  (await podsOf(f.core, NS, app)).filter((p) => p.spec?.nodeName === node && !p.metadata?.deletionTimestamp);

describe('nodeDrain on the embedded cluster', function () {
  this.timeout(60_000);
  let f: FaultFixture;

  before(async () => {
    f = await startFaultFixture();
  });
  after(async () => {
    await f?.cluster.stop();
  });

  it('drains a node through a tight budget without ever going below desired healthy, recording each 429, and uncordons on revert', async () => {
    await deployWithBudget(f, 'shop', 6, { maxUnavailable: 1 });
    const node = await nodeOf(f, 'shop');
    expect((await podsOn(f, node, 'shop')).length).to.be.greaterThan(1, 'the drained node must hold several pods behind one budget');
    const before = await clusterState(f);
    const healthy = await watchHealthy(f.kubeConfig, NS, 'app=shop');

    const { params, planned } = await planFault(nodeDrain, { nodes: { names: [node] }, timeout: '40s' }, f.target);
    expect(planned.targets).to.deep.equal([node]);
    const ctx = recordingContext(f.target);
    const state: DrainState = await nodeDrain.inject(ctx, params, planned.targets);
    const verdict = await nodeDrain.verify(ctx, params, planned.targets, state);
    healthy.stop();

    expect(verdict.landed, verdict.message).to.equal(true);
    expect(state.ended).to.equal('drained');
    expect(await podsOn(f, node, 'shop')).to.have.length(0);
    expect((await f.core.readNode({ name: node })).spec?.unschedulable).to.equal(true);
    expect(healthy.lowest()).to.be.at.least(5, 'ready pods fell below the budget\'s desired healthy (6 - maxUnavailable 1)');
    // Two or more pods behind maxUnavailable: 1 cannot all be evicted at once: the rest were refused and retried.
    const refusals = ctx.evidence.items.filter((e) => (e as { kind?: string }).kind === 'eviction-refused') as { code: number; budget?: string; pod: string }[];
    expect(refusals.length).to.equal(state.refusals).and.to.be.greaterThan(0);
    expect(refusals.every((r) => r.code === 429 && /disruption budget shop needs 5 healthy pods/.test(r.budget ?? ''))).to.equal(true);

    await nodeDrain.revert(ctx, params, planned.targets, state);
    await nodeDrain.revert(ctx, params, planned.targets, state);
    expect((await f.core.readNode({ name: node })).spec?.unschedulable).to.equal(undefined);
    const after = (await clusterState(f)) as { nodes: unknown };
    expect(after.nodes).to.deep.equal((before as { nodes: unknown }).nodes);
    await f.apps.deleteNamespacedDeployment({ namespace: NS, name: 'shop' });
    await f.policy.deleteNamespacedPodDisruptionBudget({ namespace: NS, name: 'shop' });
  });

  it('with expect: blocked, lands when a budget allowing no disruption keeps the pods on the node', async () => {
    await deployWithBudget(f, 'ledger', 3, { minAvailable: 3 });
    const node = await nodeOf(f, 'ledger');
    const stayed = await podsOn(f, node, 'ledger');
    const { params, planned } = await planFault(nodeDrain, { nodes: { names: [node] }, expect: 'blocked', blockedFor: '1s', timeout: '20s' }, f.target);
    const ctx = recordingContext(f.target);
    const state = await nodeDrain.inject(ctx, params, planned.targets);
    const verdict = await nodeDrain.verify(ctx, params, planned.targets, state);
    expect(verdict.landed, verdict.message).to.equal(true);
    expect(state.ended).to.equal('blocked');
    expect(state.budgetRefusals).to.be.greaterThan(0);
    expect((await podsOn(f, node, 'ledger')).map((p) => p.metadata?.uid)).to.deep.equal(stayed.map((p) => p.metadata?.uid));

    // The same drain, expected to empty the node, does not land: the budget never lets it.
    const drained = nodeDrain.params.parse({ nodes: { names: [node] }, timeout: '2s' });
    const timedOut = await nodeDrain.inject(ctx, drained, planned.targets);
    expect(timedOut.ended).to.equal('timeout');
    expect((await nodeDrain.verify(ctx, drained, planned.targets, timedOut)).landed).to.equal(false);

    await nodeDrain.revert(ctx, params, planned.targets, undefined);
    expect((await f.core.readNode({ name: node })).spec?.unschedulable).to.equal(undefined);
    await f.apps.deleteNamespacedDeployment({ namespace: NS, name: 'ledger' });
    await f.policy.deleteNamespacedPodDisruptionBudget({ namespace: NS, name: 'ledger' });
  });

  it('refuses a pod covered by two budgets with the API server\'s reason and what to fix', async () => {
    await deployWithBudget(f, 'twice', 2, { maxUnavailable: 1 });
    await f.policy.createNamespacedPodDisruptionBudget({ namespace: NS, body: podDisruptionBudget('twice-again', { maxUnavailable: 1 }, { app: 'twice' }) });
    const node = await nodeOf(f, 'twice');
    const { params, planned } = await planFault(nodeDrain, { nodes: { names: [node] }, timeout: '10s' }, f.target);
    const ctx = recordingContext(f.target);
    let error: Error | undefined;
    try {
      await nodeDrain.inject(ctx, params, planned.targets);
    } catch (err) {
      error = err as Error;
    }
    expect(error?.message).to.match(/more than one PodDisruptionBudget/).and.to.match(/at most one PodDisruptionBudget/);
    await nodeDrain.revert(ctx, params, planned.targets, undefined);
    expect((await f.core.readNode({ name: node })).spec?.unschedulable).to.equal(undefined);
  });
});

describe('experiments/drain-a-worker-keeps-web-up.yaml through the real CLI', function () {
  this.timeout(80_000);

  it('drains a worker holding a web pod while the SLOs hold, and exits 0', async () => {
    const out = tempDir('gameday-drain-');
    const r = await runCli(['run', 'experiments/drain-a-worker-keeps-web-up.yaml', '--out', out, '--seed', '3']);
    expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(0);
    expect(r.stdout).to.match(/nodeDrain verified: gameday-worker cordoned and empty: 1 pod evicted/);
    expect(r.stdout).to.match(/PASSED drain-a-worker-keeps-web-up/);
  });
});
