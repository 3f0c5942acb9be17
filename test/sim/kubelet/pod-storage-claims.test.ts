import { expect } from 'chai';
import { LocalVolumes } from '../../../src/sim/kubelet/local-volumes.js';
import { NodeFilesystem } from '../../../src/sim/kubelet/node-filesystem.js';
import { persistentMountPaths, PodStorage } from '../../../src/sim/kubelet/pod-storage.js';
import type { StoredObject } from '../../../src/sim/store.js';

/**
 * A claim's volume seen from a container: a node directory, not part of the pod, so what a
 * container writes there outlives the container and the pod, while its root layer does not.
 */
describe('sim kubelet: persistent volumes in a pod\'s storage', () => {
  const GiB = 1024 ** 3;
  const mounts = [{ name: 'scratch', mountPath: '/tmp/scratch' }, { name: 'data', mountPath: '/var/lib/kv/' }];
  const pod = (uid: string): StoredObject => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'kv-0', namespace: 'default', uid, resourceVersion: '1', creationTimestamp: '' },
    spec: { volumes: [{ name: 'scratch', emptyDir: {} }, { name: 'data', persistentVolumeClaim: { claimName: 'data-kv-0' } }] },
  });

  it('names the mount paths backed by claims, for an image that keeps its state there', () => {
    expect(persistentMountPaths(pod('a'), mounts)).to.deep.equal(['/var/lib/kv']);
  });

  it('keeps what a container wrote on its claim across a container restart and a new pod, and gives it back to the node with the volume', () => {
    const node = new NodeFilesystem(10 * GiB, GiB);
    const local = new LocalVolumes(node, GiB);
    const dir = '/var/local-path-provisioner/pvc-1_default_data-kv-0';
    const claimVolume = (claim: string) => (claim === 'data-kv-0' ? local.directory(dir) : undefined);
    const first = new PodStorage({ pod: pod('a'), node, memoryBytes: GiB, configMap: () => undefined, claimVolume });
    const fs = first.containerFilesystem('kv', mounts, 'kv-0');
    const [path] = persistentMountPaths(pod('a'), mounts);
    fs.writeFile(`${path}/log`, 5, Buffer.from('ack 1'));
    fs.writeFile('/tmp/layer', 1_000_000);
    fs.writeFile('/tmp/scratch/x', 3, Buffer.from('tmp'));
    const used = node.usedBytes;

    const restarted = first.containerFilesystem('kv', mounts, 'kv-0');
    expect(restarted.readFile('/var/lib/kv/log').toString()).to.equal('ack 1');
    expect(restarted.stat('/tmp/layer'), 'a restart gets a fresh root layer').to.equal(undefined);
    first.dispose();
    expect(node.usedBytes, 'the pod gave back its layer and emptyDir, not the claim').to.equal(used - 1_000_000 - 3);

    const second = new PodStorage({ pod: pod('b'), node, memoryBytes: GiB, configMap: () => undefined, claimVolume });
    const again = second.containerFilesystem('kv', mounts, 'kv-0');
    expect(again.readFile('/var/lib/kv/log').toString()).to.equal('ack 1');
    expect(again.stat('/tmp/scratch/x'), "the old pod's emptyDir is gone").to.equal(undefined);

    expect(local.remove(dir)).to.equal(true);
    expect(node.usedBytes).to.equal(used - 1_000_000 - 3 - 5);
    expect(second.containerFilesystem('kv', mounts, 'kv-0').stat('/var/lib/kv/log'), 'a deleted volume comes back empty').to.equal(undefined);
  });
});
