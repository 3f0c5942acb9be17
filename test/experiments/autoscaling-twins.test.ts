import { expect } from 'chai';
import { checkOf, runExperimentCli, type ExperimentRun } from '../cli/run-experiment.js';
import { podSpec, twinFiles, type Manifest } from './twin-files.js';

/**
 * The autoscaling and pressure experiments bite: each is run by the built CLI against the embedded
 * cluster, unchanged but for its workload, which a twin changes into one that should fail it, and
 * must end failed (exit 1), naming the check that broke and the readings that broke it. None
 * needs the host's port 30080: every probe goes through the API server's service proxy.
 */

/** An HPA allowed 3 replicas where the spike needs about 18. */
const maxReplicasThree = (m: Manifest): Manifest => {
  if (m.kind === 'HorizontalPodAutoscaler') m.spec!.maxReplicas = 3;
  return m;
};

/** Web pods without requests or limits: BestEffort, so always over their (zero) requests. */
const webBestEffort = (m: Manifest): Manifest => {
  if (m.kind === 'Deployment' && m.metadata?.name === 'web') for (const c of podSpec(m).containers as { resources?: unknown }[]) delete c.resources;
  return m;
};

const runTwin = (experimentFile: string, workloadFile: string, edit: (m: Manifest) => Manifest): Promise<ExperimentRun> =>
  runExperimentCli(twinFiles(experimentFile, workloadFile, edit), 'experiment.yaml');

interface EvictionDetail {
  readonly pods?: readonly { readonly pod: string; readonly qosClass?: string }[];
}

/** The run failed (exit 1) on `evictions(deployment/shop/web) == 0`, whose evidence names an evicted web pod as BestEffort. */
function expectBestEffortWebEvicted(r: ExperimentRun): void {
  expect(r.code, r.output).to.equal(1);
  const evictions = checkOf(r, 'evictions(deployment/shop/web) == 0');
  expect(evictions.verdict).to.equal('failed');
  expect(evictions.value).to.be.at.least(1);
  const evicted = (evictions.evidence!.worst![0]!.detail as EvictionDetail).pods!;
  expect(evicted[0]!.pod).to.match(/^shop\/web-/);
  expect(evicted[0]!.qosClass).to.equal('BestEffort');
  // The check's own text says which pod went, and why it could: its QoS class.
  expect(evictions.message).to.match(/ reading\w*\): shop\/web-\S+ \(BestEffort\)/);
}

describe('negative twins of the autoscaling and pressure experiments (real CLI, embedded cluster)', function () {
  this.timeout(240_000);
  let runs: Record<'spike' | 'neighbour' | 'pressure', Promise<ExperimentRun>>;
  before(() => {
    // All three at once: each spends its time waiting on its own cluster's clocks, not computing.
    runs = {
      spike: runTwin('autoscaling/traffic-spike-absorbed-by-hpa.yaml', 'workloads/web-autoscaled.yaml', maxReplicasThree),
      neighbour: runTwin('pressure/noisy-neighbour-leaves-guaranteed-untouched.yaml', 'workloads/noisy-neighbour.yaml', webBestEffort),
      pressure: runTwin('pressure/memory-pressure-evicts-besteffort-first.yaml', 'workloads/memory-pressure.yaml', webBestEffort),
    };
  });
  after(async () => {
    await Promise.allSettled(Object.values(runs ?? {}));
  });

  it('traffic spike: an HPA capped at 3 replicas is pinned there while the pods are throttled, so p90(web) < 40ms and maxReplicas(deployment/shop/web) >= 12 fail, the latter saying the 3 held to the end (exit 1)', async () => {
    const r = await runs.spike;
    expect(r.code, r.output).to.equal(1);
    const p90 = checkOf(r, 'p90(web) < 40ms');
    expect(p90.verdict).to.equal('failed');
    expect(p90.value).to.be.at.least(40);
    expect(p90.evidence?.worst?.[0]?.latencyMs).to.be.at.least(50);
    const peak = checkOf(r, 'maxReplicas(deployment/shop/web) >= 12');
    expect(peak.verdict).to.equal('failed');
    expect(peak.value).to.equal(3);
    expect(peak.message).to.match(/^maxReplicas\(deployment\/shop\/web\) = 3 \(need >= 12\), reached at \+[\d.]+s and held for [\d.]+s, to the end/);
    expect(peak.evidence!.worst!.every((s) => s.value === 3)).to.equal(true);
    // Nothing failed outright: the cap shows as latency, not as errors.
    expect(checkOf(r, 'availability(web) >= 99.9%').verdict).to.equal('passed');
  });

  it('noisy neighbour: BestEffort web pods are over their requests, so the kubelet evicts one under the neighbour\'s memory pressure, and evictions(deployment/shop/web) == 0 fails naming it as BestEffort (exit 1)', async () => {
    const r = await runs.neighbour;
    expectBestEffortWebEvicted(r);
    expect(r.output).to.match(/Warning Evicted Pod shop\/web-\S+: The node was low on resource: memory\./);
    // The neighbour holding the memory is within its request: it is not the one evicted.
    expect(r.output).not.to.match(/Warning Evicted Pod shop\/neighbour-/);
  });

  it('memory pressure: with BestEffort web pods the kubelet evicts both batch workers and then a web pod, before the Burstable cache, so evictions(deployment/shop/web) == 0 fails (exit 1)', async () => {
    const r = await runs.pressure;
    expectBestEffortWebEvicted(r);
    const evicted = [...r.output.matchAll(/Warning Evicted Pod shop\/(\w+)-/g)].map((m) => m[1]);
    expect(evicted.slice(0, 3)).to.deep.equal(['batch', 'batch', 'web']);
  });
});
