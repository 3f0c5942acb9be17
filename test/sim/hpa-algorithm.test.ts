import { expect } from 'chai';
import { MetricError, plainMetricReplicas, resourceUtilizationReplicas, ScaleHistory, type PodMetric, type PodState } from '../../src/sim/controllers/hpa-algorithm.js';

const NOW = 1_000_000_000;
const timings = { cpuInitializationPeriodMs: 300_000, delayOfInitialReadinessStatusMs: 30_000 };

function running(name: string, opts: { ready?: boolean; startedAgoMs?: number; readySinceAgoMs?: number } = {}): PodState {
  const started = NOW - (opts.startedAgoMs ?? 600_000);
  return { name, phase: 'Running', deleting: false, startTime: started, ready: { status: opts.ready ?? true, lastTransitionTime: NOW - (opts.readySinceAgoMs ?? 500_000) } };
}

function metrics(values: Record<string, number>): Map<string, PodMetric> {
  return new Map(Object.entries(values).map(([pod, value]) => [pod, { value, timestamp: NOW, windowMs: 15_000 }]));
}

describe('HPA replica calculation (replica_calculator.go)', () => {
  const base = { now: NOW, timings };

  it('scales by ceil(current × metric / target) over the ready pods', () => {
    const pods = [running('a'), running('b')];
    const p = plainMetricReplicas({ ...base, currentReplicas: 2, pods, metrics: metrics({ a: 20_000, b: 20_000 }), target: 5_000 });
    expect(p).to.deep.equal({ replicas: 8, utilization: 20_000 });
  });

  it('keeps the current count within the 10% tolerance', () => {
    const pods = [running('a'), running('b')];
    expect(plainMetricReplicas({ ...base, currentReplicas: 2, pods, metrics: metrics({ a: 5_400, b: 5_400 }), target: 5_000 }).replicas).to.equal(2);
    expect(plainMetricReplicas({ ...base, currentReplicas: 2, pods, metrics: metrics({ a: 5_600, b: 5_600 }), target: 5_000 }).replicas).to.equal(3);
  });

  it('counts pods without metrics at 0 when scaling up and at the target when scaling down', () => {
    const pods = [running('a'), running('b'), running('c')];
    // Up: (10 + 10 + 0) / 3 = 6.666 (truncated to 6666m) → ratio 1.3332 → ceil(3.9996) = 4.
    expect(plainMetricReplicas({ ...base, currentReplicas: 3, pods, metrics: metrics({ a: 10_000, b: 10_000 }), target: 5_000 }).replicas).to.equal(4);
    // Down: (1 + 1 + 5) / 3 = 2.333 → ratio 0.4666 → ceil(1.3998) = 2.
    expect(plainMetricReplicas({ ...base, currentReplicas: 3, pods, metrics: metrics({ a: 1_000, b: 1_000 }), target: 5_000 }).replicas).to.equal(2);
  });

  it('ignores pending pods, and keeps the count when the missing pods would reverse the direction', () => {
    const pods = [running('a'), running('b'), { name: 'p', phase: 'Pending', deleting: false }];
    // a and b at 6/s against 5/s: ratio 1.2 would give ceil(2.4) = 3; the pending pod rebalanced at 0 gives 12/3 = 4, ratio 0.8: the direction reverses, so the count stays.
    expect(plainMetricReplicas({ ...base, currentReplicas: 4, pods, metrics: metrics({ a: 6_000, b: 6_000 }), target: 5_000 }).replicas).to.equal(4);
  });

  it('leaves out an unready pod’s CPU while scaling up, then counts it at 0', () => {
    const pods = [running('a'), running('b'), running('c', { ready: false, startedAgoMs: 20_000, readySinceAgoMs: 20_000 })];
    const requests = new Map([['a', 200], ['b', 200], ['c', 200]]);
    // Ready pods: 800m of 400m requested = 200% against 50% → up; with c at 0: 800/600 = 133% → ratio 2.66 → ceil(7.98) = 8.
    const p = resourceUtilizationReplicas({ ...base, currentReplicas: 3, pods, metrics: metrics({ a: 400, b: 400, c: 400 }), targetPercent: 50, resource: 'cpu', requests });
    expect(p).to.deep.equal({ replicas: 8, utilization: 200, rawUtilization: 400 });
  });

  it('fails as the real controller does with no pods or no ready pods with metrics', () => {
    expect(() => plainMetricReplicas({ ...base, currentReplicas: 2, pods: [], metrics: metrics({}), target: 1 })).to.throw(MetricError, 'no pods returned by selector while calculating replica count');
    expect(() => plainMetricReplicas({ ...base, currentReplicas: 2, pods: [running('a')], metrics: metrics({}), target: 1 })).to.throw(MetricError, 'did not receive metrics for any ready pods');
  });
});

describe('HPA normalization (horizontal.go)', () => {
  it('without a behavior: scales up at most to max(2 × current, 4), and holds a scale-down for the stabilization window', () => {
    const h = new ScaleHistory();
    h.recordInitial(2, 0);
    const up = h.normalize(2, 10, 2, 10, 300_000, 0);
    expect(up.replicas).to.equal(4);
    expect(up.scalingLimited).to.deep.equal({ status: 'True', reason: 'ScaleUpLimit', message: 'the desired replica count is increasing faster than the maximum scale rate' });
    expect(h.normalize(4, 10, 2, 10, 300_000, 15_000).replicas).to.equal(8);
    const held = h.normalize(8, 2, 2, 10, 300_000, 30_000);
    expect(held.replicas).to.equal(10);
    expect(held.ableToScale.reason).to.equal('ScaleDownStabilized');
    // Once every higher recommendation is older than the window, the scale-down goes through.
    expect(h.normalize(8, 2, 2, 10, 300_000, 331_000).replicas).to.equal(2);
  });

  it('clamps to min and max with their reasons', () => {
    const h = new ScaleHistory();
    h.recordInitial(3, 0);
    expect(h.normalize(3, 1, 2, 10, 0, 1).scalingLimited.reason).to.equal('TooFewReplicas');
    expect(h.normalize(3, 6, 2, 5, 0, 2)).to.deep.include({ replicas: 5 });
    expect(h.normalize(3, 6, 2, 5, 0, 2).scalingLimited.reason).to.equal('TooManyReplicas');
  });

  it('with the default behavior: adds at most max(4 pods, 100%) per 15 s, counting what this period already added', () => {
    const behavior = { scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max' as const, policies: [{ type: 'Pods' as const, value: 4, periodSeconds: 15 }, { type: 'Percent' as const, value: 100, periodSeconds: 15 }] }, scaleDown: { selectPolicy: 'Max' as const, policies: [{ type: 'Percent' as const, value: 100, periodSeconds: 15 }] } };
    const h = new ScaleHistory();
    h.recordInitial(2, 0);
    const first = h.normalizeWithBehavior(behavior, 2, 20, 1, 20, 300_000, 0);
    expect(first.replicas).to.equal(6);
    expect(first.scalingLimited.reason).to.equal('ScaleUpLimit');
    h.recordScale(behavior, 2, 6, 0);
    expect(h.normalizeWithBehavior(behavior, 6, 20, 1, 20, 300_000, 5_000).replicas).to.equal(6);
    expect(h.normalizeWithBehavior(behavior, 6, 20, 1, 20, 300_000, 16_000).replicas).to.equal(12);
  });

  it('with a scale-down window: keeps the highest recommendation of the window, then drops to it', () => {
    const behavior = { scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: 'Percent' as const, value: 900, periodSeconds: 15 }] }, scaleDown: { stabilizationWindowSeconds: 3, policies: [{ type: 'Pods' as const, value: 2, periodSeconds: 1 }] } };
    const h = new ScaleHistory();
    h.recordInitial(8, 0);
    const held = h.normalizeWithBehavior(behavior, 8, 2, 2, 10, 300_000, 1_000);
    expect(held).to.deep.include({ replicas: 8 });
    expect(held.ableToScale.reason).to.equal('ScaleDownStabilized');
    // After the window, at most 2 pods go per second.
    const down = h.normalizeWithBehavior(behavior, 8, 2, 2, 10, 300_000, 4_500);
    expect(down.replicas).to.equal(6);
    expect(down.scalingLimited.reason).to.equal('ScaleDownLimit');
  });
});
