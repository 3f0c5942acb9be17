import { expect } from 'chai';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { eventually } from '../support/eventually.js';
import { runCli, startCli, tempDir, TEST_PLUGINS, writeFile } from './cli-process.js';

interface Scenario {
  readonly probe?: string;
  readonly faultA?: string;
  readonly faultB?: string;
  readonly slo?: string;
  readonly duration?: string;
  readonly steady?: string;
}

/** An experiment of two test faults (marker files a, b) and a test probe, in its own directory. */
function experiment(s: Scenario = {}): { dir: string; file: string; log: string; a: string; b: string; out: string } {
  const dir = tempDir();
  const [a, b, log] = ['a', 'b', 'effects.log'].map((f) => path.join(dir, f)) as [string, string, string];
  const file = writeFile(
    dir,
    'exp.yaml',
    `apiVersion: gameday/v1
kind: Experiment
metadata: { name: cli-test }
spec:
  duration: ${s.duration ?? '2s'}
  steadyState:
    checks: [ "${s.steady ?? 'availability(tick) >= 90% over 200ms'}" ]
    recoverWithin: 5s
  probes:
    tick: { testProbe: { everyMs: 20${s.probe ?? ''} } }
  faults:
    - { at: 0s, testFault: { marker: ${a}, log: ${log}, name: a${s.faultA ?? ''} } }
    - { at: 300ms, testFault: { marker: ${b}, log: ${log}, name: b${s.faultB ?? ''} } }
  slos: [ "${s.slo ?? 'availability(tick) >= 90%'}" ]
`,
  );
  return { dir, file, log, a, b, out: path.join(dir, 'reports') };
}

const effects = (log: string): string[] => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);
const runDirOf = (out: string): string => path.join(out, readdirSync(out).find((d) => existsSync(path.join(out, d, 'journal.ndjson')))!);

describe('gameday run (real CLI process, embedded cluster, test plug-ins)', function () {
  this.timeout(60_000);

  it('passes (exit 0), reverting in reverse order, and writes the reports', async () => {
    const e = experiment();
    const r = await runCli(['run', e.file, '--plugin', TEST_PLUGINS, '--out', e.out, '--seed', '7']);
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    expect(effects(e.log)).to.deep.equal(['inject a', 'inject b', 'revert b', 'revert a']);
    expect(existsSync(e.a) || existsSync(e.b)).to.equal(false);
    const runDir = runDirOf(e.out);
    for (const f of ['journal.ndjson', 'result.json', 'junit.xml', 'summary.md', 'report.html']) expect(existsSync(path.join(runDir, f)), f).to.equal(true);
    const result = JSON.parse(readFileSync(path.join(runDir, 'result.json'), 'utf8')) as { outcome: string; seed: number; apiRetries?: unknown };
    expect(result).to.include({ outcome: 'passed', seed: 7 });
    expect(result.apiRetries, 'a healthy API server: nothing tried again').to.deep.equal({ total: 0, byCause: {} });
    expect(r.stdout).to.contain('PASSED');
    expect(r.stdout).to.contain('  API retries: none\n');
  });

  it('fails (exit 1) when an SLO breaks, with the evidence in the output', async () => {
    const e = experiment({ slo: 'availability(tick) >= 99.9%' });
    // The probe fails while fault a's marker exists: the SLO must see it.
    writeFile(e.dir, 'exp.yaml', readFileSync(e.file, 'utf8').replace('everyMs: 20', `everyMs: 20, failWhileExists: ${e.a}`));
    const r = await runCli(['run', e.file, '--plugin', TEST_PLUGINS, '--out', e.out]);
    expect(r.code, r.stdout + r.stderr).to.equal(1);
    expect(r.stdout).to.match(/slo FAILED availability\(tick\) >= 99\.9%: availability\(tick\) = [\d.]+% \(need >= 99\.9%\) over \d+ requests; \d+ failed, first at \+/);
    expect(effects(e.log)).to.deep.equal(['inject a', 'inject b', 'revert b', 'revert a']);
  });

  it('is inconclusive (exit 3) when a fault does not land, and reverts what was applied', async () => {
    const e = experiment({ faultB: ', notLanded: true' });
    const r = await runCli(['run', e.file, '--plugin', TEST_PLUGINS, '--out', e.out]);
    expect(r.code, r.stdout + r.stderr).to.equal(3);
    expect(effects(e.log)).to.deep.equal(['inject a', 'inject b', 'revert b', 'revert a']);
  });

  it('is inconclusive (exit 3) with no fault injected when the steady state never holds', async () => {
    const e = experiment({ steady: 'availability(tick) >= 90% over 200ms', probe: ', okUntilMs: 0' });
    const text = readFileSync(e.file, 'utf8').replace('recoverWithin: 5s', 'recoverWithin: 5s\n    timeout: 1s');
    writeFile(e.dir, 'exp.yaml', text);
    const r = await runCli(['run', e.file, '--plugin', TEST_PLUGINS, '--out', e.out]);
    expect(r.code, r.stdout + r.stderr).to.equal(3);
    expect(effects(e.log)).to.deep.equal([]);
  });

  it('is a harness error (exit 4) when an inject throws, and still reverts everything', async () => {
    const e = experiment({ faultB: ', failInject: true' });
    const r = await runCli(['run', e.file, '--plugin', TEST_PLUGINS, '--out', e.out]);
    expect(r.code, r.stdout + r.stderr).to.equal(4);
    expect(effects(e.log)).to.deep.equal(['inject a', 'inject b', 'revert b', 'revert a']);
    expect(existsSync(e.a) || existsSync(e.b)).to.equal(false);
  });

  it('reverts everything in reverse order on SIGINT and exits 130', async () => {
    const e = experiment({ duration: '60s' });
    const cli = startCli(['run', e.file, '--plugin', TEST_PLUGINS, '--out', e.out]);
    await eventually('both faults to be injected', () => existsSync(e.b), 30_000);
    cli.child.kill('SIGINT');
    const r = await cli.done;
    expect(r.code, r.stdout + r.stderr).to.equal(130);
    expect(effects(e.log)).to.deep.equal(['inject a', 'inject b', 'revert b', 'revert a']);
    expect(existsSync(e.a) || existsSync(e.b)).to.equal(false);
    expect(r.stderr).to.contain('SIGINT: reverting every fault');
    const journal = readFileSync(path.join(runDirOf(e.out), 'journal.ndjson'), 'utf8');
    expect(journal).to.contain('"type":"signal"');
  });

  it('reverts on SIGTERM too', async () => {
    const e = experiment({ duration: '60s' });
    const cli = startCli(['run', e.file, '--plugin', TEST_PLUGINS, '--out', e.out]);
    await eventually('the first fault to be injected', () => existsSync(e.a), 30_000);
    cli.child.kill('SIGTERM');
    const r = await cli.done;
    expect(r.code).to.equal(130);
    expect(existsSync(e.a) || existsSync(e.b)).to.equal(false);
  });
});
