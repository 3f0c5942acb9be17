import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CoordinationV1Api, CoreV1Api, KubeConfig, type CoreV1Event } from '@kubernetes/client-node';
import { recordFaultEvent } from '../../src/cluster/fault-events.js';
import { RUN_LOCK, whoAmI } from '../../src/cluster/run-lock.js';
import { eventually } from '../support/eventually.js';
import { runCli, startCli, tempDir, writeFile, type RunningCli } from './cli-process.js';

interface JournalLine {
  readonly type: string;
  readonly t: number;
  readonly step?: string;
  readonly fault?: string;
  readonly signal?: string;
  readonly runId?: string;
  readonly outcome?: string;
}

/**
 * Game days never overlap on one cluster, `gameday stop` ends the one running, and each fault is
 * visible as Kubernetes Events on its targets. Every run is a real `gameday run` process against
 * one `gameday sim serve` cluster, which outlives the runs killed here, as a real cluster would.
 */
describe('game days on one shared cluster (real CLI processes)', function () {
  this.timeout(60_000);
  let sim: RunningCli | undefined;
  const dir = tempDir('gameday-shared-cluster-');
  const kubeconfig = path.join(dir, 'kubeconfig.yaml');
  const kc = new KubeConfig();
  let core: CoreV1Api;
  let leases: CoordinationV1Api;

  before(async () => {
    sim = startCli(['sim', 'serve', '--nodes', '2', '--kubeconfig', kubeconfig]);
    await eventually('gameday sim serve to start', () => sim!.output().stdout.includes('Press Ctrl-C'), 30_000);
    kc.loadFromFile(kubeconfig);
    core = kc.makeApiClient(CoreV1Api);
    leases = kc.makeApiClient(CoordinationV1Api);
  });

  after(async () => {
    sim?.child.kill('SIGINT');
    await sim?.done;
  });

  /** An experiment that cordons the worker of `zone` (gameday-worker is in a, gameday-worker2 in b) for its whole `duration`. */
  function cordonExperiment(name: string, zone: 'a' | 'b', duration: string): string {
    return writeFile(
      dir,
      `${name}.yaml`,
      `apiVersion: gameday/v1
kind: Experiment
metadata: { name: ${name} }
spec:
  duration: ${duration}
  faults:
    - { at: 0s, nodeCordon: { nodes: { labels: { topology.kubernetes.io/zone: ${zone} } } } }
`,
    );
  }

  function startRun(file: string, out: string, ...extra: string[]): RunningCli {
    return startCli(['run', file, '--kubeconfig', kubeconfig, '--allow-context', 'gameday-sim', '--out', path.join(dir, out), '--reporter', 'json', ...extra]);
  }

  /** The journal of the one run under `out`, or undefined before the run has started. */
  function journalOf(out: string): JournalLine[] | undefined {
    const outDir = path.join(dir, out);
    const runs = existsSync(outDir) ? readdirSync(outDir) : [];
    if (runs.length === 0) return undefined;
    expect(runs, `one run under ${out}`).to.have.length(1);
    const file = path.join(outDir, runs[0]!, 'journal.ndjson');
    if (!existsSync(file)) return undefined;
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line.endsWith('}'))
      .map((line) => JSON.parse(line) as JournalLine);
  }

  const runIdOf = (journal: readonly JournalLine[]): string => journal.find((e) => e.type === 'run.start')!.runId!;
  const faultStep = (journal: readonly JournalLine[], step: string): JournalLine | undefined => journal.find((e) => e.type === 'fault' && e.step === step);

  /** Waits until the run under `out` has its fault in place, and returns its run id. */
  async function faultInPlace(out: string): Promise<string> {
    const journal = await eventually(`the fault of ${out} to be verified`, () => {
      const j = journalOf(out);
      return j && faultStep(j, 'verified') ? j : undefined;
    }, 30_000);
    return runIdOf(journal);
  }

  async function unschedulable(node: string): Promise<boolean> {
    return (await core.readNode({ name: node })).spec?.unschedulable === true;
  }

  it('refuses a second run (exit 5) naming the holder\'s run id; with --wait-lock it waits, then runs; neither disturbs the other\'s faults', async () => {
    // Long enough to still hold the lock while a second process starts on a busy machine.
    const first = startRun(cordonExperiment('first', 'a', '8s'), 'first');
    const firstRunId = await faultInPlace('first');
    const holder = (await leases.readNamespacedLease(RUN_LOCK)).spec?.holderIdentity;
    expect(holder).to.equal(`${whoAmI()}/${firstRunId}`);

    const refused = await startRun(cordonExperiment('refused', 'b', '1s'), 'refused').done;
    expect(refused.code, refused.stderr).to.equal(5);
    expect(refused.stderr).to.contain('another game day holds the run lock').and.contain(`run ${firstRunId}`).and.contain('--wait-lock');
    expect(existsSync(path.join(dir, 'refused')), 'the refused run started nothing').to.equal(false);
    expect(await unschedulable('gameday-worker2'), 'the refused run cordoned nothing').to.equal(false);

    const waiting = startRun(cordonExperiment('waiting', 'a', '1s'), 'waiting', '--wait-lock');
    await eventually('the waiting run to say whom it waits for', () => waiting.output().stderr.includes(`waiting for the run lock, held by ${holder}`));
    expect(await unschedulable('gameday-worker'), 'the first run\'s cordon is in place').to.equal(true);
    const [a, b] = await Promise.all([first.done, waiting.done]);
    expect(a.code, a.stdout + a.stderr).to.equal(0);
    expect(b.code, b.stdout + b.stderr).to.equal(0);

    const firstJournal = journalOf('first')!;
    const waitingJournal = journalOf('waiting')!;
    expect(faultStep(firstJournal, 'reverted'), 'the first run reverted its own fault').to.not.equal(undefined);
    expect(faultStep(waitingJournal, 'verified'), 'the waiting run\'s fault landed').to.not.equal(undefined);
    const firstEnd = firstJournal.find((e) => e.type === 'run.end')!.t;
    expect(waitingJournal.find((e) => e.type === 'run.start')!.t, 'the waiting run started after the first ended').to.be.at.least(firstEnd);
    expect(await unschedulable('gameday-worker')).to.equal(false);
    expect((await leases.readNamespacedLease(RUN_LOCK)).spec?.holderIdentity, 'the lock is released').to.equal(undefined);
  });

  it('records each fault\'s inject and revert as Events on its target node', async () => {
    const run = await startRun(cordonExperiment('visible', 'b', '1s'), 'visible').done;
    expect(run.code, run.stdout + run.stderr).to.equal(0);
    const runId = runIdOf(journalOf('visible')!);
    const events = (await core.listNamespacedEvent({ namespace: 'default', fieldSelector: 'involvedObject.name=gameday-worker2' })).items.filter((e) => e.message?.includes(runId));
    const byReason = (reason: string): CoreV1Event | undefined => events.find((e) => e.reason === reason);
    for (const reason of ['GamedayFaultInjected', 'GamedayFaultReverted']) {
      const event = byReason(reason);
      expect(event, `${reason} on node gameday-worker2 for run ${runId}`).to.not.equal(undefined);
      expect(event!.type).to.equal('Normal');
      expect(event!.message).to.contain(`gameday run ${runId}`).and.contain('nodeCordon#0');
      expect(event!.source?.component).to.equal('gameday');
      expect(event!.reportingComponent).to.equal('gameday');
      // kubectl describe node finds a node's Events by uid = node name, as the kubelet writes them.
      expect(event!.involvedObject).to.include({ kind: 'Node', name: 'gameday-worker2', uid: 'gameday-worker2' });
    }
  });

  it('puts a pod\'s fault Events on that pod, by its uid, so kubectl describe pod shows them', async () => {
    const pod = await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'event-target' }, spec: { containers: [{ name: 'web', image: 'gameday/web:1' }] } } });
    await recordFaultEvent(kc, { kind: 'Pod', namespace: 'default', name: 'event-target' }, 'GamedayFaultInjected', 'gameday run r1: injected podKill fault "p"');
    const events = (await core.listNamespacedEvent({ namespace: 'default', fieldSelector: `involvedObject.uid=${pod.metadata!.uid}` })).items.filter((e) => e.source?.component === 'gameday');
    expect(events.map((e) => e.reason)).to.deep.equal(['GamedayFaultInjected']);
    expect(events[0]!.involvedObject).to.include({ kind: 'Pod', namespace: 'default', name: 'event-target' });
  });

  it('lets a SIGKILLed holder\'s lock expire and a waiting run take it over', async () => {
    const killed = startRun(cordonExperiment('killed', 'b', '60s'), 'killed', '--lock-lease', '4s');
    const killedRunId = await faultInPlace('killed');
    const next = startRun(cordonExperiment('after-expiry', 'a', '1s'), 'after-expiry', '--wait-lock');
    await eventually('the next run to wait for the lock', () => next.output().stderr.includes(`waiting for the run lock, held by ${whoAmI()}/${killedRunId}`));
    killed.child.kill('SIGKILL');
    expect((await killed.done).signal).to.equal('SIGKILL');

    const r = await next.done;
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    expect(faultStep(journalOf('after-expiry')!, 'verified')).to.not.equal(undefined);

    const recovered = await runCli(['recover', '--out', path.join(dir, 'killed'), '--allow-context', 'gameday-sim']);
    expect(recovered.code, recovered.stdout + recovered.stderr).to.equal(0);
    expect(await unschedulable('gameday-worker2')).to.equal(false);
  });

  it('gameday recover releases the lock of the killed run it recovered', async () => {
    const killed = startRun(cordonExperiment('killed-again', 'b', '60s'), 'killed-again');
    const killedRunId = await faultInPlace('killed-again');
    killed.child.kill('SIGKILL');
    await killed.done;

    const recovered = await runCli(['recover', '--out', path.join(dir, 'killed-again'), '--allow-context', 'gameday-sim']);
    expect(recovered.code, recovered.stdout + recovered.stderr).to.equal(0);
    expect(recovered.stdout).to.contain(`released the run lock that run ${killedRunId} still held`);
    const next = await startRun(cordonExperiment('after-recover', 'b', '1s'), 'after-recover').done;
    expect(next.code, 'the next run need not wait for the lease to expire: ' + next.stderr).to.equal(0);
  });

  it('gameday stop makes the running game day revert and exit 130 within seconds, naming who stopped it; a waiting one gives up', async () => {
    const running = startRun(cordonExperiment('long-hold', 'a', '60s'), 'long-hold');
    const runId = await faultInPlace('long-hold');
    expect(await unschedulable('gameday-worker')).to.equal(true);
    const waiting = startRun(cordonExperiment('stopped-waiting', 'b', '1s'), 'stopped-waiting', '--wait-lock');
    await eventually('the second run to wait for the lock', () => waiting.output().stderr.includes('waiting for the run lock'));

    const stopAskedAt = Date.now();
    const stop = await runCli(['stop', '--kubeconfig', kubeconfig]);
    const stopReturnedAt = Date.now();
    expect(stop.code, stop.stdout + stop.stderr).to.equal(0);
    expect(stop.stdout).to.contain(`stopped ${whoAmI()}/${runId} (requested by ${whoAmI()})`);
    expect(stop.stdout).to.contain('it reverted:').and.contain('f0 nodeCordon: cordon node gameday-worker');

    const r = await running.done;
    expect(Date.now() - stopReturnedAt, 'the run exited soon after stop returned').to.be.below(10_000);
    expect(r.code, r.stdout + r.stderr).to.equal(130);
    expect(await unschedulable('gameday-worker'), 'the cordon is reverted').to.equal(false);
    const journal = journalOf('long-hold')!;
    expect(journal.find((e) => e.type === 'signal')?.signal).to.equal(`gameday stop (${whoAmI()})`);
    expect(journal.find((e) => e.type === 'run.end')?.outcome).to.equal('interrupted');
    const gaveUp = await waiting.done;
    expect(gaveUp.code, gaveUp.stderr).to.equal(130);
    expect(gaveUp.stderr).to.contain(`interrupted by gameday stop (${whoAmI()})`);
    expect(existsSync(path.join(dir, 'stopped-waiting')), 'the waiting run started nothing').to.equal(false);
    const revertedAt = faultStep(journal, 'reverted')!.t;
    expect(revertedAt - stopAskedAt, 'reverted within the 5 s the issue asks for').to.be.below(5000);
  });

  it('gameday stop with no game day running says so and exits 0', async () => {
    const r = await runCli(['stop', '--kubeconfig', kubeconfig]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.contain('no game day is running against gameday-sim');
  });
});
