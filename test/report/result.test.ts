import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { expect } from 'chai';
import type { RunEvent } from '../../src/journal/events.js';
import { JsonReporter } from '../../src/report/json.js';
import { ResultBuilder, resultFromJournal, type RunResult } from '../../src/report/result.js';
import { fixtureEvents, journalPath, playRuns, withTempDir, type FixtureName } from './fixture-journals.js';

const schema = JSON.parse(readFileSync(new URL('../../src/report/result.schema.json', import.meta.url), 'utf8')) as object;
const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats.default(ajv);
const validate = ajv.compile(schema);

function build(events: readonly RunEvent[]): RunResult {
  const builder = new ResultBuilder();
  for (const e of events) builder.add(e);
  return builder.result();
}

const ALL: FixtureName[] = ['passing', 'failed-slo', 'inconclusive-not-landed', 'interrupted-revert-failed', 'node-partition'];

describe('report/result', () => {
  for (const name of ALL) {
    it(`builds a schema-valid result from the ${name} journal`, () => {
      const result = JSON.parse(JSON.stringify(build(fixtureEvents(name))));
      expect(validate(result), ajv.errorsText(validate.errors)).to.equal(true);
    });
  }

  it('rejects a result that breaks the schema', () => {
    const good = JSON.parse(JSON.stringify(build(fixtureEvents('failed-slo')))) as Record<string, unknown>;
    expect(validate({ ...good, outcome: 'kinda-ok' })).to.equal(false);
    expect(validate({ ...good, startedAt: 'yesterday' })).to.equal(false);
    const { checks: _checks, ...withoutChecks } = good;
    expect(validate(withoutChecks)).to.equal(false);
    const checks = (good.checks as Record<string, unknown>[]).map((c) => ({ ...c, verdict: 'maybe' }));
    expect(validate({ ...good, checks })).to.equal(false);
  });

  it('counts node condition changes and Warning events, a repeated Event by its own count', () => {
    const result = build(fixtureEvents('node-partition'));
    expect(result.clusterActivity).to.deep.equal({
      warningEvents: 4,
      warningReasons: { NodeNotReady: 1, FailedScheduling: 4, Evicted: 1 },
      nodeConditionChanges: 4,
      nodesAffected: ['gameday-worker2', 'gameday-worker3'],
    });
    expect(build(fixtureEvents('passing')).clusterActivity).to.deep.equal({ warningEvents: 0, warningReasons: {}, nodeConditionChanges: 0, nodesAffected: [] });
  });

  it('adds up the API retries of every phase by cause, and has none to tell for a journal from before they were counted', () => {
    const events = fixtureEvents('passing').map((e) => (e.type === 'run.start' ? { ...e, journalVersion: 2 } : e));
    const end = events.findIndex((e) => e.type === 'run.end');
    const t = events[end]!.t;
    events.splice(end, 0, { type: 'api.retries', t, phase: 'faults', counts: { 'HTTP 503': 4, 'connection reset': 1 } }, { type: 'api.retries', t, phase: 'teardown', counts: { 'HTTP 503': 2, 're-list after 410': 3 } });
    const result = JSON.parse(JSON.stringify(build(events))) as RunResult;
    expect(result.apiRetries).to.deep.equal({ total: 10, byCause: { 'HTTP 503': 6, 're-list after 410': 3, 'connection reset': 1 } });
    expect(validate(result), ajv.errorsText(validate.errors)).to.equal(true);
    expect(build(events.filter((e) => e.type !== 'api.retries')).apiRetries, 'a clean run').to.deep.equal({ total: 0, byCause: {} });
    expect(build(fixtureEvents('passing')).apiRetries, 'journal version 1: not counted, so not zero either').to.equal(undefined);
  });

  it('keeps the last verdict of a check polled until it held, and counts the evaluations', () => {
    const result = build(fixtureEvents('passing'));
    const before = result.checks.filter((c) => c.role === 'steady-state-before');
    expect(before).to.have.length(1);
    expect(before[0]).to.include({ verdict: 'passed', value: 3, evaluations: 2 });
    expect(result.outcome).to.equal('passed');
    expect(result.durationMs).to.equal(71_000);
    expect(result.startedAt).to.equal(new Date(result.startedAtMs).toISOString());
  });

  it('carries the evidence of a failed SLO with ISO and epoch times', () => {
    const result = build(fixtureEvents('failed-slo'));
    expect(result.outcome).to.equal('failed');
    const slo = result.checks.find((c) => c.check === 'availability(web) >= 99.5%')!;
    expect(slo.verdict).to.equal('failed');
    expect(slo.value).to.equal(94.203);
    expect(slo.evidence!.firstViolationAtMs).to.equal(result.startedAtMs + 22_000);
    expect(slo.evidence!.firstViolationAt).to.equal(new Date(result.startedAtMs + 22_000).toISOString());
    expect(slo.evidence!.worst).to.have.length(2);
    expect(slo.evidence!.worst![0]).to.include({ probe: 'web', ok: false, error: 'timeout' });
    const web = result.probes.find((p) => p.name === 'web')!;
    expect(web.kind).to.equal('http');
    expect(web.samples).to.equal(web.ok + web.failed);
    expect(web.failed).to.equal(8);
    expect(web.firstFailureAtMs).to.equal(result.startedAtMs + 22_000);
  });

  it('records a fault that did not land', () => {
    const result = build(fixtureEvents('inconclusive-not-landed'));
    expect(result.outcome).to.equal('inconclusive');
    const [fault] = result.faults;
    expect(fault).to.include({ id: 'f0', kind: 'podKill', landed: false, description: 'kill pod shop/db-0' });
    expect(fault!.verifyMessage).to.match(/same uid/);
    expect(fault!.evidence.find((e) => e.step === 'not-landed')!.data).to.deep.equal({ uid: '4f1c', phase: 'Running' });
  });

  it('records a failed revert, the signal, and the fault the run never reached', () => {
    const result = build(fixtureEvents('interrupted-revert-failed'));
    expect(result.outcome).to.equal('interrupted');
    expect(result.signals.map((s) => s.signal)).to.deep.equal(['SIGINT']);
    const [f0, f1] = result.faults;
    expect(f0!.revertError).to.match(/timed out/);
    expect(f0!.revertedAt).to.equal(undefined);
    expect(f1).to.include({ id: 'f1', kind: 'diskFill' });
    expect(f1!.injectStartedAt).to.equal(undefined);
    expect(result.errors.map((e) => e.source)).to.include.members(['fault:f0', 'run']);
  });

  it('stays the same size however many samples the run produced', () => {
    const [start, ...rest] = fixtureEvents('passing');
    const withSamples = (n: number): number => {
      const builder = new ResultBuilder();
      builder.add(start!);
      for (let i = 0; i < n; i++) builder.add({ type: 'sample', t: start!.t + i, probe: 'web', ok: i % 1000 !== 0, latencyMs: 5 });
      for (const e of rest) builder.add(e);
      // Counts and times differ in their digits; the shape must not grow with the samples.
      return JSON.stringify(builder.result()).replace(/\d+/g, '0').length;
    };
    expect(withSamples(200_000)).to.equal(withSamples(2_000));
  });

  it('reads a journal from disk the same as the live events', async () => {
    for (const name of ALL) expect(await resultFromJournal(journalPath(name))).to.deep.equal(build(fixtureEvents(name)));
  });

  it('ignores a half-written last line and reports the run as ended in error when run.end never came', async () => {
    await withTempDir(async (dir) => {
      const text = await readFile(journalPath('passing'), 'utf8');
      const lines = text.trimEnd().split('\n');
      const cut = [...lines.slice(0, 40), lines[40]!.slice(0, 25)].join('\n');
      const path = join(dir, 'journal.ndjson');
      await writeFile(path, cut);
      const result = await resultFromJournal(path);
      expect(result.outcome).to.equal('error');
      expect(result.reason).to.match(/journal ends before/);
      expect(validate(JSON.parse(JSON.stringify(result)))).to.equal(true);
    });
  });

  it('names the line of a broken event in the middle of a journal', async () => {
    await withTempDir(async (dir) => {
      const lines = (await readFile(journalPath('passing'), 'utf8')).trimEnd().split('\n');
      lines[5] = '{"type":"sample",';
      const path = join(dir, 'journal.ndjson');
      await writeFile(path, lines.join('\n'));
      let caught: unknown;
      await resultFromJournal(path).catch((err: unknown) => (caught = err));
      expect(String(caught)).to.contain(`${path}:6: not a journal event`);
    });
  });

  it('refuses a file without run.start', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'journal.ndjson');
      await writeFile(path, '{"type":"phase","t":1,"phase":"setup"}\n');
      let caught: unknown;
      await resultFromJournal(path).catch((err: unknown) => (caught = err));
      expect(String(caught)).to.match(/no run\.start/);
    });
  });

  it('json reporter writes result.json that validates and matches the run', async () => {
    await withTempDir(async (dir) => {
      const [result] = await playRuns(['failed-slo'], [new JsonReporter()], dir);
      const written = JSON.parse(await readFile(join(dir, result!.runId, 'result.json'), 'utf8'));
      expect(validate(written), ajv.errorsText(validate.errors)).to.equal(true);
      expect(written.outcome).to.equal('failed');
      expect(written).to.deep.equal(JSON.parse(JSON.stringify(result)));
    });
  });
});
