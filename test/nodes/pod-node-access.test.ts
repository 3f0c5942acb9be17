import { expect } from 'chai';
import { KubeConfig } from '@kubernetes/client-node';
import { deleteLeftoverHelperPods, NODE_ACCESS_POD_SELECTOR, PodNodeAccess } from '../../src/nodes/pod-node-access.js';
import { startSim, type SimClients } from '../sim/sim-fixture.js';
import { eventually } from '../support/eventually.js';

describe('pod node access on the embedded cluster', function () {
  this.timeout(30_000);
  let sim: SimClients;
  let kubeConfig: KubeConfig;
  before(async () => {
    sim = await startSim();
    kubeConfig = sim.kubeConfig;
  });
  after(() => sim.cluster.stop());

  it('runs one privileged host-namespace pod pinned to the node, labelled for recover, and deletes it on close', async () => {
    const access = new PodNodeAccess(kubeConfig, { image: 'example.com/node-shell:1' });
    const name = await access.podFor('gameday-worker2');
    expect(await access.podFor('gameday-worker2')).to.equal(name);
    const pods = (await sim.core.listNamespacedPod({ namespace: 'default', labelSelector: NODE_ACCESS_POD_SELECTOR })).items;
    expect(pods.map((p) => p.metadata!.name)).to.deep.equal([name]);
    const pod = pods[0]!;
    expect(pod.status?.phase).to.equal('Running');
    expect(pod.metadata?.labels).to.include({ 'app.kubernetes.io/managed-by': 'gameday', 'gameday.dev/node-access': 'true' });
    expect(pod.metadata?.annotations).to.include({ 'gameday.dev/node': 'gameday-worker2' });
    expect(pod.spec).to.include({ nodeName: 'gameday-worker2', hostNetwork: true, hostPID: true });
    expect(pod.spec?.tolerations).to.deep.equal([{ operator: 'Exists' }]);
    expect(pod.spec?.containers[0]).to.deep.include({ image: 'example.com/node-shell:1', securityContext: { privileged: true } });

    await access.close();
    await eventually('helper pod gone', async () => (await sim.core.listNamespacedPod({ namespace: 'default', labelSelector: NODE_ACCESS_POD_SELECTOR })).items.length === 0);
  });

  it('runs commands as nsenter into the host namespaces over the exec API, reporting the exit status', async () => {
    const access = new PodNodeAccess(kubeConfig, { image: 'example.com/node-shell:1' });
    try {
      // The embedded cluster's containers have no nsenter: its answer shows the exact command reached the container.
      const result = await access.exec('gameday-worker', ['echo', 'hello']);
      expect(result.exitCode).to.not.equal(0);
      expect(result.stderr).to.contain('"nsenter": executable file not found');
    } finally {
      await access.close();
    }
  });

  it('runs a network command directly in a helper pod of its own on the host network (no nsenter, not privileged), beside the privileged one', async () => {
    const access = new PodNodeAccess(kubeConfig, { image: 'example.com/node-shell:1' });
    try {
      const direct = await access.exec('gameday-worker', ['echo', 'hello'], { need: { kind: 'network' } });
      expect(direct.stderr).to.not.contain('nsenter');
      expect(direct.stdout).to.contain('hello');
      await access.exec('gameday-worker', ['echo', 'hello']);
      const pods = (await sim.core.listNamespacedPod({ namespace: 'default', labelSelector: NODE_ACCESS_POD_SELECTOR })).items;
      const byProfile = Object.fromEntries(pods.map((p) => [p.metadata!.annotations!['gameday.dev/node-access-profile'], p.spec!]));
      expect(Object.keys(byProfile).sort()).to.deep.equal(['host', 'network']);
      expect(byProfile.network).to.include({ hostNetwork: true, nodeName: 'gameday-worker' });
      expect(byProfile.network!.hostPID).to.equal(undefined);
      expect(byProfile.network!.containers[0]!.securityContext).to.deep.include({ capabilities: { drop: ['ALL'], add: ['NET_ADMIN', 'NET_RAW'] } });
    } finally {
      await access.close();
    }
  });

  it('finds the helper pods a killed run never closed, in any namespace, and deletes them', async () => {
    const killed = new PodNodeAccess(kubeConfig, { namespace: 'kube-system', image: 'example.com/node-shell:1' });
    const name = await killed.podFor('gameday-worker');
    expect(await deleteLeftoverHelperPods(kubeConfig)).to.deep.equal([`kube-system/${name}`]);
    await eventually('leftover helper pod gone', async () => (await sim.core.listPodForAllNamespaces({ labelSelector: NODE_ACCESS_POD_SELECTOR })).items.length === 0);
    expect(await deleteLeftoverHelperPods(kubeConfig)).to.deep.equal([]);
  });

  it('says what to check when the helper pod cannot start', async () => {
    const access = new PodNodeAccess(kubeConfig, { startTimeoutMs: 300 });
    const err = await access.podFor('no-such-node').then(() => undefined, (e: Error) => e);
    expect(err?.message).to.match(/^the node-access pod on node no-such-node did not start \(phase Pending.*check that image nicolaka\/netshoot:v0\.13 can be pulled and that namespace default allows pods with host access/);
    await eventually('helper pod removed', async () => (await sim.core.listNamespacedPod({ namespace: 'default', labelSelector: NODE_ACCESS_POD_SELECTOR })).items.length === 0);
  });
});
