import type { LooseJson } from '../../../src/sim/api/loose-json.js';
import * as k8s from '@kubernetes/client-node';
import { expect } from 'chai';
import { applyJsonPatch } from '../../../src/sim/api/json-patch.js';
import { applyMergePatch } from '../../../src/sim/api/merge-patch.js';
import { applyStrategicMergePatch } from '../../../src/sim/api/strategic-merge-patch.js';
import { pod, rawRequest, startApi, type ApiHarness } from './api-harness.js';

describe('sim api: patches', () => {
  describe('strategic merge', () => {
    const spec = {
      containers: [
        { name: 'app', image: 'a:1', env: [{ name: 'A', value: '1' }], ports: [{ containerPort: 80 }] },
        { name: 'side', image: 's:1' },
      ],
      tolerations: [{ key: 'x', operator: 'Exists' }],
    };

    it('merges named lists by their merge key', () => {
      const out = applyStrategicMergePatch({ spec }, { spec: { containers: [{ name: 'app', image: 'a:2', env: [{ name: 'B', value: '2' }] }] } }) as LooseJson;
      expect(out.spec.containers).to.have.length(2);
      expect(out.spec.containers[0].image).to.equal('a:2');
      // As upstream (normalizeElementOrder): an item new to the list goes before the server's own (differential.test.ts checks it).
      expect(out.spec.containers[0].env).to.deep.equal([{ name: 'B', value: '2' }, { name: 'A', value: '1' }]);
      expect(out.spec.containers[0].ports).to.deep.equal([{ containerPort: 80 }]);
    });

    it('honours $patch: delete and replace, null, and finalizers as a set', () => {
      const out = applyStrategicMergePatch({ metadata: { finalizers: ['a'] }, spec }, { metadata: { finalizers: ['b', 'a'] }, spec: { containers: [{ name: 'side', $patch: 'delete' }], tolerations: [{ key: 'y', operator: 'Exists' }] } }) as LooseJson;
      expect(out.metadata.finalizers).to.deep.equal(['a', 'b']);
      expect(out.spec.containers.map((c: LooseJson) => c.name)).to.deep.equal(['app']);
      expect(out.spec.tolerations.map((t: LooseJson) => t.key)).to.deep.equal(['y', 'x']);
      const replaced = applyStrategicMergePatch({ spec }, { spec: { $patch: 'replace', containers: [] } }) as LooseJson;
      expect(replaced.spec).to.deep.equal({ containers: [] });
      const uncordoned = applyStrategicMergePatch({ spec: { unschedulable: true, podCIDR: 'x' } }, { spec: { unschedulable: null } });
      expect(uncordoned).to.deep.equal({ spec: { podCIDR: 'x' } });
    });

    it('honours $retainKeys and $deleteFromPrimitiveList, and a $setElementOrder for a list the object lacks changes nothing', () => {
      const out = applyStrategicMergePatch(
        { spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } }, metadata: { finalizers: ['a', 'b'] } },
        { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } }, metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] }, '$setElementOrder/containers': [{ name: 'x' }] },
      ) as LooseJson;
      expect(out.spec.strategy).to.deep.equal({ type: 'Recreate' });
      expect(out.metadata.finalizers).to.deep.equal(['b']);
      expect(Object.keys(out)).to.deep.equal(['spec', 'metadata']);
    });

    it('merges conditions by type and service ports by port', () => {
      const out = applyStrategicMergePatch(
        { status: { conditions: [{ type: 'Ready', status: 'False' }, { type: 'PodScheduled', status: 'True' }] }, spec: { ports: [{ port: 80, name: 'http' }] } },
        { status: { conditions: [{ type: 'Ready', status: 'True' }] }, spec: { ports: [{ port: 443, name: 'https' }] } },
      ) as LooseJson;
      expect(out.status.conditions).to.deep.equal([{ type: 'Ready', status: 'True' }, { type: 'PodScheduled', status: 'True' }]);
      expect(out.spec.ports.map((p: LooseJson) => p.port)).to.deep.equal([443, 80]);
    });
  });

  it('JSON merge patch replaces lists and deletes with null', () => {
    expect(applyMergePatch({ a: [1, 2], b: { c: 1, d: 2 } }, { a: [3], b: { c: null } })).to.deep.equal({ a: [3], b: { d: 2 } });
  });

  it('JSON patch supports add, remove, replace, move, copy and test', () => {
    const doc = { metadata: { labels: { a: '1' } }, list: [1, 2] };
    const out = applyJsonPatch(doc, [
      { op: 'add', path: '/metadata/labels/b~1c', value: '2' },
      { op: 'replace', path: '/list/0', value: 9 },
      { op: 'add', path: '/list/-', value: 3 },
      { op: 'copy', from: '/list/0', path: '/copied' },
      { op: 'move', from: '/copied', path: '/moved' },
      { op: 'remove', path: '/metadata/labels/a' },
      { op: 'test', path: '/moved', value: 9 },
    ]);
    expect(out).to.deep.equal({ metadata: { labels: { 'b/c': '2' } }, list: [9, 2, 3], moved: 9 });
    expect(doc.list).to.deep.equal([1, 2]);
    expect(() => applyJsonPatch(doc, [{ op: 'test', path: '/list/0', value: 5 }])).to.throw(/test failed/);
    expect(() => applyJsonPatch(doc, [{ op: 'remove', path: '/nope/x' }])).to.throw(/missing/);
  });

  describe('over HTTP', () => {
    let h: ApiHarness;
    let core: k8s.CoreV1Api;
    beforeEach(async () => {
      h = await startApi();
      core = h.kc.makeApiClient(k8s.CoreV1Api);
    });
    afterEach(() => h.stop());

    it('cordons a node with a strategic merge patch, and refuses an apply over the cordoner\'s field unless forced', async () => {
      await core.createNode({ body: { metadata: { name: 'node-1' } } });
      await core.patchNode({ name: 'node-1', body: { spec: { unschedulable: true } }, fieldManager: 'cordoner' }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch));
      expect((h.store.get('nodes', undefined, 'node-1') as LooseJson).spec.unschedulable).to.equal(true);
      const uncordon = 'apiVersion: v1\nkind: Node\nmetadata: { name: node-1 }\nspec: { unschedulable: false }\n';
      const refused = await rawRequest(h.url, 'PATCH', '/api/v1/nodes/node-1?fieldManager=ops', uncordon, { 'Content-Type': 'application/apply-patch+yaml' });
      expect(refused.status).to.equal(409);
      expect(refused.json.message).to.equal('Apply failed with 1 conflict: conflict with "cordoner" using v1: .spec.unschedulable');
      const forced = await rawRequest(h.url, 'PATCH', '/api/v1/nodes/node-1?fieldManager=ops&force=true', uncordon, { 'Content-Type': 'application/apply-patch+yaml' });
      expect(forced.status).to.equal(200);
      expect((h.store.get('nodes', undefined, 'node-1') as LooseJson).spec.unschedulable).to.equal(false);
      expect((forced.json.metadata.managedFields as { manager: string; operation: string }[]).map((m) => `${m.manager} ${m.operation}`)).to.deep.equal(['ops Apply']);
    });

    it('patches with JSON patch, honours a resourceVersion precondition and skips no-op writes', async () => {
      const created = await core.createNamespacedPod({ namespace: 'default', body: pod('a', { app: 'web' }) });
      const patched = await core.patchNamespacedPod({ namespace: 'default', name: 'a', body: [{ op: 'add', path: '/metadata/labels/tier', value: 'front' }] }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch));
      expect(patched.metadata!.labels).to.deep.equal({ app: 'web', tier: 'front' });
      const stale = await rawRequest(h.url, 'PATCH', '/api/v1/namespaces/default/pods/a', { metadata: { resourceVersion: created.metadata!.resourceVersion, labels: { x: 'y' } } }, { 'Content-Type': 'application/merge-patch+json' });
      expect(stale.status).to.equal(409);
      const before = h.store.resourceVersion;
      const same = await core.patchNamespacedPod({ namespace: 'default', name: 'a', body: { metadata: { labels: { tier: 'front' } } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
      expect(same.metadata!.resourceVersion).to.equal(patched.metadata!.resourceVersion);
      expect(h.store.resourceVersion).to.equal(before);
    });
  });
});
