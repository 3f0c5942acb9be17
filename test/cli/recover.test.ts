import { expect } from 'chai';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { nodeAccessPod } from '../../src/nodes/pod-node-access.js';
import { eventually } from '../support/eventually.js';
import { runCli, startCli, tempDir, TEST_PLUGINS, writeFile, type RunningCli } from './cli-process.js';

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
    await eventually('gameday sim serve to start', () => sim!.output().stdout.includes('Press Ctrl-C'), 30_000);
  });

  after(async () => {
    sim?.child.kill('SIGINT');
    const r = await sim?.done;
    expect(r?.code, 'sim serve stops cleanly on SIGINT').to.equal(0);
  });

  /** Runs an experiment of two marker-file faults under `name/`, and SIGKILLs it once both are applied. */
  async function killedRun(name: string, clusterArgs: readonly string[]): Promise<{ out: string; markers: string[]; log: string }> {
    const home = path.join(dir, name);
    mkdirSync(home);
    const [a, b, log] = ['a', 'b', 'effects.log'].map((f) => path.join(home, f)) as [string, string, string];
    const out = path.join(home, 'reports');
    const file = writeFile(
      home,
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
    const run = startCli(['run', file, '--plugin', TEST_PLUGINS, '--out', out, ...clusterArgs]);
    await eventually('both faults to be injected', () => existsSync(b), 30_000);
    run.child.kill('SIGKILL');
    expect((await run.done).signal).to.equal('SIGKILL');
    expect(existsSync(a) && existsSync(b), 'the faults outlive the killed run').to.equal(true);
    return { out, markers: [a, b], log };
  }

  it('reverts what the killed run left, newest first, and is idempotent', async () => {
    const { out, markers, log } = await killedRun('allowed', ['--kubeconfig', kubeconfig, '--context', 'gameday-sim']);

    const first = await runCli(['recover', '--out', out, '--plugin', TEST_PLUGINS]);
    expect(first.code, first.stdout + first.stderr).to.equal(0);
    expect(markers.some(existsSync)).to.equal(false);
    expect(readFileSync(log, 'utf8').trim().split('\n')).to.deep.equal(['inject a', 'inject b', 'revert b', 'revert a']);

    const second = await runCli(['recover', '--out', out, '--plugin', TEST_PLUGINS]);
    expect(second.code).to.equal(0);
    expect(second.stdout).to.contain('nothing to recover');
    expect(readFileSync(log, 'utf8').trim().split('\n')).to.have.length(4);
  });

  it('refuses a context that is not allowed (exit 2) with the message run and plan give, before touching anything', async () => {
    const other = writeFile(dir, 'other-kubeconfig.yaml', readFileSync(kubeconfig, 'utf8').replaceAll('gameday-sim', 'prod-cluster'));
    const { out, markers, log } = await killedRun('refused', ['--kubeconfig', other, '--context', 'prod-cluster', '--allow-context', 'prod-cluster']);
    // A helper pod a killed run's pod node access left behind: recover deletes it, but only once allowed.
    const kc = new KubeConfig();
    kc.loadFromFile(other);
    const core = kc.makeApiClient(CoreV1Api);
    const helper = nodeAccessPod('gameday-worker', { namespace: 'default', image: 'example.com/node-shell:1', name: 'gameday-node-left-behind' });
    await core.createNamespacedPod({ namespace: 'default', body: helper });

    // No .gameday-allow nor $GAMEDAY_ALLOWLIST may allow the context behind the test's back.
    const inDir = { cwd: dir, env: { GAMEDAY_ALLOWLIST: '' } };
    const journal = path.join(out, readdirSync(out)[0]!, 'journal.ndjson');
    const journalBefore = readFileSync(journal, 'utf8');
    const exp = path.join(dir, 'refused', 'exp.yaml');
    const run = await runCli(['run', exp, '--plugin', TEST_PLUGINS, '--out', path.join(dir, 'refused-run'), '--kubeconfig', other, '--context', 'prod-cluster'], inDir);
    expect(run.code, run.stderr).to.equal(2);
    expect(run.stderr).to.contain('refusing to run against context "prod-cluster"').and.contain('--allow-context prod-cluster');
    const plan = await runCli(['plan', exp, '--plugin', TEST_PLUGINS, '--kubeconfig', other, '--context', 'prod-cluster'], inDir);
    expect(plan.code, plan.stderr).to.equal(2);
    expect(plan.stderr, 'plan refuses as run does').to.equal(run.stderr);

    const named = await runCli(['recover', '--out', out, '--plugin', TEST_PLUGINS, '--kubeconfig', other, '--context', 'prod-cluster'], inDir);
    const recorded = await runCli(['recover', '--out', out, '--plugin', TEST_PLUGINS], inDir);
    for (const [how, r] of [['--context prod-cluster', named], ['the context the journal records', recorded]] as const) {
      expect(r.code, `${how}: ${r.stdout}${r.stderr}`).to.equal(2);
      expect(r.stderr, how).to.equal(run.stderr);
      expect(r.stdout, how).to.equal('');
    }
    expect(markers.every(existsSync), 'the faults are still applied').to.equal(true);
    expect(readFileSync(log, 'utf8').trim().split('\n')).to.deep.equal(['inject a', 'inject b']);
    expect(readFileSync(journal, 'utf8'), 'the journal is untouched').to.equal(journalBefore);
    expect((await core.readNamespacedPod({ namespace: 'default', name: helper.metadata!.name! })).metadata?.name).to.equal('gameday-node-left-behind');

    const allowed = await runCli(['recover', '--out', out, '--plugin', TEST_PLUGINS, '--allow-context', 'prod-cluster'], inDir);
    expect(allowed.code, allowed.stdout + allowed.stderr).to.equal(0);
    expect(allowed.stdout).to.contain('deleted leftover node-access pod default/gameday-node-left-behind');
    expect(markers.some(existsSync)).to.equal(false);
    expect(readFileSync(log, 'utf8').trim().split('\n')).to.deep.equal(['inject a', 'inject b', 'revert b', 'revert a']);
    const listed = await core.listNamespacedPod({ namespace: 'default', fieldSelector: 'metadata.name=gameday-node-left-behind' });
    expect(listed.items.filter((p) => !p.metadata?.deletionTimestamp)).to.deep.equal([]);
  });
});
