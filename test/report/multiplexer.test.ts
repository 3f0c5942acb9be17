import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import type { RunEvent } from '../../src/journal/events.js';
import { JsonReporter } from '../../src/report/json.js';
import { JunitReporter } from '../../src/report/junit.js';
import { ReporterMultiplexer } from '../../src/report/multiplexer.js';
import type { Reporter, RunContext } from '../../src/report/reporter.js';
import { resultFromJournal, type RunResult } from '../../src/report/result.js';
import { SummaryReporter } from '../../src/report/summary.js';
import { fixtureEvents, journalPath, playRuns, TextSink, withTempDir } from './fixture-journals.js';

/** Records the hooks it gets, to check what the multiplexer calls and in which order. */
class RecordingReporter implements Reporter {
  readonly calls: string[] = [];
  filesAtEnd: readonly string[] = [];
  constructor(readonly name: string) {}
  onBegin(info: { runs: number }): void {
    this.calls.push(`begin ${info.runs}`);
  }
  onRunStart(e: Extract<RunEvent, { type: 'run.start' }>): void {
    this.calls.push(`start ${e.runId}`);
  }
  onEvent(e: RunEvent): void {
    if (e.type === 'run.end') this.calls.push(`event run.end`);
  }
  onRunEnd(result: RunResult, run: RunContext): void {
    this.filesAtEnd = run.files;
    this.calls.push(`end ${result.outcome}`);
  }
  onEnd(results: readonly RunResult[]): void {
    this.calls.push(`all ${results.map((r) => r.outcome).join(',')}`);
  }
}

class ThrowingReporter implements Reporter {
  readonly name = 'junit';
  events = 0;
  onEvent(): void {
    this.events++;
    throw new Error('disk on fire');
  }
}

describe('report/multiplexer', () => {
  it('calls every hook in order, one run after another, and returns the results', async () => {
    await withTempDir(async (dir) => {
      const rec = new RecordingReporter('rec');
      const results = await playRuns(['passing', 'failed-slo'], [rec], dir);
      expect(results.map((r) => r.outcome)).to.deep.equal(['passed', 'failed']);
      expect(rec.calls).to.deep.equal([
        'begin 2',
        'start 20260101-000000-pass',
        'event run.end',
        'end passed',
        'start 20260101-000000-slo',
        'event run.end',
        'end failed',
        'all passed,failed',
      ]);
    });
  });

  it('keeps the other reporters and the run going when one throws, and warns once', async () => {
    await withTempDir(async (dir) => {
      const stderr = new TextSink();
      const thrower = new ThrowingReporter();
      const rec = new RecordingReporter('rec');
      const [result] = await playRuns(['failed-slo'], [thrower, new JsonReporter(), rec, new SummaryReporter({ env: {} })], dir, stderr);
      expect(thrower.events).to.equal(1);
      expect(stderr.text.trim().split('\n')).to.deep.equal(['warning: reporter junit failed: disk on fire']);
      const written = JSON.parse(await readFile(join(dir, result!.runId, 'result.json'), 'utf8')) as RunResult;
      expect(written.outcome).to.equal('failed');
      expect(await readFile(join(dir, result!.runId, 'summary.md'), 'utf8')).to.contain('FAILED');
      expect(rec.calls).to.include('end failed');
    });
  });

  it('isolates a reporter whose async onRunEnd rejects', async () => {
    await withTempDir(async (dir) => {
      const stderr = new TextSink();
      const broken: Reporter = {
        name: 'summary',
        outputs: ['summary.md'],
        onRunEnd: async () => {
          throw new Error('EACCES: permission denied');
        },
      };
      const rec = new RecordingReporter('rec');
      await playRuns(['passing'], [broken, new JunitReporter(), rec], dir, stderr);
      expect(stderr.text).to.equal('warning: reporter summary failed: EACCES: permission denied\n');
      expect(rec.calls).to.include('end passed');
      await readFile(join(dir, '20260101-000000-pass', 'junit.xml'), 'utf8');
      // The terminal must not point at a file that was never written.
      expect(rec.filesAtEnd.map((f) => f.slice(dir.length))).to.deep.equal([join('/20260101-000000-pass', 'junit.xml')]);
    });
  });

  it('lets file-writing reporters finish before the others look at the files', async () => {
    await withTempDir(async (dir) => {
      let seen = '';
      const looker: Reporter = {
        name: 'looker',
        onRunEnd: async (_result, run) => {
          seen = await readFile(run.files[0]!, 'utf8');
        },
      };
      await playRuns(['passing'], [looker, new JsonReporter()], dir);
      expect(JSON.parse(seen).outcome).to.equal('passed');
    });
  });

  it('reports a run whose run.end never came as ended in error', async () => {
    await withTempDir(async (dir) => {
      const mux = new ReporterMultiplexer([new JsonReporter()], { stderr: new TextSink() });
      const observer = mux.forRun(join(dir, 'crashed'));
      for (const e of fixtureEvents('passing').filter((e) => e.type !== 'run.end')) observer.onEvent(e);
      await observer.onRunEnd?.();
      await observer.onRunEnd?.();
      expect(mux.results).to.have.length(1);
      const written = JSON.parse(await readFile(join(dir, 'crashed', 'result.json'), 'utf8')) as RunResult;
      expect(written.outcome).to.equal('error');
    });
  });

  it('rewrites the reports of a finished run from its journal', async () => {
    await withTempDir(async (dir) => {
      const rec = new RecordingReporter('rec');
      const mux = new ReporterMultiplexer([new JsonReporter(), rec], { stderr: new TextSink() });
      const result = await resultFromJournal(journalPath('inconclusive-not-landed'));
      await mux.reportFinished(join(dir, 'again'), result);
      const written = JSON.parse(await readFile(join(dir, 'again', 'result.json'), 'utf8')) as RunResult;
      expect(written).to.deep.equal(JSON.parse(JSON.stringify(result)));
      expect(rec.calls).to.deep.equal(['end inconclusive']);
      expect(mux.results).to.deep.equal([result]);
    });
  });
});
