import type { LooseJson } from '../../../src/sim/api/loose-json.js';
import * as k8s from '@kubernetes/client-node';
import { expect } from 'chai';
import http from 'node:http';
import { ObjectStore, type StoredObject } from '../../../src/sim/store.js';
import { eventually } from '../../support/eventually.js';
import { pod, startApi, type ApiHarness } from './api-harness.js';

interface Line {
  type: string;
  object: LooseJson;
}

/** Reads a watch response line by line until `until` says stop (or the server ends it). */
async function readWatch(url: string, path: string, until: (lines: Line[]) => boolean, headers: Record<string, string> = {}): Promise<{ status: number; lines: Line[] }> {
  const controller = new AbortController();
  const res = await fetch(url + path, { signal: controller.signal, headers });
  const lines: Line[] = [];
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  try {
    while (!until(lines)) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        lines.push(JSON.parse(buf.slice(0, nl)));
        buf = buf.slice(nl + 1);
      }
    }
  } finally {
    controller.abort();
  }
  return { status: res.status, lines };
}

describe('sim api: watch', () => {
  let h: ApiHarness;
  let core: k8s.CoreV1Api;

  afterEach(() => h.stop());

  describe('on a fresh store', () => {
    beforeEach(async () => {
      h = await startApi();
      core = h.kc.makeApiClient(k8s.CoreV1Api);
    });

    it('starts with the current state as ADDED events when no resourceVersion is given', async () => {
      await core.createNamespacedPod({ namespace: 'default', body: pod('a') });
      await core.createNamespacedPod({ namespace: 'default', body: pod('b') });
      const { status, lines } = await readWatch(h.url, '/api/v1/namespaces/default/pods?watch=true', (l) => l.length >= 2);
      expect(status).to.equal(200);
      expect(lines.map((l) => [l.type, l.object.metadata.name])).to.deep.equal([['ADDED', 'a'], ['ADDED', 'b']]);
    });

    it('streams the changes after a list resourceVersion, with the old /watch/ prefix too', async () => {
      await core.createNamespacedPod({ namespace: 'default', body: pod('a') });
      const list = await core.listNamespacedPod({ namespace: 'default' });
      const rv = list.metadata!.resourceVersion!;
      await core.createNamespacedPod({ namespace: 'default', body: pod('b') });
      await core.patchNamespacedPod({ namespace: 'default', name: 'a', body: { metadata: { labels: { x: 'y' } } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
      await core.deleteNamespacedPod({ namespace: 'default', name: 'b' });
      for (const path of [`/api/v1/namespaces/default/pods?watch=true&resourceVersion=${rv}`, `/api/v1/watch/namespaces/default/pods?resourceVersion=${rv}`]) {
        const { lines } = await readWatch(h.url, path, (l) => l.length >= 3);
        expect(lines.map((l) => [l.type, l.object.metadata.name])).to.deep.equal([['ADDED', 'b'], ['MODIFIED', 'a'], ['DELETED', 'b']]);
      }
    });

    it('turns selector transitions into ADDED and DELETED for a filtered watch', async () => {
      await core.createNamespacedPod({ namespace: 'default', body: pod('a', { app: 'web' }) });
      const rv = (await core.listNamespacedPod({ namespace: 'default' })).metadata!.resourceVersion!;
      const patch = (labels: Record<string, string | null>) => core.patchNamespacedPod({ namespace: 'default', name: 'a', body: { metadata: { labels } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
      await patch({ app: 'db' });
      await patch({ app: 'web' });
      await patch({ other: 'x' });
      const { lines } = await readWatch(h.url, `/api/v1/pods?watch=1&labelSelector=app%3Dweb&resourceVersion=${rv}`, (l) => l.length >= 3);
      expect(lines.map((l) => l.type)).to.deep.equal(['DELETED', 'ADDED', 'MODIFIED']);
    });

    it('sends bookmarks only when allowed, and initial events with an initial-events-end bookmark', async () => {
      await core.createNamespacedPod({ namespace: 'default', body: pod('a') });
      const initial = await readWatch(h.url, '/api/v1/namespaces/default/pods?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true', (l) => l.length >= 2);
      expect(initial.lines[0]!.type).to.equal('ADDED');
      expect(initial.lines[1]!.type).to.equal('BOOKMARK');
      expect(initial.lines[1]!.object.metadata.annotations).to.deep.equal({ 'k8s.io/initial-events-end': 'true' });
      expect(initial.lines[1]!.object.kind).to.equal('Pod');
      const rejected = await fetch(`${h.url}/api/v1/namespaces/default/pods?watch=true&sendInitialEvents=true`);
      expect(rejected.status).to.equal(422);
    });

    it('sends periodic bookmarks when allowWatchBookmarks=true', async () => {
      await h.stop();
      h = await startApi({ bookmarkIntervalMs: 50 });
      const rv = String(h.store.resourceVersion);
      const { lines } = await readWatch(h.url, `/api/v1/namespaces/default/pods?watch=true&allowWatchBookmarks=true&resourceVersion=${rv}`, (l) => l.length >= 1);
      expect(lines[0]!.type).to.equal('BOOKMARK');
      expect(lines[0]!.object.metadata.resourceVersion).to.equal(rv);
    });

    it('ends the stream after timeoutSeconds', async () => {
      const { lines } = await readWatch(h.url, '/api/v1/namespaces/default/pods?watch=true&timeoutSeconds=1', () => false);
      expect(lines).to.deep.equal([]);
    });

    it('serves Table watch events for kubectl get -w', async () => {
      await core.createNamespacedPod({ namespace: 'default', body: pod('a') });
      const { lines } = await readWatch(h.url, '/api/v1/namespaces/default/pods?watch=true', (l) => l.length >= 1, { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' });
      expect(lines[0]!.object.kind).to.equal('Table');
      expect(lines[0]!.object.columnDefinitions.map((c: LooseJson) => c.name).slice(0, 5)).to.deep.equal(['Name', 'Ready', 'Status', 'Restarts', 'Age']);
      expect(lines[0]!.object.rows[0].cells.slice(0, 3)).to.deep.equal(['a', '0/1', 'Pending']);
    });

    it('disconnects a watcher that stops reading instead of buffering without bound', async () => {
      await h.stop();
      h = await startApi({ watchBufferLimitBytes: 64 * 1024 });
      const closed = new Promise<boolean>((resolve) => {
        const req = http.get(`${h.url}/api/v1/namespaces/default/configmaps?watch=true`, (res) => {
          res.pause();
          res.on('close', () => resolve(true));
          res.on('error', () => resolve(true));
        });
        req.on('error', () => resolve(true));
      });
      await new Promise((r) => setTimeout(r, 50));
      const data = { blob: 'x'.repeat(4096) };
      for (let i = 0; i < 5000; i++) h.store.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, namespace: 'default' }, data } as unknown as StoredObject);
      expect(await closed).to.equal(true);
      const fresh = await readWatch(h.url, `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${h.store.resourceVersion}`, () => true);
      expect(fresh.status).to.equal(200);
    });

    it('keeps a client-node informer in sync', async () => {
      const path = '/api/v1/namespaces/default/pods';
      const informer = k8s.makeInformer(h.kc, path, () => core.listNamespacedPod({ namespace: 'default' }));
      const added: string[] = [];
      const deleted: string[] = [];
      informer.on('add', (p) => added.push(p.metadata!.name!));
      informer.on('delete', (p) => deleted.push(p.metadata!.name!));
      await core.createNamespacedPod({ namespace: 'default', body: pod('before') });
      await informer.start();
      try {
        await core.createNamespacedPod({ namespace: 'default', body: pod('after') });
        await eventually('the informer to see the new pod', () => added.includes('after'));
        await core.deleteNamespacedPod({ namespace: 'default', name: 'before' });
        await eventually('the informer to see the deletion', () => deleted.includes('before'));
        expect(informer.list().map((p) => p.metadata!.name)).to.deep.equal(['after']);
      } finally {
        await informer.stop();
      }
    });
  });

  describe('with a short history', () => {
    beforeEach(async () => {
      h = await startApi({ store: new ObjectStore({ historySize: 5 }) });
      core = h.kc.makeApiClient(k8s.CoreV1Api);
    });

    it('answers a too old resourceVersion with an ERROR event carrying 410 Expired', async () => {
      for (let i = 0; i < 10; i++) await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: `cm-${i}` } } });
      const { status, lines } = await readWatch(h.url, '/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=2', () => false);
      expect(status).to.equal(200);
      expect(lines).to.have.length(1);
      expect(lines[0]!.type).to.equal('ERROR');
      expect(lines[0]!.object).to.deep.include({ kind: 'Status', status: 'Failure', reason: 'Expired', code: 410 });
      expect(lines[0]!.object.message).to.match(/^too old resource version: 2 \(\d+\)$/);
    });

    it('lets an informer relist after 410 and still converge', async () => {
      const path = '/api/v1/namespaces/default/configmaps';
      let lists = 0;
      const informer = k8s.makeInformer(h.kc, path, () => {
        lists++;
        return core.listNamespacedConfigMap({ namespace: 'default' });
      });
      const errors: unknown[] = [];
      informer.on('error', (e) => errors.push(e));
      await informer.start();
      try {
        // Drop the informer's connection while history moves past its resourceVersion.
        await h.server.stop();
        for (let i = 0; i < 10; i++) h.store.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, namespace: 'default' } } as unknown as StoredObject);
        const restarted = await startApi({ store: h.store, port: Number(new URL(h.url).port) });
        h = restarted;
        await informer.stop();
        await informer.start();
        await eventually('the informer to relist', () => informer.list().length === 10);
        expect(lists).to.be.greaterThan(1);
      } finally {
        await informer.stop();
      }
    });
  });
});
