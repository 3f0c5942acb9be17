import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { execa } from 'execa';
import type { RunComparison } from '../../src/report/compare.js';
import { JsonReporter } from '../../src/report/json.js';
import { journalPath, withTempDir } from './fixture-journals.js';
import { playEventRuns, readEvents, variantRun } from './html-fixture.js';

const gameday = (args: readonly string[]) => execa(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { reject: false });

describe('report/compare (gameday report --compare)', function () {
  this.timeout(30_000);

  it('prints each check of two runs side by side and marks what regressed, as a table and as JSON', async () => {
    await withTempDir(async (dir) => {
      const base = readEvents(journalPath('failed-slo'));
      await playEventRuns(
        [
          variantRun(base, 'run-a', 0, { 'p99(web) < 300ms': { value: 12 }, 'availability(web) >= 99.5%': { value: 99.9, verdict: 'passed' } }),
          variantRun(base, 'run-b', 60_000, { 'p99(web) < 300ms': { value: 40 } }),
        ],
        [new JsonReporter()],
        dir,
      );
      // run-b has no result.json: its result is rebuilt from the journal.
      await mkdir(join(dir, 'journal-only'), { recursive: true });
      await writeFile(join(dir, 'journal-only', 'journal.ndjson'), variantRun(base, 'run-c', 120_000).map((e) => JSON.stringify(e)).join('\n'));

      const text = await gameday(['report', '--compare', join(dir, 'run-a'), join(dir, 'run-b')]);
      expect(text.exitCode, text.stderr).to.equal(0);
      const row = (label: string): string => text.stdout.split('\n').find((l) => l.startsWith(label)) ?? '';
      expect(row('run ')).to.match(/run-a\s+run-b/);
      expect(row('outcome')).to.match(/failed\s+failed\s+same/);
      expect(row('slo: availability(web) >= 99.5%')).to.match(/passed 99\.9\s+failed 94\.203\s+REGRESSED$/);
      expect(row('slo: p99(web) < 300ms')).to.match(/passed 12\s+passed 40\s+REGRESSED$/);
      expect(row('steady-state-after: ready(deployment/shop/web) >= 3')).to.match(/same$/);
      expect(text.stdout).to.contain('2 regressions from A to B');

      const json = await gameday(['report', '--compare', join(dir, 'run-b'), join(dir, 'journal-only'), '--json']);
      expect(json.exitCode, json.stderr).to.equal(0);
      const comparison = JSON.parse(json.stdout) as RunComparison;
      expect(comparison.b.runId).to.equal('run-c');
      const p99 = comparison.checks.find((c) => c.check === 'p99(web) < 300ms')!;
      expect(p99).to.deep.equal({ role: 'slo', check: 'p99(web) < 300ms', a: { verdict: 'passed', value: 40 }, b: { verdict: 'passed', value: 12 }, change: 'better' });
      expect(comparison.regressions).to.equal(0);
    });
  });

  it('refuses --compare with one run directory, naming the usage', async () => {
    const r = await gameday(['report', '--compare', 'reports/x']);
    expect(r.exitCode).to.equal(2);
    expect(r.stderr).to.contain('--compare takes two run directories');
  });
});
