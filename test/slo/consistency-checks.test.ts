import { expect } from 'chai';
import type { Sample } from '../../src/core/sample.js';
import { evaluateCheck } from '../../src/slo/evaluate.js';
import { checkFunctionProblem } from '../../src/slo/functions.js';
import { CheckSyntaxError, parseCheck } from '../../src/slo/parse.js';
import { SampleIndex } from '../../src/slo/sample-index.js';

const T0 = 1_800_000_000_000;
const RANGE = { from: T0, to: T0 + 60_000 };
const key = (i: number): string => `orders-abc-${String(i).padStart(6, '0')}`;

function index(samples: readonly Omit<Sample, 'probe'>[]): SampleIndex {
  const idx = new SampleIndex();
  for (const s of samples) idx.add({ ...s, probe: 'orders' });
  return idx;
}

/** A consistency probe's run: record i written at +i×100ms, acknowledged, read back, verified; `lost` and `stale` pick the bad ones. */
function run(n: number, bad: { lost?: (i: number) => boolean; stale?: (i: number) => boolean; lagMs?: (i: number) => number } = {}): Omit<Sample, 'probe'>[] {
  return Array.from({ length: n }, (_, i) => {
    const t = T0 + i * 100;
    return [
      { t, ok: true, latencyMs: 5, detail: { op: 'write', key: key(i) } },
      bad.stale?.(i) ? { t: t + 10, ok: false, latencyMs: 3, error: 'stale', detail: { op: 'read', key: key(i), replica: 'db-2' } } : { t: t + 10, ok: true, latencyMs: 3, detail: { op: 'read', key: key(i) } },
      { t, ok: true, value: bad.lagMs?.(i) ?? 1, detail: { op: 'lag', key: key(i) } },
      bad.lost?.(i) ? { t, ok: false, error: 'lost', detail: { op: 'verify', key: key(i), found: 'missing' } } : { t, ok: true, detail: { op: 'verify', key: key(i) } },
    ];
  }).flat();
}

const evaluate = (check: string, samples: readonly Omit<Sample, 'probe'>[]) => evaluateCheck(parseCheck(check), index(samples), RANGE, 'worst-window');

describe('consistency checks: lostWrites, duplicates, staleReads, p99(lag(…))', () => {
  it('lostWrites(orders) == 0 fails naming every lost record, with the lost samples as evidence', () => {
    const o = evaluate('lostWrites(orders) == 0', run(40, { lost: (i) => i >= 30 && i < 33 }));
    expect(o.verdict).to.equal('failed');
    expect(o.value).to.equal(3);
    expect(o.message).to.equal(`lostWrites(orders) = 3 (need == 0) over 40 acknowledged writes; lost: ${key(30)}, ${key(31)}, ${key(32)}, first at +3.0s`);
    expect(o.evidence.worst!.map((s) => s.detail!.key)).to.deep.equal([key(30), key(31), key(32)]);
    expect(o.evidence.firstViolationAt).to.equal(T0 + 3000);
  });

  it('lostWrites(orders) == 0 passes when every acknowledged write was read back', () => {
    const o = evaluate('lostWrites(orders) == 0', run(40));
    expect(o.verdict).to.equal('passed');
    expect(o.message).to.equal('lostWrites(orders) = 0 (need == 0) over 40 acknowledged writes, none lost');
  });

  it('lostWrites is no-data, not a pass, for a probe that verified nothing (an http probe, or a run that never got to verify)', () => {
    const o = evaluate('lostWrites(orders) == 0', run(40).filter((s) => s.detail?.op !== 'verify'));
    expect(o.verdict).to.equal('no-data');
    expect(o.message).to.contain('none was verified');
  });

  it('duplicates(orders) counts records listed twice, and is no-data without a listing', () => {
    const listed = [{ t: T0, ok: true, value: 1, detail: { op: 'list', records: 40 } }, { t: T0 + 700, ok: false, error: 'duplicate', value: 2, detail: { op: 'list', key: key(7), copies: 2 } }];
    const o = evaluate('duplicates(orders) == 0', [...run(40), ...listed]);
    expect(o.verdict).to.equal('failed');
    expect(o.value).to.equal(1);
    expect(o.message).to.contain(`duplicated: ${key(7)}, first at +0.7s`);
    const none = evaluate('duplicates(orders) == 0', run(40));
    expect(none.verdict).to.equal('no-data');
    expect(none.message).to.contain('a list request');
  });

  it('staleReads(orders) counts read-backs that lacked an acknowledged record', () => {
    const again = { t: T0 + 1110, ok: false, latencyMs: 3, error: 'stale', detail: { op: 'read', key: key(10), replica: 'db-1' } };
    const o = evaluate('staleReads(orders) <= 2', [...run(40, { stale: (i) => i % 10 === 0 }), again]);
    expect(o.verdict).to.equal('failed');
    expect(o.value).to.equal(5);
    // Each record once, though key 10 was read stale twice.
    expect(o.message).to.equal(`staleReads(orders) = 5 (need <= 2) over 41 read-backs; stale: ${key(0)}, ${key(10)}, ${key(20)}, ${key(30)}, first at +0.0s`);
    expect(o.evidence.worst![0]!.detail).to.include({ replica: 'db-2' });
  });

  it('p99(lag(orders)) < 2s reads the lag samples, not the request latencies, and names the slowest record', () => {
    const o = evaluate('p99(lag(orders)) < 2s', run(100, { lagMs: (i) => (i === 42 ? 2500 : i === 43 ? 2100 : 20) }));
    expect(o.verdict).to.equal('failed');
    expect(o.value).to.equal(2100);
    expect(o.message).to.equal('p99(lag(orders)) = 2.1s (need < 2s) over 100 records; slowest 2.5s at +4.2s');
    expect(o.evidence.worst![0]!.detail).to.include({ op: 'lag', key: key(42) });
    expect(evaluate('p99(lag(orders)) < 3s', run(100, { lagMs: (i) => (i === 42 ? 2500 : 20) })).verdict).to.equal('passed');
    expect(evaluate('p99(orders) < 10ms', run(100, { lagMs: () => 5000 })).verdict, 'p99(orders) still reads latencies').to.equal('passed');
  });

  it('parses a series inside a percentile, and says what to write when one is misplaced', () => {
    expect(parseCheck('p99( lag( orders ) ) < 2s')).to.deep.include({ fn: 'p99', series: 'lag', arg: 'orders', op: '<', threshold: { value: 2000, unit: 'ms', text: '2s' } });
    expect(checkFunctionProblem(parseCheck('p99(lag(orders)) < 2s'))).to.equal(undefined);
    expect(checkFunctionProblem(parseCheck('lag(orders) < 2s'))).to.equal('lag is a series of values, not one: read it inside a percentile, like p99(lag(orders)) < 2s');
    expect(checkFunctionProblem(parseCheck('availability(lag(orders)) >= 99%'))).to.contain('availability cannot read a series like lag(orders): only percentiles can');
    expect(checkFunctionProblem(parseCheck('p99(lagg(orders)) < 2s'))).to.equal('unknown series function "lagg"; did you mean "lag"?');
    expect(checkFunctionProblem(parseCheck('lostWrites(orders) == 0s'))).to.contain('lostWrites compares a count: write the threshold as a plain number');
    expect(() => parseCheck('p99(lag(orders) < 2s')).to.throw(CheckSyntaxError, 'expected ")" after p99(lag(orders), found "<"');
    expect(() => parseCheck('p99(lag(orders)) holds')).to.throw(CheckSyntaxError, 'p99(lag(orders)) is a number to compare');
  });
});
