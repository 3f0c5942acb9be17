import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { execa } from 'execa';
import { withTempDir } from './fixture-journals.js';
import { RICH_JOURNAL } from './html-fixture.js';

describe('report/pdf (gameday report --pdf)', function () {
  this.timeout(60_000);

  it('rebuilds report.html from the journal and prints it to a PDF with pages', async () => {
    await withTempDir(async (dir) => {
      const runDir = join(dir, '20260102-000000-rich');
      await mkdir(runDir);
      await copyFile(RICH_JOURNAL, join(runDir, 'journal.ndjson'));
      const r = await execa(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'report', runDir, '--pdf'], { reject: false });
      expect(r.exitCode, r.stderr).to.equal(0);
      expect(r.stdout).to.contain('with report.pdf');
      for (const f of ['result.json', 'junit.xml', 'summary.md', 'report.html']) expect(existsSync(join(runDir, f)), f).to.equal(true);
      const pdf = await readFile(join(runDir, 'report.pdf'));
      await mkdir('test-artifacts', { recursive: true });
      await copyFile(join(runDir, 'report.pdf'), join('test-artifacts', 'report.pdf'));
      expect(pdf.subarray(0, 5).toString('latin1')).to.equal('%PDF-');
      const pages = pdf.toString('latin1').match(/\/Type\s*\/Page(?!s)/g) ?? [];
      expect(pages.length).to.be.at.least(2);
    });
  });
});
