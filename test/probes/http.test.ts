import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { serviceProxyPath } from '../../src/cluster/raw-request.js';
import type { ClusterTarget } from '../../src/cluster/target.js';
import type { Sample } from '../../src/core/sample.js';
import { httpProbe } from '../../src/probes/http.js';
import { isReady, podsOf, startSim, type SimClients } from '../sim/sim-fixture.js';
import { eventually } from '../support/eventually.js';
import { freePort } from '../support/free-port.js';
import { httpService, webDeployment } from '../support/kube-objects.js';
import { collectingContext, embeddedTarget, runProbeFor, withinSchedule } from './collecting-context.js';

const execFileAsync = promisify(execFile);

interface Received {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** A local server with one route per behaviour the probe must classify; counts the connections it accepts. */
async function startLocalServer(): Promise<{ server: Server; base: string; received: Received[]; connections: () => number }> {
  const received: Received[] = [];
  let connections = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ method: req.method!, path: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() });
      if (req.url === '/ok') res.end('ok');
      else if (req.url === '/unavailable') res.writeHead(503).end('down');
      else if (req.url === '/reset') req.socket.destroy();
      else if (req.url === '/stall') return;
      else if (req.url === '/chunked') {
        res.writeHead(200, { 'x-pod-name': 'web-1' });
        res.write('first ');
        setImmediate(() => res.end('second'));
      } else if (req.url === '/close') res.writeHead(200, { connection: 'close' }).end('bye');
      else res.writeHead(404).end();
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received, connections: () => connections };
}

describe('http probe against a local server', function () {
  this.timeout(20_000);
  let local: Awaited<ReturnType<typeof startLocalServer>>;
  before(async () => {
    local = await startLocalServer();
  });
  after(() => {
    local.server.closeAllConnections();
    local.server.close();
  });

  it('takes one sample per scheduled slot, each ok with its status and latency', async () => {
    const ctx = collectingContext();
    const running = await runProbeFor(httpProbe, ctx, { url: `${local.base}/ok`, rate: '100/s' }, 600);
    const owed = withinSchedule(ctx.samples, 500);
    expect(owed).to.have.length(50);
    expect(owed.every((s) => s.ok && s.detail?.status === 200 && typeof s.latencyMs === 'number')).to.equal(true);
    const summary = running.summary();
    expect(summary.scheduled).to.equal(ctx.samples.length);
    expect(summary.ok).to.equal(ctx.samples.length);
    expect(summary.latency.count).to.equal(ctx.samples.length);
    expect(ctx.logs.at(-1)).to.match(new RegExp(`^${ctx.samples.length} requests, ${ctx.samples.length} ok; latency p50 `));
  });

  it('follows a load shape: a ramp and a hold send what the rate integrates to, each sample with its offered rate', async () => {
    const ctx = collectingContext();
    // Ramp 0 → 200/s over 0.5 s is 50 requests, holding 200/s for 0.5 s 100 more, then nothing.
    await runProbeFor(httpProbe, ctx, { url: `${local.base}/ok`, rate: ['ramp 200/s over 500ms', 'hold 500ms', '0/s'] }, 1300);
    expect(ctx.samples).to.have.length(150);
    const offered = ctx.samples.map((s) => s.detail?.offeredRate as number);
    expect(offered[0]).to.be.below(20);
    expect(offered[25]).to.be.within(120, 160);
    expect(offered.slice(50).every((r) => r === 200)).to.equal(true);
  });

  it('fires the requests a stalled event loop held back, late, with their lateness in their latency', async () => {
    const ctx = collectingContext();
    let blockedFrom = 0;
    let blockedUntil = 0;
    await runProbeFor(httpProbe, ctx, { url: `${local.base}/ok`, rate: '100/s' }, 900, async () => {
      await new Promise((r) => setTimeout(r, 200));
      blockedFrom = Date.now();
      blockedUntil = blockedFrom + 300;
      while (Date.now() < blockedUntil);
    });
    expect(withinSchedule(ctx.samples, 800)).to.have.length(80);
    const heldBack = ctx.samples.filter((s) => s.t > blockedFrom && s.t < blockedUntil - 50);
    expect(heldBack.length).to.be.at.least(20);
    for (const s of heldBack) expect(s.latencyMs, `scheduled ${s.t - blockedFrom}ms into the stall`).to.be.at.least(blockedUntil - s.t - 2);
  });

  it('records how late each request left its schedule: the ones a stall held back show the stall', async () => {
    const ctx = collectingContext();
    const running = await runProbeFor(httpProbe, ctx, { url: `${local.base}/ok`, rate: '100/s' }, 600, async () => {
      await new Promise((r) => setTimeout(r, 200));
      const until = Date.now() + 300;
      while (Date.now() < until);
    });
    const lag = running.summary().scheduleLag;
    expect(lag.count, 'one lateness per request sent').to.equal(ctx.samples.length);
    // The first slot of the stall waited it out whole; slots due before and after it did not.
    expect(lag.max).to.be.at.least(290);
    expect(lag.p50).to.be.below(lag.max);
  });

  it('keeps connections for the requests that follow, and opens a new one after Connection: close', async () => {
    const before = local.connections();
    const kept = collectingContext();
    await runProbeFor(httpProbe, kept, { url: `${local.base}/ok`, rate: '50/s' }, 400);
    expect(kept.samples.every((s) => s.ok)).to.equal(true);
    expect(local.connections() - before, `${kept.samples.length} requests`).to.be.below(kept.samples.length / 2);

    const closing = collectingContext();
    const beforeClosing = local.connections();
    await runProbeFor(httpProbe, closing, { url: `${local.base}/close`, rate: '50/s' }, 200);
    expect(closing.samples.length).to.be.greaterThan(0);
    expect(closing.samples.every((s) => s.ok && s.detail?.status === 200)).to.equal(true);
    expect(local.connections() - beforeClosing).to.equal(closing.samples.length);
  });

  it('reads a chunked answer to its end, with the pod that sent it', async () => {
    const ctx = collectingContext();
    await runProbeFor(httpProbe, ctx, { url: `${local.base}/chunked`, rate: '50/s' }, 200);
    expect(ctx.samples.length).to.be.greaterThan(0);
    expect(ctx.samples.every((s) => s.ok && s.detail?.status === 200 && s.detail.pod === 'web-1')).to.equal(true);
  });

  it('reads a body that ends with its connection, and counts a body cut short as a reset', async () => {
    let reply = '';
    const server = createNetServer((socket) => socket.once('data', () => socket.end(reply)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      reply = 'HTTP/1.1 200 OK\r\nx-pod-name: raw-1\r\n\r\nthe body ends when the connection does';
      const whole = collectingContext();
      await runProbeFor(httpProbe, whole, { url, rate: '20/s' }, 200);
      expect(whole.samples.length).to.be.greaterThan(0);
      expect(whole.samples.every((s) => s.ok && s.detail?.pod === 'raw-1')).to.equal(true);

      reply = 'HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly part of it';
      const cut = collectingContext();
      await runProbeFor(httpProbe, cut, { url, rate: '20/s' }, 200);
      expect(cut.samples.length).to.be.greaterThan(0);
      expect(cut.samples.map((s) => s.error)).to.satisfy((errors: string[]) => errors.every((e) => e === 'reset'));
    } finally {
      server.close();
    }
  });

  describe('over https', () => {
    let server: HttpsServer;
    let url: string;
    let caFile: string;
    let handshakeFailures = 0;
    before(async () => {
      const dir = mkdtempSync(join(tmpdir(), 'gameday-tls-'));
      caFile = join(dir, 'cert.pem');
      const subject = ['-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'];
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', ...subject, '-days', '1', '-keyout', join(dir, 'key.pem'), '-out', caFile], { stdio: 'ignore' });
      server = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(caFile) }, (_req, res) => res.writeHead(200, { 'x-pod-name': 'tls-1' }).end('ok'));
      server.on('tlsClientError', () => handshakeFailures++);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      url = `https://localhost:${(server.address() as AddressInfo).port}/`;
    });
    after(() => server.close());

    it('refuses a server whose certificate it cannot verify, as a tls error', async () => {
      const ctx = collectingContext();
      await runProbeFor(httpProbe, ctx, { url, rate: '20/s' }, 200);
      expect(ctx.samples.length).to.be.greaterThan(0);
      expect(ctx.samples.map((s) => s.error)).to.satisfy((errors: string[]) => errors.every((e) => e === 'tls'));
      expect(handshakeFailures, 'handshakes the client broke off').to.be.greaterThan(0);
    });

    it('answers ok from a server whose certificate the process trusts (NODE_EXTRA_CA_CERTS)', async () => {
      // Trusted certificates are read once, when node starts: the probe runs in a process of its own.
      const probeModule = fileURLToPath(new URL('../../src/probes/http.ts', import.meta.url));
      const script = `import { httpProbe } from ${JSON.stringify(pathToFileURL(probeModule).href)};
        const samples = [];
        const ctx = { name: 'tls', experimentDir: '.', artifactsDir: '.', signal: new AbortController().signal, emit: (s) => samples.push(s), log: () => {} };
        const running = await httpProbe.start(ctx, httpProbe.params.parse({ url: ${JSON.stringify(url)}, rate: '20/s' }));
        await new Promise((r) => setTimeout(r, 200));
        await running.stop();
        process.stdout.write(JSON.stringify(samples));`;
      const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env: { ...process.env, NODE_EXTRA_CA_CERTS: caFile } });
      const samples = JSON.parse(stdout) as Sample[];
      expect(samples.length).to.be.greaterThan(0);
      expect(samples.every((s) => s.ok && s.detail?.status === 200 && s.detail.pod === 'tls-1'), JSON.stringify(samples[0])).to.equal(true);
    });
  });

  it('classifies a 5xx answer as status-503, unless expectStatus accepts it', async () => {
    const failing = collectingContext();
    await runProbeFor(httpProbe, failing, { url: `${local.base}/unavailable`, rate: '50/s' }, 200);
    expect(failing.samples).to.have.length.greaterThan(0);
    expect(failing.samples.every((s) => !s.ok && s.error === 'status-503' && s.detail?.status === 503)).to.equal(true);

    const accepting = collectingContext();
    await runProbeFor(httpProbe, accepting, { url: `${local.base}/unavailable`, rate: '50/s', expectStatus: [503] }, 200);
    expect(accepting.samples.every((s) => s.ok)).to.equal(true);
  });

  it('times out a request that gets no answer, with its latency at the timeout', async () => {
    const ctx = collectingContext();
    await runProbeFor(httpProbe, ctx, { url: `${local.base}/stall`, rate: '20/s', timeout: '300ms' }, 400);
    expect(withinSchedule(ctx.samples, 400)).to.have.length(8);
    for (const s of ctx.samples) {
      expect(s.ok).to.equal(false);
      expect(s.error).to.equal('timeout');
      expect(s.latencyMs).to.be.at.least(300);
    }
  });

  it('classifies a refused connection and a reset one', async () => {
    const refused = collectingContext();
    await runProbeFor(httpProbe, refused, { url: `http://127.0.0.1:${await freePort()}/`, rate: '20/s' }, 200);
    expect(refused.samples).to.have.length.greaterThan(0);
    expect(refused.samples.map((s) => s.error)).to.satisfy((errors: string[]) => errors.every((e) => e === 'refused'));

    const reset = collectingContext();
    await runProbeFor(httpProbe, reset, { url: `${local.base}/reset`, rate: '20/s' }, 200);
    expect(reset.samples).to.have.length.greaterThan(0);
    expect(reset.samples.map((s) => s.error)).to.satisfy((errors: string[]) => errors.every((e) => e === 'reset'));
  });

  it('counts requests beyond maxInFlight as overload samples instead of queueing them', async () => {
    const ctx = collectingContext();
    const running = await runProbeFor(httpProbe, ctx, { url: `${local.base}/stall`, rate: '50/s', timeout: '1s', maxInFlight: 3 }, 300);
    const owed = withinSchedule(ctx.samples, 300);
    expect(owed).to.have.length(15);
    expect(owed.filter((s) => s.error === 'timeout')).to.have.length(3);
    expect(owed.filter((s) => s.error === 'overload')).to.have.length(12);
    expect(running.summary().errors.overload).to.equal(ctx.samples.filter((s) => s.error === 'overload').length);
  });

  it('sends the method, headers and body it is given', async () => {
    local.received.length = 0;
    const ctx = collectingContext();
    await runProbeFor(httpProbe, ctx, { url: `${local.base}/ok`, rate: '10/s', method: 'POST', headers: { 'x-probe': 'gameday', 'content-type': 'application/json' }, body: '{"buy":1}' }, 150);
    expect(local.received).to.have.length.greaterThan(0);
    for (const r of local.received) {
      expect(r).to.include({ method: 'POST', path: '/ok', body: '{"buy":1}' });
      expect(r.headers['x-probe']).to.equal('gameday');
      expect(r.headers.connection).to.equal('keep-alive');
    }
  });

  it('sends the credentials of a URL as basic authorization, and the query with the path', async () => {
    local.received.length = 0;
    const ctx = collectingContext();
    await runProbeFor(httpProbe, ctx, { url: `${local.base.replace('//', '//probe:p%40ss@')}/ok?from=gameday`, rate: '10/s' }, 150);
    expect(local.received).to.have.length.greaterThan(0);
    for (const r of local.received) {
      expect(r.path).to.equal('/ok?from=gameday');
      expect(r.headers.authorization).to.equal(`Basic ${Buffer.from('probe:p@ss').toString('base64')}`);
      expect(r.headers.host).to.equal(new URL(local.base).host);
    }
  });

  it('refuses params that do not name one target, or send a body with GET', () => {
    const issues = (raw: unknown): string[] => httpProbe.params.safeParse(raw).error?.issues.map((i) => i.message) ?? [];
    expect(issues({ url: 'http://x/', service: 'a/b:80' })).to.include('give exactly one of url or service');
    expect(issues({})).to.include('give exactly one of url or service');
    expect(issues({ url: 'http://x/', body: 'x' })).to.include('a body needs a method that sends one: POST, PUT or PATCH');
    expect(issues({ url: 'http://x/', path: '/a' })).to.include('path goes with service; with url, put the path in the url');
    expect(issues({ service: 'shop/web' })).to.include('write the service as namespace/name:port, like shop/web:80');
    expect(issues({ url: 'http://x/', rate: 50 })).to.include('a rate needs its unit: write 50/s');
    expect(issues({ url: 'http://x/', headers: { 'x-probe': 'a\r\nx-injected: 1' } })).to.include('Invalid character in header content ["x-probe"]');
    expect(issues({ url: 'http://x/', headers: { 'bad header': 'a' } })).to.include('Header name must be a valid HTTP token ["bad header"]');
  });
});

describe('http probe through the service proxy of the embedded cluster', function () {
  this.timeout(40_000);
  let sim: SimClients;
  let target: ClusterTarget;
  before(async () => {
    sim = await startSim();
    target = await embeddedTarget(sim.cluster);
  });
  after(async () => {
    await target?.close();
    await sim?.cluster.stop();
  });

  async function deploy(name: string, replicas: number, env: Record<string, string> = {}): Promise<void> {
    await sim.apps.createNamespacedDeployment({ namespace: 'default', body: webDeployment(name, replicas, { env }) });
    await sim.core.createNamespacedService({ namespace: 'default', body: httpService(name) });
    await eventually(`${name} ready`, async () => (await podsOf(sim.core, 'default', name)).filter(isReady).length === replicas);
    await eventually(`${name} endpoints`, async () => {
      const ep = await sim.core.readNamespacedEndpoints({ namespace: 'default', name });
      return (ep.subsets?.[0]?.addresses?.length ?? 0) === replicas;
    });
    // The data plane learns of new endpoints a moment after the Endpoints object lists them.
    const url = sim.cluster.url + serviceProxyPath('default', name, '80', '/');
    await eventually(`${name} served through the service proxy`, async () => (await fetch(url)).ok);
  }

  it('answers ok samples from the pods behind a Service', async () => {
    await deploy('web', 2);
    const ctx = collectingContext({ cluster: target });
    await runProbeFor(httpProbe, ctx, { service: 'default/web:80', path: '/hostname', rate: '20/s' }, 1100);
    const owed = withinSchedule(ctx.samples, 1000);
    expect(owed).to.have.length(20);
    expect(owed.every((s) => s.ok && s.detail?.status === 200)).to.equal(true);
  });

  it('shows a pod killed mid-request as failed samples, while the other pod keeps answering', async () => {
    await deploy('doomed', 2, { GAMEDAY_LATENCY: '400ms' });
    const ctx = collectingContext({ cluster: target });
    const [victim] = await podsOf(sim.core, 'default', 'doomed');
    let killedAt = Infinity;
    await runProbeFor(httpProbe, ctx, { service: 'default/doomed:80', rate: '20/s', timeout: '2s' }, 1500, async () => {
      await new Promise((r) => setTimeout(r, 600));
      await sim.core.deleteNamespacedPod({ namespace: 'default', name: victim!.metadata!.name!, gracePeriodSeconds: 0 });
      killedAt = Date.now();
    });
    const failed = ctx.samples.filter((s) => !s.ok);
    expect(failed, 'requests in flight to the killed pod').to.have.length.greaterThan(0);
    expect(failed.every((s) => s.error === 'status-503'), `errors: ${failed.map((s) => s.error).join(', ')}`).to.equal(true);
    expect(ctx.samples.filter((s) => s.ok && s.t > killedAt), 'answers after the kill').to.have.length.greaterThan(0);
    expect(withinSchedule(ctx.samples, 1500)).to.have.length(30);
  });

  it('shows a pod turning slow as growing latency, never as missing samples', async () => {
    await deploy('sluggish', 1);
    const ctx = collectingContext({ cluster: target });
    await runProbeFor(httpProbe, ctx, { service: 'default/sluggish:80', rate: '20/s', timeout: '2s' }, 5000, async () => {
      await new Promise((r) => setTimeout(r, 500));
      await sim.apps.patchNamespacedDeployment({
        namespace: 'default',
        name: 'sluggish',
        body: [{ op: 'add', path: '/spec/template/spec/containers/0/env', value: [{ name: 'GAMEDAY_LATENCY', value: '300ms' }] }],
      });
    });
    const owed = withinSchedule(ctx.samples, 5000).sort((a, b) => a.t - b.t);
    expect(owed).to.have.length(100);
    const mean = (xs: typeof owed): number => xs.reduce((sum, s) => sum + s.latencyMs!, 0) / xs.length;
    const first = owed.slice(0, 10);
    const last = owed.slice(-10);
    expect(first.every((s) => s.ok)).to.equal(true);
    expect(last.every((s) => s.ok && s.latencyMs! >= 300), `last latencies: ${last.map((s) => s.latencyMs).join(', ')}`).to.equal(true);
    expect(mean(last)).to.be.greaterThan(mean(first) + 250);
  });
});
