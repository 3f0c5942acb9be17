import { expect } from 'chai';
import { nodeTaint } from '../../src/faults/node-taint.js';
import { clusterState, planFault, recordingContext, startFaultFixture, type FaultFixture } from './api-fixture.js';

describe('nodeTaint on the embedded cluster', function () {
  this.timeout(30_000);
  let f: FaultFixture;

  before(async () => {
    f = await startFaultFixture();
  });
  after(async () => {
    await f?.cluster.stop();
  });

  it('adds the taint, verifies it, keeps other taints, and revert removes exactly it (idempotent)', async () => {
    const name = 'gameday-worker3';
    const other = { key: 'team.example.com/owner', value: 'payments', effect: 'NoSchedule' };
    const node = await f.core.readNode({ name });
    await f.core.replaceNode({ name, body: { ...node, spec: { ...node.spec, taints: [...(node.spec?.taints ?? []), other] } } });
    const before = await clusterState(f);

    const { params, planned } = await planFault(nodeTaint, { nodes: { names: [name] }, taint: { key: 'gameday.dev/chaos', value: 'on', effect: 'NoExecute' } }, f.target);
    const ctx = recordingContext(f.target);
    const state = await nodeTaint.inject(ctx, params, planned.targets);
    const verdict = await nodeTaint.verify(ctx, params, planned.targets, state);
    expect(verdict.landed, verdict.message).to.equal(true);
    const taints = (await f.core.readNode({ name })).spec?.taints ?? [];
    expect(taints).to.deep.include({ key: 'gameday.dev/chaos', value: 'on', effect: 'NoExecute' });
    expect(taints).to.deep.include(other);

    await nodeTaint.revert(ctx, params, planned.targets, state);
    await nodeTaint.revert(ctx, params, planned.targets, undefined);
    expect(await clusterState(f)).to.deep.equal(before);
  });

  it('revert leaves no empty taint list on a node that had none', async () => {
    const name = 'gameday-worker';
    const before = await clusterState(f);
    const { params, planned } = await planFault(nodeTaint, { nodes: { names: [name] }, taint: { key: 'gameday.dev/chaos', effect: 'NoSchedule' } }, f.target);
    const ctx = recordingContext(f.target);
    const state = await nodeTaint.inject(ctx, params, planned.targets);
    expect((await nodeTaint.verify(ctx, params, planned.targets, state)).landed).to.equal(true);
    await nodeTaint.revert(ctx, params, planned.targets, state);
    expect(await clusterState(f)).to.deep.equal(before);
  });

  it('rejects an unknown effect with the values it accepts', () => {
    const r = nodeTaint.params.safeParse({ nodes: {}, taint: { key: 'k', effect: 'NoRun' } });
    expect(r.success).to.equal(false);
    expect(r.error?.issues[0]?.message).to.match(/NoSchedule, PreferNoSchedule or NoExecute/);
  });
});
