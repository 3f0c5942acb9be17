import { expect } from 'chai';
import { KubeConfig } from '@kubernetes/client-node';
import type { RunOptions } from '../../src/nodes/command-runner.js';
import { chooseNodeAccess } from '../../src/nodes/choose-node-access.js';
import { KindNodeAccess, kindEngine } from '../../src/nodes/kind-node-access.js';
import type { ExecResult } from '../../src/nodes/node-access.js';
import { runCommand } from '../../src/nodes/command-runner.js';

/** Records every argv and answers from a script: the exact commands kind nodes would see. */
function recorder(answer: (argv: readonly string[]) => Partial<ExecResult> = () => ({})) {
  const calls: string[] = [];
  const run = async (argv: readonly string[], _options?: RunOptions): Promise<ExecResult> => {
    calls.push(argv.join(' '));
    if (argv[0] === 'kind') return { exitCode: 0, stdout: 'gameday-control-plane\ngameday-worker\ngameday-worker2\n', stderr: '' };
    return { exitCode: 0, stdout: '', stderr: '', ...answer(argv) };
  };
  return { calls, run };
}

describe('kind node access (commands it runs)', () => {
  it('blocks traffic with a chain of its own jumped to from INPUT, OUTPUT and FORWARD, through docker exec', async () => {
    const { calls, run } = recorder((argv) => (argv.includes('-C') ? { exitCode: 1, stderr: 'iptables: Bad rule (does a matching rule exist in that chain?).' } : {}));
    const kind = new KindNodeAccess({ clusterName: 'gameday', engine: 'docker', run });
    await kind.blockTraffic('gameday-worker', { id: 'ab12cd34', peers: ['172.18.0.2', '172.18.0.3'], scope: 'rest-of-cluster' });
    expect(calls).to.deep.equal([
      'kind get nodes --name gameday',
      'docker exec gameday-worker iptables -w -N GAMEDAY-ab12cd34',
      'docker exec gameday-worker iptables -w -A GAMEDAY-ab12cd34 -s 172.18.0.2 -j DROP',
      'docker exec gameday-worker iptables -w -A GAMEDAY-ab12cd34 -d 172.18.0.2 -j DROP',
      'docker exec gameday-worker iptables -w -A GAMEDAY-ab12cd34 -s 172.18.0.3 -j DROP',
      'docker exec gameday-worker iptables -w -A GAMEDAY-ab12cd34 -d 172.18.0.3 -j DROP',
      'docker exec gameday-worker iptables -w -C INPUT -j GAMEDAY-ab12cd34',
      'docker exec gameday-worker iptables -w -I INPUT 1 -j GAMEDAY-ab12cd34',
      'docker exec gameday-worker iptables -w -C OUTPUT -j GAMEDAY-ab12cd34',
      'docker exec gameday-worker iptables -w -I OUTPUT 1 -j GAMEDAY-ab12cd34',
      'docker exec gameday-worker iptables -w -C FORWARD -j GAMEDAY-ab12cd34',
      'docker exec gameday-worker iptables -w -I FORWARD 1 -j GAMEDAY-ab12cd34',
    ]);
  });

  it('unblocks by removing exactly its jumps and chain, and treats a missing chain as done', async () => {
    let jumps = 1;
    const { calls, run } = recorder((argv) => {
      if (argv.includes('-D')) return jumps-- > 0 ? {} : { exitCode: 1, stderr: "iptables v1.8.9 (nf_tables): Chain 'GAMEDAY-ab12cd34' does not exist" };
      if (argv.includes('-F')) return { exitCode: 1, stderr: 'iptables: No chain/target/match by that name.' };
      return {};
    });
    const kind = new KindNodeAccess({ clusterName: 'gameday', engine: 'podman', run });
    await kind.unblockTraffic('gameday-worker', 'ab12cd34');
    expect(calls.slice(1)).to.deep.equal([
      'podman exec gameday-worker iptables -w -D INPUT -j GAMEDAY-ab12cd34',
      'podman exec gameday-worker iptables -w -D INPUT -j GAMEDAY-ab12cd34',
      'podman exec gameday-worker iptables -w -D OUTPUT -j GAMEDAY-ab12cd34',
      'podman exec gameday-worker iptables -w -D FORWARD -j GAMEDAY-ab12cd34',
      'podman exec gameday-worker iptables -w -F GAMEDAY-ab12cd34',
    ]);
  });

  it('shapes the interface holding the node address with netem, under a handle derived from the id', async () => {
    const { calls, run } = recorder((argv) =>
      argv.includes('addr') ? { stdout: '1: lo    inet 127.0.0.1/8 scope host lo\n12: eth0    inet 172.18.0.3/16 brd 172.18.255.255 scope global eth0\n' } : {},
    );
    const kind = new KindNodeAccess({ clusterName: 'gameday', engine: 'docker', run });
    expect(await kind.shapeTraffic('gameday-worker', { id: 'ab12cd34', delayMs: 200, jitterMs: 20, lossPercent: 5, address: '172.18.0.3' })).to.deep.equal({ interface: 'eth0', method: 'netem' });
    expect(calls.slice(1)).to.deep.equal([
      'docker exec gameday-worker ip -o -4 addr show',
      `docker exec gameday-worker tc qdisc add dev eth0 root handle ${calls.at(-1)!.split(' handle ')[1]!.split(' ')[0]} netem delay 200ms 20ms loss 5%`,
    ]);
    expect(calls.at(-1)).to.match(/ handle [0-9a-f]{2,4}: netem /);
  });

  it('fills with fallocate sized from df, and falls back to dd where fallocate is unsupported', async () => {
    const { calls, run } = recorder((argv) => {
      if (argv.includes('df')) return { stdout: '  1B-blocks       Used     Avail\n1000000000  400000000 600000000\n' };
      if (argv.includes('fallocate')) return { exitCode: 1, stderr: 'fallocate: fallocate failed: Operation not supported' };
      return {};
    });
    const kind = new KindNodeAccess({ clusterName: 'gameday', engine: 'docker', run });
    expect(await kind.fillDisk('gameday-worker', { id: 'ab12cd34', path: '/var/lib/', percent: 95 })).to.deep.equal({ file: '/var/lib/gameday-fill-ab12cd34', bytes: 550_000_000 });
    expect(calls.slice(1)).to.deep.equal([
      'docker exec gameday-worker df -B1 --output=size,used,avail /var/lib/',
      'docker exec gameday-worker fallocate -l 550000000 /var/lib/gameday-fill-ab12cd34',
      'docker exec gameday-worker dd if=/dev/zero of=/var/lib/gameday-fill-ab12cd34 bs=1M count=550000000 iflag=count_bytes',
    ]);
    await kind.freeDisk('gameday-worker', { id: 'ab12cd34', path: '/var/lib' });
    expect(calls.at(-1)).to.equal('docker exec gameday-worker rm -f /var/lib/gameday-fill-ab12cd34');
  });

  it('stops with docker stop --time 0 or pause, starts with start or unpause, and reads the state back', async () => {
    const { calls, run } = recorder((argv) => (argv.includes('inspect') ? { stdout: 'exited\n' } : argv.includes('unpause') ? { exitCode: 1, stderr: 'Error response from daemon: Container abc is not paused' } : {}));
    const kind = new KindNodeAccess({ clusterName: 'gameday', engine: 'docker', run });
    await kind.stop('gameday-worker2', 'stop');
    expect(await kind.isStopped('gameday-worker2')).to.equal(true);
    await kind.start('gameday-worker2', 'stop');
    await kind.stop('gameday-worker2', 'pause');
    await kind.start('gameday-worker2', 'pause');
    expect(calls.slice(1)).to.deep.equal([
      'docker stop --time 0 gameday-worker2',
      'docker inspect --format {{.State.Status}} gameday-worker2',
      'docker start gameday-worker2',
      'docker pause gameday-worker2',
      'docker unpause gameday-worker2',
    ]);
  });

  it('never touches a container that is not a node of the cluster', async () => {
    const { calls, run } = recorder();
    const kind = new KindNodeAccess({ clusterName: 'gameday', engine: 'docker', run });
    const err = await kind.exec('my-database', ['rm', '-rf', '/']).then(() => undefined, (e: Error) => e);
    expect(err?.message).to.equal('node my-database is not a node of kind cluster "gameday" (its nodes: gameday-control-plane, gameday-worker, gameday-worker2)');
    expect(calls).to.deep.equal(['kind get nodes --name gameday']);
  });

  it('uses the engine kind uses: KIND_EXPERIMENTAL_PROVIDER=podman, else docker', () => {
    expect(kindEngine({ KIND_EXPERIMENTAL_PROVIDER: 'podman' })).to.equal('podman');
    expect(kindEngine({})).to.equal('docker');
  });

  it('is chosen for a kind-<name> context, and the pod provider only when asked', () => {
    const kc = new KubeConfig();
    kc.loadFromClusterAndUser({ name: 'c', server: 'https://127.0.0.1:6443', skipTLSVerify: true }, { name: 'u' });
    const ref = { kind: 'kubeconfig' as const, name: 'kind-gameday', context: 'kind-gameday' };
    expect(chooseNodeAccess(ref, kc)?.provider).to.equal('kind');
    expect(chooseNodeAccess({ ...ref, name: 'prod', context: 'prod' }, kc)).to.equal(undefined);
    expect(chooseNodeAccess({ ...ref, name: 'prod', context: 'prod' }, kc, { choice: 'pod' })?.provider).to.equal('pod');
    expect(chooseNodeAccess({ kind: 'embedded', name: 'gameday' }, kc)?.provider).to.equal('sim');
  });
});

describe('kind node access end to end (GAMEDAY_E2E_KIND=1 and kind on PATH)', function () {
  this.timeout(120_000);
  before(async function () {
    if (process.env.GAMEDAY_E2E_KIND !== '1') {
      console.log('      skipped: set GAMEDAY_E2E_KIND=1 with a running `gameday cluster up` cluster to run it');
      this.skip();
    }
    if ((await runCommand(['kind', 'version'])).exitCode !== 0) {
      console.log('      skipped: kind is not on PATH');
      this.skip();
    }
  });

  it('partitions a worker from the control plane for real and lifts it', async () => {
    const kind = new KindNodeAccess({ clusterName: 'gameday' });
    const nodes = await kind.listNodes();
    const worker = nodes.find((n) => n.includes('worker'))!;
    const cp = nodes.find((n) => n.includes('control-plane'))!;
    const cpIp = (await kind.exec(cp, ['hostname', '-i'])).stdout.trim().split(/\s+/)[0]!;
    expect((await kind.canReach(worker, { address: cpIp, port: 6443 })).reachable).to.equal(true);
    await kind.blockTraffic(worker, { id: 'e2etest', peers: [cpIp], scope: 'control-plane' });
    try {
      expect((await kind.canReach(worker, { address: cpIp, port: 6443, timeoutMs: 1000 })).reachable).to.equal(false);
    } finally {
      await kind.unblockTraffic(worker, 'e2etest');
    }
    expect((await kind.canReach(worker, { address: cpIp, port: 6443 })).reachable).to.equal(true);
  });
});
