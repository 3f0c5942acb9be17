import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type * as k8s from '@kubernetes/client-node';
import type { Sample } from '../../src/core/sample.js';
import { consistencyProbe } from '../../src/probes/consistency/probe.js';
import { startSim, type SimClients } from '../sim/sim-fixture.js';
import { eventually } from '../support/eventually.js';
import { httpService, kvStatefulSet, namespace } from '../support/kube-objects.js';
import { createAll, startProbe, type StartedProbe } from './probe-harness.js';

/** A gameday/kv StatefulSet whose leader replicates as the knobs say. */
function replicatedKv(name: string, env: Record<string, string>): k8s.V1StatefulSet {
  const set = kvStatefulSet(name, { namespace: 'shop', podManagementPolicy: 'Parallel' });
  set.spec!.template.spec!.containers[0]!.env = Object.entries(env).map(([n, value]) => ({ name: n, value }));
  return set;
}

const kvParams = (service: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  put: { url: `service:shop/${service}:80/kv/{key}`, body: '{value}' },
  get: { url: `service:shop/${service}:80/kv/{key}` },
  list: { url: `service:shop/${service}:80/kv?prefix={prefix}` },
  rate: '20/s',
  ...extra,
});

const ofOp = (samples: readonly Sample[], op: string): Sample[] => samples.filter((s) => s.detail?.op === op);
const lostKeys = (samples: readonly Sample[]): string[] => samples.filter((s) => s.error === 'lost').map((s) => s.detail!.key as string);

describe('consistency probe (embedded cluster, gameday/kv replication; a loopback key-value server)', function () {
  this.timeout(60_000);
  let sim: SimClients;

  before(async () => {
    sim = await startSim();
    await createAll(sim.kubeConfig, [
      namespace('shop'),
      replicatedKv('sync', { GAMEDAY_KV_REPLICATION: 'sync' }),
      httpService('sync', { namespace: 'shop' }),
      replicatedKv('async', { GAMEDAY_KV_REPLICATION: 'async', GAMEDAY_KV_REPLICATION_DELAY: '500ms' }),
      httpService('async', { namespace: 'shop' }),
    ]);
    for (const name of ['sync', 'async']) {
      await eventually(`3 ready ${name} members`, async () => ((await sim.apps.readNamespacedStatefulSet({ namespace: 'shop', name })).status?.readyReplicas ?? 0) >= 3);
    }
  });
  after(() => sim.cluster.stop());

  const leaderOf = async (lease: string): Promise<string> =>
    ((await sim.coordination.readNamespacedLease({ namespace: 'shop', name: lease })).spec?.holderIdentity ?? '').replace(/_[^_]*$/, '');

  /** Writes until some are acknowledged, kills the leader at once (no grace), writes on until the new leader acknowledges, verifies. */
  async function killLeaderUnderWrites(service: string): Promise<{ probe: StartedProbe; ackedBeforeFailover: string[] }> {
    const probe = await startProbe(consistencyProbe, kvParams(service), sim.kubeConfig, { name: 'orders' });
    const acked = (): Sample[] => ofOp(probe.samples, 'write').filter((s) => s.ok);
    await eventually('20 acknowledged writes', () => acked().length >= 20);
    const old = await leaderOf(`${service}-leader`);
    await sim.core.deleteNamespacedPod({ namespace: 'shop', name: old, gracePeriodSeconds: 0 });
    await eventually('a new leader', async () => (await leaderOf(`${service}-leader`)) !== old);
    const ackedBeforeFailover = acked().map((s) => s.detail!.key as string);
    const ackedThen = acked().length;
    await eventually('writes acknowledged by the new leader', () => acked().length >= ackedThen + 10);
    await probe.stop();
    return { probe, ackedBeforeFailover };
  }

  it('sync replication: a leader killed under writes loses no acknowledged write; every record is verified, and replication lag is measured', async () => {
    const { probe } = await killLeaderUnderWrites('sync');
    const writes = ofOp(probe.samples, 'write');
    const acked = writes.filter((s) => s.ok);
    expect(writes.some((s) => !s.ok), 'writes refused while no leader held the lease').to.equal(true);
    const verified = ofOp(probe.samples, 'verify');
    expect(verified.map((s) => s.detail!.key).sort()).to.deep.equal(acked.map((s) => s.detail!.key).sort());
    expect(lostKeys(probe.samples)).to.deep.equal([]);
    expect(probe.samples.filter((s) => s.error === 'duplicate')).to.deep.equal([]);
    const lags = ofOp(probe.samples, 'lag');
    expect(lags.length).to.be.greaterThan(0);
    expect(lags.every((s) => typeof s.value === 'number' && s.value >= 0)).to.equal(true);
    expect(probe.logs.at(-1)).to.match(new RegExp(`^${writes.length} writes, ${acked.length} acknowledged, 0 lost, 0 duplicated, \\d+ stale reads; lag p50`));
  });

  it('async replication with a 500ms delay: a leader killed under writes loses acknowledged writes, each named by its key; followers serve stale reads until the delay passes', async () => {
    const { probe, ackedBeforeFailover } = await killLeaderUnderWrites('async');
    const lost = lostKeys(probe.samples);
    expect(lost.length).to.be.greaterThan(0);
    // What the dead leader acknowledged but had not shipped yet: nothing the new leader acknowledged.
    expect(ackedBeforeFailover).to.include.members(lost);
    const lostSample = probe.samples.find((s) => s.error === 'lost')!;
    expect(lostSample.detail).to.include({ op: 'verify', found: 'missing' });
    expect(probe.logs.at(-1)).to.contain(`${lost.length} lost (${[...lost].sort().slice(0, 3).join(', ')}`);
    const stale = probe.samples.filter((s) => s.error === 'stale');
    expect(stale.length).to.be.greaterThan(0);
    expect(stale[0]!.detail).to.include({ op: 'read', status: 404 });
    expect(stale[0]!.detail!.replica).to.match(/^async-[012]$/);
  });

  describe('against any key-value HTTP API (a loopback server)', () => {
    let server: http.Server;
    let base: string;
    const data = new Map<string, string>();
    const dropped = 'o-000003';

    before(async () => {
      server = http.createServer((req, res) => {
        const url = new URL(req.url!, 'http://x');
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          const key = url.searchParams.get('k') ?? '';
          if (req.method === 'POST' && url.pathname === '/put') {
            const { id, payload } = JSON.parse(body) as { id: string; payload: string };
            // The store acknowledges every write, and loses one.
            if (id !== dropped) data.set(id, payload);
            res.writeHead(201).end();
          } else if (url.pathname === '/get-gone') {
            // What the API server's service proxy answers while the Service is deleted: not the store's 404.
            res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'services "orders" not found', reason: 'NotFound', details: { name: 'orders', kind: 'services' }, code: 404 }));
          } else if (url.pathname === '/get') {
            const v = data.get(key);
            res.writeHead(v === undefined ? 404 : 200, { 'x-served-by': 'only' }).end(v ?? '');
          } else {
            // Every record twice: a store that applied a retried write again.
            const all = [...data.values()];
            res.writeHead(200, { 'content-type': 'text/plain' }).end([...all, ...all].join('\n'));
          }
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('fills URL and body templates, counts a value listed twice as a duplicate, and names a write the store acknowledged but dropped', async () => {
      const probe = await startProbe(
        consistencyProbe,
        {
          put: { method: 'POST', url: `${base}/put`, body: '{"id":"{key}","payload":"{value}"}', headers: { 'content-type': 'application/json' } },
          get: { url: `${base}/get?k={key}` },
          list: { url: `${base}/list?prefix={prefix}` },
          rate: '50/s',
          keyPrefix: 'o-',
          replicaHeader: 'x-served-by',
          readEvery: '0s',
          quiesce: '0s',
        },
        sim.kubeConfig,
      );
      await eventually('5 writes', () => ofOp(probe.samples, 'write').length >= 5);
      await probe.stop();
      expect(lostKeys(probe.samples)).to.deep.equal([dropped]);
      const duplicates = probe.samples.filter((s) => s.error === 'duplicate');
      expect(duplicates.map((s) => s.detail!.key)).to.deep.equal([...data.keys()].sort());
      expect(duplicates[0]).to.deep.include({ value: 2 });
      expect(ofOp(probe.samples, 'read'), 'readEvery 0s: no read-backs').to.deep.equal([]);
    });

    it("does not count the API server's 404 for a deleted Service as a stale read: it says nothing about the record", async () => {
      const probe = await startProbe(
        consistencyProbe,
        { put: { url: `${base}/put`, method: 'POST', body: '{"id":"{key}","payload":"{value}"}' }, get: { url: `${base}/get-gone?k={key}` }, keyPrefix: 'gone-', readEvery: '20ms', quiesce: '0s' },
        sim.kubeConfig,
      );
      await eventually('read-backs', () => ofOp(probe.samples, 'read').length >= 3);
      await probe.stop();
      const reads = ofOp(probe.samples, 'read');
      expect(reads.filter((s) => s.error === 'stale')).to.deep.equal([]);
      expect(reads.every((s) => s.error === 'status-404-from-the-api-server')).to.equal(true);
    });

    it('with verifyAfter, stops writing and verifies then, once, without waiting for the run to end', async () => {
      const probe = await startProbe(
        consistencyProbe,
        { put: { url: `${base}/put`, method: 'POST', body: '{"id":"{key}","payload":"{value}"}' }, get: { url: `${base}/get?k={key}` }, keyPrefix: 'early-', verifyAfter: '300ms', quiesce: '0s', readEvery: '0s' },
        sim.kubeConfig,
      );
      const summary = await eventually('verification', () => probe.logs.find((l) => / writes, \d+ acknowledged/.test(l)));
      const written = ofOp(probe.samples, 'write').length;
      expect(summary).to.match(new RegExp(`^${written} writes, ${written} acknowledged, 0 lost, duplicates not checked \\(no list request\\)`));
      await probe.stop();
      expect(ofOp(probe.samples, 'write')).to.have.length(written);
      expect(ofOp(probe.samples, 'verify')).to.have.length(written);
      expect(probe.logs.filter((l) => l === summary)).to.have.length(1);
    });
  });

  it('rejects templates that cannot name a record, saying what to write', () => {
    const noKey = consistencyProbe.params.safeParse({ put: { url: 'service:shop/db:80/kv', body: '{value}' }, get: { url: 'service:shop/db:80/kv/{key}' } });
    expect(noKey.error?.issues[0]?.message).to.contain('put must carry {key} and {value}');
    const badUrl = consistencyProbe.params.safeParse({ put: { url: 'shop/db/kv/{key}', body: '{value}' }, get: { url: 'service:shop/db:80/kv/{key}' } });
    expect(badUrl.error?.issues[0]?.message).to.contain('is neither service:namespace/name:port/path');
  });
});
