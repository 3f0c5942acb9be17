import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type { FaultEvent, RunEvent } from '../../src/journal/events.js';
import { readJournalEvents } from '../../src/journal/reader.js';
import type { RunOptions, RunSummary } from '../../src/engine/runner.js';
import { runExperiment } from '../../src/engine/runner.js';
import type { TestExperiment } from './helpers/experiment.js';
import type { TestFaultParams } from '../fixtures/plugins/test-plugins.js';
import { buildExperiment, CapturingObserver, stubCluster, tempDir, testRegistries } from './helpers/experiment.js';

/** One run in a fresh directory; fault steps are mirrored into the effects log as `journal <step> <fault>`. */
class Scenario {
  readonly dir = tempDir();
  readonly log = join(this.dir, 'effects.log');
  readonly observer: CapturingObserver;
  summary!: RunSummary;

  constructor(onEvent?: (event: RunEvent, scenario: Scenario) => void) {
    this.observer = new CapturingObserver((event) => {
      if (event.type === 'fault') appendFileSync(this.log, `journal ${event.step} ${event.fault}\n`);
      onEvent?.(event, this);
    });
  }

  marker(name: string): string {
    return join(this.dir, name);
  }

  fault(name: string, atMs: number, extra: { readonly forMs?: number; readonly params?: Partial<TestFaultParams> } = {}) {
    return { atMs, ...(extra.forMs !== undefined ? { forMs: extra.forMs } : {}), params: { marker: this.marker(name), log: this.log, name, ...extra.params } };
  }

  async run(experiment: TestExperiment, options: Partial<RunOptions> = {}): Promise<RunSummary> {
    const { spec, plan } = buildExperiment(experiment);
    this.summary = await runExperiment({
      spec,
      seed: plan.seed,
      makePlan: () => plan,
      cluster: stubCluster(),
      registries: testRegistries(),
      runId: 'test-run',
      runDir: join(this.dir, 'run'),
      observer: this.observer,
      tickMs: 10,
      ...options,
    });
    return this.summary;
  }

  /** The plug-in's own effects, in the order they happened. */
  effects(): string[] {
    return this.lines().filter((l) => !l.startsWith('journal '));
  }

  lines(): string[] {
    return existsSync(this.log) ? readFileSync(this.log, 'utf8').trim().split('\n').filter(Boolean) : [];
  }

  faultSteps(): string[] {
    return this.observer.ofType('fault').map((e: FaultEvent) => `${e.step} ${e.fault}`);
  }

  checks(role: string) {
    return this.observer.ofType('check').filter((c) => c.role === role);
  }
}

const healthy = { everyMs: 5 };

describe('runExperiment', () => {
  it('passes, reverting every fault newest first after the normal end', async () => {
    const s = new Scenario();
    const summary = await s.run({
      durationMs: 250,
      probes: { web: healthy },
      faults: [s.fault('a', 0), s.fault('b', 40)],
      steadyState: ['availability(web) >= 99% over 50ms'],
      slos: ['availability(web) >= 99%'],
    });
    expect(summary.outcome, summary.reason).to.equal('passed');
    expect(s.effects()).to.deep.equal(['inject a', 'inject b', 'revert b', 'revert a']);
    expect(existsSync(s.marker('a')) || existsSync(s.marker('b'))).to.equal(false);
    expect(s.checks('slo').map((c) => c.verdict)).to.deep.equal(['passed']);
    expect(s.checks('steady-state-after').map((c) => c.verdict)).to.deep.equal(['passed']);
    expect(s.observer.ended).to.equal(true);
  });

  it('journals each fault step before it acts, and the journal on disk is what the observer saw', async () => {
    const s = new Scenario();
    await s.run({ durationMs: 100, probes: { web: healthy }, faults: [s.fault('a', 0)] });
    const lines = s.lines();
    const at = (line: string): number => lines.indexOf(line);
    expect(at('journal inject f0')).to.be.within(0, at('inject a') - 1);
    expect(at('inject a')).to.be.below(at('journal injected f0'));
    expect(at('journal revert f0')).to.be.within(0, at('revert a') - 1);
    expect(at('revert a')).to.be.below(at('journal reverted f0'));

    const onDisk = await readJournalEvents(s.summary.journalPath);
    expect(onDisk).to.deep.equal(JSON.parse(JSON.stringify(s.observer.events)));
    expect(onDisk[0]!.type).to.equal('run.start');
    expect(onDisk.at(-1)).to.include({ type: 'run.end', outcome: 'passed' });
    const inject = onDisk.find((e): e is FaultEvent => e.type === 'fault' && e.step === 'inject')!;
    expect(inject.targets).to.deep.equal({ marker: s.marker('a') });
    const samples = onDisk.filter((e) => e.type === 'sample');
    expect(samples.length).to.be.greaterThan(0);
    expect(samples.every((e) => e.type === 'sample' && e.probe === 'web')).to.equal(true);
  });

  it('reverts a fault with `for` on schedule, before a later fault is injected', async () => {
    const s = new Scenario();
    const summary = await s.run({ durationMs: 200, probes: { web: healthy }, faults: [s.fault('a', 0, { forMs: 30 }), s.fault('b', 80)] });
    expect(summary.outcome, summary.reason).to.equal('passed');
    expect(s.effects()).to.deep.equal(['inject a', 'revert a', 'inject b', 'revert b']);
  });

  it('fails when an SLO is broken by the fault, with the evidence in the verdict', async () => {
    const s = new Scenario();
    const summary = await s.run({
      durationMs: 250,
      probes: { web: { everyMs: 5, failWhileExists: join(s.dir, 'a') } },
      faults: [s.fault('a', 20, { forMs: 100 })],
      steadyState: ['availability(web) >= 99% over 30ms'],
      slos: ['availability(web) >= 99%', 'errors(web) <= 1000'],
    });
    expect(summary.outcome).to.equal('failed');
    expect(summary.reason).to.match(/^SLO not met: availability\(web\) = \d+\.\d% \(need >= 99%\) over [\d,]+ requests; \d+ failed, first at \+\d+\.\ds$/);
    const [availability, errors] = s.checks('slo');
    expect(availability).to.include({ verdict: 'failed' });
    // The evidence is the failed samples, all taken while fault a was applied.
    const faultA = s.observer.ofType('fault').filter((e) => e.fault === 'f0');
    const [from, to] = [faultA.find((e) => e.step === 'inject')!.t, faultA.find((e) => e.step === 'reverted')!.t];
    const { worst, firstViolationAt } = availability!.evidence!;
    expect(worst, 'failed samples').to.have.length.greaterThan(0);
    expect(worst!.every((x) => !x.ok && x.t >= from && x.t <= to), JSON.stringify({ from, to, worst })).to.equal(true);
    expect(firstViolationAt).to.equal(worst![0]!.t);
    expect(errors).to.include({ verdict: 'passed' });
    expect(s.effects()).to.deep.equal(['inject a', 'revert a']);
  });

  it('fails when the steady state does not return within recoverWithin', async () => {
    const s = new Scenario();
    const summary = await s.run({
      durationMs: 100,
      recoverWithinMs: 300,
      probes: { web: { everyMs: 5, okUntilMs: 80 } },
      faults: [s.fault('a', 0)],
      // Windows of 40 ms rather than 20, so that a busy machine's stalled event loop still leaves samples in one.
      steadyState: ['availability(web) >= 99% over 40ms'],
    });
    expect(summary.outcome).to.equal('failed');
    expect(summary.reason).to.match(/^the steady state did not return within 300ms: availability\(web\) = 0\.0%/);
    expect(s.checks('steady-state-after').map((c) => c.verdict)).to.deep.equal(['failed']);
    expect(s.effects()).to.deep.equal(['inject a', 'revert a']);
  });

  it('is inconclusive, injecting nothing, when the steady state never holds', async () => {
    const s = new Scenario();
    const summary = await s.run({
      durationMs: 100,
      steadyStateTimeoutMs: 100,
      probes: { web: { everyMs: 5, okUntilMs: 0 } },
      faults: [s.fault('a', 0)],
      steadyState: ['availability(web) >= 99%'],
      slos: ['availability(web) >= 99%'],
    });
    expect(summary.outcome).to.equal('inconclusive');
    expect(summary.reason).to.match(/^the steady state never held within 100ms: availability\(web\) = 0\.0%/);
    expect(s.faultSteps()).to.deep.equal([]);
    expect(s.effects()).to.deep.equal([]);
    expect(s.checks('steady-state-before').map((c) => c.verdict)).to.deep.equal(['failed']);
    expect(s.checks('slo')).to.deep.equal([]);
    expect(s.observer.ofType('probe.stop')).to.have.length(1);
  });

  it('is inconclusive when a fault did not land, after reverting everything', async () => {
    const s = new Scenario();
    const summary = await s.run({
      durationMs: 5000,
      probes: { web: healthy },
      faults: [s.fault('a', 0), s.fault('b', 20, { params: { notLanded: true } }), s.fault('c', 4000)],
      slos: ['availability(web) >= 99%'],
    });
    expect(summary.outcome).to.equal('inconclusive');
    expect(summary.reason).to.contain('fault f1 (testFault) did not land');
    expect(s.effects()).to.deep.equal(['inject a', 'inject b', 'revert b', 'revert a']);
    expect(s.faultSteps()).to.include('not-landed f1');
    expect(s.checks('slo')).to.deep.equal([]);
    expect(existsSync(s.marker('b'))).to.equal(false);
  });

  it('ends in error when an inject throws, and still reverts it and the earlier faults', async () => {
    const s = new Scenario();
    const summary = await s.run({
      durationMs: 5000,
      probes: { web: healthy },
      faults: [s.fault('a', 0), s.fault('b', 20, { params: { failInject: true } })],
    });
    expect(summary.outcome).to.equal('error');
    expect(summary.reason).to.match(/^inject of f1 \(testFault\) failed: .*on purpose/);
    expect(s.effects()).to.deep.equal(['inject a', 'inject b', 'revert b', 'revert a']);
    expect(s.faultSteps()).to.include.members(['inject-failed f1', 'revert f1', 'reverted f1']);
    expect(existsSync(s.marker('a')) || existsSync(s.marker('b'))).to.equal(false);
  });

  it('ends in error when a probe fails mid-run, reverting what was applied', async () => {
    const s = new Scenario();
    const summary = await s.run({
      durationMs: 5000,
      probes: { web: healthy, flaky: { everyMs: 5, throwAfterMs: 300 } },
      faults: [s.fault('a', 0), s.fault('b', 20)],
    });
    expect(summary.outcome).to.equal('error');
    expect(summary.reason).to.match(/^probe flaky \(testProbe\) failed: .*on purpose/);
    expect(s.effects()).to.deep.equal(['inject a', 'inject b', 'revert b', 'revert a']);
    expect(s.observer.ofType('probe.error').map((e) => e.probe)).to.deep.equal(['flaky']);
  });

  it('ends in error when a probe cannot start, before any fault', async () => {
    const s = new Scenario();
    const summary = await s.run({
      durationMs: 100,
      probes: { web: healthy, broken: { everyMs: 5, throwOnStart: true } },
      faults: [s.fault('a', 0)],
    });
    expect(summary.outcome).to.equal('error');
    expect(summary.reason).to.contain('probe broken (testProbe) failed');
    expect(s.effects()).to.deep.equal([]);
    expect(s.observer.ofType('probe.stop').map((e) => e.probe)).to.deep.equal(['web']);
  });

  it('fails when an abort condition comes true, stopping the timeline and reverting', async () => {
    const s = new Scenario();
    const summary = await s.run({
      durationMs: 5000,
      probes: { web: { everyMs: 5, failWhileExists: join(s.dir, 'b') } },
      faults: [s.fault('a', 0), s.fault('b', 30), s.fault('c', 4000)],
      slos: ['availability(web) >= 99%'],
      abort: ['availability(web) < 80% over 50ms', 'errors(web) > 100000'],
    });
    expect(summary.outcome).to.equal('failed');
    expect(summary.reason).to.match(/^aborted: availability\(web\) < 80% over 50ms came true/);
    expect(s.effects()).to.deep.equal(['inject a', 'inject b', 'revert b', 'revert a']);
    const aborts = s.checks('abort');
    expect(aborts.map((c) => [c.check, c.verdict])).to.deep.equal([['availability(web) < 80% over 50ms', 'failed']]);
    expect(s.observer.ofType('abort')).to.have.length(1);
    expect(s.checks('slo').map((c) => c.verdict)).to.deep.equal(['failed']);
  });

  it('reverts faults held for the same time newest first', async () => {
    const s = new Scenario();
    const summary = await s.run({ durationMs: 400, probes: { web: { everyMs: 5 } }, faults: [s.fault('a', 0, { forMs: 100 }), s.fault('b', 0, { forMs: 100 })] });
    expect(summary.outcome, summary.reason).to.equal('passed');
    expect(s.effects()).to.deep.equal(['inject a', 'inject b', 'revert b', 'revert a']);
  });

  it('stays failed when an abort cuts short a fault that was still being injected', async () => {
    const s = new Scenario();
    const summary = await s.run({
      durationMs: 5000,
      probes: { web: { everyMs: 5, failWhileExists: join(s.dir, 'slow') } },
      // The inject is slow (like a drain) and its verify would report "not landed" once cut short.
      faults: [s.fault('slow', 0, { params: { injectDelayMs: 4000, notLanded: true } })],
      abort: ['availability(web) < 80% over 50ms'],
    });
    expect(summary.outcome, summary.reason).to.equal('failed');
    expect(summary.reason).to.match(/^aborted: /);
    expect(s.effects()).to.deep.equal(['inject slow', 'revert slow']);
  });

  it('journals abort conditions that never fired once, at the end of the faults', async () => {
    const s = new Scenario();
    const summary = await s.run({ durationMs: 80, probes: { web: healthy }, faults: [s.fault('a', 0)], abort: ['availability(web) < 80% over 50ms'] });
    expect(summary.outcome, summary.reason).to.equal('passed');
    expect(s.checks('abort').map((c) => c.verdict)).to.deep.equal(['passed']);
    expect(s.observer.ofType('abort')).to.deep.equal([]);
  });

  it('is interrupted by the signal, reverting newest first', async () => {
    const controller = new AbortController();
    const s = new Scenario((event) => {
      if (event.type === 'fault' && event.step === 'verified' && event.fault === 'f1') controller.abort('SIGINT');
    });
    const summary = await s.run(
      { durationMs: 5000, probes: { web: healthy }, faults: [s.fault('a', 0), s.fault('b', 20), s.fault('c', 4000)], slos: ['availability(web) >= 99%'] },
      { signal: controller.signal },
    );
    expect(summary.outcome).to.equal('interrupted');
    expect(summary.reason).to.equal('interrupted by SIGINT');
    expect(s.observer.ofType('signal').map((e) => e.signal)).to.deep.equal(['SIGINT']);
    expect(s.effects()).to.deep.equal(['inject a', 'inject b', 'revert b', 'revert a']);
    expect(s.checks('slo')).to.deep.equal([]);
    expect(s.observer.events.at(-1)).to.include({ type: 'run.end', outcome: 'interrupted' });
  });

  it('ends in error when a revert throws, and still runs the other reverts', async () => {
    const s = new Scenario();
    const summary = await s.run({
      durationMs: 100,
      probes: { web: healthy },
      faults: [s.fault('a', 0), s.fault('b', 10, { params: { failRevert: true } }), s.fault('c', 20)],
    });
    expect(summary.outcome).to.equal('error');
    expect(summary.reason).to.match(/^revert of f1 \(testFault\) failed: .*gameday recover/);
    expect(s.effects()).to.deep.equal(['inject a', 'inject b', 'inject c', 'revert c', 'revert b', 'revert a']);
    expect(s.faultSteps()).to.include('revert-failed f1');
    expect(existsSync(s.marker('a')) || existsSync(s.marker('c'))).to.equal(false);
    expect(existsSync(s.marker('b'))).to.equal(true);
  });

  it('ends in error when a verify throws, after reverting', async () => {
    const s = new Scenario();
    const summary = await s.run({ durationMs: 5000, probes: { web: healthy }, faults: [s.fault('a', 0, { params: { failVerify: true } })] });
    expect(summary.outcome).to.equal('error');
    expect(summary.reason).to.match(/^could not verify f0/);
    expect(s.effects()).to.deep.equal(['inject a', 'revert a']);
  });
});
