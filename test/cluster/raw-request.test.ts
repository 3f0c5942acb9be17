import * as k8s from '@kubernetes/client-node';
import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rawRequest } from '../../src/cluster/raw-request.js';

describe('rawRequest', () => {
  let server: Server;
  const seen: { method: string; body: string }[] = [];
  let kc: k8s.KubeConfig;

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', body });
        res.end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    kc = new k8s.KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
      users: [{ name: 'u' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
  });
  after(() => server.close());

  it("sends a DELETE's DeleteOptions as its body, and the kept-alive connection still serves the next request", async () => {
    const options = JSON.stringify({ kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' });
    expect((await rawRequest(kc, '/apis/apps/v1/namespaces/x/deployments/d', { method: 'DELETE', body: options })).status).to.equal(200);
    expect((await rawRequest(kc, '/api/v1/namespaces')).status, 'the body was not left on the connection as a bogus request').to.equal(200);
    expect(seen).to.deep.equal([{ method: 'DELETE', body: options }, { method: 'GET', body: '' }]);
  });
});
