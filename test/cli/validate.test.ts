import { expect } from 'chai';
import { runCli, tempDir, writeFile } from './cli-process.js';

describe('gameday validate (real CLI process)', () => {
  it('passes on the shipped experiments', async () => {
    const r = await runCli(['validate', 'experiments/']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/experiments? valid/);
  });

  it('reports every problem of a broken file with file:line:col and exits 2', async () => {
    const dir = tempDir();
    const file = writeFile(
      dir,
      'broken.yaml',
      [
        'apiVersion: gameday/v1',
        'kind: Experiment',
        'metadata: { name: broken }',
        'spec:',
        '  duration: 30',
        '  probes:',
        '    web: { htp: { url: "http://127.0.0.1:1/" } }',
        '  faults:',
        '    - { at: 40s, podKil: { pods: { namespace: shop } } }',
        '  slos: [ "availability(web) >= 99" ]',
        '',
      ].join('\n'),
    );
    const r = await runCli(['validate', file]);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.contain(`${file}:5:13 spec.duration: a duration needs a unit`);
    expect(r.stderr).to.match(new RegExp(`${file}:7:\\d+ spec\\.probes\\.web\\.htp: unknown probe "htp"; did you mean "http"\\?`));
    expect(r.stderr).to.match(new RegExp(`${file}:9:\\d+ spec\\.faults\\[0\\]\\.podKil: unknown fault "podKil"; did you mean "podKill"\\?`));
    expect(r.stderr).to.match(new RegExp(`${file}:10:\\d+ spec\\.slos\\[0\\]: availability compares a share`));
    expect(r.stderr).not.to.match(/\n\s+at /, 'no stack trace');
  });

  it('prints machine-readable results with --json', async () => {
    const r = await runCli(['validate', 'experiments/', '--json']);
    expect(r.code).to.equal(0);
    const out = JSON.parse(r.stdout) as { valid: boolean; experiments: { name: string }[] };
    expect(out.valid).to.equal(true);
    expect(out.experiments.length).to.be.greaterThan(0);
  });

  it('names a path that does not exist, with exit 2', async () => {
    const r = await runCli(['validate', 'no/such/dir']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.contain('no/such/dir');
  });

  it('treats unknown options as usage errors (exit 2) and answers --help with 0', async () => {
    expect((await runCli(['validate', '--frobnicate', 'x'])).code).to.equal(2);
    const help = await runCli(['run', '--help']);
    expect(help.code).to.equal(0);
    expect(help.stdout).to.contain('--seed');
  });
});
