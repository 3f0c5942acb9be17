import * as k8s from '@kubernetes/client-node';
import { expect } from 'chai';
import { eventually } from '../support/eventually.js';
import { webDeployment } from '../support/kube-objects.js';
import { numFeasibleNodesToFind } from '../../src/sim/scheduler.js';
import { startEmbeddedCluster, type EmbeddedCluster } from '../../src/sim/index.js';
import { FAST_TIMINGS, podsOf, startSim, type SimClients } from './sim-fixture.js';

describe('sim scheduler', function () {
  this.timeout(20_000);
  let sim: SimClients;
  before(async () => {
    sim = await startSim();
  });
  after(() => sim.cluster.stop());

  it('honours nodeSelector and leaves an impossible pod Pending with a FailedScheduling event', async () => {
    await sim.apps.createNamespacedDeployment({ namespace: 'default', body: webDeployment('zoned', 2, { nodeSelector: { 'topology.kubernetes.io/zone': 'b' } }) });
    const pods = await eventually('2 zoned pods bound', async () => {
      const pods = await podsOf(sim.core, 'default', 'zoned');
      return pods.length === 2 && pods.every((p) => p.spec?.nodeName) ? pods : undefined;
    });
    expect(pods.map((p) => p.spec?.nodeName)).to.deep.equal(['gameday-worker2', 'gameday-worker2']);

    await sim.apps.createNamespacedDeployment({ namespace: 'default', body: webDeployment('nowhere', 1, { nodeSelector: { disk: 'ssd' } }) });
    const pending = await eventually('unschedulable condition', async () => {
      const [p] = await podsOf(sim.core, 'default', 'nowhere');
      return p?.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False') ? p : undefined;
    });
    const cond = pending.status!.conditions!.find((c) => c.type === 'PodScheduled')!;
    expect(cond.reason).to.equal('Unschedulable');
    expect(cond.message).to.match(/^0\/4 nodes are available: .*3 node\(s\) didn't match Pod's node affinity\/selector/);
    expect(cond.message).to.include("1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }");
    const events = await sim.core.listNamespacedEvent({ namespace: 'default', fieldSelector: `involvedObject.name=${pending.metadata!.name}` });
    expect(events.items.map((e) => e.reason)).to.include('FailedScheduling');

    // Labelling a node makes the pod schedulable: the scheduler retries on node changes.
    await sim.core.patchNode({ name: 'gameday-worker3', body: [{ op: 'add', path: '/metadata/labels/disk', value: 'ssd' }] });
    const [bound] = await eventually('bound after labelling', async () => {
      const pods = await podsOf(sim.core, 'default', 'nowhere');
      return pods[0]?.spec?.nodeName ? pods : undefined;
    });
    expect(bound!.spec?.nodeName).to.equal('gameday-worker3');
  });

  it('keeps new pods off cordoned and tainted nodes, and lets tolerating pods on', async () => {
    await sim.core.patchNode({ name: 'gameday-worker', body: [{ op: 'add', path: '/spec/unschedulable', value: true }] });
    await sim.core.patchNode({ name: 'gameday-worker2', body: [{ op: 'add', path: '/spec/taints', value: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }] });
    try {
      const cordoned = await eventually('unschedulable taint', async () => {
        const n = await sim.core.readNode({ name: 'gameday-worker' });
        return n.spec?.taints?.some((t) => t.key === 'node.kubernetes.io/unschedulable') ? n : undefined;
      });
      expect(cordoned.spec?.taints?.find((t) => t.key === 'node.kubernetes.io/unschedulable')?.effect).to.equal('NoSchedule');
      await sim.apps.createNamespacedDeployment({ namespace: 'default', body: webDeployment('placed', 3) });
      const pods = await eventually('placed bound', async () => {
        const pods = await podsOf(sim.core, 'default', 'placed');
        return pods.length === 3 && pods.every((p) => p.spec?.nodeName) ? pods : undefined;
      });
      expect(new Set(pods.map((p) => p.spec?.nodeName))).to.deep.equal(new Set(['gameday-worker3']));

      await sim.apps.createNamespacedDeployment({ namespace: 'default', body: webDeployment('gpu', 2, { nodeSelector: { 'kubernetes.io/hostname': 'gameday-worker2' }, tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] }) });
      const gpu = await eventually('gpu bound', async () => {
        const pods = await podsOf(sim.core, 'default', 'gpu');
        return pods.length === 2 && pods.every((p) => p.spec?.nodeName) ? pods : undefined;
      });
      expect(gpu.every((p) => p.spec?.nodeName === 'gameday-worker2')).to.equal(true);
    } finally {
      await sim.core.patchNode({ name: 'gameday-worker', body: [{ op: 'replace', path: '/spec/unschedulable', value: false }] });
      await sim.core.patchNode({ name: 'gameday-worker2', body: [{ op: 'remove', path: '/spec/taints' }] });
    }
  });

  it('respects required pod anti-affinity on hostname and resource requests', async () => {
    const body = webDeployment('spread', 4);
    body.spec!.template.spec!.affinity = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'spread' } }, topologyKey: 'kubernetes.io/hostname' }] } };
    await sim.apps.createNamespacedDeployment({ namespace: 'default', body });
    const pods = await eventually('3 bound, 1 pending', async () => {
      const pods = await podsOf(sim.core, 'default', 'spread');
      return pods.length === 4 && pods.filter((p) => p.spec?.nodeName).length === 3 && pods.some((p) => p.status?.conditions?.some((c) => c.reason === 'Unschedulable')) ? pods : undefined;
    });
    expect(new Set(pods.map((p) => p.spec?.nodeName).filter(Boolean)).size).to.equal(3);

    const big = webDeployment('big', 1);
    big.spec!.template.spec!.containers[0]!.resources = { requests: { cpu: '9' } };
    await sim.apps.createNamespacedDeployment({ namespace: 'default', body: big });
    const [p] = await eventually('insufficient cpu', async () => {
      const pods = await podsOf(sim.core, 'default', 'big');
      return pods[0]?.status?.conditions?.some((c) => c.message?.includes('Insufficient cpu')) ? pods : undefined;
    });
    expect(p!.spec?.nodeName).to.equal(undefined);
  });
});

describe('sim scheduler in a large cluster', function () {
  this.timeout(30_000);
  let sim: { cluster: EmbeddedCluster; core: k8s.CoreV1Api; apps: k8s.AppsV1Api };
  before(async () => {
    const cluster = await startEmbeddedCluster({ workers: 120, timings: FAST_TIMINGS });
    const kc = new k8s.KubeConfig();
    kc.loadFromString(cluster.kubeconfigYaml());
    sim = { cluster, core: kc.makeApiClient(k8s.CoreV1Api), apps: kc.makeApiClient(k8s.AppsV1Api) };
  });
  after(() => sim.cluster.stop());

  it('stops the search at as many feasible nodes as kube-scheduler does', () => {
    // kube-scheduler's numFeasibleNodesToFind with the default adaptive percentage.
    const cases: [number, number][] = [[10, 10], [99, 99], [100, 100], [121, 100], [250, 120], [500, 230], [1000, 420], [5000, 500], [6000, 300], [10_000, 500]];
    expect(cases.map(([nodes]) => [nodes, numFeasibleNodesToFind(nodes)])).to.deep.equal(cases);
  });

  it('still finds the only fitting node past the sample, and spreads a Deployment over the sampled nodes', async () => {
    await sim.apps.createNamespacedDeployment({ namespace: 'default', body: webDeployment('last', 1, { nodeSelector: { 'kubernetes.io/hostname': 'gameday-worker120' } }) });
    // Each pod weighs 100 feasible nodes, so 100 replicas always find a node none of them has.
    await sim.apps.createNamespacedDeployment({ namespace: 'default', body: webDeployment('wide', 100) });
    const [last] = await eventually('the pinned pod bound', async () => {
      const pods = await podsOf(sim.core, 'default', 'last');
      return pods[0]?.spec?.nodeName ? pods : undefined;
    });
    expect(last!.spec?.nodeName).to.equal('gameday-worker120');
    const wide = await eventually('100 pods bound', async () => {
      const pods = await podsOf(sim.core, 'default', 'wide');
      return pods.length === 100 && pods.every((p) => p.spec?.nodeName) ? pods : undefined;
    });
    expect(new Set(wide.map((p) => p.spec?.nodeName)).size).to.equal(100);

    await sim.apps.createNamespacedDeployment({ namespace: 'default', body: webDeployment('nowhere', 1, { nodeSelector: { disk: 'ssd' } }) });
    const [pending] = await eventually('unschedulable condition', async () => {
      const pods = await podsOf(sim.core, 'default', 'nowhere');
      return pods[0]?.status?.conditions?.some((c) => c.reason === 'Unschedulable') ? pods : undefined;
    });
    expect(pending!.status!.conditions!.find((c) => c.type === 'PodScheduled')!.message).to.match(/^0\/121 nodes are available: 1 node\(s\) had untolerated taint .*, 120 node\(s\) didn't match Pod's node affinity\/selector\./);
  });
});
