import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CoreV1Api, KubeConfig, PatchStrategy, ServerConfiguration, createConfiguration, setHeaderOptions, type KubernetesObject } from '@kubernetes/client-node';
import { ApiRetryTally, retryTally } from '../../src/cluster/api-retries.js';
import { KubeWatch } from '../../src/cluster/kube-watch.js';
import { RetryingHttpLibrary, RetryingKubeConfig } from '../../src/cluster/retrying-http.js';
import { API_RETRY, backoffMs, type RetryOptions, type RetryPolicy } from '../../src/cluster/retry-policy.js';
import { outcomeOf, resourceAddress, type LostWrite } from '../../src/cluster/write-outcome.js';
import { HarnessError } from '../../src/core/errors.js';
import { parseApiFaults } from '../../src/sim/api/api-faults.js';
import { eventually } from '../support/eventually.js';
import { pod, startApi, type ApiHarness } from '../sim/api/api-harness.js';

/** Quick retries, so a test spends its time on behaviour rather than on waiting. */
const QUICK: RetryPolicy = { attempts: 10, firstMs: 5, maxMs: 40, giveUpAfterMs: 10_000 };

function coreApi(url: string, options: RetryOptions): CoreV1Api {
  const kc = new KubeConfig();
  kc.loadFromOptions({ clusters: [{ name: 'c', server: url, skipTLSVerify: true }], users: [{ name: 'u' }], contexts: [{ name: 'c', cluster: 'c', user: 'u' }], currentContext: 'c' });
  return new CoreV1Api(createConfiguration({ baseServer: new ServerConfiguration(url, {}), authMethods: { default: kc }, httpApi: new RetryingHttpLibrary(undefined, options) }));
}

describe('cluster: retries against a flaky API server', () => {
  describe('backoff', () => {
    it('draws each wait from zero up to a ceiling that doubles to the cap (full jitter)', () => {
      const ceiling = (retry: number) => Math.min(API_RETRY.maxMs, API_RETRY.firstMs * 2 ** retry);
      for (let retry = 0; retry < 8; retry++) {
        expect(backoffMs(API_RETRY, retry, () => 0)).to.equal(0);
        expect(backoffMs(API_RETRY, retry, () => 0.999999)).to.equal(ceiling(retry) - 1);
        expect(backoffMs(API_RETRY, retry, () => 0.5)).to.equal(ceiling(retry) / 2);
      }
      expect(ceiling(7)).to.equal(API_RETRY.maxMs);
    });
  });

  describe('re-reading a write whose answer was lost', () => {
    const pods = resourceAddress('/api/v1/namespaces/shop/pods')!;
    const web = resourceAddress('/api/v1/namespaces/shop/pods/web')!;
    const reading = (status: number, object?: object) => async () => ({ status, ...(object ? { object: object as never } : {}) });
    const lost = (write: Partial<LostWrite>): LostWrite => ({ method: 'PUT', address: web, contentType: 'application/json', body: undefined, ...write });

    it('reads where a request went from its path', () => {
      expect(resourceAddress('/api/v1/namespaces/shop/pods/web/eviction')).to.deep.equal({ collection: '/api/v1/namespaces/shop/pods', name: 'web', subresource: 'eviction' });
      expect(resourceAddress('/apis/apps/v1/namespaces/shop/deployments/web/scale')).to.deep.equal({ collection: '/apis/apps/v1/namespaces/shop/deployments', name: 'web', subresource: 'scale' });
      expect(resourceAddress('/api/v1/nodes/w1')).to.deep.equal({ collection: '/api/v1/nodes', name: 'w1' });
      expect(resourceAddress('/api/v1/namespaces/shop')).to.deep.equal({ collection: '/api/v1/namespaces', name: 'shop' });
    });

    it('a create is done only when the object of that name holds what was sent: no mark is put on it', async () => {
      const body = { metadata: { name: 'web', labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'gameday/web:1' }] } };
      const ours = { metadata: { name: 'web', uid: 'u1', labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'gameday/web:1', imagePullPolicy: 'IfNotPresent' }], restartPolicy: 'Always' } };
      const theirs = { metadata: { name: 'web', labels: { app: 'other' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } };
      expect(await outcomeOf(lost({ method: 'POST', address: pods, body }), reading(200, ours))).to.deep.equal({ kind: 'applied', object: ours });
      expect((await outcomeOf(lost({ method: 'POST', address: pods, body }), reading(200, theirs))).kind, "someone else's: the retry gets its AlreadyExists").to.equal('not-applied');
      expect((await outcomeOf(lost({ method: 'POST', address: pods, body }), reading(404))).kind).to.equal('not-applied');
      expect((await outcomeOf(lost({ method: 'POST', address: pods, body: { metadata: { generateName: 'web-' } } }), reading(404))).kind).to.equal('unknowable');
    });

    it('an update at a resourceVersion is sent again while the object still has it, done when it holds what was sent, unknowable otherwise', async () => {
      const body = { metadata: { name: 'web', resourceVersion: '5' }, spec: { replicas: 3 } };
      expect((await outcomeOf(lost({ body }), reading(200, { metadata: { resourceVersion: '5' }, spec: { replicas: 1 } }))).kind).to.equal('not-applied');
      expect((await outcomeOf(lost({ body }), reading(200, { metadata: { resourceVersion: '6' }, spec: { replicas: 3 } }))).kind).to.equal('applied');
      expect((await outcomeOf(lost({ body }), reading(200, { metadata: { resourceVersion: '7' }, spec: { replicas: 2 } }))).kind).to.equal('unknowable');
    });

    it('a patch is done when its effect shows; an eviction when the pod is gone or terminating', async () => {
      const merge = lost({ method: 'PATCH', contentType: 'application/merge-patch+json', body: { metadata: { labels: { cut: null, tier: 'front' } } } });
      expect((await outcomeOf(merge, reading(200, { metadata: { labels: { tier: 'front' } } }))).kind).to.equal('applied');
      expect((await outcomeOf(merge, reading(200, { metadata: { labels: { tier: 'front', cut: 'x' } } }))).kind).to.equal('not-applied');
      const evict = lost({ method: 'POST', address: { ...web, subresource: 'eviction' } });
      expect((await outcomeOf(evict, reading(404))).kind).to.equal('applied');
      expect((await outcomeOf(evict, reading(200, { metadata: { deletionTimestamp: '2026-01-01T00:00:00Z' } }))).kind).to.equal('applied');
      expect((await outcomeOf(evict, reading(200, { metadata: {} }))).kind).to.equal('not-applied');
    });
  });

  describe('Retry-After', () => {
    let server: http.Server;
    const arrivals: number[] = [];
    before(async () => {
      // Refuses the first request with 429 Retry-After: 1, as the max-in-flight filter does.
      server = http.createServer((req, res) => {
        arrivals.push(Date.now());
        if (arrivals.length === 1) {
          res.writeHead(429, { 'Retry-After': '1', 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'TooManyRequests', code: 429 }));
          return;
        }
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items: [] }));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('waits as long as the server says before sending again, even a write', async () => {
      const waits: number[] = [];
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      await coreApi(url, { policy: QUICK, onRetry: (_why, waitMs) => waits.push(waitMs) }).listNamespacedPod({ namespace: 'default' });
      expect(waits).to.deep.equal([1000]);
      expect(arrivals).to.have.length(2);
      expect(arrivals[1]! - arrivals[0]!).to.be.at.least(990);
    });
  });

  describe('writes and reads through the API fault mode', () => {
    let h: ApiHarness;
    afterEach(() => h.stop());

    it('creates each object once although answers are lost after the create was carried out', async () => {
      h = await startApi({ apiFaults: parseApiFaults('rate=0.5,kinds=timeout,reset,500,seed=9,hold=10ms,applied=0.7') });
      const tally = new ApiRetryTally();
      const core = coreApi(h.url, { policy: QUICK, tally });
      for (let i = 0; i < 30; i++) await core.createNamespacedPod({ namespace: 'default', body: pod(`web-${i}`) });
      const retried = tally.take();
      expect(Object.keys(retried).sort(), 'each retry counted by the answer that was lost, and each lost create re-read').to.deep.equal(['HTTP 500', 'HTTP 504', 'connection reset', 'write re-read']);
      // A create carried out before its answer was lost is found by re-reading it, and not sent again.
      expect(retried['write re-read'], 'every create carried out before its answer was lost was re-read').to.be.at.least(h.server.faults!.appliedFirst);
      expect(tally.take(), 'taking the counts starts them again').to.deep.equal({});
      const pods = [...h.store.scan('pods', { namespace: 'default' })];
      expect(pods.map((p) => p.metadata.name).sort()).to.deep.equal(Array.from({ length: 30 }, (_, i) => `web-${i}`).sort());
      expect(pods.every((p) => p.metadata.annotations === undefined), 'no mark of gameday on the objects').to.equal(true);
      expect(h.server.faults!.appliedFirst, 'some creates landed before their answer was lost').to.be.greaterThan(0);
    });

    it('patches and deletes under lost answers end as if each was sent once', async () => {
      h = await startApi({ apiFaults: parseApiFaults('rate=0.5,kinds=timeout,reset,500,503,seed=4,hold=10ms,applied=0.7') });
      for (let i = 0; i < 10; i++) h.store.create('pods', pod(`web-${i}`) as never);
      const core = coreApi(h.url, { policy: QUICK });
      const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
      for (let i = 0; i < 10; i++) await core.patchNamespacedPod({ namespace: 'default', name: `web-${i}`, body: { metadata: { labels: { tier: 'front' } } } }, merge);
      const patched = [...h.store.scan('pods', { namespace: 'default' })];
      expect(patched.map((p) => (p.metadata.labels as Record<string, string>).tier)).to.deep.equal(Array(10).fill('front'));
      for (let i = 0; i < 10; i++) await core.deleteNamespacedPod({ namespace: 'default', name: `web-${i}` });
      expect([...h.store.scan('pods', { namespace: 'default' })]).to.have.length(0);
      expect(h.server.faults!.appliedFirst).to.be.greaterThan(0);
    });

    it('ends a failure that persists as a HarnessError naming the request and the tries', async () => {
      h = await startApi({ apiFaults: parseApiFaults('rate=1,kinds=503,seed=1') });
      const err = await coreApi(h.url, { policy: { ...QUICK, attempts: 3 } }).listNamespacedPod({ namespace: 'default' }).then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(HarnessError);
      expect((err as Error).message).to.match(/^GET \/api\/v1\/namespaces\/default\/pods: still failing after 3 tries in \d+\.\ds: HTTP 503 ServiceUnavailable$/);
    });

    it('gives up on a write whose outcome cannot be told instead of sending it twice', async () => {
      h = await startApi({ apiFaults: parseApiFaults('rate=0.5,kinds=reset,seed=8,applied=0.5') });
      const core = coreApi(h.url, { policy: QUICK });
      const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
      const refusals: string[] = [];
      for (let i = 0; i < 12; i++) {
        h.store.create('pods', { ...pod(`web-${i}`), metadata: { ...pod(`web-${i}`).metadata, finalizers: ['example.com/first'] } } as never);
        // Appending to a list cannot be sent twice: if its answer is lost and the append is not visible, nobody can say.
        const append = [{ op: 'add', path: '/metadata/finalizers/-', value: 'example.com/x' }];
        await core.patchNamespacedPod({ namespace: 'default', name: `web-${i}`, body: append }, jsonPatch).catch((e: Error) => refusals.push(e.message));
      }
      expect(refusals.length, 'some appends lost their answer').to.be.greaterThan(0);
      for (const message of refusals) expect(message).to.match(/^PATCH \/api\/v1\/namespaces\/default\/pods\/web-\d+: .*not sent again, so as never to apply it twice$/);
      const finalizers = [...h.store.scan('pods', { namespace: 'default' })].map((p) => (p.metadata.finalizers as string[] | undefined) ?? []);
      for (const list of finalizers) expect(list.length, 'never appended twice').to.be.at.most(2);
      expect(finalizers.filter((list) => list.length === 2).length, 'the appends that were answered landed').to.be.at.least(12 - refusals.length);
    });

    it('a RetryingKubeConfig hands out typed clients that retry', async () => {
      h = await startApi({ apiFaults: parseApiFaults('rate=0.3,kinds=503,500,reset,seed=2') });
      const kc = new RetryingKubeConfig();
      kc.loadFromOptions({ clusters: [{ name: 'c', server: h.url, skipTLSVerify: true }], users: [{ name: 'u' }], contexts: [{ name: 'c', cluster: 'c', user: 'u' }], currentContext: 'c' });
      const core = kc.makeApiClient(CoreV1Api);
      for (let i = 0; i < 6; i++) expect((await core.listNamespace()).items.map((n) => n.metadata?.name)).to.include('default');
      const { counts } = h.server.faults!;
      expect(counts['503'] + counts['500'] + counts.reset).to.be.greaterThan(0);
      const failed = Object.fromEntries(Object.entries({ 'HTTP 503': counts['503'], 'HTTP 500': counts['500'], 'connection reset': counts.reset }).filter(([, n]) => n > 0));
      expect(retryTally(kc).take(), 'every failed read was tried again, and counted where the run reads it').to.deep.equal(failed);
    });

    it('a watch re-lists after 410 and re-watches after an early end, its cache whole', async () => {
      h = await startApi({ apiFaults: parseApiFaults('rate=0.4,kinds=watch-end,410,503,500,seed=6') });
      const retries: string[] = [];
      const watch = new KubeWatch<KubernetesObject>({ kubeConfig: h.kc, path: '/api/v1/namespaces/default/pods', onChange: () => {}, onRetry: (m) => retries.push(m), onGiveUp: (e) => retries.push(`gave up: ${e.message}`) });
      await watch.start();
      try {
        for (let i = 0; i < 6; i++) {
          h.store.create('pods', pod(`web-${i}`) as never);
          await new Promise((r) => setTimeout(r, 400));
        }
        await eventually('the watch cache to hold all six pods', () => watch.list().length === 6, 15_000);
        expect(h.server.faults!.counts['410'] + h.server.faults!.counts['watch-end'], 'the watch met its faults').to.be.greaterThan(0);
        expect(retries.filter((r) => r.startsWith('gave up'))).to.deep.equal([]);
        const counted = retryTally(h.kc).take();
        expect(counted['re-list after 410'] ?? 0, 'each 410 re-listed, and counted').to.equal(h.server.faults!.counts['410']);
        expect(counted['broken watch'] ?? 0, 'each broken watch counted').to.equal(retries.length);
      } finally {
        await watch.stop();
      }
    });
  });
});
