import { expect } from 'chai';
import { loadExperimentText } from '../../src/spec/load.js';
import { builtinRegistries } from '../../src/cli/registries.js';
import { SpecError } from '../../src/core/errors.js';
import { startSim, type SimClients } from '../sim/sim-fixture.js';
import { eventually } from '../support/eventually.js';
import { clusterState, runNodeFaultExperiment, simTarget } from './node-fault-experiment.js';

const experiment = (loss: string): string => `
apiVersion: gameday/v1
kind: Experiment
metadata: { name: loss }
spec:
  duration: 2s
  faults:
    - { at: 0s, packetLoss: { nodes: { names: [gameday-worker3] }, loss: ${loss} } }
`;

describe('packetLoss on the embedded cluster', function () {
  this.timeout(30_000);
  let sim: SimClients;
  before(async () => {
    sim = await startSim();
  });
  after(() => sim.cluster.stop());

  it('drops the share of packets on the node while held, verifies it, and removes it', async () => {
    const before = await clusterState(sim);
    const seen = eventually('a loss fault on gameday-worker3', async () => {
      const r = (await (await fetch(`${sim.cluster.url}/gameday/v1/nodes/gameday-worker3/faults`)).json()) as { items: { type: string; lossPercent?: number }[] };
      return r.items.find((f) => f.type === 'latency' && f.lossPercent !== undefined);
    }, 10_000);
    const run = await runNodeFaultExperiment(simTarget(sim), experiment('30%'));
    expect(run.summary.outcome, run.summary.reason).to.equal('passed');
    expect(await seen).to.include({ lossPercent: 30 });
    expect(run.faultEvents.find((e) => e.step === 'verified')!.message).to.equal('30% packet loss in place on gameday-worker3');
    expect(await clusterState(sim)).to.deep.equal(before);
  });

  it('refuses a loss of 0% with the file, line and what to write', () => {
    const err = (() => {
      try {
        loadExperimentText(experiment('0%'), 'experiments/loss.yaml', builtinRegistries());
      } catch (e) {
        return e as SpecError;
      }
      return undefined;
    })();
    expect(err).to.be.instanceOf(SpecError);
    expect(err!.message).to.match(/^experiments\/loss\.yaml:8:\d+ spec\.faults\[0\]\.packetLoss\.loss: a loss of 0% would change nothing; write a share like 30%/);
  });
});
