import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { historyEntry, RunHistory, type HistoryEntry } from '../../src/report/history.js';
import { HtmlReporter } from '../../src/report/html.js';
import { findRegressions } from '../../src/report/regression.js';
import { journalPath, withTempDir } from './fixture-journals.js';
import { playEventRuns, readEvents, variantRun } from './html-fixture.js';

const DAY = 86_400_000;

function entry(runId: string, startedAtMs: number, checks: HistoryEntry['checks'], recoveryMs?: number): HistoryEntry {
  return { v: 1, experiment: 'e', runId, file: 'e.yaml', startedAt: new Date(startedAtMs).toISOString(), startedAtMs, durationMs: 1000, outcome: 'passed', checks, ...(recoveryMs !== undefined ? { recoveryMs } : {}) };
}

describe('report/history', () => {
  it('appends one line per run, once, and reads back the last runs of an experiment oldest first', async () => {
    await withTempDir(async (dir) => {
      const history = new RunHistory(join(dir, 'history.ndjson'));
      expect(await history.recent('e', 5)).to.deep.equal([]);
      for (let i = 0; i < 6; i++) await history.append(entry(`r${i}`, i * DAY, []));
      await history.append(entry('r5', 5 * DAY, []));
      await history.append({ ...entry('other', 7 * DAY, []), experiment: 'other' });
      await writeFile(join(dir, 'history.ndjson'), `${await readFile(join(dir, 'history.ndjson'), 'utf8')}{"half a li`);
      expect((await readFile(join(dir, 'history.ndjson'), 'utf8')).split('\n').filter((l) => l.startsWith('{"v"'))).to.have.length(7);
      expect((await history.recent('e', 3)).map((e) => e.runId)).to.deep.equal(['r3', 'r4', 'r5']);
      expect((await history.recent('e', 3, 2 * DAY)).map((e) => e.runId)).to.deep.equal(['r0', 'r1', 'r2']);
    });
  });

  it('records check values and the recovery time of a run', async () => {
    await withTempDir(async (dir) => {
      const [result] = await playEventRuns([readEvents(journalPath('failed-slo'))], [], dir);
      const e = historyEntry(result!);
      expect(e.checks).to.deep.include({ role: 'slo', check: 'p99(web) < 300ms', verdict: 'passed', value: 12 });
      expect(e.recoveryMs).to.equal(900);
    });
  });

  it('flags what got worse beyond the tolerance, and only that', () => {
    const before = entry('a', 0, [
      { role: 'slo', check: 'availability(web) >= 99%', verdict: 'passed', value: 99.9 },
      { role: 'slo', check: 'p99(web) < 300ms', verdict: 'passed', value: 100 },
      { role: 'slo', check: 'p50(web) < 300ms', verdict: 'passed', value: 20 },
      { role: 'slo', check: 'pdb(shop/web) holds', verdict: 'passed', value: 1 },
    ], 5000);
    const same = entry('b', DAY, [
      { role: 'slo', check: 'availability(web) >= 99%', verdict: 'passed', value: 99.85 },
      { role: 'slo', check: 'p99(web) < 300ms', verdict: 'passed', value: 108 },
      { role: 'slo', check: 'p50(web) < 300ms', verdict: 'passed', value: 10 },
      { role: 'slo', check: 'pdb(shop/web) holds', verdict: 'passed', value: 1 },
    ], 5400);
    expect(findRegressions(before, same)).to.deep.equal([]);
    const worse = entry('c', DAY, [
      { role: 'slo', check: 'availability(web) >= 99%', verdict: 'passed', value: 99.5 },
      { role: 'slo', check: 'p99(web) < 300ms', verdict: 'passed', value: 150 },
      { role: 'slo', check: 'p50(web) < 300ms', verdict: 'passed', value: 20 },
      { role: 'slo', check: 'pdb(shop/web) holds', verdict: 'failed', value: 0.9 },
    ], 9000);
    expect(findRegressions(before, worse).map((r) => r.key)).to.deep.equal([
      'slo availability(web) >= 99%',
      'slo p99(web) < 300ms',
      'slo pdb(shop/web) holds',
      'recovery',
    ]);
  });

  it('shows each check\'s trend and flags a regression against the previous run in report.html', async () => {
    await withTempDir(async (dir) => {
      const base = readEvents(journalPath('failed-slo'));
      const runs = [
        variantRun(base, 'run-1', 1 * DAY, { 'p99(web) < 300ms': { value: 11 } }),
        variantRun(base, 'run-2', 2 * DAY, { 'p99(web) < 300ms': { value: 12 } }),
        variantRun(base, 'run-3', 3 * DAY, { 'p99(web) < 300ms': { value: 250 } }),
      ];
      await playEventRuns(runs, [new HtmlReporter()], dir);
      const lines = (await readFile(join(dir, 'history.ndjson'), 'utf8')).trim().split('\n');
      expect(lines.map((l) => (JSON.parse(l) as HistoryEntry).runId)).to.deep.equal(['run-1', 'run-2', 'run-3']);

      const second = await readFile(join(dir, 'run-2', 'report.html'), 'utf8');
      expect(second).to.not.contain('class="regression">regression');
      const third = await readFile(join(dir, 'run-3', 'report.html'), 'utf8');
      const p99Row = /<tr id="check-\d+"[^>]*>(?:(?!<\/tr>).)*p99\(web\)(?:(?!<\/tr>).)*<\/tr>/s.exec(third)![0];
      expect(p99Row).to.contain('regression: 12 → 250');
      expect(p99Row).to.match(/<svg class="sparkline"[^>]*aria-label="trend over 3 runs"/);
      expect(p99Row).to.contain('run-1: 11\nrun-2: 12\nrun-3: 250');
      const availabilityRow = /<tr id="check-\d+"[^>]*>(?:(?!<\/tr>).)*availability\(web\)(?:(?!<\/tr>).)*<\/tr>/s.exec(third)![0];
      expect(availabilityRow).to.not.contain('regression');
      expect(third).to.contain('Recent runs of this experiment');
    });
  });
});
