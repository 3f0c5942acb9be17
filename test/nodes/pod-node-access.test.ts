import { expect } from 'chai';
import { KubeConfig } from '@kubernetes/client-node';
import { deleteLeftoverHelperPods, NODE_ACCESS_POD_SELECTOR, PodNodeAccess } from '../../src/nodes/pod-node-access.js';
import { StressNgMissingError } from '../../src/nodes/shell-node-access.js';
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

  it("finds the helper pods a killed run never closed, in the helper pods' namespace only, and deletes them", async () => {
    const killed = new PodNodeAccess(kubeConfig, { namespace: 'kube-system', image: 'example.com/node-shell:1' });
    const name = await killed.podFor('gameday-worker');
    expect(await deleteLeftoverHelperPods(kubeConfig), 'the default helper namespace holds none').to.deep.equal([]);
    expect(await deleteLeftoverHelperPods(kubeConfig, 'kube-system')).to.deep.equal([`kube-system/${name}`]);
    await eventually('leftover helper pod gone', async () => (await sim.core.listPodForAllNamespaces({ labelSelector: NODE_ACCESS_POD_SELECTOR })).items.length === 0);
    expect(await deleteLeftoverHelperPods(kubeConfig, 'kube-system')).to.deep.equal([]);
  });

  it('runs a node stress in an unprivileged helper pod, and says when its image has no stress-ng (netshoot has none)', async () => {
    const access = new PodNodeAccess(kubeConfig);
    try {
      const err = await access.stress('gameday-worker', { id: 'cpu1', cpuMillicores: 500, maxDurationMs: 60_000 }).then(() => undefined, (e: Error) => e);
      expect(err).to.be.instanceOf(StressNgMissingError);
      expect(err?.message).to.equal(
        'node gameday-worker has no stress-ng: the pod node access runs it in a helper pod whose image lacks it (the default nicolaka/netshoot has none); pass --node-access-image with an image that has it, e.g. one built FROM nicolaka/netshoot with `RUN apk add --no-cache stress-ng`',
      );
      expect(await access.isStressing('gameday-worker', 'cpu1')).to.equal(false);
      await access.unstress('gameday-worker', 'cpu1');
      const pods = (await sim.core.listNamespacedPod({ namespace: 'default', labelSelector: NODE_ACCESS_POD_SELECTOR })).items;
      expect(pods.map((p) => p.metadata!.annotations!['gameday.dev/node-access-profile'])).to.deep.equal(['process']);
      expect(pods[0]!.spec!.hostNetwork).to.equal(undefined);
    } finally {
      await access.close();
    }
  });

  it('runs a stress of a pod inside its container through exec, and says when the image has no stress-ng; a pod without one has nothing to stop', async () => {
    await sim.core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'plain-web' }, spec: { containers: [{ name: 'web', image: 'gameday/web:1' }] } } });
    await eventually('plain-web running', async () => (await sim.core.readNamespacedPod({ namespace: 'default', name: 'plain-web' })).status?.phase === 'Running');
    const access = new PodNodeAccess(kubeConfig);
    const pod = { namespace: 'default', name: 'plain-web' };
    const node = (await sim.core.readNamespacedPod(pod)).spec!.nodeName!;
    try {
      const err = await access.stress(node, { id: 'mem1-default-plain-web', memoryBytes: 64 * 2 ** 20, pod }).then(() => undefined, (e: Error) => e);
      expect(err?.message).to.equal(
        `the first container of pod default/plain-web on node ${node} has no stress-ng: a stress of pods: runs stress-ng inside the pod's container, so its image must have sh and stress-ng; stress the node instead (nodes:), or give the container an image with stress-ng`,
      );
      expect(await access.isStressing(node, 'mem1-default-plain-web', pod)).to.equal(false);
      await access.unstress(node, 'mem1-default-plain-web', pod);
      // Through the API alone: no helper pod was made for it.
      expect((await sim.core.listNamespacedPod({ namespace: 'default', labelSelector: NODE_ACCESS_POD_SELECTOR })).items).to.have.length(0);
      await sim.core.deleteNamespacedPod({ ...pod, gracePeriodSeconds: 0 });
      await eventually('plain-web gone', async () => (await sim.core.listNamespacedPod({ namespace: 'default', fieldSelector: 'metadata.name=plain-web' })).items.length === 0);
      await access.unstress(node, 'mem1-default-plain-web', pod);
      expect(await access.isStressing(node, 'mem1-default-plain-web', pod)).to.equal(false);
    } finally {
      await access.close();
    }
  });

  it('says what to check when the helper pod cannot start', async () => {
    const access = new PodNodeAccess(kubeConfig, { startTimeoutMs: 300 });
    const err = await access.podFor('no-such-node').then(() => undefined, (e: Error) => e);
    expect(err?.message).to.match(/^the node-access pod on node no-such-node did not start \(phase Pending.*check that image nicolaka\/netshoot:v0\.13 can be pulled and that namespace default allows pods with host access/);
    await eventually('helper pod removed', async () => (await sim.core.listNamespacedPod({ namespace: 'default', labelSelector: NODE_ACCESS_POD_SELECTOR })).items.length === 0);
  });
});
