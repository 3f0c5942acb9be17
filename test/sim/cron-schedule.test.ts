import { expect } from 'chai';
import { CronSchedule } from '../../src/sim/cron-schedule.js';

/** The CronJob controller's schedule stepping, checked against times robfig/cron gives. */
describe('CronSchedule', () => {
  const next = (schedule: string, after: string, timeZone?: string) => new Date(CronSchedule.parse(schedule, timeZone).next(Date.parse(after))!).toISOString();

  it('steps ranges, lists, steps and names', () => {
    expect(next('*/15 * * * *', '2026-03-01T10:07:30Z')).to.equal('2026-03-01T10:15:00.000Z');
    expect(next('0 9-17/4 * * mon-fri', '2026-03-06T17:00:00Z')).to.equal('2026-03-09T09:00:00.000Z');
    expect(next('30 2 * feb,dec *', '2026-03-01T00:00:00Z')).to.equal('2026-12-01T02:30:00.000Z');
    expect(next('@hourly', '2026-03-01T10:00:00Z')).to.equal('2026-03-01T11:00:00.000Z');
    expect(next('@every 90s', '2026-03-01T10:00:00Z')).to.equal('2026-03-01T10:01:30.000Z');
  });

  it('matches day-of-month or day-of-week when both are restricted, both when one is *', () => {
    // 1 March 2026 is a Sunday; the 13th a Friday.
    expect(next('0 0 13 * 5', '2026-03-02T00:00:00Z')).to.equal('2026-03-06T00:00:00.000Z');
    expect(next('0 0 13 * *', '2026-03-02T00:00:00Z')).to.equal('2026-03-13T00:00:00.000Z');
    expect(next('0 0 31 * *', '2026-04-01T00:00:00Z')).to.equal('2026-05-31T00:00:00.000Z');
  });

  it('reads the schedule on the wall clock of timeZone', () => {
    expect(next('0 9 * * *', '2026-07-01T00:00:00Z', 'Europe/Berlin')).to.equal('2026-07-01T07:00:00.000Z');
    expect(next('0 9 * * *', '2026-01-01T00:00:00Z', 'Europe/Berlin')).to.equal('2026-01-01T08:00:00.000Z');
  });

  it("refuses what robfig/cron's ParseStandard refuses, with its messages", () => {
    const error = (s: string) => (() => CronSchedule.parse(s));
    expect(error('* * *')).to.throw('expected exactly 5 fields, found 3: [* * *]');
    expect(error('0 24 * * *')).to.throw('end of range (24) above maximum (23): 24');
    expect(error('5-1 * * * *')).to.throw('beginning of range (5) beyond end of range (1): 5-1');
    expect(error('*/0 * * * *')).to.throw('step of range should be a positive number: */0');
    expect(error('@fortnightly')).to.throw('unrecognized descriptor: @fortnightly');
  });
});
