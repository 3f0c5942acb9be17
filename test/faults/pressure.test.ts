import type { V1Pod } from '@kubernetes/client-node';
import { expect } from 'chai';
import { rawRequest } from '../../src/cluster/raw-request.js';
import { SimNodeAccess } from '../../src/nodes/sim-node-access.js';
import { evictionsProbe, oomKillsProbe, restartsProbe } from '../../src/probes/pod-events.js';
import { startProbe } from '../probes/probe-harness.js';
import { startSim, type SimClients } from '../sim/sim-fixture.js';
import { eventually } from '../support/eventually.js';
import { runNodeFaultExperiment, simTarget } from './node-fault-experiment.js';

const NODE = 'gameday-worker2';

function pod(name: string, resources: Record<string, Record<string, string>> = {}): V1Pod {
  return {
    metadata: { name, labels: { app: name } },
    spec: { nodeName: NODE, containers: [{ name: 'app', image: 'nginx:1.27', resources }] },
  };
}

describe('containerKill, memory pressure, OOMKills and CPU throttling on the embedded cluster', function () {
  this.timeout(40_000);
  let sim: SimClients;
  before(async () => {
    sim = await startSim({ evictionPressureTransitionMs: 4000 });
  });
  after(() => sim.cluster.stop());

  async function running(...pods: V1Pod[]): Promise<V1Pod[]> {
    for (const p of pods) await sim.core.createNamespacedPod({ namespace: 'default', body: p });
    return Promise.all(pods.map((p) => eventually(`${p.metadata!.name} running`, async () => {
      const live = await sim.core.readNamespacedPod({ namespace: 'default', name: p.metadata!.name! });
      return live.status?.containerStatuses?.[0]?.state?.running ? live : undefined;
    })));
  }

  /** Gone from the node too, so the next test's node has only its own pods. */
  async function removePods(...names: string[]): Promise<void> {
    await Promise.all(names.map((name) => sim.core.deleteNamespacedPod({ namespace: 'default', name, gracePeriodSeconds: 0 })));
    await eventually('pods gone', async () => (await sim.core.listNamespacedPod({ namespace: 'default' })).items.every((p) => !names.includes(p.metadata!.name!)));
  }

  const read = (name: string): Promise<V1Pod> => sim.core.readNamespacedPod({ namespace: 'default', name });

  it('containerKill restarts the container in the same pod: its restart count rises, its uid stays', async () => {
    const [before] = await running(pod('killme'));
    const run = await runNodeFaultExperiment(simTarget(sim), `
apiVersion: gameday/v1
kind: Experiment
metadata: { name: container-kill }
spec:
  duration: 1s
  faults:
    - { at: 0s, containerKill: { pods: { namespace: default, labels: { app: killme } }, verifyTimeout: 10s } }
`);
    expect(run.summary.outcome, run.summary.reason).to.equal('passed');
    expect(run.faultEvents.find((e) => e.step === 'verified')!.message).to.equal('1 container restarted in the same pod');
    const after = await read('killme');
    expect(after.metadata?.uid).to.equal(before!.metadata?.uid);
    const status = after.status!.containerStatuses![0]!;
    expect(status.restartCount).to.equal(1);
    expect(status.lastState?.terminated).to.include({ exitCode: 137, reason: 'Error' });
    await removePods('killme');
  });

  it('under node memory pressure evicts the BestEffort pod first and leaves the Burstable and Guaranteed ones', async () => {
    const [be, bu, gu] = await running(
      pod('besteffort'),
      pod('burstable', { requests: { memory: '8Mi' }, limits: { memory: '256Mi' } }),
      pod('guaranteed', { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '100m', memory: '64Mi' } }),
    );
    expect([be, bu, gu].map((p) => p!.status?.qosClass)).to.deep.equal(['BestEffort', 'Burstable', 'Guaranteed']);
    const metrics = await rawRequest(sim.kubeConfig, `/apis/metrics.k8s.io/v1beta1/nodes/${NODE}`);
    const usedKi = Number(/^(\d+)Ki$/.exec((JSON.parse(metrics.body) as { usage: { memory: string } }).usage.memory)![1]);
    // Leaves 90Mi available: under the 100Mi threshold, and above it once the 16Mi BestEffort pod is gone.
    const stress = 16 * 2 ** 30 - usedKi * 1024 - 90 * 2 ** 20;
    const run = await runNodeFaultExperiment(simTarget(sim), `
apiVersion: gameday/v1
kind: Experiment
metadata: { name: noisy-neighbour }
spec:
  duration: 1s
  faults:
    - { at: 0s, memoryStress: { nodes: { names: [${NODE}] }, memory: ${stress} } }
`);
    expect(run.summary.outcome, run.summary.reason).to.equal('passed');
    const evicted = await eventually('besteffort evicted', async () => ((await read('besteffort')).status?.reason === 'Evicted' ? read('besteffort') : undefined));
    expect(evicted.status?.phase).to.equal('Failed');
    expect(evicted.status?.message).to.match(/^The node was low on resource: memory\. Threshold quantity: 100Mi, available: 90Mi\. Container app was using 16Mi, request is 0, has larger consumption of memory\. $/);
    for (const name of ['burstable', 'guaranteed']) {
      const p = await read(name);
      expect(p.status?.phase, name).to.equal('Running');
      expect(p.status?.containerStatuses?.[0]?.restartCount, name).to.equal(0);
    }
    const node = await sim.core.readNode({ name: NODE });
    expect(node.status?.conditions?.find((c) => c.type === 'MemoryPressure')).to.include({ status: 'True', reason: 'KubeletHasInsufficientMemory' });
    // While the condition holds, the kubelet refuses a new BestEffort pod and admits a Burstable one.
    await sim.core.createNamespacedPod({ namespace: 'default', body: pod('latecomer') });
    await sim.core.createNamespacedPod({ namespace: 'default', body: pod('latecomer-burstable', { requests: { memory: '8Mi' } }) });
    const refused = await eventually('latecomer refused', async () => ((await read('latecomer')).status?.phase === 'Failed' ? read('latecomer') : undefined));
    expect(refused.status).to.include({ reason: 'Evicted', message: 'The node had condition: [MemoryPressure]. ' });
    await eventually('burstable latecomer admitted', async () => (await read('latecomer-burstable')).status?.phase === 'Running');
    await eventually('memory-pressure taint', async () => (await sim.core.readNode({ name: NODE })).spec?.taints?.some((t) => t.key === 'node.kubernetes.io/memory-pressure' && t.effect === 'NoSchedule'));
    await eventually('pressure over after the transition period', async () => (await sim.core.readNode({ name: NODE })).status?.conditions?.find((c) => c.type === 'MemoryPressure')?.status === 'False', 8000);
    await removePods('besteffort', 'burstable', 'guaranteed', 'latecomer', 'latecomer-burstable');
  });

  it('OOMKills a container that goes over its memory limit and restarts it', async () => {
    const [before] = await running(pod('leaky', { requests: { memory: '64Mi' }, limits: { memory: '64Mi' } }));
    const run = await runNodeFaultExperiment(simTarget(sim), `
apiVersion: gameday/v1
kind: Experiment
metadata: { name: leak }
spec:
  duration: 1s
  faults:
    - { at: 0s, memoryStress: { pods: { namespace: default, labels: { app: leaky } }, memory: 100Mi, verifyTimeout: 10s } }
`);
    expect(run.summary.outcome, run.summary.reason).to.equal('passed');
    expect(run.faultEvents.find((e) => e.step === 'verified')!.message).to.equal('OOMKilled by it: default/leaky');
    const after = await eventually('restarted after an OOM kill', async () => {
      const p = await read('leaky');
      return p.status?.containerStatuses?.[0]?.restartCount === 1 && p.status.containerStatuses[0].state?.running ? p : undefined;
    });
    expect(after.metadata?.uid).to.equal(before!.metadata?.uid);
    expect(after.status!.containerStatuses![0]!.lastState?.terminated).to.include({ exitCode: 137, reason: 'OOMKilled' });
  });

  it('counts restarts, OOM kills and evictions of a workload during the run, for restarts(), oomKills() and evictions()', async () => {
    await removePods('leaky');
    await sim.apps.createNamespacedDeployment({ namespace: 'default', body: {
      metadata: { name: 'tenant' },
      spec: {
        replicas: 1, selector: { matchLabels: { app: 'tenant' } },
        template: { metadata: { labels: { app: 'tenant' } }, spec: { nodeSelector: { 'kubernetes.io/hostname': NODE }, containers: [{ name: 'app', image: 'nginx:1.27', resources: { requests: { memory: '8Mi' }, limits: { memory: '64Mi' } } }] } },
      },
    } });
    const [first] = await eventually('tenant running', async () => {
      const pods = (await sim.core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=tenant' })).items;
      return pods.length === 1 && pods[0]!.status?.containerStatuses?.[0]?.state?.running ? pods : undefined;
    });
    const name = first!.metadata!.name!;
    const probes = await Promise.all([restartsProbe, oomKillsProbe, evictionsProbe].map((p) => startProbe(p, { target: 'deployment/default/tenant' }, sim.kubeConfig)));
    const latest = (i: number) => (): number | undefined => probes[i]!.samples.at(-1)?.value;
    const [restarts, ooms, evictions] = [latest(0), latest(1), latest(2)];
    const access = new SimNodeAccess(sim.kubeConfig);
    try {
      expect([restarts(), ooms(), evictions()]).to.deep.equal([0, 0, 0]);
      await access.killContainer(NODE, { namespace: 'default', pod: name, container: 'app' });
      await eventually('one restart', () => restarts() === 1 && read(name).then((p) => p.status?.containerStatuses?.[0]?.state?.running));
      await access.stress(NODE, { id: 'tenant-leak', memoryBytes: 100 * 2 ** 20, pod: { namespace: 'default', name } });
      await eventually('one OOM kill and a second restart', () => ooms() === 1 && restarts() === 2);
      expect(evictions()).to.equal(0);
      const usedKi = Number(/^(\d+)Ki$/.exec((JSON.parse((await rawRequest(sim.kubeConfig, `/apis/metrics.k8s.io/v1beta1/nodes/${NODE}`)).body) as { usage: { memory: string } }).usage.memory)![1]);
      await access.stress(NODE, { id: 'squeeze', memoryBytes: 16 * 2 ** 30 - usedKi * 1024 - 90 * 2 ** 20 });
      await eventually('one eviction', () => evictions() === 1);
      expect([restarts(), ooms()]).to.deep.equal([2, 1]);
    } finally {
      await access.unstress(NODE, 'squeeze');
      await Promise.all(probes.map((p) => p.stop()));
    }
  });

  it('throttles a container that wants more CPU than its limit: its requests take longer', async () => {
    await running(pod('busy', { requests: { cpu: '100m' }, limits: { cpu: '100m' } }));
    const proxy = `/api/v1/namespaces/default/pods/busy:80/proxy/`;
    const timed = async (): Promise<number> => {
      const started = performance.now();
      const r = await rawRequest(sim.kubeConfig, proxy);
      expect(r.status).to.equal(200);
      return performance.now() - started;
    };
    const access = new SimNodeAccess(sim.kubeConfig);
    // 400m wanted against a 100m limit: runnable a quarter of each 100 ms CFS period, 75 ms waited per request.
    await access.stress(NODE, { id: 'burn', cpuMillicores: 400, pod: { namespace: 'default', name: 'busy' } });
    await eventually('throttled', async () => (await timed()) >= 75, 5000);
    await access.unstress(NODE, 'burn');
    expect(await access.isStressing(NODE, 'burn')).to.equal(false);
  });
});
