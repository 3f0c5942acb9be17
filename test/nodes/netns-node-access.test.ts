import { expect } from 'chai';
import { runCommand } from '../../src/nodes/command-runner.js';
import { CONNECT_SCRIPT, createNetnsCluster, netnsUnavailable, type NetnsCluster } from './netns-fixture.js';

const PORT = 10250;

describe('shell node operations on real network namespaces', function () {
  this.timeout(30_000);
  let net: NetnsCluster | undefined;

  before(async function () {
    const why = await netnsUnavailable();
    if (why) {
      console.log(`      skipped: ${why}`);
      this.skip();
    }
    net = await createNetnsCluster();
    for (const node of net.nodes) await net.serve(node, PORT);
  });
  after(async () => {
    await net?.destroy();
  });

  const connected = async (from: string, to: string, count = 1, timeoutMs = 1000): Promise<number[]> =>
    JSON.parse(await net!.nodeScript(from, CONNECT_SCRIPT, net!.ips[to]!, String(PORT), String(count), String(timeoutMs))) as number[];

  it('drops traffic between a node and its peers in both directions, and restores it on unblock', async () => {
    const { access, ips } = net!;
    expect(await access.canReach('node-a', { address: ips['node-b']!, port: PORT })).to.deep.equal({ reachable: true, detail: 'connected' });

    await access.blockTraffic('node-a', { id: 'part1', peers: [ips['node-b']!], scope: 'other-nodes' });
    const cut = await access.canReach('node-a', { address: ips['node-b']!, port: PORT, timeoutMs: 500 });
    expect(cut.reachable, cut.detail).to.equal(false);
    expect(await connected('node-b', 'node-a', 1, 500)).to.have.length(0);
    expect(await connected('node-c', 'node-b')).to.have.length(1);
    expect(await connected('node-a', 'node-c')).to.have.length(1);

    await access.unblockTraffic('node-a', 'part1');
    expect((await access.canReach('node-a', { address: ips['node-b']!, port: PORT })).reachable).to.equal(true);
    expect(await connected('node-b', 'node-a')).to.have.length(1);
    const rules = await runCommand(['ip', 'netns', 'exec', net!.namespaces['node-a']!, 'iptables', '-S']);
    expect(rules.stdout).not.to.contain('GAMEDAY');
    await access.unblockTraffic('node-a', 'part1');
  });

  it('blocks only the direction asked for', async () => {
    const { access, ips } = net!;
    await access.blockTraffic('node-a', { id: 'egress1', peers: [`${ips['node-c']!}/32`], scope: 'other-nodes', direction: 'egress' });
    try {
      // Egress drops a's packets to c: neither side completes a handshake, since a's SYN-ACK to c is egress too.
      expect(await connected('node-a', 'node-c', 1, 500)).to.have.length(0);
      const rules = await runCommand(['ip', 'netns', 'exec', net!.namespaces['node-a']!, 'iptables', '-S', 'GAMEDAY-egress1']);
      expect(rules.stdout).to.contain(`-d ${ips['node-c']}/32 -j DROP`).and.not.to.contain('-s ');
    } finally {
      await access.unblockTraffic('node-a', 'egress1');
    }
    expect(await connected('node-a', 'node-c')).to.have.length(1);
  });

  it('drops a share of packets with a loss shaping, and stops once unshaped', async () => {
    const { access, ips } = net!;
    expect(await connected('node-a', 'node-b', 30, 400)).to.have.length(30);
    const shaped = await access.shapeTraffic('node-a', { id: 'loss1', lossPercent: 50, address: ips['node-a'] });
    try {
      expect(shaped.interface).to.equal('eth0');
      expect(await access.isShaping('node-a', 'loss1')).to.equal(true);
      // Each handshake crosses a's eth0 three times; at 50% loss about 7 in 8 fail (SYNs are retried after 1s, beyond the timeout).
      const through = await connected('node-a', 'node-b', 30, 400);
      expect(through.length).to.be.lessThan(30);
    } finally {
      await access.unshapeTraffic('node-a', 'loss1');
    }
    expect(await access.isShaping('node-a', 'loss1')).to.equal(false);
    expect(await connected('node-a', 'node-b', 30, 400)).to.have.length(30);
    await access.unshapeTraffic('node-a', 'loss1');
  });

  it('adds delay with netem so a measured round trip grows (skipped where the kernel has no sch_netem)', async function () {
    const { access, ips } = net!;
    const delayMs = 150;
    try {
      await access.shapeTraffic('node-a', { id: 'delay1', delayMs, address: ips['node-a'] });
    } catch (err) {
      if (/no netem/.test((err as Error).message)) {
        console.log(`      skipped: ${(err as Error).message}`);
        this.skip();
      }
      throw err;
    }
    try {
      expect(await access.isShaping('node-a', 'delay1')).to.equal(true);
      const times = await connected('node-a', 'node-b', 5, 3000);
      expect(times).to.have.length(5);
      expect(Math.min(...times)).to.be.greaterThan(delayMs - 20);
    } finally {
      await access.unshapeTraffic('node-a', 'delay1');
    }
    expect(await access.isShaping('node-a', 'delay1')).to.equal(false);
  });

  it('fills a real filesystem to a percentage or by bytes, and frees it', async () => {
    const { access, disk } = net!;
    const before = await access.diskUsage('node-a', disk);
    expect(before.capacityBytes).to.equal(16 * 2 ** 20);

    const fill = await access.fillDisk('node-a', { id: 'disk1', path: disk, percent: 90 });
    expect(fill.file).to.equal(`${disk}/gameday-fill-disk1`);
    const full = await access.diskUsage('node-a', disk);
    expect(full.usedBytes / full.capacityBytes).to.be.at.least(0.9);
    expect(full.usedBytes - before.usedBytes).to.be.at.least(fill.bytes);

    const more = await access.fillDisk('node-a', { id: 'disk2', path: disk, bytes: 512 * 2 ** 10 });
    expect(more.bytes).to.equal(512 * 2 ** 10);
    expect((await access.diskUsage('node-a', disk)).usedBytes).to.be.at.least(full.usedBytes + more.bytes);

    const capped = await access.fillDisk('node-a', { id: 'disk3', path: disk, bytes: 64 * 2 ** 20 });
    expect(capped.bytes).to.be.lessThan(64 * 2 ** 20);
    expect((await access.diskUsage('node-a', disk)).availableBytes).to.be.lessThan(64 * 1024);

    for (const id of ['disk1', 'disk2', 'disk3']) await access.freeDisk('node-a', { id, path: disk });
    expect((await access.diskUsage('node-a', disk)).usedBytes).to.equal(before.usedBytes);
    await access.freeDisk('node-a', { id: 'disk1', path: disk });
  });

  it('says why a command failed, naming the node and the command', async () => {
    const err = await net!.access.diskUsage('node-a', '/no/such/dir').then(() => undefined, (e: Error) => e);
    expect(err?.message).to.match(/^on node node-a, `df -B1 --output=size,used,avail \/no\/such\/dir` exited 1: .*No such file/);
  });
});
