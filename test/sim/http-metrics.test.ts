import { execFileSync } from 'node:child_process';
import { expect } from 'chai';
import { readKnobs } from '../../src/sim/dataplane/behaviour-knobs.js';
import { ContainerServer } from '../../src/sim/dataplane/container-server.js';
import { appFor } from '../../src/sim/dataplane/image-catalogue.js';
import { UsageMeter } from '../../src/sim/dataplane/usage-meter.js';
import type { VirtualRequest, VirtualResponse } from '../../src/sim/dataplane/traffic.js';
import { prometheusUnavailable, promtoolBinary } from '../support/prometheus.js';

const POD = { namespace: 'shop', name: 'web-0', uid: 'u1', node: 'worker', ip: '10.244.1.5' };

function container(image: 'gameday-web' | 'web', env: Record<string, string> = {}): ContainerServer {
  // Only the kv image reads the kv options.
  const app = appFor(image, { pod: POD, args: [], kv: undefined as never });
  const knobs = readKnobs(Object.entries(env).map(([name, value]) => ({ name, value })), undefined);
  const server = new ContainerServer(new Set([8080]), app, knobs, new UsageMeter('web', knobs.usage, 15_000));
  server.listen();
  return server;
}

function request(method: string, path: string): VirtualRequest {
  return { method, path, headers: {}, body: Buffer.alloc(0) };
}

async function scrape(server: ContainerServer): Promise<VirtualResponse & { text: string }> {
  const res = await server.handle(request('GET', '/metrics'));
  return { ...res, text: String(res.body) };
}

/** The sample lines of one metric family, without HELP and TYPE. */
function samplesOf(text: string, prefix: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(prefix));
}

describe('gameday/web request metrics (Prometheus text format)', () => {
  it('counts answered requests by status and lower-case method, not the scrapes themselves', async () => {
    const server = container('gameday-web');
    await server.handle(request('GET', '/'));
    await server.handle(request('GET', '/hostname'));
    await server.handle(request('POST', '/checkout'));
    await server.handle(request('BREW', '/coffee'));
    await scrape(server);
    const res = await scrape(server);
    expect(res.status).to.equal(200);
    expect(res.headers['content-type']).to.equal('text/plain; version=0.0.4; charset=utf-8');
    expect(samplesOf(res.text, 'http_requests_total')).to.deep.equal([
      'http_requests_total{code="200",method="get"} 2',
      'http_requests_total{code="200",method="post"} 1',
      'http_requests_total{code="200",method="unknown"} 1',
    ]);
    expect(res.text).to.match(/^# HELP http_requests_total .+\n# TYPE http_requests_total counter\n/);
    expect(res.text).to.include('# TYPE http_request_duration_seconds histogram\n');
    expect(res.text).to.match(/\n# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds \d{10}(\.\d+)?\n$/);
  });

  it('writes a cumulative histogram whose +Inf bucket and count match the counter', async () => {
    const server = container('gameday-web', { GAMEDAY_LATENCY: '30ms' });
    await Promise.all([server.handle(request('GET', '/')), server.handle(request('GET', '/'))]);
    const lines = samplesOf((await scrape(server)).text, 'http_request_duration_seconds');
    const buckets = lines.filter((l) => l.includes('_bucket')).map((l) => [/le="([^"]+)"/.exec(l)![1], Number(l.split(' ')[1])]);
    expect(buckets.map(([le]) => le)).to.deep.equal(['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf']);
    // Both took the 30 ms the latency knob adds: none by 25 ms, both by 10 s.
    expect(buckets.find(([le]) => le === '0.025')![1]).to.equal(0);
    expect(buckets.find(([le]) => le === '10')![1]).to.equal(2);
    const counts = buckets.map(([, n]) => n as number);
    expect(counts).to.deep.equal([...counts].sort((a, b) => a - b));
    expect(lines).to.include('http_request_duration_seconds_bucket{code="200",method="get",le="+Inf"} 2');
    expect(lines).to.include('http_request_duration_seconds_count{code="200",method="get"} 2');
    const sum = Number(lines.find((l) => l.startsWith('http_request_duration_seconds_sum'))!.split(' ')[1]);
    // Two 30 ms requests; a timer may fire a fraction of a millisecond before the clock the histogram reads says 30.
    expect(sum).to.be.within(0.056, 1);
  });

  it('counts injected errors as 500s, shows requests in flight, and answers scrapes past the knobs', async () => {
    const failing = container('gameday-web', { GAMEDAY_ERROR_RATE: '100%' });
    for (let i = 0; i < 3; i++) await failing.handle(request('GET', '/'));
    const scraped = await scrape(failing);
    expect(scraped.status).to.equal(200);
    expect(samplesOf(scraped.text, 'http_requests_total')).to.deep.equal(['http_requests_total{code="500",method="get"} 3']);

    const slow = container('gameday-web', { GAMEDAY_LATENCY: '10s' });
    const pending = [slow.handle(request('GET', '/')), slow.handle(request('GET', '/'))];
    expect(samplesOf((await scrape(slow)).text, 'http_requests_in_flight')).to.deep.equal(['http_requests_in_flight 2']);
    slow.kill();
    await Promise.allSettled(pending);
  });

  it("passes promtool's parser and its metric-naming lint", async function () {
    const why = prometheusUnavailable();
    if (why) {
      console.log(`      skipped: ${why}`);
      this.skip();
    }
    const server = container('gameday-web', { GAMEDAY_ERROR_RATE: '50%' });
    for (let i = 0; i < 20; i++) await server.handle(request(i % 2 ? 'POST' : 'GET', '/'));
    const text = (await scrape(server)).text;
    expect(text).to.include('code="500"');
    // promtool exits non-zero and names the problem for a malformed line or a badly named metric.
    expect(execFileSync(promtoolBinary()!, ['check', 'metrics'], { input: text, encoding: 'utf8' })).to.equal('');
  });

  it('leaves images other than gameday/web uninstrumented: /metrics is an ordinary path there', async () => {
    const nginx = container('web');
    const res = await nginx.handle(request('GET', '/metrics'));
    expect(res.headers['content-type']).to.equal('application/json');
    expect(JSON.parse(String(res.body))).to.include({ path: '/metrics', pod: 'web-0' });
  });
});
