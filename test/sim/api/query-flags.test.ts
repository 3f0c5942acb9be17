import * as k8s from '@kubernetes/client-node';
import { expect } from 'chai';
import { queryFlag } from '../../../src/sim/api/query-flag.js';
import { pod, rawRequest, startApi, type ApiHarness } from './api-harness.js';

describe('sim api: boolean query parameters', () => {
  it('decodes them as the real API server does: only 0 and false in any casing are false', () => {
    const decoded = (value: string) => queryFlag(new URLSearchParams(`x=${value}`), 'x');
    for (const t of ['true', 'True', 'TRUE', 't', 'T', '1', 'yes', '']) expect(decoded(t), JSON.stringify(t)).to.equal(true);
    for (const f of ['false', 'False', 'FALSE', 'fAlSe', '0']) expect(decoded(f), f).to.equal(false);
    expect(queryFlag(new URLSearchParams(''), 'x')).to.equal(false);
  });

  describe('over HTTP', () => {
    let h: ApiHarness;

    beforeEach(async () => {
      h = await startApi();
      await h.kc.makeApiClient(k8s.CoreV1Api).createNamespacedPod({ namespace: 'default', body: pod('a') });
    });
    afterEach(() => h.stop());

    const events = async (query: string) => {
      const { status, text } = await rawRequest(h.url, 'GET', `/api/v1/namespaces/default/pods?${query}`);
      expect(status).to.equal(200);
      return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; object: { metadata: { name: string } } });
    };

    it('watches for watch=True, as the Python client sends it, and for watch=T', async () => {
      for (const value of ['True', 'T']) {
        const lines = await events(`watch=${value}&timeoutSeconds=1`);
        expect(lines.map((l) => [l.type, l.object.metadata.name]), value).to.deep.equal([['ADDED', 'a']]);
      }
    });

    it('lists for watch=False and watch=0', async () => {
      for (const value of ['False', '0']) {
        const [list] = await events(`watch=${value}`);
        expect((list as unknown as { kind: string }).kind, value).to.equal('PodList');
      }
    });

    it('honours allowWatchBookmarks=True and sendInitialEvents=True', async () => {
      const lines = await events('watch=True&sendInitialEvents=True&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=True&timeoutSeconds=1');
      expect(lines.map((l) => l.type)).to.deep.equal(['ADDED', 'BOOKMARK']);
    });
  });
});
