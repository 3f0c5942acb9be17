import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createCredentials, createServingCertificate, type Credentials } from '../../../src/control-plane/credentials.js';
import { requestAttributes, type RequestAttributes } from '../../../src/sim/api/auth/request-attributes.js';
import type { UsageSnapshot } from '../../../src/sim/dataplane/usage-meter.js';
import { ApiConnection } from '../../../src/sim/node-side/api-connection.js';
import { DelegatedAuthorizer } from '../../../src/sim/node-side/delegated-authorizer.js';
import { MetricsServer } from '../../../src/sim/node-side/metrics-server.js';
import { ObjectStore, type StoredObject } from '../../../src/sim/store.js';

const SERVICE_DNS = 'gameday-metrics.kube-system.svc';

interface Answer {
  readonly status: number;
  readonly body: string;
}

/**
 * gameday's metrics server as the real API server's aggregator meets it, over real TLS with
 * certificates from the real control plane's credentials: who may assert a user (only the front
 * proxy's client certificate), how authorization is delegated, and which discovery it answers.
 */
describe('the metrics APIs as an aggregated API server', function () {
  this.timeout(30_000);
  let dir: string;
  let credentials: Credentials;
  let server: MetricsServer;
  let port: number;
  const reviewed: RequestAttributes[] = [];

  /** A request as the aggregator sends it: its client certificate (unless `cert` says otherwise) and the caller in X-Remote-* headers. */
  const call = (urlPath: string, options: { headers?: Record<string, string | string[]>; cert?: 'front-proxy' | 'apiserver' | 'none' } = {}): Promise<Answer> => {
    const pair = options.cert ?? 'front-proxy';
    const files = pair === 'front-proxy' ? [credentials.frontProxy.clientCert, credentials.frontProxy.clientKey] : pair === 'apiserver' ? [credentials.serverCert, credentials.serverKey] : [];
    return new Promise((resolve, reject) => {
      const req = request({
        host: '127.0.0.1',
        port,
        path: urlPath,
        // Verified as the aggregator does: the APIService's caBundle, under the Service's DNS name.
        ca: credentials.caCertPem,
        servername: SERVICE_DNS,
        ...(files.length ? { cert: readFileSync(files[0]!), key: readFileSync(files[1]!) } : {}),
        headers: options.headers ?? {},
      }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
  };

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gameday-metrics-server-'));
    credentials = await createCredentials({ dir, serverIPs: [], nodeNames: [] });
    const serving = await createServingCertificate(credentials, 'metrics-server', [SERVICE_DNS], ['127.0.0.1']);
    const store = new ObjectStore();
    store.create('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'default', labels: { app: 'web' } }, spec: { nodeName: 'gameday-worker' }, status: { phase: 'Running', podIP: '10.244.1.2' } } as unknown as StoredObject);
    const snapshot: UsageSnapshot = { container: 'web', timestamp: Date.now(), windowMs: 15_000, cpuMillicores: 250, memoryBytes: 24 * 1024 * 1024, requestsPerSecond: 12.5, inFlight: 1, p90LatencyMs: 3 };
    server = new MetricsServer({
      store,
      usage: { usage: (pod) => (pod.metadata.name === 'web-1' ? [snapshot] : undefined) },
      ...serving,
      frontProxy: { clientCaPem: credentials.frontProxy.caCertPem, allowedNames: [credentials.frontProxy.clientName] },
      authorizer: {
        authorize: async (a) => {
          reviewed.push(a);
          return a.user.username === 'system:serviceaccount:kube-system:horizontal-pod-autoscaler' ? { allowed: true, reason: '' } : { allowed: false, reason: '' };
        },
      },
    });
    port = await server.listen('127.0.0.1', 0);
  });
  after(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('serves pod metrics to a proxied request from system:masters without asking the API server', async () => {
    const r = await call('/apis/metrics.k8s.io/v1beta1/namespaces/default/pods', { headers: { 'X-Remote-User': 'system:kube-aggregator', 'X-Remote-Group': 'system:masters' } });
    expect(r.status).to.equal(200);
    const list = JSON.parse(r.body);
    expect(list.kind).to.equal('PodMetricsList');
    expect(list.items[0].containers).to.deep.equal([{ name: 'web', usage: { cpu: '250000000n', memory: '24576Ki' } }]);
    expect(reviewed).to.deep.equal([]);
  });

  it('refuses with 401 what only the front proxy may assert: no certificate, a certificate of another CA, or no X-Remote-User', async () => {
    const unauthorized = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 };
    const asMaster = { 'X-Remote-User': 'mallory', 'X-Remote-Group': 'system:masters' };
    for (const cert of ['none', 'apiserver'] as const) {
      const r = await call('/apis/metrics.k8s.io/v1beta1/namespaces/default/pods', { cert, headers: asMaster });
      expect(r.status, cert).to.equal(401);
      expect(JSON.parse(r.body), cert).to.deep.equal(unauthorized);
    }
    const anonymous = await call('/apis/metrics.k8s.io/v1beta1/namespaces/default/pods', { headers: { 'X-Remote-Group': 'system:masters' } });
    expect(anonymous.status).to.equal(401);
    // Health needs no identity, as k8s.io/apiserver always allows it.
    expect(await call('/healthz', { cert: 'none' })).to.deep.equal({ status: 200, body: 'ok' });
  });

  it('delegates everyone else to the authorizer with their groups (plus system:authenticated) and extra, and answers a denial as upstream’s Forbidden', async () => {
    reviewed.length = 0;
    const metric = '/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/requests_per_second?labelSelector=app%3Dweb';
    const hpa = await call(metric, { headers: { 'X-Remote-User': 'system:serviceaccount:kube-system:horizontal-pod-autoscaler', 'X-Remote-Group': ['system:serviceaccounts', 'system:serviceaccounts:kube-system'] } });
    expect(hpa.status).to.equal(200);
    expect(JSON.parse(hpa.body).items[0]).to.deep.include({ metric: { name: 'requests_per_second' }, value: '12500m' });
    expect(reviewed[0]).to.deep.include({ verb: 'get', resourceRequest: true, apiGroup: 'custom.metrics.k8s.io', apiVersion: 'v1beta2', namespace: 'default', resource: 'pods', name: '*', subresource: 'requests_per_second' });
    expect(reviewed[0]!.user.groups).to.deep.equal(['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated']);

    const denied = await call(metric, { headers: { 'X-Remote-User': 'jane', 'X-Remote-Extra-Scopes': 'view' } });
    expect(denied.status).to.equal(403);
    expect(JSON.parse(denied.body)).to.deep.include({
      reason: 'Forbidden',
      message: 'pods.custom.metrics.k8s.io "*" is forbidden: User "jane" cannot get resource "pods/requests_per_second" in API group "custom.metrics.k8s.io" in the namespace "default"',
    });
    expect(reviewed[1]!.user).to.deep.equal({ username: 'jane', groups: ['system:authenticated'], extra: { scopes: ['view'] } });
  });

  it('answers a request for aggregated discovery with 406, so the aggregator reads the legacy documents', async () => {
    const aggregator = { 'X-Remote-User': 'system:kube-aggregator', 'X-Remote-Group': 'system:masters' };
    const aggregated = await call('/apis', { headers: { ...aggregator, Accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' } });
    expect(aggregated.status).to.equal(406);
    const groups = JSON.parse((await call('/apis', { headers: aggregator })).body);
    expect(groups.groups.map((g: { name: string }) => g.name)).to.deep.equal(['metrics.k8s.io', 'custom.metrics.k8s.io']);
    const resources = JSON.parse((await call('/apis/metrics.k8s.io/v1beta1', { headers: aggregator })).body);
    expect(resources).to.deep.include({ kind: 'APIResourceList', groupVersion: 'metrics.k8s.io/v1beta1' });
    expect(resources.resources.map((r: { name: string }) => r.name)).to.deep.equal(['nodes', 'pods']);
    expect((await call('/apis/apps/v1', { headers: aggregator })).status).to.equal(404);
  });
});

describe('authorization delegated to the API server', function () {
  this.timeout(30_000);
  let dir: string;
  let api: ReturnType<typeof createServer>;
  let connection: ApiConnection;
  const reviews: { spec: Record<string, unknown> }[] = [];

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gameday-delegated-authz-'));
    const credentials = await createCredentials({ dir, serverIPs: [], nodeNames: [] });
    // Stands in for the API server's SubjectAccessReview endpoint: jane may, anyone else may not.
    api = createServer({ cert: readFileSync(credentials.serverCert), key: readFileSync(credentials.serverKey) }, (req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        const review = JSON.parse(body) as { spec: { user: string } };
        reviews.push(review);
        const allowed = review.spec.user === 'jane';
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ...review, status: { allowed, reason: allowed ? 'RBAC: allowed by ClusterRoleBinding "view"' : '' } }));
      });
    });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    connection = new ApiConnection({ server: `https://127.0.0.1:${(api.address() as AddressInfo).port}`, caCertPem: credentials.caCertPem, token: 'node-side' });
  });
  after(async () => {
    connection?.close();
    api?.closeAllConnections();
    await new Promise((r) => api?.close(r));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('asks with a SubjectAccessReview of the request’s attributes, and keeps each answer for the next identical request', async () => {
    const authorizer = new DelegatedAuthorizer(connection);
    const jane = { username: 'jane', groups: ['system:authenticated'], extra: { scopes: ['view'] } };
    const list = requestAttributes(jane, 'GET', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods', new URLSearchParams());
    expect(await authorizer.authorize(list)).to.deep.equal({ allowed: true, reason: 'RBAC: allowed by ClusterRoleBinding "view"' });
    expect(reviews[0]!.spec).to.deep.equal({
      user: 'jane',
      groups: ['system:authenticated'],
      extra: { scopes: ['view'] },
      resourceAttributes: { namespace: 'default', verb: 'list', group: 'metrics.k8s.io', version: 'v1beta1', resource: 'pods', subresource: '', name: '' },
    });
    const discovery = requestAttributes({ username: 'bob', groups: ['system:authenticated'] }, 'GET', '/apis/metrics.k8s.io/v1beta1', new URLSearchParams());
    expect(await authorizer.authorize(discovery)).to.deep.equal({ allowed: false, reason: '' });
    expect(reviews[1]!.spec).to.deep.include({ user: 'bob', nonResourceAttributes: { path: '/apis/metrics.k8s.io/v1beta1', verb: 'get' } });
    // Allowed and denied answers alike come from the cache now: no more reviews.
    expect(await authorizer.authorize(list)).to.deep.include({ allowed: true });
    expect(await authorizer.authorize(discovery)).to.deep.include({ allowed: false });
    expect(reviews).to.have.length(2);
  });
});
