import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import { applyWorkloads } from '../../src/cluster/workloads.js';
import { tempDir } from '../engine/helpers/experiment.js';

type Obj = { metadata: { name: string; namespace?: string; resourceVersion?: string; generation?: number }; spec?: { replicas?: number }; status?: Record<string, number> } & Record<string, unknown>;

/**
 * Just enough of the Kubernetes API for KubernetesObjectApi: discovery, and create/read/replace/
 * delete of ConfigMaps and Deployments. A Deployment becomes available after `rolloutReads` reads,
 * or never when that is Infinity.
 */
class FakeApiServer {
  readonly objects = new Map<string, Obj>();
  readonly requests: string[] = [];
  private server!: Server;
  private reads = new Map<string, number>();
  private version = 1;

  constructor(private readonly rolloutReads: number) {}

  async start(): Promise<KubeConfig> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        const [status, payload] = this.handle(req.method!, req.url!.split('?')[0]!, body);
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
    if (path === '/api/v1') return [200, { kind: 'APIResourceList', groupVersion: 'v1', resources: [{ name: 'configmaps', namespaced: true, kind: 'ConfigMap', verbs: [] }] }];
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
