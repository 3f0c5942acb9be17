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

  it('reports a missing path along with the problems of the files beside it', async () => {
    const dir = tempDir();
    const bad = writeFile(dir, 'bad.yaml', 'apiVersion: gameday/v1\nkind: Experiment\nmetadata: { name: bad }\nspec: { duration: soon }\n');
    const missing = `${dir}/missing.yaml`;
    const r = await runCli(['validate', missing, bad]);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.contain(`${missing}:1:1 no such file or directory`);
    expect(r.stderr).to.contain(`${bad}:4:19 spec.duration: "soon" is not a duration`);
    expect(r.stderr).to.contain('2 problems found.');
  });

  it('lists the first 100 problems of each file and says how many more there are', async () => {
    const dir = tempDir();
    const keys = Array.from({ length: 250 }, (_, i) => `k${i}: 1`).join('\n');
    const many = writeFile(dir, 'many.yaml', `apiVersion: gameday/v1\nkind: Experiment\nmetadata: { name: many }\nspec: { duration: 1m }\n${keys}\n`);
    const other = writeFile(dir, 'other.yaml', 'apiVersion: gameday/v1\nkind: Experiment\nmetadata: { name: other }\nspec: { duration: soon }\n');
    const r = await runCli(['validate', many, other]);
    expect(r.code).to.equal(2);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines.filter((l) => l.startsWith(`${many}:`))).to.have.length(101);
    expect(lines[99]).to.equal(`${many}:104:1 k99: unknown key; allowed here: apiVersion, kind, metadata, spec`);
    expect(lines[100]).to.equal(`${many}: …and 150 more problems (only the first 100 of each file are listed)`);
    expect(lines[101]).to.match(new RegExp(`^${other}:4:19 spec\\.duration: `));
    expect(lines[102]).to.equal('251 problems found.');
  });

  it('treats unknown options as usage errors (exit 2) and answers --help with 0', async () => {
    expect((await runCli(['validate', '--frobnicate', 'x'])).code).to.equal(2);
    const help = await runCli(['run', '--help']);
    expect(help.code).to.equal(0);
    expect(help.stdout).to.contain('--seed');
  });
});
