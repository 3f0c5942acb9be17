import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { JsonReporter } from '../../src/report/json.js';
import { ResultBuilder } from '../../src/report/result.js';
import { SummaryReporter, renderSummary } from '../../src/report/summary.js';
import { fixtureEvents, journalPath, playRuns, withTempDir } from './fixture-journals.js';

function tableRow(markdown: string, startsWith: string): string[] {
  const line = markdown.split('\n').find((l) => l.startsWith(startsWith));
  expect(line, `no row starting with ${startsWith}`).to.not.equal(undefined);
  return line!.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim());
}

describe('report/summary', () => {
  it('writes the outcome, the failed check with its value, the fault and links to the files', async () => {
    await withTempDir(async (dir) => {
      const [result] = await playRuns(['failed-slo'], [new JsonReporter(), new SummaryReporter({ env: {} })], dir);
      const md = await readFile(join(dir, result!.runId, 'summary.md'), 'utf8');
      expect(md.split('\n')[0]).to.equal('## drain-a-worker-keeps-web-up: FAILED');
      expect(md).to.contain('(exit 1)');
      expect(tableRow(md, '| slo | `availability(web)')).to.deep.include.members(['**failed**']);
      expect(md).to.contain('availability 94.2% \\< 99.5%');
      expect(tableRow(md, '| slo | `availability(web)')[3]).to.contain('first violation at +00:22.0');
      expect(tableRow(md, '| slo | `p99(web)')[2]).to.equal('passed');
      const fault = tableRow(md, '| f0 |');
      expect(fault).to.deep.equal(['f0', 'nodeDrain', 'drain node worker-2 (evicting 3 pods)', '+00:21.0', '+00:21.1', '+01:01.1', 'landed, reverted']);
      expect(tableRow(md, '| web |')).to.deep.equal(['web', 'http', '138', '130', '8', '+00:22.0']);
      expect(md).to.contain('- [result.json](result.json)');
      expect(md).to.not.contain('[summary.md]');
      expect(md).to.not.contain('\u001b');
    });
  });

  it('says how many API requests were tried again, and why, under the run table', () => {
    const builder = new ResultBuilder();
    for (const e of fixtureEvents('passing')) builder.add(e);
    const result = builder.result();
    const md = (apiRetries?: { total: number; byCause: Record<string, number> }) => renderSummary({ ...result, ...(apiRetries ? { apiRetries } : {}) }, { files: [], link: true });
    expect(md({ total: 9, byCause: { 'HTTP 503': 6, 'connection reset': 2, 're-list after 410': 1 } })).to.contain('\n\nAPI retries: 9 (HTTP 503 ×6, connection reset ×2, re-list after 410 ×1)\n\n### Checks');
    expect(md({ total: 0, byCause: {} })).to.contain('\nAPI retries: none\n');
    expect(md(), 'a journal from before retries were counted').to.not.contain('API retries');
  });

  it('links the journal when the run directory has one', async () => {
    await withTempDir(async (dir) => {
      const runDir = join(dir, '20260101-000000-nl');
      await mkdir(runDir, { recursive: true });
      await writeFile(join(runDir, 'journal.ndjson'), await readFile(journalPath('inconclusive-not-landed')));
      await playRuns(['inconclusive-not-landed'], [new SummaryReporter({ env: {} })], dir);
      const md = await readFile(join(runDir, 'summary.md'), 'utf8');
      expect(md).to.contain('- [journal.ndjson](journal.ndjson)');
      expect(md).to.contain('## kill-db-fails-over: INCONCLUSIVE');
      expect(tableRow(md, '| slo |')[2]).to.equal('**no-data**');
      expect(tableRow(md, '| f0 |')[6]).to.equal('not landed');
    });
  });

  it('puts a fault that may still be applied at the top', async () => {
    await withTempDir(async (dir) => {
      await playRuns(['interrupted-revert-failed'], [new SummaryReporter({ env: {} })], dir);
      const md = await readFile(join(dir, '20260101-000000-int', 'summary.md'), 'utf8');
      const warning = md.split('\n').findIndex((l) => l.startsWith('**Fault f0 (networkPartition) revert failed'));
      const checks = md.split('\n').indexOf('### Checks');
      expect(warning).to.be.greaterThan(0).and.lessThan(checks);
      expect(tableRow(md, '| f1 |')[6]).to.equal('not reached');
      expect(md).to.contain('received SIGINT');
    });
  });

  it('appends every run to $GITHUB_STEP_SUMMARY, after what was already there', async () => {
    await withTempDir(async (dir) => {
      const stepSummary = join(dir, 'step-summary.md');
      await writeFile(stepSummary, '# Nightly game day\n');
      await playRuns(['passing', 'failed-slo'], [new JsonReporter(), new SummaryReporter({ env: { GITHUB_STEP_SUMMARY: stepSummary } })], dir);
      const text = await readFile(stepSummary, 'utf8');
      expect(text.startsWith('# Nightly game day\n## drain-a-worker-keeps-web-up: PASSED')).to.equal(true);
      expect(text).to.contain('## drain-a-worker-keeps-web-up: FAILED');
      expect(text.indexOf('PASSED')).to.be.lessThan(text.indexOf('FAILED'));
      // Relative links mean nothing on the workflow page; it names the files instead.
      expect(text).to.contain(`- \`${join(dir, '20260101-000000-slo', 'result.json')}\``);
    });
  });
});
