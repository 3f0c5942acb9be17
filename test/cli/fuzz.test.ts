import { expect } from 'chai';
import { cpSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { main } from '../../src/cli/main.js';
import { SeededRandom } from '../../src/core/rng.js';
import { mutateExperiment } from '../spec/mutations.js';
import { runCli, tempDir, writeFile } from './cli-process.js';

const SHIPPED = 'experiments/pod-kill-keeps-web-up.yaml';
const FILES = 1000;
const STACK_LINE = /^\s+at .+[:(]\d+:\d+\)?$/m;

/** Runs the CLI's entry function in this process, capturing what it prints. */
async function validateInProcess(file: string): Promise<{ code: number; out: string }> {
  let out = '';
  const capture = (chunk: string | Uint8Array): boolean => ((out += String(chunk)), true);
  const [stdoutWrite, stderrWrite] = [process.stdout.write, process.stderr.write];
  process.stdout.write = capture as typeof process.stdout.write;
  process.stderr.write = capture as typeof process.stderr.write;
  try {
    return { code: await main(['validate', file]), out };
  } finally {
    process.stdout.write = stdoutWrite;
    process.stderr.write = stderrWrite;
  }
}

describe('gameday validate on mutated experiment files (fuzz)', function () {
  this.timeout(300_000);
  const dir = tempDir('gameday-fuzz-');
  cpSync('experiments/workloads', path.join(dir, 'workloads'), { recursive: true });
  const rng = new SeededRandom(424242);
  const valid = readFileSync(SHIPPED, 'utf8');
  for (let i = 0; i < FILES; i++) writeFile(dir, `m${String(i).padStart(4, '0')}.yaml`, mutateExperiment(valid, rng).text);
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).map((f) => path.join(dir, f));

  it(`answers each of ${FILES} files with success or a clean error, never a crash`, async () => {
    const codes = { ok: 0, invalid: 0 };
    for (const file of files) {
      const { code, out } = await validateInProcess(file);
      const context = `${file}:\n${readFileSync(file, 'utf8')}\n--- output ---\n${out}`;
      expect(code, context).to.be.oneOf([0, 2]);
      expect(out, context).not.to.match(STACK_LINE);
      expect(out, context).not.to.contain('internal error');
      if (code === 2) expect(out, context).to.match(/:\d+:\d+ /);
      codes[code === 0 ? 'ok' : 'invalid']++;
    }
    expect(codes.invalid, 'mutations rejected').to.be.greaterThan(FILES / 2);
    expect(codes.ok, 'mutations still valid').to.be.greaterThan(0);
  });

  it('gives the same clean answers from the real process, for all files at once and one by one', async () => {
    const all = await runCli(['validate', dir, '--json']);
    expect(all.code).to.equal(2);
    expect(all.stderr).not.to.match(STACK_LINE);
    const report = JSON.parse(all.stdout) as { issues: { file: string; line: number; column: number }[] };
    expect(report.issues.length).to.be.greaterThan(FILES / 2);
    for (const issue of report.issues) expect(issue.line).to.be.at.least(1);
    for (const file of files.slice(0, 10)) {
      const one = await runCli(['validate', file]);
      expect(one.code, one.stderr).to.be.oneOf([0, 2]);
      expect(one.stderr).not.to.match(STACK_LINE);
    }
  });
});
