import { expect } from 'chai';
import { exitCodeFor, OUTCOMES } from '../../src/core/outcome.js';
import { runCli } from './cli-process.js';

/** docs/architecture.md, principle 4: stable exit codes, one table, and `--help` says what that table says. */
describe('exit codes (real CLI process)', () => {
  it('keeps the codes of docs/architecture.md in the one table', () => {
    expect(Object.fromEntries(OUTCOMES.map((o) => [o.outcome, exitCodeFor(o.outcome)]))).to.deep.equal({
      passed: 0,
      failed: 1,
      invalid: 2,
      inconclusive: 3,
      error: 4,
      busy: 5,
      interrupted: 130,
    });
  });

  it('lists exactly the table in gameday --help, in its order', async () => {
    const help = await runCli(['--help']);
    expect(help.code).to.equal(0);
    const section = help.stdout.slice(help.stdout.indexOf('Exit codes:\n') + 'Exit codes:\n'.length);
    const listed = section
      .trimEnd()
      .split('\n')
      .map((line) => /^ {2}(\d+) +(\S.*)$/.exec(line))
      .map((m) => (m ? { exitCode: Number(m[1]), meaning: m[2] } : undefined));
    expect(listed).to.deep.equal(OUTCOMES.map(({ exitCode, meaning }) => ({ exitCode, meaning })));
  });
});

describe('gameday run --control-plane', () => {
  it('refuses an unknown kind, and real beside a --context, as usage errors (exit 2) before starting anything', async () => {
    const experiment = 'experiments/pod-kill-keeps-web-up.yaml';
    const bogus = await runCli(['run', experiment, '--control-plane', 'kind']);
    expect(bogus.code, bogus.stderr).to.equal(2);
    expect(bogus.stderr).to.contain('--control-plane kind: give embedded (the default) or real');
    const both = await runCli(['run', experiment, '--control-plane', 'real', '--context', 'kind-gameday']);
    expect(both.code, both.stderr).to.equal(2);
    expect(both.stderr).to.contain('--control-plane real starts a cluster of its own');
  });
});
