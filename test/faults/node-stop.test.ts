import { expect } from 'chai';
import { startSim, type SimClients } from '../sim/sim-fixture.js';
import { eventually } from '../support/eventually.js';
import { clusterState, runNodeFaultExperiment, simTarget } from './node-fault-experiment.js';

describe('nodeStop on the embedded cluster', function () {
  this.timeout(40_000);
  let sim: SimClients;
  before(async () => {
    sim = await startSim();
  });
  after(() => sim.cluster.stop());

  it('crashes the node, verifies Kubernetes sees it NotReady, starts it and waits until Ready', async () => {
    const before = await clusterState(sim);
    const run = await runNodeFaultExperiment(simTarget(sim), `
apiVersion: gameday/v1
kind: Experiment
metadata: { name: node-stop }
spec:
  duration: 4s
  faults:
    - { at: 0s, nodeStop: { nodes: { names: [gameday-worker2] }, notReadyWithin: 10s, readyTimeout: 20s } }
`);
    expect(run.summary.outcome, run.summary.reason).to.equal('passed');
    expect(run.steps).to.deep.equal(['inject', 'injected', 'verified', 'revert', 'reverted']);
    expect(run.faultEvents.find((e) => e.step === 'verified')!.message).to.equal('stopped and no longer Ready: gameday-worker2');
    // The revert returned only once the node was Ready: no waiting here.
    const ready = (await sim.core.readNode({ name: 'gameday-worker2' })).status?.conditions?.find((c) => c.type === 'Ready')?.status;
    expect(ready, 'Ready as soon as the run ended').to.equal('True');
    await eventually('state as before', async () => JSON.stringify(await clusterState(sim)) === JSON.stringify(before), 10_000);
  });

  it('is inconclusive when the node does not go NotReady in time', async () => {
    const run = await runNodeFaultExperiment(simTarget(sim), `
apiVersion: gameday/v1
kind: Experiment
metadata: { name: node-stop-too-fast }
spec:
  duration: 1s
  faults:
    - { at: 0s, nodeStop: { nodes: { names: [gameday-worker3] }, notReadyWithin: 100ms } }
`);
    expect(run.summary.outcome).to.equal('inconclusive');
    expect(run.summary.reason).to.contain('stopped, but still Ready after 100ms: gameday-worker3');
    expect(run.steps).to.include('reverted');
  });
});
