import * as k8s from '@kubernetes/client-node';
import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { startSim, type SimClients } from '../sim/sim-fixture.js';
import { eventually } from '../support/eventually.js';
import { runCli, tempDir, writeFile } from './cli-process.js';

const CONTEXT = 'token-scan';

/**
 * A run that fails (a missing Service, a missing Deployment, paths tried through pods/exec to
 * nowhere, a failed SLO) on a cluster reached with a service-account token, so errors from the API
 * server, client-node and its exec WebSocket pass through every output.
 */
const EXPERIMENT = `apiVersion: gameday/v1
kind: Experiment
metadata: {name: token-scan}
spec:
  duration: 1s
  probes:
    missing: { http: { service: shop/missing:80, path: /, rate: 10/s, timeout: 500ms } }
    gone: { ready: { target: deployment/shop/gone } }
    paths: { reachability: { from: { namespace: shop, labels: { app: web } }, to: [ "shop/missing:80", "pod/shop/gone:80" ], every: 200ms } }
  slos: [ "availability(missing) >= 99%" ]
`;

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    return statSync(file).isDirectory() ? filesUnder(file) : [file];
  });
}

/**
 * gameday never writes the cluster's credentials anywhere it writes: journal, result.json,
 * junit.xml, summary.md, report.html, its output and its error messages. The token is a real
 * one, bound to cluster-admin, so the run gets as far as it can.
 */
describe('gameday run keeps the kubeconfig token out of every output (real CLI process)', function () {
  this.timeout(60_000);
  let sim: SimClients;
  let dir: string;
  let token: string;

  before(async () => {
    sim = await startSim();
    dir = tempDir('gameday-token-scan-');
    await sim.core.createNamespace({ body: { metadata: { name: 'shop' } } });
    await sim.core.createNamespacedServiceAccount({ namespace: 'shop', body: { metadata: { name: 'gameday' } } });
    await sim.kubeConfig.makeApiClient(k8s.RbacAuthorizationV1Api).createClusterRoleBinding({
      body: { metadata: { name: 'gameday-admin' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ kind: 'ServiceAccount', name: 'gameday', namespace: 'shop' }] },
    });
    await sim.core.createNamespacedPod({ namespace: 'shop', body: { metadata: { name: 'web', labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } } });
    await eventually('shop/web to run', async () => (await sim.core.readNamespacedPod({ namespace: 'shop', name: 'web' })).status?.phase === 'Running');
    token = (await sim.core.createNamespacedServiceAccountToken({ namespace: 'shop', name: 'gameday', body: { spec: { audiences: [] } } })).status!.token;
    const kc = new k8s.KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: CONTEXT, server: sim.cluster.url, skipTLSVerify: true }],
      users: [{ name: 'gameday', token }],
      contexts: [{ name: CONTEXT, cluster: CONTEXT, user: 'gameday' }],
      currentContext: CONTEXT,
    });
    writeFile(dir, 'kubeconfig', kc.exportConfig());
    // The token is the cluster's, and the account may do anything: the run is not refused.
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await eventually('the token to authenticate', () => core.listNamespacedPod({ namespace: 'shop' }));
    writeFile(dir, 'token-scan.yaml', EXPERIMENT);
  });

  after(async () => {
    await sim?.cluster.stop();
  });

  it('fails with API errors in its messages, and no output holds the token or any part of it', async () => {
    const r = await runCli(['run', 'token-scan.yaml', '--kubeconfig', path.join(dir, 'kubeconfig'), '--allow-context', CONTEXT, '--out', 'reports', '--reporter', 'terminal,json,junit,summary,html'], {
      cwd: dir,
      env: { KUBECONFIG: path.join(dir, 'none') },
    });
    expect(r.code, r.stderr + r.stdout).to.be.oneOf([1, 3]);
    const outputs = filesUnder(path.join(dir, 'reports')).map((file) => ({ name: path.relative(dir, file), text: readFileSync(file, 'utf8') }));
    const names = outputs.map((o) => path.basename(o.name));
    expect(names).to.include.members(['journal.ndjson', 'result.json', 'junit.xml', 'summary.md', 'report.html']);
    const journal = outputs.find((o) => o.name.endsWith('journal.ndjson'))!.text;
    // The failing parts reached the outputs as messages, as a user reads them.
    expect(journal).to.match(/"ok":false,[^\n]*"error":"status-404"[^\n]*"probe":"missing"/);
    expect(journal).to.contain('deployment/shop/gone does not exist');
    expect(r.stdout).to.contain('SLO not met: availability(missing) = 0.0%');
    expect(journal).to.contain("nc: bad address 'missing.shop.svc.cluster.local'").and.to.contain('HTTP 404 NotFound: pods \\"gone\\" not found');

    expectNoToken(token, [...outputs, { name: 'stdout', text: r.stdout }, { name: 'stderr', text: r.stderr }]);
  });

  it('refused by the API server once the token is revoked, says so without quoting the token', async () => {
    await sim.core.deleteNamespacedServiceAccount({ namespace: 'shop', name: 'gameday' });
    const r = await runCli(['run', 'token-scan.yaml', '--kubeconfig', path.join(dir, 'kubeconfig'), '--allow-context', CONTEXT, '--out', 'revoked', '--reporter', 'json'], { cwd: dir, env: { KUBECONFIG: path.join(dir, 'none') } });
    expect(r.code, r.stderr + r.stdout).to.equal(4);
    // The API server's answer as a person reads it, not client-node's dump of every response header.
    expect(r.stderr).to.contain(`cannot reach cluster "${CONTEXT}" at ${sim.cluster.url}: HTTP 401: Unauthorized`).and.not.contain('Headers:');
    expectNoToken(token, [{ name: 'stdout', text: r.stdout }, { name: 'stderr', text: r.stderr }, ...(existsSync(path.join(dir, 'revoked')) ? filesUnder(path.join(dir, 'revoked')) : []).map((file) => ({ name: file, text: readFileSync(file, 'utf8') }))]);
  });
});

/** Fails naming the output that holds the token, its payload or its signature (a JWT's header is the same for every token), as text or base64. */
function expectNoToken(token: string, outputs: readonly { name: string; text: string }[]): void {
  const [, payload, signature] = token.split('.');
  const secrets = { token, payload: payload!, signature: signature! };
  for (const { name, text } of outputs) {
    for (const [part, value] of Object.entries(secrets)) {
      expect(text.includes(value), `${name} holds the token's ${part}`).to.equal(false);
      expect(text.includes(Buffer.from(value).toString('base64')), `${name} holds the token's ${part} in base64`).to.equal(false);
    }
  }
}
