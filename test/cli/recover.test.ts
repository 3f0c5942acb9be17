import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { runCli, startCli, tempDir, TEST_PLUGINS, waitUntil, writeFile, type RunningCli } from './cli-process.js';

/**
 * A run killed with SIGKILL cannot revert anything itself; `gameday recover` must, from the
 * journal alone. The cluster is a separate `gameday sim serve` process so that it outlives the
 * killed run, as a real cluster would.
 */
describe('gameday recover after SIGKILL (real CLI processes)', function () {
  this.timeout(90_000);
  let sim: RunningCli | undefined;
  const dir = tempDir();
  const kubeconfig = path.join(dir, 'kubeconfig.yaml');

  before(async () => {
    sim = startCli(['sim', 'serve', '--nodes', '2', '--kubeconfig', kubeconfig]);
    await waitUntil(() => sim!.output().stdout.includes('Press Ctrl-C'), 30_000, 'gameday sim serve to start');
  });

  after(async () => {
    sim?.child.kill('SIGINT');
    const r = await sim?.done;
    expect(r?.code, 'sim serve stops cleanly on SIGINT').to.equal(0);
  });

  it('reverts what the killed run left, newest first, and is idempotent', async () => {
    const [a, b, log] = ['a', 'b', 'effects.log'].map((f) => path.join(dir, f)) as [string, string, string];
    const out = path.join(dir, 'reports');
    const file = writeFile(
      dir,
      'exp.yaml',
      `apiVersion: gameday/v1
kind: Experiment
metadata: { name: killed }
spec:
  duration: 5m
  probes:
    tick: { testProbe: { everyMs: 50 } }
  faults:
    - { at: 0s, testFault: { marker: ${a}, log: ${log}, name: a } }
    - { at: 200ms, testFault: { marker: ${b}, log: ${log}, name: b } }
`,
    );
    const run = startCli(['run', file, '--plugin', TEST_PLUGINS, '--out', out, '--kubeconfig', kubeconfig, '--context', 'gameday-sim']);
    await waitUntil(() => existsSync(b), 30_000, 'both faults to be injected');
    run.child.kill('SIGKILL');
    expect((await run.done).signal).to.equal('SIGKILL');
    expect(existsSync(a) && existsSync(b), 'the faults outlive the killed run').to.equal(true);

    const first = await runCli(['recover', '--out', out, '--plugin', TEST_PLUGINS]);
    expect(first.code, first.stdout + first.stderr).to.equal(0);
    expect(existsSync(a) || existsSync(b)).to.equal(false);
    expect(readFileSync(log, 'utf8').trim().split('\n')).to.deep.equal(['inject a', 'inject b', 'revert b', 'revert a']);

    const second = await runCli(['recover', '--out', out, '--plugin', TEST_PLUGINS]);
    expect(second.code).to.equal(0);
    expect(second.stdout).to.contain('nothing to recover');
    expect(readFileSync(log, 'utf8').trim().split('\n')).to.have.length(4);
  });

  it('refuses a real context that was not allowed (exit 2) before touching anything', async () => {
    const other = path.join(dir, 'other-kubeconfig.yaml');
    writeFile(dir, 'other-kubeconfig.yaml', readFileSync(kubeconfig, 'utf8').replaceAll('gameday-sim', 'prod-cluster'));
    const r = await runCli(['plan', 'experiments/pod-kill-keeps-web-up.yaml', '--kubeconfig', other, '--context', 'prod-cluster']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.contain('prod-cluster');
    expect(r.stderr).to.contain('--allow-context');
  });
});
