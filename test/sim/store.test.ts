import { expect } from 'chai';
import { jsonClone, jsonEqual, shareUnchanged } from '../../src/sim/json-value.js';
import { ObjectStore, StoreError, type StoredObject } from '../../src/sim/store.js';

const pod = (namespace: string, name: string, extra: Record<string, unknown> = {}): StoredObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace, uid: '', resourceVersion: '', creationTimestamp: '' },
  spec: { containers: [{ name: 'c', image: 'gameday/web:1' }] },
  ...extra,
});

const names = (store: ObjectStore, namespace?: string): string[] => store.list('pods', namespace).map((o) => ObjectStore.keyOf(o));

describe('sim object store', () => {
  it('lists in key order across creates, deletes and re-creates between reads', () => {
    const store = new ObjectStore();
    for (const n of ['m', 'c', 'x', 'a']) store.create('pods', pod('default', n));
    expect(names(store)).to.deep.equal(['default/a', 'default/c', 'default/m', 'default/x']);
    store.remove('pods', 'default', 'c');
    store.create('pods', pod('default', 'b'));
    store.create('pods', pod('kube-system', 'z'));
    store.remove('pods', 'default', 'x');
    store.create('pods', pod('default', 'x'));
    store.create('pods', pod('default', 'n'));
    store.remove('pods', 'default', 'n');
    expect(names(store)).to.deep.equal(['default/a', 'default/b', 'default/m', 'default/x', 'kube-system/z']);
    expect(names(store, 'default')).to.deep.equal(['default/a', 'default/b', 'default/m', 'default/x']);
    expect([...store.scan('pods', { afterKey: 'default/m' })].map((o) => o.metadata.name)).to.deep.equal(['x', 'z']);
  });

  it('keeps a scan going over the keys it started with while objects come and go', () => {
    const store = new ObjectStore();
    for (const n of ['a', 'b', 'c']) store.create('pods', pod('default', n));
    const seen: string[] = [];
    for (const o of store.scan('pods')) {
      seen.push(o.metadata.name);
      if (o.metadata.name === 'a') {
        store.remove('pods', 'default', 'b');
        store.create('pods', pod('default', 'bb'));
        expect(names(store)).to.deep.equal(['default/a', 'default/bb', 'default/c']);
      }
    }
    expect(seen).to.deep.equal(['a', 'c']);
  });

  it('resumes a watch from any version the bounded history still holds, and expires older ones', () => {
    const store = new ObjectStore({ historySize: 3 });
    for (let i = 0; i < 10; i++) store.create('pods', pod('default', `p${i}`));
    // Versions 2..11 were written; the last three events (rv 9, 10, 11) are kept.
    expect(store.oldestResumableVersion).to.equal(8);
    expect(store.changesSince('pods', 8).map((e) => e.object.metadata.name)).to.deep.equal(['p7', 'p8', 'p9']);
    expect(store.changesSince('pods', 10).map((e) => e.object.metadata.name)).to.deep.equal(['p9']);
    expect(() => store.changesSince('pods', 7)).to.throw(StoreError, 'too old resource version: 7 (8)');
  });

  it('writes a mutation only when the object changed, and bumps generation only for a new spec', () => {
    const store = new ObjectStore();
    const created = store.create('pods', pod('default', 'a'));
    const seen: string[] = [];
    store.subscribe('pods', (e) => seen.push(e.type));
    expect(store.mutate('pods', 'default', 'a', (p) => void (p.metadata.labels = undefined))).to.equal(created);
    const relabelled = store.mutate('pods', 'default', 'a', (p) => void (p.metadata.labels = { app: 'web' }))!;
    expect(relabelled.metadata.generation).to.equal(1);
    const respecced = store.mutate('pods', 'default', 'a', (p) => void ((p.spec as { nodeName?: string }).nodeName = 'n1'))!;
    expect(respecced.metadata.generation).to.equal(2);
    expect(seen).to.deep.equal(['MODIFIED', 'MODIFIED']);
    const gone = store.remove('pods', 'default', 'a')!;
    expect(gone.metadata.resourceVersion).to.equal(String(store.resourceVersion));
    expect(respecced.metadata.resourceVersion).to.not.equal(gone.metadata.resourceVersion);
  });
});

describe('jsonEqual', () => {
  const cases: [unknown, unknown][] = [
    [{ a: 1, b: [1, { c: 'x' }] }, { a: 1, b: [1, { c: 'x' }] }],
    [{ a: 1, b: 2 }, { b: 2, a: 1 }],
    [{ a: 1, u: undefined }, { a: 1 }],
    [[undefined], [null]],
    [{ a: NaN }, { a: null }],
    [{ a: [] }, { a: {} }],
    [{ a: null }, {}],
    [undefined, null],
    [0, -0],
    ['1', 1],
    [{ a: { b: { c: [1, 2, 3] } } }, { a: { b: { c: [1, 2] } } }],
  ];
  for (const [a, b] of cases) {
    it(`agrees with JSON.stringify on ${JSON.stringify(a)} vs ${JSON.stringify(b)}`, () => {
      expect(jsonEqual(a, b)).to.equal(JSON.stringify(a) === JSON.stringify(b));
      expect(jsonEqual(b, a)).to.equal(JSON.stringify(a) === JSON.stringify(b));
    });
  }
});

describe('jsonClone', () => {
  it('copies every level, so editing the copy leaves the original alone', () => {
    const original = { a: [1, { b: 'x', u: undefined }], c: { d: null, e: true }, when: new Date(0) };
    const copy = jsonClone(original);
    expect(copy).to.deep.equal(original);
    (copy.a[1] as { b: string }).b = 'y';
    copy.c.e = false;
    copy.when.setTime(1);
    expect(original).to.deep.equal({ a: [1, { b: 'x', u: undefined }], c: { d: null, e: true }, when: new Date(0) });
    expect(Object.keys(copy.a[1] as object)).to.deep.equal(['b', 'u']);
  });
});

describe('shareUnchanged', () => {
  it('agrees with jsonEqual and hands the next version the previous one\'s unchanged parts', () => {
    const previous = { metadata: { name: 'a', labels: { app: 'web' } }, spec: { containers: [{ name: 'c' }, { name: 'd' }] }, status: { phase: 'Pending' } };
    const next = jsonClone(previous);
    next.status.phase = 'Running';
    next.spec.containers[1]!.name = 'e';
    expect(shareUnchanged(next, previous)).to.equal(false);
    expect(next.metadata).to.equal(previous.metadata);
    expect(next.spec.containers[0]).to.equal(previous.spec.containers[0]);
    expect(next.spec.containers).to.not.equal(previous.spec.containers);
    expect(next.status).to.not.equal(previous.status);
    expect(next).to.deep.equal({ metadata: { name: 'a', labels: { app: 'web' } }, spec: { containers: [{ name: 'c' }, { name: 'e' }] }, status: { phase: 'Running' } });
    expect(previous.spec.containers[1]!.name).to.equal('d');
    const same = jsonClone(previous);
    expect(shareUnchanged(same, previous)).to.equal(true);
    expect(shareUnchanged({ a: 1, b: 2 }, { b: 2, a: 1 })).to.equal(false);
    expect(shareUnchanged({ a: 1 }, { a: 1, b: 2 })).to.equal(false);
    expect(shareUnchanged({ a: 1, u: undefined }, { a: 1 })).to.equal(true);
  });

  it('keeps a stored version as it was when a mutation leaves its metadata alone', () => {
    const store = new ObjectStore();
    const first = store.create('pods', pod('default', 'a'));
    const rv = first.metadata.resourceVersion;
    const second = store.mutate('pods', 'default', 'a', (p) => void (p.status = { phase: 'Running' }))!;
    expect(first.metadata.resourceVersion).to.equal(rv);
    expect(second.metadata.resourceVersion).to.not.equal(rv);
    expect(second.spec).to.equal(first.spec);
  });
});
