import { expect } from 'chai';
import type { Sample } from '../../src/core/sample.js';
import { evaluateCheck } from '../../src/slo/evaluate.js';
import { checkFunctionProblem } from '../../src/slo/functions.js';
import { parseCheck } from '../../src/slo/parse.js';
import { SampleIndex } from '../../src/slo/sample-index.js';
import { builtinRegistries } from '../../src/cli/registries.js';
import { SpecError } from '../../src/core/errors.js';
import { loadExperimentText } from '../../src/spec/load.js';

const T0 = 1_800_000_000_000;
const RANGE = { from: T0, to: T0 + 60_000 };
const key = (i: number): string => `orders-abc-${String(i).padStart(6, '0')}`;

/**
 * A drill's consistency probe: record i sent at +i×100ms and verified after recovery, `lost` picking
 * the ones that did not read back; the disaster step started at `disasterAt` (the engine's marker).
 */
function drill(n: number, lost: (i: number) => boolean, disasterAt?: number): SampleIndex {
  const idx = new SampleIndex();
  for (let i = 0; i < n; i++) {
    const t = T0 + i * 100;
    idx.add({ t, probe: 'orders', ok: true, latencyMs: 5, detail: { op: 'write', key: key(i) } });
    idx.add(lost(i) ? { t, probe: 'orders', ok: false, error: 'lost', detail: { op: 'verify', key: key(i), found: 'missing' } } : { t, probe: 'orders', ok: true, detail: { op: 'verify', key: key(i) } });
  }
  if (disasterAt !== undefined) idx.add({ t: disasterAt, probe: 'rpo(orders, disaster)', ok: true, detail: { step: 'disaster', probe: 'orders' } } satisfies Sample);
  return idx;
}

const evaluate = (check: string, idx: SampleIndex) => evaluateCheck(parseCheck(check), idx, RANGE, 'worst-window');

describe('rpo(probe, step): the recovery point of a drill', () => {
  it('is the time from the oldest acknowledged write sent before the disaster that did not read back, to the disaster; writes after it do not count', () => {
    // Backed up after record 19; the disaster at +4.05s loses 20..40; records sent after it (41+) are lost too, but are not the RPO's.
    const o = evaluate('rpo(orders, disaster) < 1s', drill(60, (i) => i >= 20, T0 + 4050));
    expect(o.verdict).to.equal('failed');
    expect(o.value).to.equal(2050);
    expect(o.message).to.equal(
      `rpo(orders, disaster) = 2.0s (need < 1s): disaster disaster at +4.0s; 41 acknowledged writes of orders sent before it; 21 acknowledged writes sent before it lost, the oldest sent at +2.0s (${key(20)}, ${key(21)}, ${key(22)}, ${key(23)}, ${key(24)}, …), the newest that read back sent at +1.9s`,
    );
    expect(o.evidence.worst!.map((s) => s.detail!.key)).to.deep.equal([key(20), key(21), key(22), key(23), key(24)]);
    expect(o.evidence.firstViolationAt).to.equal(T0 + 2000);
    expect(evaluate('rpo(orders, disaster) < 3s', drill(60, (i) => i >= 20, T0 + 4050)).verdict).to.equal('passed');
  });

  it('is 0 when every write sent before the disaster read back', () => {
    const o = evaluate('rpo(orders, disaster) < 1s', drill(60, (i) => i > 50, T0 + 4050));
    expect(o.verdict).to.equal('passed');
    expect(o.value).to.equal(0);
    expect(o.message).to.match(/= 0ms \(need < 1s\): .*; none lost, the newest that read back sent at \+4\.0s$/);
  });

  it('has no data when the disaster step never started, or nothing sent before it was verified', () => {
    expect(evaluate('rpo(orders, disaster) < 1s', drill(10, () => false))).to.deep.include({ verdict: 'no-data', message: 'rpo(orders, disaster) < 1s: step disaster never started, so there is no disaster to measure the recovery point from' });
    const early = evaluate('rpo(orders, disaster) < 1s', drill(10, () => false, T0 - 1));
    expect(early.verdict).to.equal('no-data');
    expect(early.message).to.contain('no write of probe "orders" sent before disaster (-0.0s) was verified after recovery');
  });

  it('is written with a probe and a step, as a duration', () => {
    expect(checkFunctionProblem(parseCheck('rpo(orders, disaster) < 5s'))).to.equal(undefined);
    expect(checkFunctionProblem(parseCheck('rpo(orders) < 5s'))).to.equal('rpo needs a target written as a consistency probe and the drill step that is the disaster, like orders, disaster; "orders" is not');
    expect(checkFunctionProblem(parseCheck('rpo(orders, disaster) < 5'))).to.match(/^rpo compares a time: write the threshold as a duration/);
  });

  it('in an experiment, names a declared consistency probe and step, and is judged among the SLOs', () => {
    let message = '';
    try {
      loadExperimentText(`apiVersion: gameday/v1
kind: Experiment
metadata: { name: drill }
spec:
  duration: 10s
  steadyState: { checks: [ "rpo(orders, disaster) < 5s" ] }
  probes:
    web: { http: { url: "http://localhost/" } }
  steps:
    - { at: 1s, name: disaster, delete: { kind: Pod, namespace: shop, name: db-0 } }
  slos:
    - rpo(web, disaster) < 5s
    - rpo(orders, later) < 5s
`, 'drill.yaml', builtinRegistries());
    } catch (err) {
      expect(err).to.be.instanceOf(SpecError);
      message = (err as Error).message;
    }
    expect(message).to.match(/spec\.steadyState\.checks\[0\]: rpo\(orders, disaster\) is known only once the probe verified its writes after recovery: check it under spec\.slos/);
    expect(message).to.match(/spec\.slos\[0\]: rpo\(\) reads the writes of a consistency probe; "web" is a http probe/);
    expect(message).to.match(/spec\.slos\[1\]: rpo\(\) names the probe "orders", which is not declared/);
    expect(message).to.match(/spec\.slos\[1\]: rpo\(\) names the step "later", which no step is called; the steps are disaster/);
  });
});
