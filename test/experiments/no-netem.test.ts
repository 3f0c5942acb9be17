import { expect } from 'chai';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readSnapshot } from '../../src/cluster/snapshot-read.js';
import type { ClusterTarget } from '../../src/cluster/target.js';
import { builtinRegistries } from '../../src/cli/registries.js';
import { runExperiment, type RunSummary } from '../../src/engine/runner.js';
import type { RunEvent } from '../../src/journal/events.js';
import { runCommand } from '../../src/nodes/command-runner.js';
import { NetnsNodeAccess } from '../../src/nodes/netns-node-access.js';
import { planExperiment } from '../../src/plan/plan.js';
import { loadExperimentText } from '../../src/spec/load.js';
import { createNetnsCluster, netnsUnavailable, type NetnsCluster } from '../nodes/netns-fixture.js';
import { startSim, type SimClients } from '../sim/sim-fixture.js';

/**
 * The shipped latency and loss experiments on nodes reached through a shell (kind, pod), played
 * here by network namespaces standing in for the embedded cluster's workers: the exact tc and
 * iptables commands run for real. Where the kernel has no sch_netem (as on many minimal VMs), the
 * delay cannot be added, so the latency experiment must end inconclusive, naming why, and never
 * pass; loss alone falls back to iptables' statistic match, so the loss experiment still runs.
 */

interface ShippedRun {
  readonly summary: RunSummary;
  readonly faults: readonly Extract<RunEvent, { type: 'fault' }>[];
}

async function runShipped(sim: SimClients, access: NetnsNodeAccess, file: string): Promise<ShippedRun> {
  const registries = builtinRegistries();
  const spec = loadExperimentText(readFileSync(file, 'utf8'), path.resolve(file), registries);
  const target: ClusterTarget = {
    ref: { kind: 'embedded', name: sim.cluster.name, server: sim.cluster.url },
    kubeConfig: sim.kubeConfig,
    nodeAccess: access,
    snapshot: () => readSnapshot(sim.kubeConfig),
    close: async () => {},
  };
  const events: RunEvent[] = [];
  const seed = 5;
  const summary = await runExperiment({
    spec,
    seed,
    makePlan: (snapshot) => planExperiment(spec, snapshot, { seed, cluster: target.ref, faults: registries.faults, probes: registries.probes, nodeAccess: access.provider }),
    cluster: target,
    registries,
    runId: path.basename(file, '.yaml'),
    runDir: mkdtempSync(path.join(tmpdir(), 'gameday-no-netem-')),
    observer: { onEvent: (e) => events.push(e) },
    signal: new AbortController().signal,
  });
  return { summary, faults: events.filter((e): e is Extract<RunEvent, { type: 'fault' }> => e.type === 'fault') };
}

/** Whether `tc` can add a netem qdisc in a namespace of its own (the kernel has sch_netem). */
async function kernelHasNetem(ns: string): Promise<boolean> {
  const added = await runCommand(['ip', 'netns', 'exec', ns, 'tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms']);
  if (added.exitCode === 0) await runCommand(['ip', 'netns', 'exec', ns, 'tc', 'qdisc', 'del', 'dev', 'lo', 'root']);
  return added.exitCode === 0;
}

describe('shipped latency and loss experiments on nodes without netem (network namespaces)', function () {
  this.timeout(120_000);
  let sim: SimClients;
  let netns: NetnsCluster;
  let access: NetnsNodeAccess;
  let netem: boolean;
  let latency: Promise<ShippedRun>;
  let loss: Promise<ShippedRun>;

  before(async function () {
    const why = await netnsUnavailable();
    if (why) {
      console.log(`      skipped: ${why}`);
      this.skip();
    }
    netns = await createNetnsCluster();
    netem = await kernelHasNetem(netns.namespaces['node-a']!);
    sim = await startSim();
    // The sim's workers, reached in the namespaces instead of through its node fault endpoint.
    const workers = (await sim.core.listNode()).items.map((n) => n.metadata!.name!).filter((n) => !n.endsWith('control-plane')).sort();
    access = new NetnsNodeAccess({ namespaces: Object.fromEntries(workers.map((w, i) => [w, netns.namespaces[netns.nodes[i]!]!])) });
    // One after the other: both apply the same workload to the one cluster.
    latency = runShipped(sim, access, 'experiments/slow-zone-shows-in-p99.yaml');
    loss = latency.then(() => runShipped(sim, access, 'experiments/lossy-zone-costs-retransmits.yaml'));
    await Promise.allSettled([latency, loss]);
  });

  after(async () => {
    await sim?.cluster.stop();
    await netns?.destroy();
  });

  it('the latency experiment is inconclusive where the kernel has no netem, naming the node and sch_netem; never passed', async function () {
    const r = await latency;
    if (netem) {
      expect(r.summary.outcome, r.summary.reason).to.not.equal('inconclusive');
      expect(r.faults.map((e) => e.step)).to.include('verified');
      return;
    }
    expect(r.summary.outcome, r.summary.reason).to.equal('inconclusive');
    expect(r.summary.reason).to.match(/^fault f0 \(networkLatency\) did not land: no delay of 200ms is possible here, so this run cannot judge it: node gameday-worker cannot add delay: its kernel has no netem queueing discipline .*modprobe sch_netem/);
    const notLanded = r.faults.find((e) => e.step === 'not-landed');
    expect(notLanded?.message).to.contain('cannot add delay');
    expect(r.faults.map((e) => e.step)).to.include('reverted');
  });

  it('the loss experiment still runs where the kernel has no netem: its loss goes in through iptables and is verified', async () => {
    const r = await loss;
    expect(r.summary.outcome, r.summary.reason).to.equal('passed');
    const injected = r.faults.find((e) => e.step === 'injected');
    const method = Object.values(injected!.state as Record<string, { method: string }>)[0]!.method;
    expect(method).to.equal(netem ? 'netem' : 'iptables-statistic');
    expect(r.faults.find((e) => e.step === 'verified')?.message).to.equal('25% packet loss in place on gameday-worker');
  });
});
