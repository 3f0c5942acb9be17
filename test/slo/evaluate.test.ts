import { expect } from 'chai';
import type { Sample } from '../../src/core/sample.js';
import { evaluateCheck } from '../../src/slo/evaluate.js';
import { parseCheck } from '../../src/slo/parse.js';
import { SampleIndex } from '../../src/slo/sample-index.js';

const T0 = 1_800_000_000_000;

function index(samples: readonly Sample[]): SampleIndex {
  const idx = new SampleIndex();
  for (const s of samples) idx.add(s);
  return idx;
}

/** `n` samples of `probe`, one every `everyMs` from T0; `bad(i)` marks the failures. */
function series(probe: string, n: number, everyMs: number, bad: (i: number) => boolean = () => false, latency?: (i: number) => number): Sample[] {
  return Array.from({ length: n }, (_, i) => ({
    t: T0 + i * everyMs,
    probe,
    ok: !bad(i),
    ...(bad(i) ? { error: 'status-503' } : {}),
    ...(latency ? { latencyMs: latency(i) } : {}),
  }));
}

describe('evaluateCheck', () => {
  it('reports availability with the failures that decided it', () => {
    const idx = index(series('web', 1234, 100, (i) => i >= 421 && i < 456));
    const o = evaluateCheck(parseCheck('availability(web) >= 99.5%'), idx, { from: T0, to: T0 + 123_400 }, 'latest');
    expect(o.verdict).to.equal('failed');
    expect(o.value).to.be.closeTo(1199 / 1234, 1e-12);
    expect(o.message).to.equal('availability(web) = 97.2% (need >= 99.5%) over 1,234 requests; 35 failed, first at +42.1s');
    expect(o.evidence.samples).to.equal(1234);
    expect(o.evidence.firstViolationAt).to.equal(T0 + 42_100);
    expect(o.evidence.worst).to.have.length(5);
    expect(o.evidence.worst!.every((s) => !s.ok)).to.equal(true);
  });

  it('passes availability exactly at the threshold', () => {
    const idx = index(series('web', 200, 10, (i) => i === 7));
    const o = evaluateCheck(parseCheck('availability(web) >= 99.5%'), idx, { from: T0, to: T0 + 2000 }, 'latest');
    expect(o.verdict).to.equal('passed');
    expect(o.message).to.contain('99.5%');
  });

  it('waits for a full window of evidence in latest mode before judging', () => {
    const idx = index(series('web', 30, 100));
    const check = parseCheck('availability(web) >= 99% over 5s');
    const early = evaluateCheck(check, idx, { from: T0, to: T0 + 2_900 }, 'latest');
    expect(early.verdict).to.equal('no-data');
    expect(early.message).to.contain('waiting for a full 5s of samples');
    expect(evaluateCheck(check, index(series('web', 60, 100)), { from: T0, to: T0 + 5_900 }, 'latest').verdict).to.equal('passed');
  });

  it('judges only the last W in latest mode', () => {
    // Failures in the first 10 s, clean afterwards: the last 5 s are healthy.
    const idx = index(series('web', 200, 100, (i) => i < 100));
    const check = parseCheck('availability(web) >= 99% over 5s');
    expect(evaluateCheck(check, idx, { from: T0, to: T0 + 19_900 }, 'latest').verdict).to.equal('passed');
    const early = evaluateCheck(check, idx, { from: T0, to: T0 + 9_900 }, 'latest');
    expect(early.verdict).to.equal('failed');
    expect(early.evidence.from).to.equal(T0 + 4_900);
  });

  it('finds the worst window in worst-window mode, even when the whole range looks fine', () => {
    // 600 samples over 60 s with 40 failures packed into 4 s: 93.3% overall, far worse in that window.
    const idx = index(series('web', 600, 100, (i) => i >= 300 && i < 340));
    const whole = evaluateCheck(parseCheck('availability(web) >= 90%'), idx, { from: T0, to: T0 + 60_000 }, 'worst-window');
    expect(whole.verdict).to.equal('passed');
    const windowed = evaluateCheck(parseCheck('availability(web) >= 90% over 10s'), idx, { from: T0, to: T0 + 60_000 }, 'worst-window');
    expect(windowed.verdict).to.equal('failed');
    expect(windowed.value).to.be.below(0.7);
    expect(windowed.evidence.from).to.be.at.most(T0 + 30_000);
    expect(windowed.evidence.to).to.be.at.least(T0 + 34_000);
    expect(windowed.message).to.contain('worst 10s window');
  });

  it('says no-data when the probe has no samples in the range', () => {
    const idx = index(series('web', 10, 100));
    const o = evaluateCheck(parseCheck('availability(api) >= 99%'), idx, { from: T0, to: T0 + 1000 }, 'latest');
    expect(o.verdict).to.equal('no-data');
    expect(o.message).to.contain('no samples from probe "api"');
    const late = evaluateCheck(parseCheck('availability(web) >= 99% over 1s'), idx, { from: T0, to: T0 + 60_000 }, 'latest');
    expect(late.verdict).to.equal('no-data');
  });

  it('computes latency percentiles over latencyMs', () => {
    // Latencies 1..100 ms in shuffled order.
    const order = Array.from({ length: 100 }, (_, i) => ((i * 37) % 100) + 1);
    const idx = index(series('web', 100, 10, () => false, (i) => order[i]!));
    const range = { from: T0, to: T0 + 1000 };
    expect(evaluateCheck(parseCheck('p50(web) < 300ms'), idx, range, 'latest').value).to.equal(50);
    expect(evaluateCheck(parseCheck('p99(web) < 300ms'), idx, range, 'latest').value).to.equal(99);
    const max = evaluateCheck(parseCheck('max(web) < 90ms'), idx, range, 'latest');
    expect(max.value).to.equal(100);
    expect(max.verdict).to.equal('failed');
    expect(max.evidence.worst![0]!.latencyMs).to.equal(100);
    expect(max.message).to.match(/^max\(web\) = 100ms \(need < 90ms\) over 100 requests; slowest 100ms at \+\d+\.\ds$/);
  });

  it('counts errors and measures the rate', () => {
    const idx = index(series('web', 50, 100, (i) => i % 10 === 0));
    const range = { from: T0, to: T0 + 5000 };
    const errors = evaluateCheck(parseCheck('errors(web) <= 4'), idx, range, 'latest');
    expect(errors.value).to.equal(5);
    expect(errors.verdict).to.equal('failed');
    const rate = evaluateCheck(parseCheck('rate(web) >= 9/s'), idx, range, 'latest');
    expect(rate.value).to.equal(10);
    expect(rate.verdict).to.equal('passed');
  });

  it('judges holds on the implicit probe of a target and points at the first violation', () => {
    const probe = 'pdb(shop/web)';
    const samples: Sample[] = [
      { t: T0, probe, ok: true, value: 3 },
      { t: T0 + 5_000, probe, ok: false, value: 1, error: 'below-budget' },
      { t: T0 + 6_000, probe, ok: true, value: 3 },
    ];
    const idx = index(samples);
    const o = evaluateCheck(parseCheck('pdb(shop/web) holds'), idx, { from: T0, to: T0 + 10_000 }, 'worst-window');
    expect(o.verdict).to.equal('failed');
    expect(o.evidence.firstViolationAt).to.equal(T0 + 5_000);
    expect(o.message).to.contain('below-budget').and.to.contain('+5.0s');
    // Now: the budget holds again.
    expect(evaluateCheck(parseCheck('pdb(shop/web) holds'), idx, { from: T0, to: T0 + 10_000 }, 'latest').verdict).to.equal('passed');
    // A probe named like the argument is not the implicit probe.
    expect(evaluateCheck(parseCheck('pdb(web) holds'), index(series('web', 5, 10)), { from: T0, to: T0 + 100 }, 'latest').verdict).to.equal('no-data');
  });

  it('reads a target gauge as a state that lasts until its next reading', () => {
    const probe = 'ready(deployment/shop/web)';
    const idx = index([
      { t: T0, probe, ok: true, value: 3 },
      { t: T0 + 10_000, probe, ok: true, value: 2 },
      { t: T0 + 20_000, probe, ok: true, value: 3 },
    ]);
    const check = parseCheck('ready(deployment/shop/web) >= 3');
    // In latest mode: the last reading; 2 ready at +15 s is too few.
    expect(evaluateCheck(check, idx, { from: T0, to: T0 + 15_000 }, 'latest').value).to.equal(2);
    expect(evaluateCheck(check, idx, { from: T0, to: T0 + 25_000 }, 'latest').verdict).to.equal('passed');
    // A range that starts after the dip's reading still sees the dip: it lasted until +20 s.
    const slo = evaluateCheck(check, idx, { from: T0 + 12_000, to: T0 + 30_000 }, 'worst-window');
    expect(slo.verdict).to.equal('failed');
    expect(slo.value).to.equal(2);
  });

  it("judges prom() by a query's latest answer now, and by its worst answer over a run", () => {
    const probe = 'error_ratio';
    const idx = index([
      { t: T0, probe, ok: true, value: 0.002 },
      { t: T0 + 5_000, probe, ok: true, value: 0.04 },
      { t: T0 + 10_000, probe, ok: true, value: 0.001 },
      { t: T0 + 15_000, probe, ok: false, error: 'unreachable', detail: { message: 'cannot reach http://127.0.0.1:9090: ECONNREFUSED' } },
    ]);
    const check = parseCheck('prom(error_ratio) < 1%');
    const now = evaluateCheck(check, idx, { from: T0, to: T0 + 12_000 }, 'latest');
    expect([now.verdict, now.value, now.message]).to.deep.equal(['passed', 0.001, 'prom(error_ratio) = 0.1% (need < 1%) at +10.0s (1 reading)']);
    // The last query failed: there is no answer now, which is not a pass.
    const down = evaluateCheck(check, idx, { from: T0, to: T0 + 16_000 }, 'latest');
    expect(down.verdict).to.equal('no-data');
    expect(down.message).to.equal('prom(error_ratio) < 1%: no value from probe "error_ratio" between +15.0s and +16.0s; 1 sample, the last failed with unreachable: cannot reach http://127.0.0.1:9090: ECONNREFUSED');
    const slo = evaluateCheck(check, idx, { from: T0, to: T0 + 16_000 }, 'worst-window');
    expect([slo.verdict, slo.value]).to.deep.equal(['failed', 0.04]);
    expect(slo.message).to.equal('prom(error_ratio) = 4.0% (need < 1%) at +5.0s (4 readings)');
    // A plain-number threshold shows the value as a number.
    expect(evaluateCheck(parseCheck('prom(error_ratio) <= 0.05'), idx, { from: T0, to: T0 + 16_000 }, 'worst-window').message).to.equal('prom(error_ratio) = 0.04 (need <= 0.05) at +5.0s (4 readings)');
  });

  it('compares failover times in the check unit', () => {
    const probe = 'failover(statefulset/shop/db)';
    const idx = index([
      { t: T0 + 1_000, probe, ok: true, value: 8_000 },
      { t: T0 + 40_000, probe, ok: false, value: 24_100 },
    ]);
    const o = evaluateCheck(parseCheck('failover(statefulset/shop/db) < 20s'), idx, { from: T0, to: T0 + 60_000 }, 'worst-window');
    expect(o.verdict).to.equal('failed');
    expect(o.value).to.equal(24_100);
    expect(o.message).to.match(/^failover\(statefulset\/shop\/db\) = 24\.1s \(need < 20s\)/);
  });
});

describe('SampleIndex', () => {
  it('keeps samples in time order when they arrive out of order, with failure counts to match', () => {
    const idx = new SampleIndex();
    const times = [5, 1, 3, 9, 2, 8, 7, 4, 6, 0];
    for (const t of times) idx.add({ t, probe: 'web', ok: t % 3 !== 0 });
    expect(idx.samples('web').map((s) => s.t)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(idx.failuresBetween('web', 0, 10)).to.equal(4);
    idx.add({ t: 2.5, probe: 'web', ok: false });
    expect(idx.failuresBetween('web', 0, 11)).to.equal(5);
    expect(idx.lowerBound('web', 2.5)).to.equal(3);
    expect(idx.upperBound('web', 2.5)).to.equal(4);
    expect(idx.failuresBetween('web', 3, 4)).to.equal(1);
  });

  it('evaluates windows over a million samples', () => {
    const idx = new SampleIndex();
    for (let i = 0; i < 1_000_000; i++) idx.add({ t: T0 + i, probe: 'web', ok: i < 500_000 || i >= 500_100, latencyMs: i % 1000 });
    const o = evaluateCheck(parseCheck('availability(web) >= 99% over 1s'), idx, { from: T0, to: T0 + 1_000_000 }, 'worst-window');
    expect(o.verdict).to.equal('failed');
    expect(o.value).to.be.closeTo(0.9, 0.001);
    const p = evaluateCheck(parseCheck('p99(web) < 2s over 100s'), idx, { from: T0, to: T0 + 1_000_000 }, 'worst-window');
    expect(p.value).to.equal(989);
  });
});
