import { expect } from 'chai';
import { httpProbe } from '../../src/probes/http.js';
import { LoadShape, parseLoadStep } from '../../src/probes/shared/load-shape.js';

describe('load shapes', () => {
  it('reads each step form: a rate, a rate held, a ramp and a hold', () => {
    expect(parseLoadStep('20/s')).to.deep.equal({ kind: 'rate', perSecond: 20 });
    expect(parseLoadStep('120/m for 30s')).to.deep.equal({ kind: 'rate', perSecond: 2, forMs: 30_000 });
    expect(parseLoadStep('ramp 400/s over 1m')).to.deep.equal({ kind: 'ramp', perSecond: 400, overMs: 60_000 });
    expect(parseLoadStep('hold 2m')).to.deep.equal({ kind: 'hold', forMs: 120_000 });
    expect(parseLoadStep('ramp 400/s')).to.equal(undefined);
  });

  it('spaces a constant rate evenly: arrival i at i/rate', () => {
    const shape = LoadShape.constant(50);
    expect([0, 1, 2, 1000].map((i) => shape.arrivalOffsetMs(i))).to.deep.equal([0, 20, 40, 20_000]);
  });

  it('places arrivals where the rate integrates to them, through steps and ramps, and holds the last rate', () => {
    // [20/s, ramp 400/s over 60s, hold 2m, 20/s]: 1,260 arrivals in the ramp, 48,000 in the hold.
    const shape = new LoadShape([parseLoadStep('20/s')!, parseLoadStep('ramp 400/s over 60s')!, parseLoadStep('hold 2m')!, parseLoadStep('20/s')!]);
    expect(shape.peakPerSecond).to.equal(400);
    // In the ramp the rate is 20/s + 380/s per minute: the first arrival is where 0.02τ + 0.38τ²/120000 = 1.
    const first = shape.arrivalOffsetMs(1);
    expect(0.02 * first + (0.38 * first * first) / 120_000).to.be.closeTo(1, 1e-9);
    expect(shape.arrivalOffsetMs(12_600)).to.be.closeTo(60_000, 1e-6);
    expect(shape.arrivalOffsetMs(12_600 + 48_000)).to.be.closeTo(180_000, 1e-6);
    expect(shape.arrivalOffsetMs(12_600 + 48_000 + 20)).to.be.closeTo(181_000, 1e-6);
    expect(shape.rateAt(30_000)).to.equal(210);
    expect(shape.rateAt(100_000)).to.equal(400);
    expect(shape.rateAt(200_000)).to.equal(20);
  });

  it('ends when the shape ends at 0/s', () => {
    const shape = new LoadShape([parseLoadStep('10/s for 1s')!, parseLoadStep('0/s')!]);
    expect(shape.arrivalOffsetMs(9)).to.be.closeTo(900, 1e-6);
    expect(shape.arrivalOffsetMs(10)).to.equal(Infinity);
  });

  it('refuses a step it cannot read, saying how to write one', () => {
    const result = httpProbe.params.safeParse({ url: 'http://localhost/', rate: ['20/s', 'ramp to 400'] });
    expect(result.success).to.equal(false);
    expect(result.error!.issues[0]!.message).to.equal('"ramp to 400" is not a load step; write each step as a rate (20/s), a rate held for a while (20/s for 30s), a ramp (ramp 400/s over 60s) or a hold (hold 2m)');
    expect(httpProbe.params.safeParse({ url: 'http://localhost/', rate: ['0/s'] }).success).to.equal(false);
  });
});
