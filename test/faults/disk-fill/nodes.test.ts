import { expect } from 'chai';
import { startSim, type SimClients } from '../../sim/sim-fixture.js';
import { eventually } from '../../support/eventually.js';
import { clusterState, runNodeFaultExperiment, simTarget } from '../node-fault-experiment.js';

interface Usage {
  readonly capacityBytes: number;
  readonly usedBytes: number;
  readonly availableBytes: number;
}

const experiment = (fill: string, duration = '2s'): string => `
apiVersion: gameday/v1
kind: Experiment
metadata: { name: disk-fill }
spec:
  duration: ${duration}
  faults:
    - { at: 0s, diskFill: { nodes: { names: [gameday-worker] }, path: /var/lib, fill: ${fill} } }
`;

describe('diskFill of a node on the embedded cluster', function () {
  this.timeout(30_000);
  let sim: SimClients;
  const usage = async (): Promise<Usage> => (await (await fetch(`${sim.cluster.url}/gameday/v1/nodes/gameday-worker/filesystem`)).json()) as Usage;
  before(async () => {
    sim = await startSim();
  });
  after(() => sim.cluster.stop());

  it('fills the filesystem to 95% for real (the node reports DiskPressure), verifies, and frees it', async () => {
    const before = await clusterState(sim);
    const full = eventually('filesystem 95% used', async () => {
      const u = await usage();
      return u.usedBytes / u.capacityBytes >= 0.95 ? u : undefined;
    }, 10_000);
    const pressure = eventually('DiskPressure', async () => (await sim.core.readNode({ name: 'gameday-worker' })).status?.conditions?.some((c) => c.type === 'DiskPressure' && c.status === 'True'), 10_000);
    const run = await runNodeFaultExperiment(simTarget(sim), experiment('95%', '3s'));
    expect(run.summary.outcome, run.summary.reason).to.equal('passed');
    await full;
    await pressure;
    expect(run.faultEvents.find((e) => e.step === 'verified')!.message).to.match(/^filled: gameday-worker 95\.\d% used/);
    await eventually('DiskPressure gone', async () => (await sim.core.readNode({ name: 'gameday-worker' })).status?.conditions?.some((c) => c.type === 'DiskPressure' && c.status === 'False'), 10_000);
    expect(await clusterState(sim)).to.deep.equal(before);
  });

  it('allocates a size and records what it allocated', async () => {
    const before = await usage();
    const run = await runNodeFaultExperiment(simTarget(sim), experiment('1Gi', '1s'));
    expect(run.summary.outcome, run.summary.reason).to.equal('passed');
    const injected = run.faultEvents.find((e) => e.step === 'injected')!;
    expect((injected.state as Record<string, { fill: { bytes: number } }>)['gameday-worker']!.fill.bytes).to.equal(2 ** 30);
    expect(await usage()).to.deep.equal(before);
  });
});
