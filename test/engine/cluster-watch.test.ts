import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import { launchChromium } from '../../src/browser/chromium.js';
import type { ClusterWarningEvent, NodeConditionEvent, RunEvent } from '../../src/journal/events.js';
import { everyNamespace, inNamespaces } from '../../src/cluster/namespace-scope.js';
import { ClusterWatch } from '../../src/engine/cluster-watch.js';
import { HtmlReporter } from '../../src/report/html.js';
import { playEventRuns } from '../report/html-fixture.js';
import { runNodeFaultExperiment, simTarget } from '../faults/node-fault-experiment.js';
import { startSim, type SimClients } from '../sim/sim-fixture.js';
import { eventually } from '../support/eventually.js';
import { unreachableKubeConfig } from './helpers/experiment.js';
import { webDeployment } from '../support/kube-objects.js';

type Watched = ClusterWarningEvent | NodeConditionEvent;

const NODE = 'gameday-worker2';

function warningEvent(name: string, reason: string, when: Date, namespace = 'default'): Parameters<SimClients['core']['createNamespacedEvent']>[0] {
  return {
    namespace,
    body: {
      metadata: { name },
      involvedObject: { kind: 'Node', name: NODE },
      reason,
      message: `${reason} for the test`,
      type: 'Warning',
      count: 1,
      firstTimestamp: when,
      lastTimestamp: when,
      source: { component: 'test' },
    },
  };
}

async function partition(sim: SimClients, node: string): Promise<() => Promise<void>> {
  const res = await fetch(`${sim.cluster.url}/gameday/v1/nodes/${node}/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'partition', from: 'control-plane' }),
  });
  expect(res.status).to.equal(201);
  const { id } = (await res.json()) as { id: string };
  return async () => {
    expect((await fetch(`${sim.cluster.url}/gameday/v1/nodes/${node}/faults/${id}`, { method: 'DELETE' })).status).to.equal(200);
  };
}

const readyChanges = (events: readonly RunEvent[], node: string): string[] =>
  events
    .filter((e): e is NodeConditionEvent => e.type === 'node.condition' && e.node === node && e.condition === 'Ready')
    .map((e) => `${e.previousStatus ?? '-'}→${e.status}`);

describe('engine/cluster-watch on the embedded cluster', function () {
  this.timeout(40_000);
  let sim: SimClients;
  let kubeConfig: KubeConfig;
  before(async () => {
    sim = await startSim();
    kubeConfig = sim.kubeConfig;
  });
  after(() => sim.cluster.stop());

  it('journals Ready → Unknown and back when a node is cut off, the Warning events it causes, and nothing from before the run', async () => {
    await sim.core.createNamespacedEvent(warningEvent('old-warning', 'OldTrouble', new Date(Date.now() - 60_000)));
    await sim.apps.createNamespacedDeployment({
      namespace: 'default',
      body: webDeployment('pinned', 2, { nodeSelector: { 'kubernetes.io/hostname': NODE } }),
    });
    await eventually('pinned pods running', async () => (await sim.core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=pinned' })).items.filter((p) => p.status?.phase === 'Running').length === 2);

    const seen: Watched[] = [];
    const logs: string[] = [];
    const scope = everyNamespace('the test cuts a node off');
    const watch = await ClusterWatch.start({ kubeConfig, scope, since: Date.now(), record: (e) => seen.push(e), log: (level, m) => logs.push(`${level}: ${m}`), repeatEveryMs: 500 });
    try {
      await sim.core.createNamespacedEvent(warningEvent('new-warning', 'NewTrouble', new Date()));
      const revert = await partition(sim, NODE);
      await eventually('Ready=Unknown journaled', () => readyChanges(seen as RunEvent[], NODE).includes('True→Unknown'), 15_000);
      await eventually('NodeNotReady Warning on a pinned pod', () => seen.some((e) => e.type === 'cluster.event' && e.reason === 'NodeNotReady' && e.object.startsWith('Pod default/pinned-')), 10_000);
      await revert();
      await eventually('Ready=True journaled again', () => readyChanges(seen as RunEvent[], NODE).includes('Unknown→True'), 15_000);
    } finally {
      await watch.stop();
    }

    expect(readyChanges(seen as RunEvent[], NODE)).to.deep.equal(['True→Unknown', 'Unknown→True']);
    const unknown = seen.find((e): e is NodeConditionEvent => e.type === 'node.condition' && e.status === 'Unknown' && e.condition === 'Ready')!;
    expect(unknown).to.include({ reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' });
    // Only the partitioned node changed; the healthy ones are never journaled.
    expect(new Set(seen.filter((e) => e.type === 'node.condition').map((e) => (e as NodeConditionEvent).node))).to.deep.equal(new Set([NODE]));

    const warnings = seen.filter((e): e is ClusterWarningEvent => e.type === 'cluster.event');
    expect(warnings.map((w) => w.reason)).to.include('NewTrouble').and.not.include('OldTrouble');
    expect(warnings.find((w) => w.reason === 'NewTrouble')).to.deep.include({ eventType: 'Warning', object: `Node ${NODE}`, count: 1, source: 'test', message: 'NewTrouble for the test' });
    expect(warnings.find((w) => w.reason === 'NodeNotReady')).to.include({ eventType: 'Warning', source: 'node-controller', message: 'Node is not ready' });
    expect(logs).to.deep.equal([]);
  });

  it('journals a repeat of an Event with its new count, and the last count when it stops', async () => {
    const seen: Watched[] = [];
    const watch = await ClusterWatch.start({ kubeConfig, scope: inNamespaces(['default']), since: Date.now(), record: (e) => seen.push(e), log: () => undefined, repeatEveryMs: 60_000 });
    const { name } = (await sim.core.createNamespacedEvent(warningEvent('repeating', 'Flapping', new Date()))).metadata!;
    await eventually('first occurrence journaled', () => seen.some((e) => e.type === 'cluster.event' && e.reason === 'Flapping'));
    for (const count of [2, 3, 4]) {
      await sim.core.patchNamespacedEvent({ name: name!, namespace: 'default', body: [{ op: 'replace', path: '/count', value: count }] });
    }
    // Time for the watch to deliver the changes; they fall within the quiet period, so only stop journals them.
    await new Promise((r) => setTimeout(r, 1000));
    expect(seen.filter((e) => e.type === 'cluster.event' && e.reason === 'Flapping').map((e) => (e as ClusterWarningEvent).count)).to.deep.equal([1]);
    await watch.stop();
    expect(seen.filter((e) => e.type === 'cluster.event' && e.reason === 'Flapping').map((e) => (e as ClusterWarningEvent).count)).to.deep.equal([1, 4]);
  });

  it('watches Warning events only in the namespaces of its scope', async () => {
    const since = Date.now();
    for (const name of ['scoped-in', 'scoped-out']) await sim.core.createNamespace({ body: { metadata: { name } } });
    await sim.core.createNamespacedEvent(warningEvent('inside', 'InsideTrouble', new Date(), 'scoped-in'));
    await sim.core.createNamespacedEvent(warningEvent('outside', 'OutsideTrouble', new Date(), 'scoped-out'));
    const seen: Watched[] = [];
    const logs: string[] = [];
    // Both Events exist before the watch lists: a watch of every namespace would journal both when it stops.
    const watch = await ClusterWatch.start({ kubeConfig, scope: inNamespaces(['scoped-in', 'default']), since, record: (e) => seen.push(e), log: (level, m) => logs.push(`${level}: ${m}`) });
    await watch.stop();
    const reasons = seen.filter((e): e is ClusterWarningEvent => e.type === 'cluster.event').map((e) => e.reason);
    expect(reasons).to.include('InsideTrouble').and.not.include('OutsideTrouble');
    expect(logs).to.deep.equal([]);
    // Fresh Warnings would be the next run's backlog.
    await sim.core.deleteNamespacedEvent({ namespace: 'scoped-in', name: 'inside' });
    await sim.core.deleteNamespacedEvent({ namespace: 'scoped-out', name: 'outside' });
  });

  it('logs, and does not fail, when the cluster cannot be watched', async () => {
    const broken = unreachableKubeConfig();
    const logs: string[] = [];
    const watch = await ClusterWatch.start({ kubeConfig: broken, scope: everyNamespace('the test says so'), since: Date.now(), record: () => undefined, log: (level, m) => logs.push(`${level}: ${m}`) });
    await watch.stop();
    expect(logs).to.have.length(2);
    expect(logs.some((l) => l.startsWith('warn: cluster watch: node conditions are not journaled:'))).to.equal(true);
    expect(logs.some((l) => l.startsWith('warn: cluster watch: Kubernetes Warning events are not journaled:'))).to.equal(true);
  });

  it('journals node conditions and Warning events during a run with a node partition', async () => {
    await sim.apps.createNamespacedDeployment({
      namespace: 'default',
      body: webDeployment('pinned-run', 2, { nodeSelector: { 'kubernetes.io/hostname': 'gameday-worker3' } }),
    });
    await eventually('pods running', async () => (await sim.core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=pinned-run' })).items.filter((p) => p.status?.phase === 'Running').length === 2);
    const run = await runNodeFaultExperiment(simTarget(sim), `
apiVersion: gameday/v1
kind: Experiment
metadata: { name: partition-watched }
spec:
  duration: 8s
  faults:
    - { at: 0s, for: 4s, networkPartition: { nodes: { names: [gameday-worker3] }, from: control-plane } }
`);
    expect(run.summary.outcome, run.summary.reason).to.equal('passed');
    expect(readyChanges(run.events, 'gameday-worker3')).to.deep.equal(['True→Unknown', 'Unknown→True']);
    const types = run.events.map((e) => e.type);
    // Watched from the plan (the targets exist) until the probes stop, before the teardown.
    expect(types.indexOf('node.condition')).to.be.greaterThan(types.indexOf('plan'));
    expect(types.lastIndexOf('node.condition')).to.be.lessThan(types.indexOf('run.end'));
    const warnings = run.events.filter((e): e is ClusterWarningEvent => e.type === 'cluster.event');
    expect(warnings.map((w) => w.reason)).to.include('NodeNotReady');
    expect(warnings.every((w) => w.t >= run.events[0]!.t && w.t <= run.events.at(-1)!.t)).to.equal(true);

    const dir = mkdtempSync(join(tmpdir(), 'gameday-cluster-watch-'));
    const [result] = await playEventRuns([run.events], [new HtmlReporter()], dir);
    expect(result!.clusterActivity!.nodesAffected).to.deep.equal(['gameday-worker3']);
    const browser = await launchChromium('the report tests');
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(pathToFileURL(join(dir, result!.runId, 'report.html')).href);
      await page.waitForFunction("document.documentElement.dataset.ready === 'true'");
      const lane = page.locator('.node-lane[data-node="gameday-worker3"] .condition-span');
      expect(await lane.allTextContents()).to.deep.equal(['Ready', 'Unknown', 'Ready']);
      expect(await page.locator('#timeline > .lane .marker.k8s-warning').count()).to.equal(warnings.length);
      expect(await page.locator('#events tr.event-k8s-warning').first().textContent()).to.contain('NodeNotReady');
    } finally {
      await browser.close();
    }
  });
});
