import { expect } from 'chai';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { nodeCordon } from '../../src/faults/node-cordon.js';
import { clusterState, planFault, recordingContext, startFaultFixture, type FaultFixture } from './api-fixture.js';

describe('nodeCordon on the embedded cluster', function () {
  this.timeout(30_000);
  let f: FaultFixture;

  before(async () => {
    f = await startFaultFixture();
  });
  after(async () => {
    await f?.cluster.stop();
  });

  it('cordons the chosen workers, verifies it, and revert restores every node exactly (twice over)', async () => {
    const before = await clusterState(f);
    const { params, planned } = await planFault(nodeCordon, { nodes: { labels: { 'topology.kubernetes.io/zone': 'a' } }, count: 1 }, f.target);
    expect(planned.targets).to.have.length(1);
    const ctx = recordingContext(f.target);
    const state = await nodeCordon.inject(ctx, params, planned.targets);
    expect(state.cordoned).to.deep.equal(planned.targets);
    expect((await nodeCordon.verify(ctx, params, planned.targets, state)).landed).to.equal(true);
    expect((await f.core.readNode({ name: planned.targets[0]! })).spec?.unschedulable).to.equal(true);
    expect(await clusterState(f)).to.not.deep.equal(before);

    await nodeCordon.revert(ctx, params, planned.targets, state);
    await nodeCordon.revert(ctx, params, planned.targets, state);
    expect(await clusterState(f)).to.deep.equal(before);
  });

  it('leaves a node an operator had cordoned cordoned after revert, even when revert has no state', async () => {
    const name = 'gameday-worker2';
    await f.core.patchNode({ name, body: { spec: { unschedulable: true } } }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch));
    const before = await clusterState(f);
    const { params, planned } = await planFault(nodeCordon, { nodes: { names: [name] } }, f.target);
    const ctx = recordingContext(f.target);
    const state = await nodeCordon.inject(ctx, params, planned.targets);
    expect(state.alreadyCordoned).to.deep.equal([name]);
    expect((await nodeCordon.verify(ctx, params, planned.targets, state)).landed).to.equal(true);
    await nodeCordon.revert(ctx, params, planned.targets, undefined);
    expect(await clusterState(f)).to.deep.equal(before);
    expect((await f.core.readNode({ name })).spec?.unschedulable).to.equal(true);
  });
});
