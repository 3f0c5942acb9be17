import { expect } from 'chai';
import { startSim, type SimClients } from '../sim/sim-fixture.js';
import { eventually } from '../support/eventually.js';
import { clusterState, runNodeFaultExperiment, simTarget } from './node-fault-experiment.js';

describe('networkLatency on the embedded cluster', function () {
  this.timeout(30_000);
  let sim: SimClients;
  before(async () => {
    sim = await startSim();
  });
  after(() => sim.cluster.stop());

  it('adds the delay on the chosen node while it is held, verifies it, and removes it', async () => {
    const before = await clusterState(sim);
    const seen = eventually('a latency fault on gameday-worker', async () => {
      const r = (await (await fetch(`${sim.cluster.url}/gameday/v1/nodes/gameday-worker/faults`)).json()) as { items: { type: string; delayMs: number; jitterMs?: number }[] };
      return r.items.find((f) => f.type === 'latency');
    }, 10_000);
    const run = await runNodeFaultExperiment(simTarget(sim), `
apiVersion: gameday/v1
kind: Experiment
metadata: { name: latency }
spec:
  duration: 2s
  faults:
    - { at: 0s, networkLatency: { nodes: { names: [gameday-worker] }, delay: 200ms, jitter: 20ms } }
`);
    expect(run.summary.outcome, run.summary.reason).to.equal('passed');
    expect(await seen).to.include({ delayMs: 200, jitterMs: 20 });
    expect(run.steps).to.deep.equal(['inject', 'injected', 'verified', 'revert', 'reverted']);
    expect(run.faultEvents[0]!.message).to.equal('delay traffic of node gameday-worker by 200ms ± 20ms');
    expect(run.faultEvents.find((e) => e.step === 'verified')!.message).to.equal('delay of 200ms in place on gameday-worker');
    expect(await clusterState(sim)).to.deep.equal(before);
  });
});
