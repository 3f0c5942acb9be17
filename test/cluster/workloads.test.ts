import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import { applyWorkloads } from '../../src/cluster/workloads.js';
import { tempDir } from '../engine/helpers/experiment.js';

type Obj = { metadata: { name: string; namespace?: string; resourceVersion?: string; generation?: number; labels?: Record<string, string> }; spec?: { replicas?: number }; status?: Record<string, number> } & Record<string, unknown>;

/**
 * Just enough of the Kubernetes API for KubernetesObjectApi: discovery, and create/read/replace/
 * delete of ConfigMaps and Deployments. A Deployment becomes available after `rolloutReads` reads,
 * or never when that is Infinity.
 */
class FakeApiServer {
  readonly objects = new Map<string, Obj>();
  readonly requests: string[] = [];
  /** The propagationPolicy of each DELETE, by path. */
  readonly deletes = new Map<string, string>();
  private server!: Server;
  private reads = new Map<string, number>();
  private version = 1;

  constructor(private readonly rolloutReads: number) {}

  async start(): Promise<KubeConfig> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        const url = new URL(req.url!, 'http://fake');
        if (req.method === 'DELETE') this.deletes.set(url.pathname, url.searchParams.get('propagationPolicy') ?? '');
        const [status, payload] = this.handle(req.method!, url.pathname, body);
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`, skipTLSVerify: true }],
      users: [{ name: 'fake' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'fake' }],
      currentContext: 'fake',
    });
    return kc;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private handle(method: string, path: string, body: string): [number, unknown] {
    if (path === '/api/v1') {
      const resources = [
        { name: 'configmaps', namespaced: true, kind: 'ConfigMap', verbs: [] },
        { name: 'namespaces', namespaced: false, kind: 'Namespace', verbs: [] },
      ];
      return [200, { kind: 'APIResourceList', groupVersion: 'v1', resources }];
    }
    if (path === '/apis/apps/v1') return [200, { kind: 'APIResourceList', groupVersion: 'apps/v1', resources: [{ name: 'deployments', namespaced: true, kind: 'Deployment', verbs: [] }] }];
    this.requests.push(`${method} ${path}`);
    const notFound: [number, unknown] = [404, { kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404 }];
    if (method === 'POST') {
      const obj = JSON.parse(body) as Obj;
      const key = `${path}/${obj.metadata.name}`;
      if (this.objects.has(key)) return [409, { kind: 'Status', reason: 'AlreadyExists', code: 409 }];
      const stored: Obj = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(this.version++), generation: 1 } };
      this.objects.set(key, stored);
      return [201, stored];
    }
    const existing = this.objects.get(path);
    if (!existing) return notFound;
    if (method === 'GET') {
      const reads = (this.reads.get(path) ?? 0) + 1;
      this.reads.set(path, reads);
      if (existing.kind === 'Deployment') {
        const available = reads > this.rolloutReads ? (existing.spec?.replicas ?? 1) : 0;
        existing.status = { observedGeneration: existing.metadata.generation ?? 1, availableReplicas: available };
      }
      return [200, existing];
    }
    if (method === 'PUT') {
      const obj = JSON.parse(body) as Obj;
      if (obj.metadata.resourceVersion !== existing.metadata.resourceVersion) return [409, { kind: 'Status', reason: 'Conflict', code: 409 }];
      const stored: Obj = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(this.version++), generation: (existing.metadata.generation ?? 1) + 1 } };
      this.objects.set(path, stored);
      return [200, stored];
    }
    if (method === 'DELETE') {
      this.objects.delete(path);
      return [200, { kind: 'Status', status: 'Success' }];
    }
    return [405, {}];
  }
}

const MANIFEST = `apiVersion: v1
kind: ConfigMap
metadata: { name: web-config, namespace: shop }
data: { greeting: hello }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec: { containers: [{ name: web, image: nginx }] }
`;

const CM = '/api/v1/namespaces/shop/configmaps/web-config';
const DEPLOY = '/apis/apps/v1/namespaces/shop/deployments/web';

describe('applyWorkloads', () => {
  let server: FakeApiServer | undefined;
  afterEach(async () => server?.stop());

  it('creates or replaces each document, waits for the rollout, and removes them newest first', async () => {
    server = new FakeApiServer(2);
    const kc = await server.start();
    const file = join(tempDir(), 'web.yaml');
    writeFileSync(file, MANIFEST);
    const signal = new AbortController().signal;

    const applied = await applyWorkloads(kc, [file], { signal, pollMs: 5 });
    expect(applied.objects).to.deep.equal(['ConfigMap shop/web-config', 'Deployment shop/web']);
    expect(server.objects.get(DEPLOY)!.status).to.include({ availableReplicas: 2 });

    // Applying again replaces what exists instead of failing on AlreadyExists.
    const again = await applyWorkloads(kc, [file], { signal, pollMs: 5 });
    expect(server.requests.filter((r) => r.startsWith('PUT'))).to.deep.equal([`PUT ${CM}`, `PUT ${DEPLOY}`]);

    await again.remove();
    expect(server.requests.filter((r) => r.startsWith('DELETE'))).to.deep.equal([`DELETE ${DEPLOY}`, `DELETE ${CM}`]);
    expect(server.objects.size).to.equal(0);
    // Removing what is already gone is fine.
    await applied.remove();
  });

  it('leaves a Namespace that exists as it is, and deletes what it applied there in the foreground', async () => {
    server = new FakeApiServer(0);
    const kc = await server.start();
    server.objects.set('/api/v1/namespaces/shop', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', resourceVersion: '1', labels: { team: 'shop' } } });
    const file = join(tempDir(), 'web.yaml');
    writeFileSync(file, `apiVersion: v1\nkind: Namespace\nmetadata: { name: shop }\n---\n${MANIFEST}`);

    const applied = await applyWorkloads(kc, [file], { signal: new AbortController().signal, pollMs: 5 });
    expect(applied.objects).to.deep.equal(['ConfigMap shop/web-config', 'Deployment shop/web']);
    await applied.remove();
    expect(server.objects.get('/api/v1/namespaces/shop')?.metadata.labels, 'neither replaced nor deleted').to.deep.equal({ team: 'shop' });
    const onNamespace = server.requests.filter((r) => /^\w+ \/api\/v1\/namespaces(\/shop)?$/.test(r));
    expect(onNamespace, 'only read').to.deep.equal(['GET /api/v1/namespaces/shop']);
    expect(Object.fromEntries(server.deletes)).to.deep.equal({ [DEPLOY]: 'Foreground', [CM]: 'Foreground' });
  });

  it('creates a Namespace that does not exist, and deletes it afterwards', async () => {
    server = new FakeApiServer(0);
    const kc = await server.start();
    const file = join(tempDir(), 'web.yaml');
    writeFileSync(file, `apiVersion: v1\nkind: Namespace\nmetadata: { name: shop }\n---\n${MANIFEST}`);
    const applied = await applyWorkloads(kc, [file], { signal: new AbortController().signal, pollMs: 5 });
    expect(applied.objects).to.deep.equal(['Namespace shop', 'ConfigMap shop/web-config', 'Deployment shop/web']);
    await applied.remove();
    expect(server.objects.size).to.equal(0);
    expect(server.deletes.get(DEPLOY)).to.equal('Background');
  });

  it('gives up after the timeout, naming what is not available, and removes what it applied', async () => {
    server = new FakeApiServer(Infinity);
    const kc = await server.start();
    const file = join(tempDir(), 'web.yaml');
    writeFileSync(file, MANIFEST);
    let message = '';
    await applyWorkloads(kc, [file], { signal: new AbortController().signal, timeoutMs: 50, pollMs: 5 }).catch((err: Error) => (message = err.message));
    expect(message).to.equal('workloads were not available within 50ms: Deployment shop/web (0/2 replicas available)');
    expect(server.objects.size).to.equal(0);
  });
});
