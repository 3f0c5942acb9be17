import { expect } from 'chai';
import type { ClusterSnapshot } from '../../src/cluster/snapshot.js';
import { PlanError } from '../../src/core/errors.js';
import { builtinRegistries } from '../../src/cli/registries.js';
import { planExperiment } from '../../src/plan/plan.js';
import { loadExperimentText } from '../../src/spec/load.js';
import path from 'node:path';
import { runCli, tempDir, writeFile } from '../cli/cli-process.js';
import { startSim } from '../sim/sim-fixture.js';
import { sampleSnapshot } from './fixtures.js';

const registries = builtinRegistries();

function experiment(fault: string): string {
  return `apiVersion: gameday/v1
kind: Experiment
metadata: {name: node-faults}
spec:
  duration: 1m
  blastRadius: {maxNodes: 3}
  faults:
    - ${fault}
`;
}

/** The plan for one fault through the given node access, or the PlanError's message. */
function plan(fault: string, nodeAccess: string, snapshot: ClusterSnapshot = sampleSnapshot()): string {
  const spec = loadExperimentText(experiment(fault), 'experiments/node-faults.yaml', registries);
  try {
    planExperiment(spec, snapshot, { seed: 1, cluster: { kind: 'kubeconfig', name: 'staging' }, faults: registries.faults, probes: registries.probes, nodeAccess });
    return 'planned';
  } catch (err) {
    expect(err).to.be.instanceOf(PlanError);
    return (err as Error).message;
  }
}

const STOP = '{ at: 10s, for: 20s, nodeStop: { nodes: { labels: { zone: a } }, count: 1 } }';
const partition = (from?: string) => `{ at: 10s, for: 20s, networkPartition: { nodes: { labels: { zone: a } }, count: 1${from ? `, from: ${from}` : ''} } }`;

describe('plan: what the pod node access cannot do', () => {
  it('refuses a nodeStop through pod node access, at the fault, saying where it can run', () => {
    expect(plan(STOP, 'pod')).to.match(
      /^experiments\/node-faults\.yaml:8:7 spec\.faults\[0\]: nodeStop#0: the pod node access cannot stop nodes \(its helper pod would stop with the node, and nothing could start it again\); run it where nodes are reached without the API server: a kind cluster/,
    );
    expect(plan(STOP, 'kind')).to.equal('planned');
    expect(plan(STOP, 'sim')).to.equal('planned');
  });

  it('refuses a node partition from the control plane or the rest of the cluster through pod node access, naming the control-plane nodes', () => {
    for (const from of [undefined, 'control-plane', 'rest-of-cluster']) {
      expect(plan(partition(from), 'pod'), String(from)).to.contain(
        `networkPartition#0: the pod node access cannot cut nodes off from the control plane (from: ${from ?? 'rest-of-cluster'} includes cp): it reaches a node through the API server`,
      );
    }
    expect(plan(partition('other-nodes'), 'pod')).to.equal('planned');
    expect(plan(partition(), 'kind')).to.equal('planned');
  });

  it('plans a partition from the rest of the cluster where no node runs the control plane (a managed cluster)', () => {
    const managed = sampleSnapshot();
    expect(plan(partition(), 'pod', { ...managed, nodes: managed.nodes.filter((n) => !n.controlPlane) })).to.equal('planned');
  });

  it('gameday plan --node-access pod refuses the shipped node-stop experiment with exit 2', async function () {
    this.timeout(30_000);
    // Any cluster reached by a kubeconfig takes pod node access: the embedded one, served here.
    const sim = await startSim();
    const dir = tempDir();
    const kubeconfig = writeFile(dir, 'kubeconfig.yaml', sim.cluster.kubeconfigYaml());
    const context = sim.kubeConfig.getCurrentContext();
    const r = await runCli(['plan', path.resolve('experiments/node-stop-reschedules-web.yaml'), '--kubeconfig', kubeconfig, '--context', context, '--allow-context', context, '--node-access', 'pod'], { cwd: dir }).finally(() => sim.cluster.stop());
    expect(r.code, r.stderr).to.equal(2);
    expect(r.stderr).to.contain('the pod node access cannot stop nodes');
  });
});
