import { expect } from 'chai';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Outcome } from '../../src/core/outcome.js';
import { encodeAttributes, encodeTrace, unixNano, type ExportTraceServiceRequest, type KeyValue, type OtlpSpan, type RunTrace } from '../../src/report/otlp/encode.js';
import { OtlpReporter } from '../../src/report/otlp.js';
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
});
