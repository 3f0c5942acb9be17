import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { readJournalEvents } from '../../src/journal/reader.js';
import { findRunDirs, recoverRun, recoverRuns } from '../../src/engine/recover.js';
import type { ClusterRef, FaultEvent, RunEvent } from '../../src/journal/events.js';
import { eventually } from '../support/eventually.js';
import { buildExperiment, CapturingObserver, stubCluster, tempDir, testRegistries } from './helpers/experiment.js';

/** A journal as a crashed run would leave it, written by hand. */
function writeJournal(dir: string, events: readonly RunEvent[], tail = ''): string {
  const runDir = join(dir, 'run');
  mkdirSync(runDir, { recursive: true });
  writeFileSync(join(runDir, 'journal.ndjson'), events.map((e) => JSON.stringify(e) + '\n').join('') + tail);
  return runDir;
}

function runStart(dir: string, cluster: 'embedded' | 'kubeconfig'): RunEvent[] {
  const { plan } = buildExperiment({ durationMs: 1000, faults: [{ atMs: 0, params: { marker: join(dir, 'a'), log: join(dir, 'effects.log'), name: 'a' } }], cluster });
  return [
    { type: 'run.start', t: 1, journalVersion: 1, runId: 'r1', experiment: 'engine-test', file: 'x.yaml', seed: 7, cluster: plan.cluster, durationMs: 1000, gamedayVersion: '0.1.0' },
    { type: 'plan', t: 1, plan: JSON.parse(JSON.stringify(plan)) },
  ];
}

const inject = (dir: string): FaultEvent => ({ type: 'fault', t: 2, step: 'inject', fault: 'f0', kind: 'testFault', targets: { marker: join(dir, 'a') } });

describe('recoverRun', () => {
  it('reverts what a SIGKILLed run left applied, newest first, and does nothing the second time', async function () {
    this.timeout(30_000);
    const dir = tempDir();
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/plugins/long-fault-driver.ts', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    try {
      await eventually('the second fault to be injected', () => existsSync(join(dir, 'b')) || child.exitCode !== null, 20_000);
    } finally {
      child.kill('SIGKILL');
    }
    expect(await exited, stderr).to.equal('SIGKILL');
    expect(existsSync(join(dir, 'a')) && existsSync(join(dir, 'b'))).to.equal(true);

    const observer = new CapturingObserver();
    const first = await recoverRun(join(dir, 'run'), { cluster: stubCluster(), registries: testRegistries(), observer });
    expect(first.status).to.equal('reverted');
    expect(first.reverted).to.deep.equal(['f1', 'f0']);
    expect(existsSync(join(dir, 'a')) || existsSync(join(dir, 'b'))).to.equal(false);
    expect(readFileSync(join(dir, 'effects.log'), 'utf8').trim().split('\n')).to.deep.equal(['inject a', 'inject b', 'revert b', 'revert a']);
    expect(observer.ofType('fault').map((e) => `${e.step} ${e.fault}`)).to.deep.equal(['revert f1', 'reverted f1', 'revert f0', 'reverted f0']);

    const journal = join(dir, 'run', 'journal.ndjson');
    const steps = (await readJournalEvents(journal)).filter((e): e is FaultEvent => e.type === 'fault').map((e) => `${e.step} ${e.fault}`);
    expect(steps.slice(-4)).to.deep.equal(['revert f1', 'reverted f1', 'revert f0', 'reverted f0']);

    const size = statSync(journal).size;
    const second = await recoverRun(join(dir, 'run'), { cluster: stubCluster(), registries: testRegistries() });
    expect(second.status).to.equal('clean');
    expect(second.reverted).to.deep.equal([]);
    expect(statSync(journal).size).to.equal(size);
    expect(readFileSync(join(dir, 'effects.log'), 'utf8').trim().split('\n')).to.have.length(4);
  });

  it('reverts with state undefined when inject never returned, past a truncated last line', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a'), 'left behind');
    const runDir = writeJournal(dir, [...runStart(dir, 'kubeconfig'), inject(dir)], '{"type":"sample","t":3,"pro');
    const registries = testRegistries();
    const plugin = registries.faults.get('testFault')!;
    const calls: unknown[][] = [];
    registries.faults.upsert({ ...plugin, revert: (ctx, params, targets, state) => (calls.push([params, targets, state]), plugin.revert(ctx, params, targets, state)) });
    const result = await recoverRun(runDir, { cluster: stubCluster(), registries });
    expect(result.reverted).to.deep.equal(['f0']);
    expect(calls).to.deep.equal([[{ marker: join(dir, 'a'), log: join(dir, 'effects.log'), name: 'a' }, { marker: join(dir, 'a') }, undefined]]);
    expect(existsSync(join(dir, 'a'))).to.equal(false);
    const events = await readJournalEvents(join(runDir, 'journal.ndjson'));
    expect(events.map((e) => e.type)).to.deep.equal(['run.start', 'plan', 'fault', 'log', 'fault', 'fault']);
    expect((await recoverRun(runDir, { cluster: stubCluster(), registries: testRegistries() })).status).to.equal('clean');
  });

  it('keeps a fault whose revert failed for the next recover', async () => {
    const dir = tempDir();
    const start = runStart(dir, 'kubeconfig');
    const events: RunEvent[] = [...start, inject(dir), { type: 'fault', t: 3, step: 'revert', fault: 'f0', kind: 'testFault' }, { type: 'fault', t: 4, step: 'revert-failed', fault: 'f0', kind: 'testFault', message: 'boom' }];
    writeFileSync(join(dir, 'a'), 'still here');
    const runDir = writeJournal(dir, events);
    const result = await recoverRun(runDir, { cluster: stubCluster(), registries: testRegistries() });
    expect(result.status).to.equal('reverted');
    expect(existsSync(join(dir, 'a'))).to.equal(false);
  });

  it('reports failed reverts and leaves them for another try', async () => {
    const dir = tempDir();
    const registries = testRegistries();
    registries.faults.upsert({ ...registries.faults.get('testFault')!, revert: async () => Promise.reject(new Error('node unreachable')) });
    const runDir = writeJournal(dir, [...runStart(dir, 'kubeconfig'), inject(dir)]);
    const result = await recoverRun(runDir, { cluster: stubCluster(), registries });
    expect(result.status).to.equal('failed');
    expect(result.failed).to.deep.equal([{ fault: 'f0', kind: 'testFault', message: 'node unreachable' }]);
    expect((await recoverRun(runDir, { cluster: stubCluster(), registries: testRegistries() })).reverted).to.deep.equal(['f0']);
  });

  it('has nothing to do for a run on the embedded cluster, and says why', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a'), 'x');
    const runDir = writeJournal(dir, [...runStart(dir, 'embedded'), inject(dir)]);
    const before = readFileSync(join(runDir, 'journal.ndjson'), 'utf8');
    const result = await recoverRun(runDir, { registries: testRegistries() });
    expect(result.status).to.equal('embedded');
    expect(result.message).to.contain('embedded cluster, which ended with its process');
    expect(existsSync(join(dir, 'a'))).to.equal(true);
    expect(readFileSync(join(runDir, 'journal.ndjson'), 'utf8')).to.equal(before);
  });

  it('refuses a file that is not a journal', async () => {
    const dir = tempDir();
    const runDir = writeJournal(dir, [inject(dir)]);
    let message = '';
    await recoverRun(runDir, { registries: testRegistries() }).catch((err: Error) => (message = err.message));
    expect(message).to.contain('no run.start event');
  });
});

describe('recoverRuns', () => {
  it('connects to every cluster the runs recorded before reverting any, so a refused one changes nothing', async () => {
    const [allowedDir, refusedDir] = [tempDir(), tempDir()];
    const prod: ClusterRef = { kind: 'kubeconfig', name: 'prod', context: 'prod' };
    const runDirs = [
      writeJournal(allowedDir, [...runStart(allowedDir, 'kubeconfig'), inject(allowedDir)]),
      writeJournal(refusedDir, [...runStart(refusedDir, 'kubeconfig').map((e) => (e.type === 'run.start' ? { ...e, cluster: prod } : e)), inject(refusedDir)]),
    ];
    for (const d of [allowedDir, refusedDir]) writeFileSync(join(d, 'a'), 'applied');
    const journals = runDirs.map((d) => readFileSync(join(d, 'journal.ndjson'), 'utf8'));
    const connected: string[] = [];
    const closed: string[] = [];
    const connect = async (ref: ClusterRef) => {
      if (ref.context === 'prod') throw new Error('refusing to run against context "prod"');
      connected.push(ref.name);
      return { ...stubCluster(), close: async () => void closed.push(ref.name) };
    };
    let message = '';
    await recoverRuns(runDirs, { registries: testRegistries(), connect }).catch((err: Error) => (message = err.message));
    expect(message).to.contain('refusing to run against context "prod"');
    expect(existsSync(join(allowedDir, 'a')) && existsSync(join(refusedDir, 'a')), 'nothing reverted').to.equal(true);
    expect(runDirs.map((d) => readFileSync(join(d, 'journal.ndjson'), 'utf8'))).to.deep.equal(journals);
    expect(closed, 'the cluster connected before the refusal is closed').to.deep.equal(connected).and.to.deep.equal(['test']);
  });

  it('finds the run directories under --out that hold a journal, and needs no cluster for an embedded run', async () => {
    const out = tempDir();
    const runDir = writeJournal(out, runStart(out, 'embedded'));
    mkdirSync(join(out, 'not-a-run'));
    expect(await findRunDirs(out)).to.deep.equal([runDir]);
    expect(await findRunDirs(join(out, 'missing'))).to.deep.equal([]);
    const connect = async (): Promise<never> => Promise.reject(new Error('no cluster needed'));
    const seen: string[] = [];
    const results = await recoverRuns([runDir], { registries: testRegistries(), connect, onRecovered: (dir, r) => seen.push(`${dir} ${r.status}`) });
    expect(results.map((r) => r.status)).to.deep.equal(['embedded']);
    expect(seen).to.deep.equal([`${runDir} embedded`]);
  });
});
