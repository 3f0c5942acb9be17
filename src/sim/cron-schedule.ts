/**
 * A CronJob's `schedule`, parsed and stepped as the controller's robfig/cron `ParseStandard` does:
 * five fields (minute hour day-of-month month day-of-week) with `*`, `?`, lists, ranges, steps and
 * month/day names, or a descriptor (`@hourly`, `@daily`, `@every 5m`, …). Times are matched on the
 * wall clock of `timeZone` (UTC when unset, as for a kube-controller-manager running in UTC).
 */
export class CronScheduleError extends Error {}

interface Field {
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const MINUTE: Field = { min: 0, max: 59 };
const HOUR: Field = { min: 0, max: 23 };
const DOM: Field = { min: 1, max: 31 };
const MONTH: Field = { min: 1, max: 12, names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] };
const DOW: Field = { min: 0, max: 6, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] };

const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const MINUTE_MS = 60_000;

interface Parsed {
  readonly values: ReadonlySet<number>;
  readonly star: boolean;
}

function parseNumber(text: string, field: Field): number {
  const named = field.names?.indexOf(text.toLowerCase()) ?? -1;
  if (named >= 0) return named + field.min;
  if (!/^\d+$/.test(text)) throw new CronScheduleError(`failed to parse int from ${text}: strconv.Atoi: parsing "${text}": invalid syntax`);
  return Number(text);
}

function parseRange(expr: string, field: Field, values: Set<number>): boolean {
  const [range = '', step, extra] = expr.split('/');
  if (extra !== undefined) throw new CronScheduleError(`too many slashes: ${expr}`);
  let start: number;
  let end: number;
  const star = range === '*' || range === '?';
  if (star) {
    start = field.min;
    end = field.max;
  } else {
    const [a = '', b, more] = range.split('-');
    if (more !== undefined) throw new CronScheduleError(`too many hyphens: ${expr}`);
    start = parseNumber(a, field);
    end = b === undefined ? start : parseNumber(b, field);
  }
  let every = 1;
  if (step !== undefined) {
    every = parseNumber(step, { min: 0, max: 0 });
    if (every <= 0) throw new CronScheduleError(`step of range should be a positive number: ${expr}`);
    // `N/step` means N through the field's end, as robfig/cron reads it.
    if (!star && !range.includes('-')) end = field.max;
  }
  if (start < field.min) throw new CronScheduleError(`beginning of range (${start}) below minimum (${field.min}): ${expr}`);
  if (end > field.max) throw new CronScheduleError(`end of range (${end}) above maximum (${field.max}): ${expr}`);
  if (start > end) throw new CronScheduleError(`beginning of range (${start}) beyond end of range (${end}): ${expr}`);
  for (let v = start; v <= end; v += every) values.add(v);
  return star && every === 1;
}

function parseField(text: string, field: Field): Parsed {
  const values = new Set<number>();
  let star = false;
  for (const part of text.split(',')) star = parseRange(part, field, values) || star;
  return { values, star };
}

/** Offset of `timeZone` from UTC at `instant`, in ms; throws RangeError for an unknown zone. */
function zoneOffset(timeZone: string, instant: number): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' }).formatToParts(instant);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return wall - Math.floor(instant / 1000) * 1000;
}

export function isKnownTimeZone(timeZone: string): boolean {
  try {
    zoneOffset(timeZone, 0);
    return true;
  } catch {
    return false;
  }
}

export class CronSchedule {
  private constructor(
    private readonly minute: Parsed,
    private readonly hour: Parsed,
    private readonly dom: Parsed,
    private readonly month: Parsed,
    private readonly dow: Parsed,
    private readonly everyMs: number | undefined,
    private readonly timeZone: string | undefined,
  ) {}

  static parse(schedule: string, timeZone?: string): CronSchedule {
    const spec = schedule.trim();
    const every = /^@every\s+(.+)$/.exec(spec);
    if (every) {
      const ms = parseGoDuration(every[1]!);
      return new CronSchedule(parseField('*', MINUTE), parseField('*', HOUR), parseField('*', DOM), parseField('*', MONTH), parseField('*', DOW), Math.max(ms, 1000), timeZone);
    }
    if (spec.startsWith('@') && !DESCRIPTORS[spec]) throw new CronScheduleError(`unrecognized descriptor: ${spec}`);
    const fields = (DESCRIPTORS[spec] ?? spec).split(/\s+/).filter(Boolean);
    if (fields.length !== 5) throw new CronScheduleError(`expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`);
    const [mi, h, dom, mo, dow] = fields as [string, string, string, string, string];
    return new CronSchedule(parseField(mi, MINUTE), parseField(h, HOUR), parseField(dom, DOM), parseField(mo, MONTH), parseField(dow, DOW), undefined, timeZone);
  }

  /** The first activation strictly after `after` (ms since the epoch), or undefined within five years. */
  next(after: number): number | undefined {
    if (this.everyMs !== undefined) return Math.floor(after / 1000) * 1000 + this.everyMs;
    const offset = this.timeZone ? zoneOffset(this.timeZone, after) : 0;
    const wall = this.nextWall(after + offset);
    if (wall === undefined) return undefined;
    // Convert back with the offset in force at the activation (across a DST change it differs).
    return this.timeZone ? wall - zoneOffset(this.timeZone, wall - offset) : wall;
  }

  /** robfig/cron's `SpecSchedule.Next`, on wall-clock time held in a UTC Date. */
  private nextWall(afterWall: number): number | undefined {
    const t = new Date(Math.floor(afterWall / MINUTE_MS) * MINUTE_MS + MINUTE_MS);
    const yearLimit = t.getUTCFullYear() + 5;
    wrap: for (;;) {
      if (t.getUTCFullYear() > yearLimit) return undefined;
      while (!this.month.values.has(t.getUTCMonth() + 1)) {
        t.setUTCMonth(t.getUTCMonth() + 1, 1);
        t.setUTCHours(0, 0, 0, 0);
        if (t.getUTCMonth() === 0) continue wrap;
      }
      while (!this.dayMatches(t)) {
        t.setUTCDate(t.getUTCDate() + 1);
        t.setUTCHours(0, 0, 0, 0);
        if (t.getUTCDate() === 1) continue wrap;
      }
      while (!this.hour.values.has(t.getUTCHours())) {
        t.setUTCHours(t.getUTCHours() + 1, 0, 0, 0);
        if (t.getUTCHours() === 0) continue wrap;
      }
      while (!this.minute.values.has(t.getUTCMinutes())) {
        t.setUTCMinutes(t.getUTCMinutes() + 1, 0, 0);
        if (t.getUTCMinutes() === 0) continue wrap;
      }
      return t.getTime();
    }
  }

  /** Day-of-month and day-of-week: both must match when either is `*`, otherwise either may. */
  private dayMatches(t: Date): boolean {
    const dom = this.dom.values.has(t.getUTCDate());
    const dow = this.dow.values.has(t.getUTCDay());
    return this.dom.star || this.dow.star ? dom && dow : dom || dow;
  }
}

function parseGoDuration(text: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, m: MINUTE_MS, h: 60 * MINUTE_MS };
  let ms = 0;
  let rest = text.trim();
  if (!rest) throw new CronScheduleError(`failed to parse duration @every ${text}: time: invalid duration ""`);
  while (rest) {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)/.exec(rest);
    if (!m) throw new CronScheduleError(`failed to parse duration @every ${text}: time: invalid duration "${text}"`);
    ms += Number(m[1]) * units[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return ms;
}
