import { expect } from 'chai';
import { startSim, type SimClients } from '../../sim/sim-fixture.js';
import { eventually } from '../../support/eventually.js';
import { clusterState, runNodeFaultExperiment, simTarget } from '../node-fault-experiment.js';

const experiment = (fault: string, duration = '3s'): string => `
apiVersion: gameday/v1
kind: Experiment
metadata: { name: node-partition }
spec:
  duration: ${duration}
  faults:
    - { at: 0s, networkPartition: ${fault} }
`;

describe('networkPartition of nodes on the embedded cluster', function () {
  this.timeout(40_000);
  let sim: SimClients;
  before(async () => {
    sim = await startSim();
  });
  after(() => sim.cluster.stop());

  it('cuts a node off from the control plane for real (it goes NotReady), verifies, and reverts to the state before', async () => {
    const before = await clusterState(sim);
    let sawUnknown = false;
    const watching = eventually('node-b NotReady', async () => {
      const n = await sim.core.readNode({ name: 'gameday-worker2' });
      sawUnknown = n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'Unknown';
      return sawUnknown;
    }, 15_000);
    const run = await runNodeFaultExperiment(simTarget(sim), experiment('{ nodes: { names: [gameday-worker2] }, from: control-plane }'));
    await watching;
    expect(run.summary.outcome, run.summary.reason).to.equal('passed');
    expect(run.steps).to.deep.equal(['inject', 'injected', 'verified', 'revert', 'reverted']);
    const verified = run.faultEvents.find((e) => e.step === 'verified')!;
    expect(verified.message).to.match(/^dropped: gameday-worker2 → [\d.]+:10250 dropped by partition/);
    expect(sawUnknown).to.equal(true);
    await eventually('node Ready again', async () => (await sim.core.readNode({ name: 'gameday-worker2' })).status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True', 10_000);
    expect(await clusterState(sim)).to.deep.equal(before);
  });

  it('partitions every node of a zone from the rest of the cluster by default', async () => {
    const zoneB = (await sim.core.listNode({ labelSelector: 'topology.kubernetes.io/zone=b' })).items.map((n) => n.metadata!.name!);
    const run = await runNodeFaultExperiment(simTarget(sim), experiment('{ nodes: { labels: { topology.kubernetes.io/zone: b } } }', '1s'));
    expect(run.summary.outcome, run.summary.reason).to.equal('passed');
    expect(run.faultEvents[0]!.targets).to.deep.include({ nodes: zoneB });
    expect(run.faultEvents[0]!.message).to.match(/^partition nodes? .* from the rest of cluster \(both directions, iptables chain GAMEDAY-[0-9a-f]{8}\)$/);
  });

  it('refuses at plan time, as invalid, when the cluster has no node access', async () => {
    const run = await runNodeFaultExperiment(simTarget(sim, { nodeAccess: false }), experiment('{ nodes: { names: [gameday-worker2] } }', '1s'));
    expect(run.summary.outcome).to.equal('invalid');
    expect(run.faultEvents, 'nothing injected').to.deep.equal([]);
    expect(run.summary.reason).to.contain('needs node access').and.contain('--node-access pod');
  });
});
