import * as k8s from '@kubernetes/client-node';
import { expect } from 'chai';
import { execa } from 'execa';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../support/eventually.js';
import { kubectlBinary } from '../support/kubectl.js';
import { startSim, type SimClients } from './sim-fixture.js';

/**
 * Storage in the embedded cluster as kind has it: the default `standard` class (local-path,
 * WaitForFirstConsumer), node-local volumes provisioned once the scheduler picks a node, data
 * that outlives pods but not its claim or its node, StatefulSet claim templates, and pods held
 * Pending by where their volume lives. One cluster for the whole suite.
 */
const MERGE = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

describe('sim: persistent volumes', function () {
  this.timeout(60_000);
  let sim: SimClients;
  let dir: string;
  const NS = 'default';
  const kubectl = (args: string[]) => execa(kubectlBinary('default')!, args, { env: { KUBECONFIG: join(dir, 'kubeconfig'), KUBECACHEDIR: join(dir, 'cache'), HOME: dir }, timeout: 30_000 });
  const shell = async (pod: string, script: string) => (await kubectl(['exec', pod, '--', 'sh', '-c', script])).stdout;

  const claim = (name: string): k8s.V1PersistentVolumeClaim => ({
    metadata: { name },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
  });
  const podWith = (name: string, claimName: string, nodeName?: string): k8s.V1Pod => ({
    metadata: { name, labels: { app: name } },
    spec: {
      terminationGracePeriodSeconds: 0,
      ...(nodeName ? { nodeSelector: { 'kubernetes.io/hostname': nodeName } } : {}),
      containers: [{ name: 'app', image: 'busybox:1.36', command: ['sh', '-c', 'sleep 3600'], volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName } }],
    },
  });
  const readClaim = (name: string) => sim.core.readNamespacedPersistentVolumeClaim({ name, namespace: NS });
  const runningPod = (name: string) =>
    eventually(`pod ${name} Running`, async () => {
      const p = await sim.core.readNamespacedPod({ name, namespace: NS });
      return p.status?.phase === 'Running' && p.status.containerStatuses?.[0]?.state?.running ? p : undefined;
    });
  const boundClaim = (name: string) => eventually(`claim ${name} Bound`, async () => ((await readClaim(name)).status?.phase === 'Bound' ? readClaim(name) : undefined));
  const gone = (what: string, read: () => Promise<unknown>) =>
    eventually(`${what} gone`, async () => {
      try {
        await read();
        return false;
      } catch (err) {
        return (err as { code?: number }).code === 404;
      }
    });
  const deletePod = async (name: string) => {
    await sim.core.deleteNamespacedPod({ name, namespace: NS, gracePeriodSeconds: 0 });
    await gone(`pod ${name}`, () => sim.core.readNamespacedPod({ name, namespace: NS }));
  };
  /** The PodScheduled=False message of the pod that replaced the one with uid `old`. */
  const unschedulableReplacement = (name: string, old: string | undefined) =>
    eventually(`the new ${name} Unschedulable`, async () => {
      const p = await sim.core.readNamespacedPod({ name, namespace: NS });
      return p.metadata!.uid !== old && p.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.reason === 'Unschedulable')?.message;
    });
  const events = async (name: string) => (await sim.core.listNamespacedEvent({ namespace: NS, fieldSelector: `involvedObject.name=${name}` })).items;

  before(async () => {
    sim = await startSim();
    dir = mkdtempSync(join(tmpdir(), 'gameday-storage-'));
    await sim.cluster.writeKubeconfig(join(dir, 'kubeconfig'));
  });
  after(async () => {
    await sim?.cluster.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("starts with kind's default StorageClass, as kubectl get sc shows it", async () => {
    const out = (await kubectl(['get', 'sc'])).stdout.split('\n');
    expect(out[0]!.split(/\s{2,}/)).to.deep.equal(['NAME', 'PROVISIONER', 'RECLAIMPOLICY', 'VOLUMEBINDINGMODE', 'ALLOWVOLUMEEXPANSION', 'AGE']);
    expect(out[1]!.split(/\s{2,}/).slice(0, 5)).to.deep.equal(['standard (default)', 'rancher.io/local-path', 'Delete', 'WaitForFirstConsumer', 'false']);
  });

  it('keeps a WaitForFirstConsumer claim Pending until its pod is scheduled, then binds it to a local volume on that node', async () => {
    await sim.core.createNamespacedPersistentVolumeClaim({ namespace: NS, body: claim('first') });
    const waiting = await eventually('WaitForFirstConsumer event', async () => (await events('first')).find((e) => e.reason === 'WaitForFirstConsumer'));
    expect(waiting.message).to.equal('waiting for first consumer to be created before binding');
    const pending = await readClaim('first');
    expect(pending.spec?.storageClassName, 'the default class, from admission').to.equal('standard');
    expect(pending.status?.phase).to.equal('Pending');
    expect(pending.metadata?.annotations?.['volume.kubernetes.io/selected-node']).to.equal(undefined);

    await sim.core.createNamespacedPod({ namespace: NS, body: podWith('first', 'first') });
    const pod = await runningPod('first');
    const node = pod.spec!.nodeName!;
    const bound = await boundClaim('first');
    expect(bound.metadata?.annotations?.['volume.kubernetes.io/selected-node']).to.equal(node);
    expect(bound.spec?.volumeName).to.equal(`pvc-${bound.metadata!.uid}`);
    expect(bound.status?.capacity?.storage).to.equal('1Gi');
    const pv = await sim.core.readPersistentVolume({ name: bound.spec!.volumeName! });
    expect(pv.status?.phase).to.equal('Bound');
    expect(pv.spec?.claimRef).to.include({ namespace: NS, name: 'first', uid: bound.metadata!.uid });
    expect(pv.spec?.persistentVolumeReclaimPolicy).to.equal('Delete');
    expect(pv.spec?.hostPath?.path).to.equal(`/var/local-path-provisioner/${pv.metadata!.name}_${NS}_first`);
    expect(pv.spec?.nodeAffinity?.required?.nodeSelectorTerms).to.deep.equal([{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }]);
  });

  it('shows claims and volumes with the columns of kubectl get pvc,pv', async () => {
    const pvName = (await readClaim('first')).spec!.volumeName!;
    const lines = (await kubectl(['get', 'pvc,pv'])).stdout.split('\n').filter(Boolean);
    const pvcHeader = lines.findIndex((l) => l.startsWith('NAME') && l.includes('VOLUME '));
    const pvHeader = lines.findIndex((l) => l.startsWith('NAME') && l.includes('RECLAIM POLICY'));
    expect(lines[pvcHeader]!.split(/\s{2,}/)).to.deep.equal(['NAME', 'STATUS', 'VOLUME', 'CAPACITY', 'ACCESS MODES', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'AGE']);
    const pvcRow = lines.find((l) => l.startsWith('persistentvolumeclaim/first '))!;
    expect(pvcRow.split(/\s+/).slice(0, 7)).to.deep.equal(['persistentvolumeclaim/first', 'Bound', pvName, '1Gi', 'RWO', 'standard', '<unset>']);
    expect(lines[pvHeader]!.split(/\s{2,}/)).to.deep.equal(['NAME', 'CAPACITY', 'ACCESS MODES', 'RECLAIM POLICY', 'STATUS', 'CLAIM', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'REASON', 'AGE']);
    const pvRow = lines.find((l) => l.startsWith(`persistentvolume/${pvName} `))!;
    expect(pvRow.split(/\s+/).slice(0, 8)).to.deep.equal([`persistentvolume/${pvName}`, '1Gi', 'RWO', 'Delete', 'Bound', `${NS}/first`, 'standard', '<unset>']);
  });

  it("keeps the volume's data for the replacement pod on the same node, counting against the node's disk", async () => {
    const node = (await sim.core.readNamespacedPod({ name: 'first', namespace: NS })).spec!.nodeName!;
    const before = sim.cluster.nodeFaults.filesystem(node).usedBytes;
    await shell('first', 'echo remembered > /data/f && fallocate -l 64M /data/big');
    expect(sim.cluster.nodeFaults.filesystem(node).usedBytes - before).to.be.at.least(64 * 1024 * 1024);

    await deletePod('first');
    // No node selector: the volume's node affinity alone brings it back to the same node.
    await sim.core.createNamespacedPod({ namespace: NS, body: podWith('second', 'first') });
    expect((await runningPod('second')).spec?.nodeName).to.equal(node);
    expect(await shell('second', 'cat /data/f')).to.equal('remembered');
    expect(sim.cluster.nodeFaults.filesystem(node).usedBytes - before, 'the data is still on the node').to.be.at.least(64 * 1024 * 1024);
  });

  it('keeps a claim in use Terminating, then deletes its volume and data once the last pod is gone', async () => {
    const pvName = (await readClaim('first')).spec!.volumeName!;
    const node = (await sim.core.readNamespacedPod({ name: 'second', namespace: NS })).spec!.nodeName!;
    const before = sim.cluster.nodeFaults.filesystem(node).usedBytes;
    await sim.core.deleteNamespacedPersistentVolumeClaim({ name: 'first', namespace: NS });
    const terminating = await readClaim('first');
    expect(terminating.metadata?.deletionTimestamp, 'pvc-protection holds it while a pod uses it').to.not.equal(undefined);
    expect(terminating.metadata?.finalizers).to.deep.equal(['kubernetes.io/pvc-protection']);

    await deletePod('second');
    await gone('claim first', () => readClaim('first'));
    await gone(`volume ${pvName}`, () => sim.core.readPersistentVolume({ name: pvName }));
    expect(before - sim.cluster.nodeFaults.filesystem(node).usedBytes, 'the data went with the volume').to.be.at.least(64 * 1024 * 1024);
  });

  it('keeps a pod whose claim does not exist Pending with the scheduler\'s reason', async () => {
    await sim.core.createNamespacedPod({ namespace: NS, body: podWith('orphan', 'nosuch') });
    const message = await eventually('FailedScheduling', async () => (await events('orphan')).find((e) => e.reason === 'FailedScheduling')?.message);
    expect(message).to.equal('0/4 nodes are available: persistentvolumeclaim "nosuch" not found. preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.');
    await sim.core.createNamespacedPersistentVolumeClaim({ namespace: NS, body: claim('nosuch') });
    await runningPod('orphan');
    await deletePod('orphan');
  });

  describe('StatefulSet volumeClaimTemplates', () => {
    const set = (replicas: number): k8s.V1StatefulSet => ({
      metadata: { name: 'db' },
      spec: {
        replicas,
        serviceName: 'db',
        podManagementPolicy: 'Parallel',
        selector: { matchLabels: { app: 'db' } },
        template: {
          metadata: { labels: { app: 'db' } },
          spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'db', image: 'busybox:1.36', command: ['sh', '-c', 'sleep 3600'], volumeMounts: [{ name: 'data', mountPath: '/var/lib/db' }] }] },
        },
        volumeClaimTemplates: [{ metadata: { name: 'data', labels: { tier: 'storage' } }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '2Gi' } } } }],
      },
    });

    it('creates a claim per member, named <template>-<set>-<ordinal>, and keeps it after scale-down for the next member', async () => {
      await sim.apps.createNamespacedStatefulSet({ namespace: NS, body: set(2) });
      const [c0, c1] = [await boundClaim('data-db-0'), await boundClaim('data-db-1')];
      expect(c0.metadata?.labels).to.deep.equal({ tier: 'storage', app: 'db' });
      expect(c0.metadata?.ownerReferences, 'whenDeleted Retain: no owner').to.equal(undefined);
      expect(c1.spec?.storageClassName).to.equal('standard');
      const pod1 = await runningPod('db-1');
      expect(pod1.spec?.volumes?.find((v) => v.name === 'data')?.persistentVolumeClaim?.claimName).to.equal('data-db-1');
      const created = (await events('db')).map((e) => e.message);
      expect(created).to.include('create Claim data-db-1 Pod db-1 in StatefulSet db success');
      await shell('db-1', 'echo member-1 > /var/lib/db/id');

      await sim.apps.patchNamespacedStatefulSetScale({ name: 'db', namespace: NS, body: { spec: { replicas: 1 } } }, MERGE);
      await gone('pod db-1', () => sim.core.readNamespacedPod({ name: 'db-1', namespace: NS }));
      expect((await readClaim('data-db-1')).status?.phase, 'kept after scale-down').to.equal('Bound');

      await sim.apps.patchNamespacedStatefulSetScale({ name: 'db', namespace: NS, body: { spec: { replicas: 2 } } }, MERGE);
      const again = await runningPod('db-1');
      expect(again.spec?.nodeName).to.equal(pod1.spec?.nodeName);
      expect(await shell('db-1', 'cat /var/lib/db/id')).to.equal('member-1');
    });

    it("keeps a member whose volume's node is cordoned Pending with the scheduler's message", async () => {
      const node = (await sim.core.readNamespacedPod({ name: 'db-0', namespace: NS })).spec!.nodeName!;
      await sim.core.patchNode({ name: node, body: { spec: { unschedulable: true } } }, MERGE);
      try {
        const old = (await sim.core.readNamespacedPod({ name: 'db-0', namespace: NS })).metadata!.uid;
        await sim.core.deleteNamespacedPod({ name: 'db-0', namespace: NS, gracePeriodSeconds: 0 });
        expect(await unschedulableReplacement('db-0', old)).to.equal(
          "0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 1 node(s) were unschedulable, 2 node(s) didn't match PersistentVolume's node affinity. " +
            'preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.',
        );
      } finally {
        await sim.core.patchNode({ name: node, body: { spec: { unschedulable: false } } }, MERGE);
      }
      expect((await runningPod('db-0')).spec?.nodeName, 'back on its volume once uncordoned').to.equal(node);
    });

    it("keeps a member whose volume's node stopped Pending with the scheduler's message", async () => {
      const before = await sim.core.readNamespacedPod({ name: 'db-0', namespace: NS });
      const [node, old] = [before.spec!.nodeName!, before.metadata!.uid];
      const fault = sim.cluster.nodeFaults.inject(node, { type: 'kubelet-stop' });
      try {
        // The node goes NotReady; the taint manager evicts db-0 (grace period 0: gone at once) and its replacement has nowhere to go.
        expect(await unschedulableReplacement('db-0', old)).to.equal(
          "0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, 2 node(s) didn't match PersistentVolume's node affinity. " +
            'preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.',
        );
      } finally {
        sim.cluster.nodeFaults.revert(node, fault.id);
      }
      expect((await runningPod('db-0')).spec?.nodeName, 'back on its volume once the node is back').to.equal(node);
    });

    it("gives a member a new, empty claim once its old one, deleted while in use, is gone", async () => {
      const old = await readClaim('data-db-1');
      await shell('db-1', 'echo member-1 > /var/lib/db/id');
      await sim.core.deleteNamespacedPersistentVolumeClaim({ name: 'data-db-1', namespace: NS });
      await sim.core.deleteNamespacedPod({ name: 'db-1', namespace: NS, gracePeriodSeconds: 0 });
      const fresh = await eventually('a new claim data-db-1 Bound', async () => {
        const c = await readClaim('data-db-1');
        return c.metadata!.uid !== old.metadata!.uid && c.status?.phase === 'Bound' ? c : undefined;
      });
      expect(fresh.spec?.volumeName).to.not.equal(old.spec?.volumeName);
      await runningPod('db-1');
      expect(await shell('db-1', 'ls /var/lib/db | wc -l')).to.equal('0');
      await shell('db-1', 'echo member-1 > /var/lib/db/id');
    });

    it("loses a member's data with its node", async () => {
      const node = (await runningPod('db-1')).spec!.nodeName!;
      expect(await shell('db-1', 'cat /var/lib/db/id')).to.equal('member-1');
      const fault = sim.cluster.nodeFaults.inject(node, { type: 'crash' });
      sim.cluster.nodeFaults.revert(node, fault.id);
      expect(await eventually('db-1 restarted after the crash', async () => {
        try {
          return (await shell('db-1', 'ls /var/lib/db | wc -l')).trim();
        } catch {
          return undefined;
        }
      })).to.equal('0');
    });
  });
});
