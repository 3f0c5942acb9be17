import { expect } from 'chai';
import * as k8s from '@kubernetes/client-node';
import { execInPod } from '../../src/nodes/pod-exec.js';
import { parseSnapshot } from '../../src/sim/dataplane/kv-app.js';
import { KvDisk } from '../../src/sim/dataplane/kv-storage.js';
import { ContainerFilesystem } from '../../src/sim/kubelet/container-filesystem.js';
import { NodeFilesystem } from '../../src/sim/kubelet/node-filesystem.js';
import { Volume } from '../../src/sim/kubelet/volume.js';
import { eventually } from '../support/eventually.js';
import { httpService, kvStatefulSet, namespace } from '../support/kube-objects.js';
import { createAll } from '../probes/probe-harness.js';
import { isReady, startSim, type SimClients } from './sim-fixture.js';

const NS = 'kvdata';

/** gameday/kv members keeping their data on a claim per member (the standard class's local volumes), optionally waiting for a restore. */
function persistentKv(name: string, options: { readonly replicas?: number; readonly zone?: string; readonly awaitRestore?: boolean } = {}): k8s.V1StatefulSet {
  const set = kvStatefulSet(name, { namespace: NS, replicas: options.replicas ?? 1, podManagementPolicy: 'Parallel' });
  const pod = set.spec!.template.spec!;
  pod.containers[0]!.volumeMounts = [{ name: 'data', mountPath: '/var/lib/kv' }];
  if (options.awaitRestore) pod.containers[0]!.env = [{ name: 'GAMEDAY_KV_AWAIT_RESTORE', value: 'true' }];
  if (options.zone) pod.nodeSelector = { 'topology.kubernetes.io/zone': options.zone };
  set.spec!.volumeClaimTemplates = [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }];
  return set;
}

/**
 * gameday/kv keeps its data on its volume: a member restarted or recreated on the same claim comes
 * back with what it had and catches up from the leader; a new claim starts empty. kvctl takes a
 * snapshot at the leader into another store, and restores it into a store waiting for one.
 */
describe('sim gameday/kv: data on the volume, snapshots and restores', function () {
  this.timeout(60_000);
  let sim: SimClients;

  before(async () => {
    sim = await startSim();
    await createAll(sim.kubeConfig, [namespace(NS), persistentKv('solo'), httpService('solo', { namespace: NS }), persistentKv('trio', { replicas: 3 }), httpService('trio', { namespace: NS })]);
    await readyMembers('solo', 1);
    await readyMembers('trio', 3);
  });
  after(() => sim.cluster.stop());

  async function readyMembers(app: string, n: number): Promise<k8s.V1Pod[]> {
    return eventually(`${n} ready ${app} members`, async () => {
      const pods = (await sim.core.listNamespacedPod({ namespace: NS, labelSelector: `app=${app}` })).items.filter((p) => isReady(p) && !p.metadata?.deletionTimestamp);
      return pods.length === n && pods;
    }, 20_000);
  }

  /** One exchange from inside a pod, through its network (the Service's cluster DNS name works there). */
  async function inPod(pod: string, argv: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    return execInPod(sim.kubeConfig, { namespace: NS, pod, argv, timeoutMs: 20_000 });
  }

  const put = async (service: string, key: string, value: string): Promise<void> => {
    const url = await eventually(`a local port for ${service}`, () => sim.cluster.localServiceUrl(NS, service, 80));
    await eventually(`${service} acknowledges ${key}`, async () => (await fetch(`${url}/kv/${key}`, { method: 'PUT', body: value })).status === 200);
  };
  /** The record's value as the pod itself serves it (its own copy, leader or not), or its status. */
  const readIn = async (pod: string, key: string): Promise<string> => {
    const r = await inPod(pod, ['wget', '-q', '-O', '-', `http://localhost:8080/kv/${key}`]);
    return r.exitCode === 0 ? (JSON.parse(r.stdout) as { value: string }).value : `exit ${r.exitCode}: ${r.stderr.trim()}`;
  };

  it('keeps acknowledged records on the claim: the member restarted on the same node reads them back from its volume', async () => {
    await put('solo', 'order-1', 'one');
    const [before] = await readyMembers('solo', 1);
    const files = await inPod('solo-0', ['ls', '/var/lib/kv/records']);
    expect(files.stdout.trim().split('\n')).to.deep.equal(['order-1']);
    await sim.core.deleteNamespacedPod({ namespace: NS, name: 'solo-0', gracePeriodSeconds: 0 });
    const [after] = await eventually('a new solo-0', async () => {
      const pods = await readyMembers('solo', 1);
      return pods[0]!.metadata!.uid !== before!.metadata!.uid && pods;
    }, 20_000);
    expect(after!.spec!.nodeName, 'the local volume pins it to its node').to.equal(before!.spec!.nodeName);
    expect(await readIn('solo-0', 'order-1')).to.equal('one');
  });

  it('a follower restarted while writes went on catches up from the leader onto its volume, and does not take the lease', async () => {
    await put('trio', 'a', '1');
    const leader = (await sim.coordination.readNamespacedLease({ namespace: NS, name: 'trio-leader' })).spec!.holderIdentity!.replace(/_[^_]*$/, '');
    const follower = ['trio-0', 'trio-1', 'trio-2'].find((p) => p !== leader)!;
    await eventually(`${follower} has a`, async () => (await readIn(follower, 'a')) === '1');
    await sim.core.deleteNamespacedPod({ namespace: NS, name: follower, gracePeriodSeconds: 0 });
    await put('trio', 'b', '2');
    await readyMembers('trio', 3);
    expect(await readIn(follower, 'a')).to.equal('1');
    expect(await eventually(`${follower} caught up with b`, async () => (await readIn(follower, 'b')) === '2' && 'caught up')).to.equal('caught up');
    const leaderNow = (await sim.coordination.readNamespacedLease({ namespace: NS, name: 'trio-leader' })).spec!.holderIdentity!;
    expect(leaderNow.startsWith(`${leader}_`), 'the restarted follower did not take the lease').to.equal(true);
    expect((await inPod(follower, ['ls', '/var/lib/kv/records'])).stdout.trim().split('\n')).to.deep.equal(['a', 'b']);
  });

  it('the whole group killed at once comes back with its data from the members\' volumes', async () => {
    await Promise.all(['trio-0', 'trio-1', 'trio-2'].map((name) => sim.core.deleteNamespacedPod({ namespace: NS, name, gracePeriodSeconds: 0 })));
    await eventually('a new leader', async () => {
      const lease = await sim.coordination.readNamespacedLease({ namespace: NS, name: 'trio-leader' });
      const holder = lease.spec?.holderIdentity ?? '';
      const pods = await sim.core.listNamespacedPod({ namespace: NS, labelSelector: 'app=trio' });
      return pods.items.some((p) => holder === `${p.metadata!.name}_${p.metadata!.uid!.slice(0, 8)}`);
    }, 20_000);
    await readyMembers('trio', 3);
    for (const pod of ['trio-0', 'trio-1', 'trio-2']) expect([await readIn(pod, 'a'), await readIn(pod, 'b')], pod).to.deep.equal(['1', '2']);
  });

  it('kvctl saves a snapshot into a store in another zone and restores it into a new store that serves nothing until then', async () => {
    await put('trio', 'c', '3');
    await createAll(sim.kubeConfig, [persistentKv('vault', { zone: 'b' }), httpService('vault', { namespace: NS })]);
    await readyMembers('vault', 1);
    const saved = await inPod('trio-0', ['kvctl', 'snapshot', 'save', 'http://vault/kv/trio-backup']);
    expect(saved.stderr).to.equal('');
    expect(saved.stdout).to.match(/^Snapshot saved at http:\/\/vault\/kv\/trio-backup: 3 keys, revision \d+\n$/);

    await createAll(sim.kubeConfig, [persistentKv('rebuilt', { replicas: 2, zone: 'b', awaitRestore: true }), httpService('rebuilt', { namespace: NS })]);
    const waiting = await eventually('rebuilt members running', async () => {
      const pods = (await sim.core.listNamespacedPod({ namespace: NS, labelSelector: 'app=rebuilt' })).items.filter((p) => p.status?.phase === 'Running');
      return pods.length === 2 && pods;
    });
    // Once the members have elected a leader, a write is refused, not forwarded, until the restore.
    await eventually('a rebuilt leader', async () => (await sim.coordination.readNamespacedLease({ namespace: NS, name: 'rebuilt-leader' })).spec?.holderIdentity);
    const refused = await eventually('the early write answered', async () => {
      const r = await inPod(waiting[0]!.metadata!.name!, ['wget', '-q', '-O', '-', '--post-data', 'x', 'http://localhost:8080/kv/early']);
      return /server returned error/.test(r.stderr) && r;
    });
    expect(refused.stderr).to.contain('503');
    expect(waiting.some(isReady), 'no member is ready before the restore').to.equal(false);

    const restored = await inPod('rebuilt-1', ['kvctl', 'snapshot', 'restore', 'http://vault.kvdata.svc.cluster.local/kv/trio-backup']);
    expect(restored.stdout).to.match(/^Snapshot restored from http:\/\/vault\.kvdata\.svc\.cluster\.local\/kv\/trio-backup: 3 keys, revision \d+, at leader rebuilt-[01]\n$/);
    await readyMembers('rebuilt', 2);
    for (const pod of ['rebuilt-0', 'rebuilt-1']) expect([await readIn(pod, 'a'), await readIn(pod, 'b'), await readIn(pod, 'c')], pod).to.deep.equal(['1', '2', '3']);
  });

  it('kvctl fails with the reason when the snapshot is not there, and says how to call it', async () => {
    const missing = await inPod('trio-0', ['kvctl', 'snapshot', 'restore', 'http://vault/kv/no-such-backup']);
    expect(missing.exitCode).to.equal(1);
    expect(missing.stderr).to.match(/^Error: could not read a snapshot from http:\/\/vault\/kv\/no-such-backup: GET http:\/\/vault\/kv\/no-such-backup answered 404: /);
    const usage = await inPod('trio-0', ['kvctl', 'snapshot']);
    expect(usage.exitCode).to.equal(1);
    expect(usage.stderr).to.contain('kvctl snapshot save <url>');
  });

  it('a claim deleted with its member takes the data: the next member starts on a new, empty volume', async () => {
    await sim.apps.patchNamespacedStatefulSet({ namespace: NS, name: 'solo', body: { spec: { replicas: 0 } } }, mergePatch);
    await eventually('solo-0 gone', async () => (await sim.core.listNamespacedPod({ namespace: NS, labelSelector: 'app=solo' })).items.length === 0);
    await sim.core.deleteNamespacedPersistentVolumeClaim({ namespace: NS, name: 'data-solo-0' });
    await eventually('the claim gone', async () => !(await sim.core.listNamespacedPersistentVolumeClaim({ namespace: NS })).items.some((c) => c.metadata?.name === 'data-solo-0'));
    await sim.apps.patchNamespacedStatefulSet({ namespace: NS, name: 'solo', body: { spec: { replicas: 1 } } }, mergePatch);
    await readyMembers('solo', 1);
    expect(await readIn('solo-0', 'order-1')).to.match(/^exit 1: .*404/);
  });

  it('a node lost (crashed) takes the volume with it: the member restarted there starts empty', async () => {
    await put('solo', 'order-2', 'two');
    expect(await readIn('solo-0', 'order-2')).to.equal('two');
    const node = (await sim.core.readNamespacedPod({ namespace: NS, name: 'solo-0' })).spec!.nodeName!;
    const crash = sim.cluster.nodeFaults.inject(node, { type: 'crash' });
    sim.cluster.nodeFaults.revert(node, crash.id);
    await eventually('solo-0 restarted after the crash', async () => {
      const pod = await sim.core.readNamespacedPod({ namespace: NS, name: 'solo-0' });
      return (pod.status?.containerStatuses?.[0]?.restartCount ?? 0) > 0 && isReady(pod);
    }, 20_000);
    expect(await readIn('solo-0', 'order-2')).to.match(/^exit 1: .*404/);
  });
});

const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

describe('gameday/kv data directory and snapshots (no cluster)', () => {
  const GiB = 1024 ** 3;
  const containerFs = (): ContainerFilesystem => {
    const node = new NodeFilesystem(10 * GiB, GiB);
    return new ContainerFilesystem(new Volume({ id: 'root', device: 'overlay', node, medium: 'disk', memoryBytes: GiB }), []);
  };

  it('loads what it wrote (records, deletions and the log position) and ignores files that are not records', () => {
    const fs = containerFs();
    const disk = new KvDisk(fs, '/var/lib/kv');
    expect(disk.load()).to.deep.equal({ data: new Map(), applied: 0, restored: false });
    disk.put('a/b', { value: '1', version: 1 }, { applied: 1, restored: false });
    disk.put('c', { value: '2', version: 2 }, { applied: 2, restored: false });
    disk.put('c', undefined, { applied: 3, restored: true });
    fs.writeFile('/var/lib/kv/records/notes.txt', 5, Buffer.from('hello'));
    expect(fs.list('/var/lib/kv/records')).to.deep.equal(['a%2Fb', 'notes.txt']);
    expect(new KvDisk(fs, '/var/lib/kv').load()).to.deep.equal({ data: new Map([['a/b', { value: '1', version: 1 }]]), applied: 3, restored: true });
  });

  it('POST /restore takes only what GET /snapshot writes, saying what is wrong', () => {
    expect(parseSnapshot('{"applied":2,"entries":[{"key":"a","value":"1","version":2}]}')).to.deep.equal({ applied: 2, entries: [{ key: 'a', value: '1', version: 2 }] });
    expect(parseSnapshot('nope')).to.equal('the body is not JSON: POST what GET /snapshot returned');
    expect(parseSnapshot('{"items":[]}')).to.equal('not a snapshot: it needs "applied" (a number) and "entries" (a list), as GET /snapshot writes them');
    expect(parseSnapshot('{"applied":1,"entries":[{"key":"a","value":1,"version":1}]}')).to.equal('entries[0] needs "key" and "value" (strings) and "version" (a number)');
  });
});
