import { expect } from 'chai';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { exitCodeFor, type Outcome } from '../../src/core/outcome.js';
import { encodeAttributes, encodeTrace, unixNano, type ExportTraceServiceRequest, type KeyValue, type OtlpSpan, type RunTrace } from '../../src/report/otlp/encode.js';
import { OtlpReporter } from '../../src/report/otlp.js';
import { runCli, tempDir, TEST_PLUGINS } from '../cli/cli-process.js';
import { playRuns, TextSink, withTempDir, type FixtureName } from './fixture-journals.js';

interface ReceivedExport {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: ExportTraceServiceRequest;
}

/** A local OTLP/HTTP collector on 127.0.0.1 that keeps every POST; `silent` never answers (for the exporter's timeout). */
class OtlpReceiver {
  readonly received: ReceivedExport[] = [];
  answer = { status: 200, body: '{}' };
  silent = false;
  private readonly server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.received.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as ExportTraceServiceRequest });
      if (this.silent) return;
      res.writeHead(this.answer.status, { 'content-type': 'application/json' });
      res.end(this.answer.body);
    });
  });

  /** Resolves to the endpoint's base URL. */
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

const spansOf = (body: ExportTraceServiceRequest): readonly OtlpSpan[] => body.resourceSpans[0]!.scopeSpans[0]!.spans;
const attrs = (kvs: readonly KeyValue[]): Record<string, unknown> => Object.fromEntries(kvs.map((kv) => [kv.key, Object.values(kv.value)[0]]));
const nano = (s: string): bigint => BigInt(s);
/** A span's events, each as its name and attributes. */
const eventsOf = (span: OtlpSpan): Record<string, unknown>[] => span.events.map((e) => ({ name: e.name, ...attrs(e.attributes) }));

function spanNamed(spans: readonly OtlpSpan[], name: string): OtlpSpan {
  const span = spans.find((s) => s.name === name);
  if (!span) throw new Error(`no span "${name}" among: ${spans.map((s) => s.name).join(', ')}`);
  return span;
}

/** Every span but the root has a parent in the trace and lies within it; every span starts before it ends. */
function expectWellNested(spans: readonly OtlpSpan[]): void {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  expect(spans.filter((s) => s.parentSpanId === undefined)).to.have.length(1);
  for (const s of spans) {
    expect(nano(s.startTimeUnixNano) <= nano(s.endTimeUnixNano), `${s.name} starts before it ends`).to.equal(true);
    if (s.parentSpanId === undefined) continue;
    const parent = byId.get(s.parentSpanId);
    expect(parent, `parent of ${s.name}`).to.not.equal(undefined);
    expect(nano(parent!.startTimeUnixNano) <= nano(s.startTimeUnixNano) && nano(s.endTimeUnixNano) <= nano(parent!.endTimeUnixNano), `${s.name} lies within ${parent!.name}`).to.equal(true);
  }
}

describe('report/otlp', () => {
  describe('OTLP/JSON encoding', () => {
    it('types each attribute: strings without terminal escapes, bigints as intValue strings, numbers as doubles; drops undefined and non-finite', () => {
      expect(encodeAttributes({ s: 'timeout \u001b[31mred\u001b[0m', b: false, i: 7n, whole: 99, d: 94.2, u: undefined, nan: Number.NaN })).to.deep.equal([
        { key: 's', value: { stringValue: 'timeout red' } },
        { key: 'b', value: { boolValue: false } },
        { key: 'i', value: { intValue: '7' } },
        { key: 'whole', value: { doubleValue: 99 } },
        { key: 'd', value: { doubleValue: 94.2 } },
      ]);
    });

    it('writes times as decimal strings of nanoseconds, exact past 2^53', () => {
      expect(unixNano(1767225600123)).to.equal('1767225600123000000');
      expect(unixNano(1.5)).to.equal('1500000');
    });

    it('derives hex ids from the run id, the same on every export and different for another run', () => {
      const trace = (runId: string): RunTrace => ({
        runId,
        resource: { 'service.name': 'gameday' },
        scope: { name: 'gameday', version: '1' },
        spans: [
          { key: 'run', name: 'experiment x', startMs: 1000, endMs: 3000, attributes: {}, events: [], status: { code: 'ok' } },
          { key: 'child', parent: 'run', name: 'setup', startMs: 1000, endMs: 2000, attributes: {}, events: [{ name: 'e', atMs: 1500, attributes: { n: 1n } }], status: { code: 'error', message: 'broke' } },
        ],
      });
      const [root, child] = spansOf(encodeTrace(trace('run-a')));
      expect(root!.traceId).to.match(/^[0-9a-f]{32}$/);
      expect(root!.spanId).to.match(/^[0-9a-f]{16}$/);
      expect(root).to.not.have.property('parentSpanId');
      expect(child).to.deep.include({ traceId: root!.traceId, parentSpanId: root!.spanId, kind: 1, startTimeUnixNano: '1000000000', status: { code: 2, message: 'broke' } });
      expect(child!.events).to.deep.equal([{ timeUnixNano: '1500000000', name: 'e', attributes: [{ key: 'n', value: { intValue: '1' } }] }]);
      expect(root!.status).to.deep.equal({ code: 1 });
      expect(encodeTrace(trace('run-a'))).to.deep.equal(encodeTrace(trace('run-a')));
      expect(spansOf(encodeTrace(trace('run-b')))[0]!.traceId).to.not.equal(root!.traceId);
    });
  });

  describe('OtlpReporter (fixture journals, local receiver)', () => {
    const receiver = new OtlpReceiver();
    let url = '';
    before(async () => {
      url = `${await receiver.start()}/v1/traces`;
    });
    after(() => receiver.stop());
    beforeEach(() => {
      receiver.received.length = 0;
      receiver.answer = { status: 200, body: '{}' };
      receiver.silent = false;
    });

    const exportFixture = (name: FixtureName, options: { timeoutMs?: number } = {}): Promise<{ spans: readonly OtlpSpan[]; stderr: string; log: string; outcome: Outcome }> =>
      withTempDir(async (dir) => {
        const stderr = new TextSink();
        const log = new TextSink();
        const [result] = await playRuns([name], [new OtlpReporter({ url, log, ...options })], dir, stderr);
        const body = receiver.received.at(-1)?.body;
        return { spans: body ? spansOf(body) : [], stderr: stderr.text, log: log.text, outcome: result!.outcome };
      });

    it('marks a failed SLO: the root span is an error with the reason, its phase too, and the verdict is an event with its value', async () => {
      const { spans, log } = await exportFixture('failed-slo');
      const root = spanNamed(spans, 'experiment drain-a-worker-keeps-web-up');
      expect(root.status).to.deep.equal({ code: 2, message: 'failed: SLO availability(web) >= 99.5% failed: availability 94.2% < 99.5%' });
      expect(attrs(root.attributes)).to.include({ 'gameday.run.id': '20260101-000000-slo', 'gameday.outcome': 'failed', 'gameday.exit_code': '1', 'gameday.seed': '7' });
      const evaluation = spanNamed(spans, 'evaluation');
      expect(evaluation.status?.code).to.equal(2);
      const verdicts = eventsOf(evaluation);
      expect(verdicts[0]).to.deep.include({ name: 'slo failed', 'gameday.check.text': 'availability(web) >= 99.5%', 'gameday.check.verdict': 'failed', 'gameday.check.value': 94.203 });
      expect(verdicts[0]!['gameday.message']).to.equal('availability 94.2% < 99.5%: 8 of 138 requests failed (timeout)');
      expect(verdicts[1]).to.deep.include({ name: 'slo passed', 'gameday.check.value': 12 });
      expect(spanNamed(spans, 'faults').events.map((e) => e.name)).to.deep.equal(['warning']);
      expect(log).to.match(/^exported run 20260101-000000-slo as trace [0-9a-f]{32} \(\d+ spans\) to http:\/\/127\.0\.0\.1:\d+\/v1\/traces\n$/);
    });

    it('counts the last verdict of a check: a steady state that held on a later try leaves its phase unmarked', async () => {
      const { spans } = await exportFixture('passing');
      expect(spanNamed(spans, 'steady-state-before').events.map((e) => e.name)).to.deep.equal(['steady-state-before failed', 'steady-state-before passed']);
      expect(spanNamed(spans, 'steady-state-before')).to.not.have.property('status');
      expect(spanNamed(spans, 'experiment drain-a-worker-keeps-web-up').status).to.deep.equal({ code: 1 });
      expectWellNested(spans);
    });

    it('marks a fault whose revert failed as an error that lasts to the end of the run, and puts the signal on the root', async () => {
      const { spans } = await exportFixture('interrupted-revert-failed');
      const root = spanNamed(spans, 'experiment partition-zone-b');
      const fault = spanNamed(spans, 'fault f0 networkPartition');
      expect(fault.parentSpanId).to.equal(spanNamed(spans, 'faults').spanId);
      expect(fault.status?.code).to.equal(2);
      expect(fault.status?.message).to.contain('revert failed: iptables -X GAMEDAY-f0');
      expect(fault.endTimeUnixNano).to.equal(root.endTimeUnixNano);
      expect(fault.events.map((e) => e.name)).to.deep.equal(['inject', 'injected', 'verified', 'revert', 'revert-failed']);
      expect(attrs(fault.attributes)).to.include({ 'gameday.fault.kind': 'networkPartition', 'gameday.fault.landed': true });
      expect(root.status?.message).to.match(/^interrupted: /);
      expect(eventsOf(root)).to.deep.equal([{ name: 'signal', 'gameday.signal': 'SIGINT' }]);
    });

    it('warns when the collector answers an error or rejects spans, and the run keeps its outcome', async () => {
      receiver.answer = { status: 503, body: 'overloaded' };
      const failed = await exportFixture('passing');
      expect(failed.stderr).to.match(/^warning: reporter otlp failed: OTLP export to http:\/\/127\.0\.0\.1:\d+\/v1\/traces failed: HTTP 503: overloaded\n$/);
      expect(failed.outcome).to.equal('passed');
      receiver.answer = { status: 200, body: JSON.stringify({ partialSuccess: { rejectedSpans: '2', errorMessage: 'too old' } }) };
      expect((await exportFixture('passing')).stderr).to.contain('the collector rejected 2 spans: too old');
    });

    it('gives up on a collector that does not answer within the timeout', async () => {
      receiver.silent = true;
      const { stderr, outcome } = await exportFixture('passing', { timeoutMs: 200 });
      expect(stderr).to.contain('failed: no answer within 0.2 s');
      expect(outcome).to.equal('passed');
    });
  });

  describe('gameday run --otlp-endpoint (real CLI process, embedded cluster, test plug-ins)', function () {
    this.timeout(60_000);
    const receiver = new OtlpReceiver();
    let endpoint = '';
    let dir = '';
    let run: Awaited<ReturnType<typeof runCli>>;
    /** Exports are not taken from the developer's environment. */
    const env = { GAMEDAY_OTLP_ENDPOINT: '', OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_EXPORTER_OTLP_HEADERS: '' };

    before(async () => {
      endpoint = await receiver.start();
      dir = tempDir('gameday-otlp-');
      const marker = path.join(dir, 'marker');
      const experiment = (name: string, spec: string): void => writeFileSync(path.join(dir, 'experiments', `${name}.yaml`), `apiVersion: gameday/v1\nkind: Experiment\nmetadata: { name: ${name} }\nspec:\n${spec}`);
      mkdirSync(path.join(dir, 'experiments'));
      experiment(
        'a-holds',
        `  duration: 1s
  steadyState: { checks: [ "availability(tick) >= 90% over 200ms" ], recoverWithin: 5s }
  probes: { tick: { testProbe: { everyMs: 20 } } }
  faults: [ { at: 0s, for: 300ms, testFault: { marker: ${marker}-a } } ]
  slos: [ "availability(tick) >= 90%" ]
`,
      );
      // The negative control: the probe fails while its fault is applied, so the SLO must break.
      experiment(
        'b-breaks',
        `  duration: 1s
  probes: { tick: { testProbe: { everyMs: 20, failWhileExists: ${marker}-b } } }
  faults: [ { at: 0s, for: 500ms, testFault: { marker: ${marker}-b } } ]
  slos: [ "availability(tick) >= 99%" ]
`,
      );
      run = await runCli(['run', path.join(dir, 'experiments'), '--plugin', TEST_PLUGINS, '--out', path.join(dir, 'reports'), '--seed', '5', '--reporter', 'json', '--otlp-endpoint', endpoint, '--otlp-header', 'authorization=Bearer t0ken'], { env });
    });
    after(() => receiver.stop());

    const exportOf = (experiment: string): ReceivedExport => {
      const found = receiver.received.find((r) => spansOf(r.body).some((s) => s.name === `experiment ${experiment}`));
      if (!found) throw new Error(`no export of ${experiment}; gameday said:\n${run.stdout}${run.stderr}`);
      return found;
    };

    it('POSTs each run once to /v1/traces as JSON, with the headers given, and exits as the runs decide', () => {
      expect(run.code, run.stdout + run.stderr).to.equal(1);
      expect(receiver.received.map((r) => r.path)).to.deep.equal(['/v1/traces', '/v1/traces']);
      for (const r of receiver.received) expect(r.headers).to.include({ 'content-type': 'application/json', authorization: 'Bearer t0ken' });
      expect(run.stderr.match(/^exported run \S+ as trace [0-9a-f]{32}/gm)).to.have.length(2);
    });

    it('names the service, its version, the cluster and the scope', () => {
      const { body } = exportOf('a-holds');
      expect(attrs(body.resourceSpans[0]!.resource.attributes)).to.deep.include({ 'service.name': 'gameday', 'k8s.cluster.name': 'gameday', 'gameday.cluster.kind': 'embedded' });
      expect(attrs(body.resourceSpans[0]!.resource.attributes)['service.version']).to.match(/^\d+\.\d+\.\d+/);
      expect(body.resourceSpans[0]!.scopeSpans[0]!.scope.name).to.equal('gameday');
    });

    it('makes a passing run one trace: the root, its phases in order, the fault inside the faults phase, and each verdict', () => {
      const spans = spansOf(exportOf('a-holds').body);
      expectWellNested(spans);
      const root = spanNamed(spans, 'experiment a-holds');
      expect(root.status).to.deep.equal({ code: 1 });
      expect(attrs(root.attributes)).to.include({ 'gameday.outcome': 'passed', 'gameday.exit_code': '0', 'gameday.seed': '5' });
      expect(new Set(spans.map((s) => s.traceId))).to.have.property('size', 1);
      const phases = spans.filter((s) => s.parentSpanId === root.spanId && attrs(s.attributes)['gameday.phase'] !== undefined);
      expect(phases.map((p) => p.name)).to.deep.equal(['setup', 'steady-state-before', 'faults', 'recovery', 'evaluation', 'teardown']);
      phases.slice(1).forEach((p, i) => expect(p.startTimeUnixNano, `${p.name} starts as ${phases[i]!.name} ends`).to.equal(phases[i]!.endTimeUnixNano));
      const fault = spanNamed(spans, 'fault f0 testFault');
      expect(fault.parentSpanId).to.equal(spanNamed(spans, 'faults').spanId);
      expect(fault.events.map((e) => e.name)).to.deep.equal(['inject', 'injected', 'verified', 'revert', 'reverted']);
      expect(attrs(fault.attributes)).to.include({ 'gameday.fault.landed': true });
      const verdict = (phase: string): Record<string, unknown>[] => eventsOf(spanNamed(spans, phase));
      expect(verdict('steady-state-before')).to.have.length(1);
      expect(verdict('steady-state-before')[0]).to.include({ name: 'steady-state-before passed', 'gameday.check.text': 'availability(tick) >= 90% over 200ms' });
      expect(verdict('recovery')[0]).to.include({ name: 'steady-state-after passed' });
      expect(verdict('evaluation')[0]).to.include({ name: 'slo passed', 'gameday.check.text': 'availability(tick) >= 90%', 'gameday.check.verdict': 'passed', 'gameday.check.value': 1 });
    });

    it('marks the negative control: its root span is an error with the failed SLO', () => {
      const spans = spansOf(exportOf('b-breaks').body);
      const root = spanNamed(spans, 'experiment b-breaks');
      expect(root.status?.code).to.equal(2);
      expect(root.status?.message).to.match(/^failed: SLO not met: availability\(tick\) = [\d.]+% \(need >= 99%\)/);
      expect(eventsOf(spanNamed(spans, 'evaluation'))[0]).to.include({ 'gameday.check.verdict': 'failed' });
    });

    it('exports a finished run again from its journal with the same ids (gameday report)', async () => {
      const first = exportOf('a-holds');
      const reports = path.join(dir, 'reports');
      const runDir = path.join(reports, readdirSync(reports).find((d) => d.includes('a-holds'))!);
      const r = await runCli(['report', runDir, '--reporter', 'otlp', '--otlp-endpoint', endpoint], { env });
      expect(r.code, r.stdout + r.stderr).to.equal(0);
      const again = receiver.received.at(-1)!;
      expect(again).to.not.equal(first);
      expect(spansOf(again.body).map((s) => [s.traceId, s.spanId, s.parentSpanId, s.name])).to.deep.equal(spansOf(first.body).map((s) => [s.traceId, s.spanId, s.parentSpanId, s.name]));
    });

    it('only warns when the collector cannot be reached: the exit code is the run\'s own', async () => {
      const closed = new OtlpReceiver();
      const gone = await closed.start();
      await closed.stop();
      const out = path.join(dir, 'unreachable');
      const r = await runCli(['run', path.join(dir, 'experiments', 'b-breaks.yaml'), '--plugin', TEST_PLUGINS, '--out', out, '--reporter', 'json', '--otlp-endpoint', gone], { env });
      const runDir = path.join(out, readdirSync(out).find((d) => existsSync(path.join(out, d, 'result.json')))!);
      const result = JSON.parse(readFileSync(path.join(runDir, 'result.json'), 'utf8')) as { outcome: Outcome };
      expect(r.stderr).to.match(/warning: reporter otlp failed: OTLP export to http:\/\/127\.0\.0\.1:\d+\/v1\/traces failed: connect ECONNREFUSED/);
      expect(result.outcome).to.equal('failed');
      expect(r.code, r.stdout + r.stderr).to.equal(exitCodeFor(result.outcome));
    });
  });
});
