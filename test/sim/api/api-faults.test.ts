import { expect } from 'chai';
import { API_FAULT_KINDS, ApiFaultInjector, parseApiFaults, type ApiFaultKind, type FaultableRequest } from '../../../src/sim/api/api-faults.js';
import { pod, rawRequest, startApi, type ApiHarness } from './api-harness.js';

const PODS = '/api/v1/namespaces/default/pods';

/** A server that fails every faultable request with `kind` (rate 1). */
async function failingWith(kind: ApiFaultKind, extra = ''): Promise<ApiHarness> {
  return startApi({ apiFaults: parseApiFaults(`rate=1,kinds=${kind},seed=1,hold=50ms${extra}`) });
}

async function watchLines(url: string, path: string): Promise<{ status: number; lines: { type: string; object: { code?: number; reason?: string; message?: string } }[] }> {
  const res = await fetch(url + path);
  const text = await res.text();
  return { status: res.status, lines: text.split('\n').filter(Boolean).map((l) => JSON.parse(l)) };
}

describe('sim api: API fault mode', () => {
  describe('the --api-faults text', () => {
    it('reads a rate, a list of kinds and the optional settings', () => {
      const s = parseApiFaults('rate=0.1,kinds=500,503,timeout,seed=7,hold=2s,applied=0.25');
      expect(s).to.deep.equal({ rate: 0.1, kinds: ['500', '503', 'timeout'], seed: 7, holdMs: 2000, appliedShare: 0.25, watchEndSeconds: 1 });
      expect(parseApiFaults('rate=0.1').kinds).to.deep.equal([...API_FAULT_KINDS]);
    });

    it('names the bad setting and what to give', () => {
      expect(() => parseApiFaults('kinds=500')).to.throw('rate is missing');
      expect(() => parseApiFaults('rate=1.5')).to.throw('rate=1.5: give a share from 0 to 1');
      expect(() => parseApiFaults('rate=0.1,kinds=500,418')).to.throw('kinds: "418" is not a fault kind');
      expect(() => parseApiFaults('rate=0.1,often=1')).to.throw('unknown setting "often"');
      expect(() => parseApiFaults('rate=0.1,hold=soon')).to.throw('hold=soon: give a duration');
    });
  });

  describe('choices', () => {
    const requests: FaultableRequest[] = Array.from({ length: 2000 }, (_, i) => ({ method: i % 3 === 0 ? 'POST' : 'GET', watch: i % 5 === 0, ...(i % 10 === 0 ? { resumesFrom: '42' } : {}) }));

    it('replays the same faults from the same seed, and others from another', () => {
      const run = (seed: number) => {
        const injector = new ApiFaultInjector(parseApiFaults(`rate=0.1,seed=${seed}`));
        return requests.map((r) => injector.decide(r));
      };
      expect(run(11)).to.deep.equal(run(11));
      expect(run(11)).to.not.deep.equal(run(12));
    });

    it('fails about the chosen share, every kind among them, each only where it fits', () => {
      const injector = new ApiFaultInjector(parseApiFaults('rate=0.1,seed=3'));
      const decided = requests.map((r) => ({ r, fault: injector.decide(r) }));
      const failed = decided.filter((d) => d.fault);
      expect(failed.length).to.be.within(150, 250);
      for (const kind of API_FAULT_KINDS) expect(injector.counts[kind], kind).to.be.greaterThan(0);
      for (const { r, fault } of failed) {
        if (fault!.kind === 'timeout') expect(r.watch).to.equal(false);
        if (fault!.kind === 'watch-end') expect(r.watch).to.equal(true);
        if (fault!.kind === '410') expect(r.resumesFrom).to.equal('42');
        if (fault!.appliedFirst) expect(r.method).to.equal('POST');
      }
      expect(failed.some((d) => d.fault!.appliedFirst)).to.equal(true);
    });
  });

  describe('answers', () => {
    let h: ApiHarness | undefined;
    afterEach(async () => {
      await h?.stop();
      h = undefined;
    });

    it('500 and 503 carry the Status the real server writes', async () => {
      h = await failingWith('500');
      const internal = await rawRequest(h.url, 'GET', PODS);
      expect(internal.status).to.equal(500);
      expect(internal.json).to.deep.include({ kind: 'Status', status: 'Failure', reason: 'InternalError', code: 500 });
      await h.stop();
      h = await failingWith('503');
      const unavailable = await rawRequest(h.url, 'GET', PODS);
      expect(unavailable.json).to.deep.include({ reason: 'ServiceUnavailable', code: 503 });
    });

    it('429 says when to come back, in the header and the Status', async () => {
      h = await failingWith('429');
      const res = await rawRequest(h.url, 'POST', PODS, pod('web'));
      expect(res.status).to.equal(429);
      expect(res.headers.get('retry-after')).to.equal('1');
      expect(res.json).to.deep.include({ reason: 'TooManyRequests', details: { retryAfterSeconds: 1 } });
      expect(h.store.get('pods', 'default', 'web'), 'a 429 is answered before the work').to.equal(undefined);
    });

    it('a timeout holds the request, then answers 504 Timeout; a write applied first is in the store', async () => {
      h = await failingWith('timeout', ',applied=1');
      const res = await rawRequest(h.url, 'POST', PODS, pod('web'));
      expect(res.status).to.equal(504);
      expect(res.json).to.deep.include({ reason: 'Timeout', message: 'Timeout: request did not complete within the allotted timeout' });
      expect(h.store.get('pods', 'default', 'web'), 'the outcome-unknown write landed').to.not.equal(undefined);
    });

    it('a reset drops the connection without an answer; a write not applied first is not in the store', async () => {
      h = await failingWith('reset', ',applied=0');
      const err = await rawRequest(h.url, 'POST', PODS, pod('web')).then(() => undefined, (e: Error) => e);
      expect(err, 'the request got no answer').to.be.instanceOf(Error);
      expect(h.store.get('pods', 'default', 'web')).to.equal(undefined);
    });

    it('a watch is ended early, cleanly, and a re-watch from a resourceVersion gets 410 Expired', async () => {
      h = await failingWith('watch-end');
      const ended = await watchLines(h.url, `${PODS}?watch=true`);
      expect(ended.status).to.equal(200);
      expect(ended.lines.filter((l) => l.type === 'ERROR')).to.deep.equal([]);
      await h.stop();
      h = await failingWith('410');
      h.store.create('pods', pod('web') as never);
      const rewatch = await watchLines(h.url, `${PODS}?watch=true&resourceVersion=1`);
      expect(rewatch.lines).to.have.length(1);
      expect(rewatch.lines[0]!.type).to.equal('ERROR');
      expect(rewatch.lines[0]!.object).to.deep.include({ code: 410, reason: 'Expired' });
      expect(rewatch.lines[0]!.object.message).to.match(/^too old resource version: 1 \(\d+\)$/);
    });

    it('leaves discovery and the service proxy alone', async () => {
      h = await failingWith('500');
      expect((await rawRequest(h.url, 'GET', '/version')).status).to.equal(200);
      expect((await rawRequest(h.url, 'GET', '/api/v1')).status).to.equal(200);
      expect((await rawRequest(h.url, 'GET', '/api/v1/namespaces/default/services/web:80/proxy/')).json).to.deep.include({ code: 503, reason: 'ServiceUnavailable' }, 'the proxy hook is absent here, so its own 503');
      expect(h.server.faults!.counts['500']).to.equal(0);
    });
  });
});
