import { expect } from 'chai';
import { ObjectJson } from '../../../src/sim/api/object-json.js';
import { findResource } from '../../../src/sim/api/resources.js';
import { ObjectStore, type StoredObject } from '../../../src/sim/store.js';
import { pod, rawRequest, startApi } from './api-harness.js';

const PODS = findResource('', 'v1', 'pods')!;

/** Edits a stored object in place, which only the store may do: how a test sees which text is served from memory. */
function editInPlace(o: StoredObject): void {
  o.metadata.labels = { ...o.metadata.labels, edited: 'in-place' };
}

describe('sim api: the JSON kept of each object', () => {
  it('is kept for the version the store holds, and dropped once that version is replaced or removed', () => {
    const store = new ObjectStore();
    const json = new ObjectJson(store);
    try {
      const first = store.create('pods', pod('web') as never);
      const text = json.text(PODS, first);
      expect(JSON.parse(text)).to.deep.equal(JSON.parse(JSON.stringify(first)));
      editInPlace(first);
      expect(json.text(PODS, first), 'the current version is served from its kept text').to.equal(text);

      const second = store.mutate('pods', 'default', 'web', (o) => void ((o.metadata.labels ??= {}).app = 'web'))!;
      expect(JSON.parse(json.text(PODS, first)).metadata.labels, 'a replaced version keeps no text').to.deep.equal({ edited: 'in-place' });
      expect(JSON.parse(json.text(PODS, second)).metadata.labels).to.deep.equal({ edited: 'in-place', app: 'web' });

      const secondText = json.text(PODS, second);
      store.remove('pods', 'default', 'web');
      editInPlace(second);
      second.metadata.labels!.edited = 'after removal';
      expect(json.text(PODS, second), 'a removed version keeps no text').to.not.equal(secondText);

      const unstored = pod('dry-run') as unknown as StoredObject;
      json.text(PODS, unstored);
      editInPlace(unstored);
      expect(JSON.parse(json.text(PODS, unstored)).metadata.labels, 'an object the store does not hold is never kept').to.deep.equal({ edited: 'in-place' });
    } finally {
      json.stop();
    }
  });

  it('a LIST reuses, in order, the texts a GET or a watcher made, and keeps none of its own', () => {
    const store = new ObjectStore();
    const json = new ObjectJson(store);
    try {
      const [a, b, c] = ['a', 'b', 'c'].map((name) => store.create('pods', pod(name) as never));
      json.text(PODS, b!);
      for (const o of [a!, b!, c!]) editInPlace(o);
      const listed = (JSON.parse(`[${[...json.listPieces(PODS, [a!, b!, c!])].join(',')}]`) as StoredObject[]).map((p) => `${p.metadata.name}:${p.metadata.labels?.edited ?? '-'}`);
      expect(listed, 'b from the text its GET made; a and c serialized as they are now').to.deep.equal(['a:in-place', 'b:-', 'c:in-place']);
      a!.metadata.labels!.edited = 'again';
      expect(JSON.parse(json.text(PODS, a!)).metadata.labels.edited, 'the LIST kept no text of a').to.equal('again');
    } finally {
      json.stop();
    }
  });

  it('a LIST served again shows every change since, as pages and selectors do', async () => {
    const h = await startApi();
    try {
      for (const name of ['a', 'b', 'c']) h.store.create('pods', pod(name, { app: 'web' }) as never);
      const names = async (query = ''): Promise<string[]> => ((await rawRequest(h.url, 'GET', `/api/v1/namespaces/default/pods${query}`)).json.items as StoredObject[]).map((p) => `${p.metadata.name}:${p.metadata.labels?.tier ?? '-'}`);
      expect(await names()).to.deep.equal(['a:-', 'b:-', 'c:-']);
      h.store.mutate('pods', 'default', 'b', (o) => void (o.metadata.labels!.tier = 'front'));
      h.store.remove('pods', 'default', 'c');
      h.store.create('pods', pod('d', { app: 'web' }) as never);
      expect(await names()).to.deep.equal(['a:-', 'b:front', 'd:-']);
      expect(await names('?labelSelector=tier%3Dfront')).to.deep.equal(['b:front']);
      const page = await rawRequest(h.url, 'GET', '/api/v1/namespaces/default/pods?limit=2');
      expect((page.json.items as StoredObject[]).map((p) => p.metadata.name)).to.deep.equal(['a', 'b']);
      expect(await names(`?limit=2&continue=${encodeURIComponent(page.json.metadata.continue as string)}`)).to.deep.equal(['d:-']);
      const one = await rawRequest(h.url, 'GET', '/api/v1/namespaces/default/pods/b');
      expect(one.json.metadata.resourceVersion).to.equal(h.store.get('pods', 'default', 'b')!.metadata.resourceVersion);

      // A list goes out a few dozen objects to a write: many writes here, one of them from a GET's kept text.
      const configMaps = Array.from({ length: 600 }, (_, i) => `cm-${String(i).padStart(3, '0')}`);
      for (const name of configMaps) h.store.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { blob: 'x'.repeat(500) } } as never);
      await rawRequest(h.url, 'GET', '/api/v1/namespaces/default/configmaps/cm-300');
      const big = await rawRequest(h.url, 'GET', '/api/v1/namespaces/default/configmaps');
      expect(big.text.length).to.be.greaterThan(300_000);
      expect((big.json.items as StoredObject[]).map((c) => c.metadata.name)).to.deep.equal(configMaps);
    } finally {
      await h.stop();
    }
  });
});
