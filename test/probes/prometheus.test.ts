import path from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { Sample } from '../../src/core/sample.js';
import { httpProbe } from '../../src/probes/http.js';
import { prometheusProbe } from '../../src/probes/prometheus.js';
import type { RunningProbe } from '../../src/probes/probe.js';
import { evaluateCheck } from '../../src/slo/evaluate.js';
import { checkFunctionProblem } from '../../src/slo/functions.js';
import { parseCheck } from '../../src/slo/parse.js';
import { SampleIndex } from '../../src/slo/sample-index.js';
import { tempDir } from '../cli/cli-process.js';
import { checkOf, runExperimentCli } from '../cli/run-experiment.js';
import { isReady, podsOf, startSim, type SimClients } from '../sim/sim-fixture.js';
import { eventually } from '../support/eventually.js';
import { freePort } from '../support/free-port.js';
import { httpService, namespace, webDeployment } from '../support/kube-objects.js';
import { podsThroughApiServer, prometheusUnavailable, startPrometheus, type PrometheusServer } from '../support/prometheus.js';
import { collectingContext, runProbeFor, type CollectingContext } from './collecting-context.js';

const NS = 'shop';
/** A service that never failed has no 5xx series at all: `or vector(0)` makes that 0 errors, not no answer. */
const ERROR_RATIO = (app: string): string =>
  `(sum(rate(http_requests_total{namespace="${NS}",pod=~"${app}-.*",code=~"5.."}[5s])) or vector(0)) / sum(rate(http_requests_total{namespace="${NS}",pod=~"${app}-.*"}[5s]))`;

interface PromResult {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

async function query(prom: PrometheusServer, promql: string): Promise<PromResult[]> {
  const res = await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await res.json()) as { status: string; error?: string; data: { result: PromResult[] } };
  if (body.status !== 'success') throw new Error(`${promql}: ${body.error}`);
  return body.data.result;
}

/** The probe's samples as the engine would index them, and a check judged over all of them. */
function judge(check: string, ...contexts: CollectingContext[]): ReturnType<typeof evaluateCheck> {
  const idx = new SampleIndex();
  const all: Sample[] = contexts.flatMap((c) => c.samples);
  for (const s of all) idx.add(s);
  const times = all.map((s) => s.t);
  return evaluateCheck(parseCheck(check), idx, { from: Math.min(...times), to: Math.max(...times) + 1 }, 'worst-window');
}

describe('prom() checks', () => {
  it('take thresholds in the query\'s own units, and refuse a duration (PromQL writes seconds)', () => {
    expect(checkFunctionProblem(parseCheck('prom(error_ratio) < 1%'))).to.equal(undefined);
    expect(checkFunctionProblem(parseCheck('prom(p99_seconds) < 0.3'))).to.equal(undefined);
    expect(checkFunctionProblem(parseCheck('prom(rps) >= 40/s'))).to.equal(undefined);
    expect(checkFunctionProblem(parseCheck('prom(p99_seconds) < 300ms'))).to.match(/^prom compares a PromQL query's value .*seconds.*: write the threshold as a plain number, like 3, or as a percentage, like 99.5%, or as a rate, like 50\/s \(not 300ms\)$/);
  });
});

describe('prometheus probe against a real Prometheus scraping the embedded cluster', function () {
  this.timeout(60_000);
  let sim: SimClients;
  let prom: PrometheusServer;
  const load: RunningProbe[] = [];

  before(async function () {
    const why = prometheusUnavailable();
    if (why) {
      console.log(`      skipped: ${why}`);
      this.skip();
    }
    sim = await startSim();
    await sim.core.createNamespace({ body: namespace(NS) });
    // The error knob fails health checks too: flaky's pods keep their containers (no liveness
    // probe, no restart that would reset its counters) and their readiness (10 failures in a row).
    const apps = [
      ['steady', {}],
      ['flaky', { env: { GAMEDAY_ERROR_RATE: '30%' }, liveness: false, readinessFailureThreshold: 10 }],
    ] as const;
    for (const [app, options] of apps) {
      await sim.apps.createNamespacedDeployment({ namespace: NS, body: webDeployment(app, 2, options) });
      await sim.core.createNamespacedService({ namespace: NS, body: httpService(app) });
    }
    const pods = await eventually('four ready pods', async () => {
      const all = [...(await podsOf(sim.core, NS, 'steady')), ...(await podsOf(sim.core, NS, 'flaky'))];
      return all.length === 4 && all.every(isReady) ? all : false;
    });
    prom = await startPrometheus({ scrapeConfigs: [podsThroughApiServer('web', sim.cluster.url, pods.map((p) => ({ namespace: NS, name: p.metadata!.name!, port: 8080 })))] });
    // Traffic for the pods to count: gameday's own http probe, through each Service's local listener.
    for (const app of ['steady', 'flaky']) {
      const url = await eventually(`a local listener for ${app}`, () => sim.cluster.localServiceUrl(NS, app, 80));
      load.push(await httpProbe.start(collectingContext(), httpProbe.params.parse({ url: `${url}/checkout`, rate: '40/s' })));
    }
    await eventually('Prometheus to have two scrapes of traffic from every pod', async () => (await query(prom, `sum by (pod) (rate(http_requests_total{namespace="${NS}"}[5s])) > 0`)).length === 4, 20_000).catch((err: Error) => {
      throw new Error(`${err.message}\nprometheus log:\n${prom.log()}`);
    });
  });

  after(async () => {
    await Promise.all(load.map((l) => l.stop()));
    await prom?.stop();
    await sim?.cluster.stop();
  });

  it("scrapes each pod's counters, histogram and gauges through the API server's pod proxy", async () => {
    const up = await query(prom, `up{namespace="${NS}"}`);
    expect(up.map((r) => [r.metric.pod!.replace(/-.*/, ''), r.value[1]]).sort()).to.deep.equal([['flaky', '1'], ['flaky', '1'], ['steady', '1'], ['steady', '1']]);
    const codes = await query(prom, `sum by (code, method) (http_requests_total{namespace="${NS}"})`);
    expect(codes.map((r) => `${r.metric.method} ${r.metric.code}`).sort()).to.deep.equal(['get 200', 'get 500']);
    expect(await query(prom, `sum(resets(http_requests_total{namespace="${NS}"}[1m]))`)).to.have.deep.nested.property('[0].value[1]', '0');
    const p99 = await query(prom, `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{namespace="${NS}"}[5s])))`);
    expect(Number(p99[0]!.value[1])).to.be.within(0, 0.1);
    expect(await query(prom, `count(http_requests_in_flight{namespace="${NS}"} >= 0) + count(process_start_time_seconds{namespace="${NS}"} > 0)`)).to.have.deep.nested.property('[0].value[1]', '8');
    const pod = up[0]!.metric.pod!;
    const scraped = await fetch(`${sim.cluster.url}/api/v1/namespaces/${NS}/pods/${pod}:8080/proxy/metrics`);
    expect(scraped.headers.get('content-type')).to.equal('text/plain; version=0.0.4; charset=utf-8');
  });

  it('turns the query into samples: prom() passes for the healthy service and fails for the one answering 30% errors', async () => {
    const steady = collectingContext({ name: 'steady_errors' });
    const flaky = collectingContext({ name: 'flaky_errors' });
    await Promise.all([
      runProbeFor(prometheusProbe, steady, { url: prom.url, query: ERROR_RATIO('steady'), every: '300ms' }, 1000),
      runProbeFor(prometheusProbe, flaky, { url: prom.url, query: ERROR_RATIO('flaky'), every: '300ms' }, 1000),
    ]);
    expect(steady.samples.length).to.be.within(3, 5);
    expect(steady.samples.map((s) => [s.ok, s.value])).to.deep.equal(steady.samples.map(() => [true, 0]));
    expect(flaky.samples.map((s) => s.ok && s.value! > 0.1 && s.value! < 0.5), JSON.stringify(flaky.samples)).not.to.include(false);

    const passed = judge('prom(steady_errors) < 1%', steady);
    expect(passed.verdict).to.equal('passed');
    const failed = judge('prom(flaky_errors) < 1%', flaky);
    expect(failed.verdict).to.equal('failed');
    expect(failed.message).to.match(/^prom\(flaky_errors\) = \d\d\.\d% \(need < 1%\) at \+\d\.\ds \(\d readings\)$/);
    expect(failed.value).to.equal(Math.max(...flaky.samples.map((s) => s.value!)));
  });

  it('judges SLOs in a gameday run: the healthy service passes prom() < 1%, the failing one fails it (exit 1)', async () => {
    const kubeconfig = path.join(tempDir('gameday-prom-run-'), 'kubeconfig');
    await sim.cluster.writeKubeconfig(kubeconfig);
    const probe = (app: string): string => `    ${app}_errors: { prometheus: { url: "${prom.url}", query: ${JSON.stringify(ERROR_RATIO(app))}, every: 500ms } }`;
    const experiment = ['apiVersion: gameday/v1', 'kind: Experiment', 'metadata: { name: prom-slos }', 'spec:', '  duration: 2s', '  probes:', probe('steady'), probe('flaky'), '  slos: [ "prom(steady_errors) < 1%", "prom(flaky_errors) < 1%" ]', ''];
    const run = await runExperimentCli({ 'prom.yaml': experiment.join('\n') }, 'prom.yaml', { args: ['--kubeconfig', kubeconfig, '--allow-context', 'gameday-sim'] });
    expect([run.code, run.result.outcome]).to.deep.equal([1, 'failed']);
    const steady = checkOf(run, 'prom(steady_errors) < 1%');
    expect([steady.verdict, steady.value]).to.deep.equal(['passed', 0]);
    const flaky = checkOf(run, 'prom(flaky_errors) < 1%');
    expect(flaky.verdict).to.equal('failed');
    expect(flaky.value).to.be.within(0.1, 0.5);
    expect(flaky.message, flaky.message).to.match(/^prom\(flaky_errors\) = \d\d\.\d% \(need < 1%\) at [+-]\d+\.\ds \(\d+ readings\)$/);
  });

  it('makes a bad query, an empty answer, a wrong or silent server and an unreachable one failed samples saying why, never values', async () => {
    const port = await freePort();
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const cases = {
      bad: { url: prom.url, query: 'sum(rate(http_requests_total[5s])' },
      empty: { url: prom.url, query: 'sum(http_requests_total{namespace="nowhere"})' },
      many: { url: prom.url, query: `http_requests_total{namespace="${NS}"}` },
      down: { url: `http://127.0.0.1:${port}`, query: 'up' },
      // The API server is not Prometheus: its 404 is JSON, but not Prometheus's envelope.
      wrong: { url: sim.cluster.url, query: 'up' },
      stalled: { url: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, query: 'up', timeout: '100ms' },
    };
    const ctxs = Object.fromEntries(Object.keys(cases).map((name) => [name, collectingContext({ name })]));
    try {
      await Promise.all(Object.entries(cases).map(([name, p]) => runProbeFor(prometheusProbe, ctxs[name]!, { every: '200ms', ...p }, 500)));
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
    const errors = Object.fromEntries(Object.entries(ctxs).map(([name, c]) => [name, [...new Set(c.samples.map((s) => `${s.ok} ${s.value} ${s.error}`))]]));
    expect(errors).to.deep.equal({
      bad: ['false undefined bad_data'],
      empty: ['false undefined no-data'],
      many: ['false undefined many-series'],
      down: ['false undefined unreachable'],
      wrong: ['false undefined status-404'],
      stalled: ['false undefined timeout'],
    });
    expect(ctxs.stalled!.samples[0]!.detail?.message).to.equal(`no answer from ${cases.stalled.url} within 100 ms`);
    expect(ctxs.bad!.logs).to.have.length(1);
    expect(ctxs.bad!.logs[0]).to.match(/^query failed \(bad_data\): .*parse error/);
    expect(ctxs.down!.samples[0]!.detail?.message).to.equal(`cannot reach http://127.0.0.1:${port}: ECONNREFUSED`);
    expect(Object.values(ctxs).every((c) => c.failures.length === 0)).to.equal(true);

    const verdict = judge('prom(bad) < 1%', ctxs.bad!);
    expect(verdict.verdict).to.equal('no-data');
    expect(verdict.message).to.match(/^prom\(bad\) < 1%: no value from probe "bad" between .*; \d samples, the last failed with bad_data: .*parse error/);
    expect(judge('prom(empty) < 1%', ctxs.empty!).verdict).to.equal('no-data');
  });
});
