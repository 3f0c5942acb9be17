import type { LooseJson } from '../../../src/sim/api/loose-json.js';
import { expect } from 'chai';
import { humanDuration, podStatusReason } from '../../../src/sim/api/table.js';
import { makeReady, node, pod, rawRequest, startApi, type ApiHarness } from './api-harness.js';

const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';

describe('sim api: Table output', () => {
  let h: ApiHarness;
  beforeEach(async () => {
    h = await startApi();
  });
  afterEach(() => h.stop());

  async function table(path: string): Promise<LooseJson> {
    const res = await rawRequest(h.url, 'GET', path, undefined, { Accept: TABLE });
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('application/json;as=Table;v=v1;g=meta.k8s.io');
    return res.json;
  }

  const names = (t: LooseJson, wide = false) => t.columnDefinitions.filter((c: LooseJson) => wide || c.priority === 0).map((c: LooseJson) => c.name.toUpperCase());

  it('prints pods with kubectl columns and status', async () => {
    await rawRequest(h.url, 'POST', '/api/v1/namespaces/default/pods', pod('web-1', {}, { nodeName: 'node-1' }));
    await rawRequest(h.url, 'POST', '/api/v1/namespaces/default/pods', pod('web-2'));
    makeReady(h.store, 'default', 'web-1');
    const t = await table('/api/v1/namespaces/default/pods');
    expect(t.kind).to.equal('Table');
    expect(names(t)).to.deep.equal(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    expect(names(t, true)).to.deep.equal(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']);
    expect(t.rows[0].cells).to.deep.equal(['web-1', '1/1', 'Running', '0', t.rows[0].cells[4], '10.244.0.10', 'node-1', '<none>', '<none>']);
    expect(t.rows[0].cells[4]).to.match(/^\d+s$/);
    expect(t.rows[1].cells.slice(0, 3)).to.deep.equal(['web-2', '0/1', 'Pending']);
    expect(t.rows[0].object).to.deep.include({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1' });
    const none = await table('/api/v1/namespaces/default/pods?includeObject=None');
    expect(none.rows[0].object).to.equal(undefined);
    const full = await table('/api/v1/namespaces/default/pods/web-1?includeObject=Object');
    expect(full.rows[0].object.spec.nodeName).to.equal('node-1');
  });

  it('prints nodes with Ready, NotReady and SchedulingDisabled', async () => {
    h.store.create('nodes', node('node-1'));
    h.store.create('nodes', node('node-2', false));
    h.store.mutate('nodes', undefined, 'node-1', (n) => void ((n as LooseJson).spec.unschedulable = true));
    h.store.mutate('nodes', undefined, 'node-2', (n) => void (n.metadata.labels = { ...n.metadata.labels, 'node-role.kubernetes.io/control-plane': '' }));
    const t = await table('/api/v1/nodes');
    expect(names(t)).to.deep.equal(['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION']);
    expect(names(t, true).slice(5)).to.deep.equal(['INTERNAL-IP', 'EXTERNAL-IP', 'OS-IMAGE', 'KERNEL-VERSION', 'CONTAINER-RUNTIME']);
    expect(t.rows.map((r: LooseJson) => [r.cells[0], r.cells[1], r.cells[2], r.cells[4]])).to.deep.equal([
      ['node-1', 'Ready,SchedulingDisabled', '<none>', 'v1.31.4'],
      ['node-2', 'NotReady', 'control-plane', 'v1.31.4'],
    ]);
  });

  it('prints deployments, services and budgets with their kubectl columns', async () => {
    await rawRequest(h.url, 'POST', '/apis/apps/v1/namespaces/default/deployments', { metadata: { name: 'web' }, spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:1' }] } } } });
    await rawRequest(h.url, 'POST', '/api/v1/namespaces/default/services', { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } });
    await rawRequest(h.url, 'POST', '/apis/policy/v1/namespaces/default/poddisruptionbudgets', { metadata: { name: 'web' }, spec: { minAvailable: 2, selector: { matchLabels: { app: 'web' } } } });
    const d = await table('/apis/apps/v1/namespaces/default/deployments');
    expect(names(d)).to.deep.equal(['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE']);
    expect(d.rows[0].cells.slice(0, 4)).to.deep.equal(['web', '0/3', 0, 0]);
    expect(d.rows[0].cells.slice(5)).to.deep.equal(['c', 'nginx:1', 'app=web']);
    const s = await table('/api/v1/namespaces/default/services');
    expect(names(s)).to.deep.equal(['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE']);
    expect([s.rows[0].cells[1], s.rows[0].cells[3], s.rows[0].cells[4]]).to.deep.equal(['ClusterIP', '<none>', '80/TCP']);
    const p = await table('/apis/policy/v1/namespaces/default/poddisruptionbudgets');
    expect(names(p)).to.deep.equal(['NAME', 'MIN AVAILABLE', 'MAX UNAVAILABLE', 'ALLOWED DISRUPTIONS', 'AGE']);
    expect(p.rows[0].cells.slice(0, 4)).to.deep.equal(['web', '2', 'N/A', 0]);
  });

  it('computes the pod STATUS column as kubectl does', () => {
    const base = { metadata: { name: 'p' }, spec: { containers: [{ name: 'c' }] } };
    const st = (status: LooseJson, extra: LooseJson = {}) => podStatusReason({ ...base, ...extra, status }).reason;
    expect(st({ phase: 'Pending', containerStatuses: [{ name: 'c', state: { waiting: { reason: 'ContainerCreating' } } }] })).to.equal('ContainerCreating');
    expect(st({ phase: 'Running', containerStatuses: [{ name: 'c', restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff' } } }] })).to.equal('CrashLoopBackOff');
    expect(st({ phase: 'Succeeded', containerStatuses: [{ name: 'c', state: { terminated: { reason: 'Completed', exitCode: 0 } } }] })).to.equal('Completed');
    expect(st({ phase: 'Failed', reason: 'Evicted' })).to.equal('Evicted');
    expect(st({ phase: 'Running' }, { metadata: { name: 'p', deletionTimestamp: '2026-01-01T00:00:00Z' } })).to.equal('Terminating');
    expect(st({ phase: 'Pending', initContainerStatuses: [{ name: 'i', state: { waiting: { reason: 'PodInitializing' } } }] }, { spec: { initContainers: [{ name: 'i' }], containers: [{ name: 'c' }] } })).to.equal('Init:0/1');
    expect(podStatusReason({ ...base, status: { phase: 'Running', containerStatuses: [{ name: 'c', restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff' } } }] } }).restarts).to.equal(4);
  });

  it('formats ages like kubectl', () => {
    expect(humanDuration(45_000)).to.equal('45s');
    expect(humanDuration(200_000)).to.equal('3m20s');
    expect(humanDuration(25 * 60_000)).to.equal('25m');
    expect(humanDuration((5 * 60 + 10) * 60_000)).to.equal('5h10m');
    expect(humanDuration(51 * 3_600_000)).to.equal('2d3h');
  });
});
