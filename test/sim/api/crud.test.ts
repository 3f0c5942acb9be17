import type { LooseJson } from '../../../src/sim/api/loose-json.js';
import * as k8s from '@kubernetes/client-node';
import { expect } from 'chai';
import { pod, rawRequest, startApi, type ApiHarness } from './api-harness.js';

describe('sim api: CRUD through @kubernetes/client-node', () => {
  let h: ApiHarness;
  let core: k8s.CoreV1Api;
  let apps: k8s.AppsV1Api;

  beforeEach(async () => {
    h = await startApi();
    core = h.kc.makeApiClient(k8s.CoreV1Api);
    apps = h.kc.makeApiClient(k8s.AppsV1Api);
  });
  afterEach(() => h.stop());

  it('creates the system namespaces at start', async () => {
    const list = await core.listNamespace();
    expect(list.items.map((n) => n.metadata!.name)).to.have.members(['default', 'kube-system', 'kube-public', 'kube-node-lease']);
    expect(list.items[0]!.status!.phase).to.equal('Active');
  });

  it('creates, reads, updates and deletes a ConfigMap', async () => {
    const created = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'cfg' }, data: { a: '1' } } });
    expect(created.metadata!.uid).to.be.a('string');
    expect(created.metadata!.resourceVersion).to.match(/^\d+$/);
    const read = await core.readNamespacedConfigMap({ namespace: 'default', name: 'cfg' });
    expect(read.data).to.deep.equal({ a: '1' });
    read.data = { a: '2' };
    const updated = await core.replaceNamespacedConfigMap({ namespace: 'default', name: 'cfg', body: read });
    expect(Number(updated.metadata!.resourceVersion)).to.be.greaterThan(Number(created.metadata!.resourceVersion));
    const status = await core.deleteNamespacedConfigMap({ namespace: 'default', name: 'cfg' });
    expect(status).to.include({ status: 'Success' });
    expect(h.store.get('configmaps', 'default', 'cfg')).to.equal(undefined);
  });

  it('answers NotFound and AlreadyExists with the real Status objects', async () => {
    const missing = await rawRequest(h.url, 'GET', '/apis/apps/v1/namespaces/default/deployments/web');
    expect(missing.status).to.equal(404);
    expect(missing.text).to.equal('{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"deployments.apps \\"web\\" not found","reason":"NotFound","details":{"name":"web","group":"apps","kind":"deployments"},"code":404}');
    await core.createNamespacedPod({ namespace: 'default', body: pod('web-1') });
    const again = await rawRequest(h.url, 'POST', '/api/v1/namespaces/default/pods', pod('web-1'));
    expect(again.status).to.equal(409);
    expect(again.json).to.deep.equal({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'pods "web-1" already exists', reason: 'AlreadyExists', details: { name: 'web-1', kind: 'pods' }, code: 409 });
  });

  it('rejects a stale update with 409 Conflict', async () => {
    const cm = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'cfg' }, data: { a: '1' } } });
    await core.replaceNamespacedConfigMap({ namespace: 'default', name: 'cfg', body: { ...cm, data: { a: '2' } } });
    const stale = await rawRequest(h.url, 'PUT', '/api/v1/namespaces/default/configmaps/cfg', { ...cm, data: { a: '3' } });
    expect(stale.status).to.equal(409);
    expect(stale.json.reason).to.equal('Conflict');
    expect(stale.json.message).to.equal('Operation cannot be fulfilled on configmaps "cfg": the object has been modified; please apply your changes to the latest version and try again');
  });

  it('requires the namespace to exist and refuses new content in a terminating one', async () => {
    const noNs = await rawRequest(h.url, 'POST', '/api/v1/namespaces/shop/pods', pod('a', {}, { namespace: 'shop' }));
    expect(noNs.status).to.equal(404);
    expect(noNs.json.message).to.equal('namespaces "shop" not found');
    await core.createNamespace({ body: { metadata: { name: 'shop' } } });
    const ns = await core.deleteNamespace({ name: 'shop' });
    expect((ns as k8s.V1Namespace).status?.phase).to.equal('Terminating');
    const refused = await rawRequest(h.url, 'POST', '/api/v1/namespaces/shop/pods', pod('a', {}, { namespace: 'shop' }));
    expect(refused.status).to.equal(403);
    expect(refused.json.message).to.equal('pods "a" is forbidden: unable to create new content in namespace shop because it is being terminated');
  });

  it('generates names, validates them, and does not store a dry run', async () => {
    const generated = await core.createNamespacedPod({ namespace: 'default', body: { metadata: { generateName: 'web-' }, spec: { containers: [{ name: 'c', image: 'x' }] } } });
    expect(generated.metadata!.name).to.match(/^web-[a-z0-9]{5}$/);
    const bad = await rawRequest(h.url, 'POST', '/api/v1/namespaces/default/pods', pod('Web_1'));
    expect(bad.status).to.equal(422);
    expect(bad.json.reason).to.equal('Invalid');
    expect(bad.json.details.causes[0].field).to.equal('metadata.name');
    const dry = await rawRequest(h.url, 'POST', '/api/v1/namespaces/default/pods?dryRun=All', pod('dry'));
    expect(dry.status).to.equal(201);
    expect(dry.json.metadata.name).to.equal('dry');
    expect(h.store.get('pods', 'default', 'dry')).to.equal(undefined);
  });

  it('admits pods with the real defaults and the default NoExecute tolerations', async () => {
    const p = await core.createNamespacedPod({ namespace: 'default', body: pod('web-1') });
    expect(p.spec!.restartPolicy).to.equal('Always');
    expect(p.spec!.terminationGracePeriodSeconds).to.equal(30);
    expect(p.spec!.dnsPolicy).to.equal('ClusterFirst');
    expect(p.spec!.schedulerName).to.equal('default-scheduler');
    expect(p.spec!.containers[0]!.imagePullPolicy).to.equal('IfNotPresent');
    expect(p.spec!.containers[0]!.terminationMessagePath).to.equal('/dev/termination-log');
    expect(p.spec!.tolerations).to.deep.include.members([
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ]);
    expect(p.status).to.deep.equal({ phase: 'Pending', qosClass: 'BestEffort' });
  });

  it('uses the configured default toleration seconds', async () => {
    await h.stop();
    h = await startApi({ defaultTolerationSeconds: 7 });
    core = h.kc.makeApiClient(k8s.CoreV1Api);
    const p = await core.createNamespacedPod({ namespace: 'default', body: pod('web-1') });
    expect(p.spec!.tolerations!.map((t) => t.tolerationSeconds)).to.deep.equal([7, 7]);
  });

  it('defaults Deployments and allocates Service IPs and node ports', async () => {
    const d = await apps.createNamespacedDeployment({
      namespace: 'default',
      body: { metadata: { name: 'web' }, spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } } },
    });
    expect(d.spec!.replicas).to.equal(1);
    expect(d.spec!.strategy).to.deep.equal({ type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } });
    expect(d.spec!.revisionHistoryLimit).to.equal(10);
    expect(d.spec!.progressDeadlineSeconds).to.equal(600);
    const svc = await core.createNamespacedService({ namespace: 'default', body: { metadata: { name: 'web' }, spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80 }] } } });
    const ip = svc.spec!.clusterIP!.split('.').map(Number);
    expect(ip[0]).to.equal(10);
    expect(ip[1]! & 0xf0).to.equal(96);
    expect(svc.spec!.ports![0]!.nodePort).to.be.within(30000, 32767);
    expect(svc.spec!.ports![0]!.targetPort).to.equal(80);
    expect(svc.spec!.sessionAffinity).to.equal('None');
  });

  it('filters lists by label and field selectors', async () => {
    await core.createNamespacedPod({ namespace: 'default', body: pod('a', { app: 'web', tier: 'front' }, { nodeName: 'n1' }) });
    await core.createNamespacedPod({ namespace: 'default', body: pod('b', { app: 'web' }, { nodeName: 'n2' }) });
    await core.createNamespacedPod({ namespace: 'default', body: pod('c', { app: 'db' }) });
    const names = async (opts: { labelSelector?: string; fieldSelector?: string }) => (await core.listPodForAllNamespaces(opts)).items.map((p) => p.metadata!.name);
    expect(await names({ labelSelector: 'app=web' })).to.deep.equal(['a', 'b']);
    expect(await names({ labelSelector: 'app==web,tier' })).to.deep.equal(['a']);
    expect(await names({ labelSelector: 'app!=web' })).to.deep.equal(['c']);
    expect(await names({ labelSelector: 'app in (db, web),!tier' })).to.deep.equal(['b', 'c']);
    expect(await names({ labelSelector: 'tier notin (front)' })).to.deep.equal(['b', 'c']);
    expect(await names({ fieldSelector: 'spec.nodeName=n2' })).to.deep.equal(['b']);
    expect(await names({ fieldSelector: 'spec.nodeName=' })).to.deep.equal(['c']);
    expect(await names({ fieldSelector: 'metadata.name=a,status.phase!=Failed' })).to.deep.equal(['a']);
    expect(await names({ fieldSelector: 'metadata.namespace=kube-system' })).to.deep.equal([]);
    const bad = await rawRequest(h.url, 'GET', '/api/v1/pods?labelSelector=' + encodeURIComponent('app in (a'));
    expect(bad.status).to.equal(400);
  });

  it('pages a list with limit and continue', async () => {
    for (let i = 0; i < 7; i++) await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: `cm-${i}` } } });
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await core.listNamespacedConfigMap({ namespace: 'default', limit: 3, ...(token ? { _continue: token } : {}) });
      seen.push(...page.items.map((c) => c.metadata!.name!));
      token = page.metadata!._continue;
      pages++;
    } while (token);
    expect(pages).to.equal(3);
    expect(seen).to.deep.equal(['cm-0', 'cm-1', 'cm-2', 'cm-3', 'cm-4', 'cm-5', 'cm-6']);
  });

  it('deletes pods gracefully: marked, not removed, when scheduled', async () => {
    await core.createNamespacedPod({ namespace: 'default', body: pod('unscheduled') });
    await core.createNamespacedPod({ namespace: 'default', body: pod('scheduled', {}, { nodeName: 'n1' }) });
    await core.deleteNamespacedPod({ namespace: 'default', name: 'unscheduled' });
    expect(h.store.get('pods', 'default', 'unscheduled')).to.equal(undefined);
    const marked = await core.deleteNamespacedPod({ namespace: 'default', name: 'scheduled', gracePeriodSeconds: 12 });
    expect(marked.metadata!.deletionGracePeriodSeconds).to.equal(12);
    expect(marked.metadata!.deletionTimestamp).to.not.equal(undefined);
    expect(h.store.get('pods', 'default', 'scheduled')!.metadata.deletionTimestamp).to.be.a('string');
    await core.deleteNamespacedPod({ namespace: 'default', name: 'scheduled', gracePeriodSeconds: 0 });
    expect(h.store.get('pods', 'default', 'scheduled')).to.equal(undefined);
  });

  it('applies propagation policies as finalizers and checks preconditions', async () => {
    const mk = (name: string) => apps.createNamespacedDeployment({ namespace: 'default', body: { metadata: { name }, spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'x' }] } } } } });
    await mk('fg');
    await mk('orphan');
    await mk('bg');
    await apps.deleteNamespacedDeployment({ namespace: 'default', name: 'fg', propagationPolicy: 'Foreground' });
    await apps.deleteNamespacedDeployment({ namespace: 'default', name: 'orphan', propagationPolicy: 'Orphan' });
    expect(h.store.get('deployments.apps', 'default', 'fg')!.metadata.finalizers).to.deep.equal(['foregroundDeletion']);
    expect(h.store.get('deployments.apps', 'default', 'orphan')!.metadata.finalizers).to.deep.equal(['orphan']);
    const wrongUid = await rawRequest(h.url, 'DELETE', '/apis/apps/v1/namespaces/default/deployments/bg', { preconditions: { uid: 'nope' } });
    expect(wrongUid.status).to.equal(409);
    expect(wrongUid.json.message).to.match(/^Operation cannot be fulfilled on deployments.apps "bg": Precondition failed: UID in precondition: nope/);
    const gone = await rawRequest(h.url, 'DELETE', '/apis/apps/v1/namespaces/default/deployments/bg');
    expect(gone.json).to.deep.include({ kind: 'Status', status: 'Success' });
    expect(gone.json.details).to.include({ name: 'bg', group: 'apps', kind: 'deployments' });
    // Clearing the last finalizer of an object being deleted finishes the deletion.
    await rawRequest(h.url, 'PATCH', '/apis/apps/v1/namespaces/default/deployments/fg', { metadata: { finalizers: null } }, { 'Content-Type': 'application/merge-patch+json' });
    expect(h.store.get('deployments.apps', 'default', 'fg')).to.equal(undefined);
  });

  it('deletes a collection by selector', async () => {
    await core.createNamespacedPod({ namespace: 'default', body: pod('a', { app: 'web' }) });
    await core.createNamespacedPod({ namespace: 'default', body: pod('b', { app: 'db' }) });
    await core.deleteCollectionNamespacedPod({ namespace: 'default', labelSelector: 'app=web' });
    expect(h.store.list('pods', 'default').map((p) => p.metadata.name)).to.deep.equal(['b']);
  });

  it('serves the status and scale subresources', async () => {
    await apps.createNamespacedDeployment({ namespace: 'default', body: { metadata: { name: 'web' }, spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } } } });
    const scale = await apps.readNamespacedDeploymentScale({ namespace: 'default', name: 'web' });
    expect(scale.spec!.replicas).to.equal(2);
    expect(scale.status!.selector).to.equal('app=web');
    await apps.patchNamespacedDeploymentScale({ namespace: 'default', name: 'web', body: { spec: { replicas: 5 } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    expect((h.store.get('deployments.apps', 'default', 'web') as LooseJson).spec.replicas).to.equal(5);
    // The main resource ignores status; /status ignores everything else.
    const d = await apps.readNamespacedDeployment({ namespace: 'default', name: 'web' });
    await apps.replaceNamespacedDeployment({ namespace: 'default', name: 'web', body: { ...d, status: { replicas: 99 } } });
    expect((h.store.get('deployments.apps', 'default', 'web') as LooseJson).status.replicas).to.equal(undefined);
    const fresh = await apps.readNamespacedDeployment({ namespace: 'default', name: 'web' });
    await apps.replaceNamespacedDeploymentStatus({ namespace: 'default', name: 'web', body: { ...fresh, spec: { ...fresh.spec!, replicas: 1 }, status: { replicas: 3 } } });
    const stored = h.store.get('deployments.apps', 'default', 'web') as LooseJson;
    expect(stored.status.replicas).to.equal(3);
    expect(stored.spec.replicas).to.equal(5);
  });

  it('binds a pod to a node through the binding subresource', async () => {
    await core.createNamespacedPod({ namespace: 'default', body: pod('a') });
    await core.createNamespacedPodBinding({ namespace: 'default', name: 'a', body: { metadata: { name: 'a' }, target: { kind: 'Node', name: 'node-1' } } });
    expect((h.store.get('pods', 'default', 'a') as LooseJson).spec.nodeName).to.equal('node-1');
    const again = await rawRequest(h.url, 'POST', '/api/v1/namespaces/default/pods/a/binding', { metadata: { name: 'a' }, target: { kind: 'Node', name: 'node-2' } });
    expect(again.status).to.equal(409);
  });

  it('hands service proxy and /gameday/ requests to the hooks', async () => {
    await h.stop();
    const seen: unknown[] = [];
    h = await startApi({
      hooks: {
        serviceProxy(_req, res, target) {
          seen.push(target);
          res.end('proxied');
        },
        extraRoute(_req, res, url) {
          if (url.pathname !== '/gameday/nodes/node-1/faults') return false;
          res.end('fault');
          return true;
        },
      },
    });
    const proxied = await rawRequest(h.url, 'GET', '/api/v1/namespaces/shop/services/web:8080/proxy/healthz/deep?x=1');
    expect(proxied.text).to.equal('proxied');
    expect(seen).to.deep.equal([{ namespace: 'shop', service: 'web', port: '8080', path: '/healthz/deep?x=1' }]);
    expect((await rawRequest(h.url, 'POST', '/gameday/nodes/node-1/faults')).text).to.equal('fault');
    expect((await rawRequest(h.url, 'POST', '/gameday/other')).status).to.equal(404);
  });

  it('serves discovery with pods/eviction as policy/v1 Eviction', async () => {
    const v1 = (await rawRequest(h.url, 'GET', '/api/v1')).json;
    const eviction = v1.resources.find((r: LooseJson) => r.name === 'pods/eviction');
    expect(eviction).to.deep.include({ group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] });
    expect(v1.resources.find((r: LooseJson) => r.name === 'pods')).to.deep.include({ singularName: 'pod', namespaced: true, kind: 'Pod', shortNames: ['po'], categories: ['all'] });
    const groups = (await rawRequest(h.url, 'GET', '/apis')).json;
    expect(groups.groups.map((g: LooseJson) => g.name)).to.include.members(['apps', 'policy', 'batch', 'discovery.k8s.io', 'coordination.k8s.io', 'networking.k8s.io']);
    const appsList = (await rawRequest(h.url, 'GET', '/apis/apps/v1')).json;
    expect(appsList.resources.find((r: LooseJson) => r.name === 'deployments/scale')).to.deep.include({ group: 'autoscaling', version: 'v1', kind: 'Scale' });
    const version = (await rawRequest(h.url, 'GET', '/version')).json;
    expect(version).to.include({ major: '1', minor: '34', gitVersion: 'v1.34.0' });
    const unknown = await rawRequest(h.url, 'GET', '/apis/nope/v1/things');
    expect(unknown.status).to.equal(404);
  });
});
