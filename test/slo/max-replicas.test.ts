import { expect } from 'chai';
import type { Sample } from '../../src/core/sample.js';
import { evaluateCheck } from '../../src/slo/evaluate.js';
import { parseCheck } from '../../src/slo/parse.js';
import { SampleIndex } from '../../src/slo/sample-index.js';

const T0 = 1_800_000_000_000;
const PROBE = 'maxReplicas(deployment/shop/web)';

/** The readings of a replicas probe: `[seconds after T0, replicas]` at each change. */
function readings(changes: readonly (readonly [number, number])[]): SampleIndex {
  const idx = new SampleIndex();
  for (const [s, value] of changes) idx.add({ t: T0 + s * 1000, probe: PROBE, ok: true, value, detail: { wanted: value } } satisfies Sample);
  return idx;
}

const RUN = { from: T0, to: T0 + 40_000 };

describe('maxReplicas(): the highest replicas of the run, and how long they held', () => {
  it('passes on the peak an autoscaler reached, though the run began lower, and says when it came and went', () => {
    const o = evaluateCheck(parseCheck('maxReplicas(deployment/shop/web) >= 12'), readings([[0, 2], [8, 6], [10, 14], [30, 10]]), RUN, 'worst-window');
    expect(o.verdict).to.equal('passed');
    expect(o.value).to.equal(14);
    expect(o.message).to.equal('maxReplicas(deployment/shop/web) = 14 (need >= 12), reached at +10.0s and held for 20.0s, until +30.0s (4 readings)');
    expect(o.evidence.worst!.map((s) => s.value)).to.deep.equal([14]);
  });

  it('fails on a ceiling held to the end, as an HPA at its maxReplicas, naming every reading at it', () => {
    const o = evaluateCheck(parseCheck('maxReplicas(deployment/shop/web) >= 12'), readings([[0, 2], [6, 3], [9, 3]]), RUN, 'worst-window');
    expect(o.verdict).to.equal('failed');
    expect(o.value).to.equal(3);
    expect(o.message).to.equal('maxReplicas(deployment/shop/web) = 3 (need >= 12), reached at +6.0s and held for 34.0s, to the end (3 readings)');
    expect(o.evidence.worst!.map((s) => s.t)).to.deep.equal([T0 + 6000, T0 + 9000]);
  });

  it('reads the peak so far in a steady state, not only the last reading', () => {
    const o = evaluateCheck(parseCheck('maxReplicas(deployment/shop/web) <= 4'), readings([[0, 2], [5, 6], [20, 2]]), RUN, 'latest');
    expect(o.verdict).to.equal('failed');
    expect(o.value).to.equal(6);
  });
});
