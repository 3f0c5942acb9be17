import type { CheckEvidence, Verdict } from '../journal/events.js';
import type { Sample } from '../core/sample.js';
import { consistencyOp, LOST, recordKey } from '../core/consistency-sample.js';
import { callText, type CheckExpr, type Comparator, type ThresholdUnit } from './ast.js';
import { CHECK_FUNCTIONS, implicitProbeName, PROBE_AND_STEP, type CountedSamples } from './functions.js';
import { evaluateRestored } from './restored.js';
import type { SampleSource } from './sample-index.js';

/** What one evaluation of a check found; the engine journals it as a `check` event. */
export interface CheckOutcome {
  readonly verdict: Verdict;
  /** The measured value, in the check's unit (a ratio for availability, ms for latencies). */
  readonly value?: number;
  readonly message: string;
  readonly evidence: CheckEvidence;
}

/**
 * `latest`: is it true now? With `over W` the window is `[to − W, to]` (steady state, abort).
 * `worst-window`: did it stay true all along? With `over W`, W slides over the range and the
 * worst window decides (SLOs).
 */
export type EvaluationMode = 'latest' | 'worst-window';

export interface EvaluationRange {
  readonly from: number;
  readonly to: number;
}

/** How a function turns a window of samples into one number. */
type Measure = 'availability' | 'errors' | 'rate' | 'latency' | 'gauge' | 'peak' | 'count';

interface FunctionKind {
  readonly measure: Measure;
  /** Percentile for `latency`; 100 is the maximum. */
  readonly percentile?: number;
  readonly unit: ThresholdUnit;
  /** For `count`: which samples it counts. */
  readonly counts?: CountedSamples;
  /** For `latency`: the number each sample gives (its latency, or a series' value). */
  readonly pick: (s: Sample) => number | undefined;
}

const PROBE_MEASURES: Readonly<Record<string, Pick<FunctionKind, 'measure' | 'percentile'>>> = {
  availability: { measure: 'availability' },
  errors: { measure: 'errors' },
  rate: { measure: 'rate' },
  p50: { measure: 'latency', percentile: 50 },
  p90: { measure: 'latency', percentile: 90 },
  p95: { measure: 'latency', percentile: 95 },
  p99: { measure: 'latency', percentile: 99 },
  max: { measure: 'latency', percentile: 100 },
  // A query's answer holds until the next one, like a watched state's: the same reading of a window.
  prom: { measure: 'gauge' },
};

const latencyOf = (s: Sample): number | undefined => s.latencyMs;
const valueOf = (s: Sample): number | undefined => s.value;
/** One field of a sample that measures several things (`detail.fields.secrets`). */
const fieldOf = (s: Sample, field: string): number | undefined => {
  const v = (s.detail?.fields as Record<string, unknown> | undefined)?.[field];
  return typeof v === 'number' ? v : undefined;
};

function kindOf(expr: CheckExpr): FunctionKind | undefined {
  const info = CHECK_FUNCTIONS.get(expr.fn);
  if (!info) return undefined;
  // Target functions read a watch-based probe that emits on every change: its last sample is
  // the state until the next one, so a window also sees the sample just before it.
  if (info.arg === 'target') {
    const field = expr.op === 'holds' ? undefined : expr.field;
    return { measure: info.reads === 'peak' ? 'peak' : 'gauge', unit: info.unit, pick: field === undefined ? valueOf : (s) => fieldOf(s, field) };
  }
  if (info.counts) return { measure: 'count', unit: info.unit, counts: info.counts, pick: valueOf };
  const m = PROBE_MEASURES[expr.fn];
  if (!m) return undefined;
  const series = expr.op === 'holds' || expr.series === undefined ? undefined : CHECK_FUNCTIONS.get(expr.series)?.seriesOp;
  if (expr.op !== 'holds' && expr.series !== undefined && !series) return undefined;
  return { ...m, unit: info.unit, pick: series ? (s) => (consistencyOp(s) === series ? s.value : undefined) : m.measure === 'gauge' ? valueOf : latencyOf };
}

/** The probe whose samples a check reads: the named probe, or the implicit `pdb(shop/web)`. */
export function probeNameFor(fn: string, arg: string): string {
  return CHECK_FUNCTIONS.get(fn)?.arg === 'target' ? implicitProbeName(fn, arg) : arg;
}

/** A window never gets more candidate positions than this, so a long run stays cheap to judge. */
const MAX_WINDOWS = 2000;
const WORST_SAMPLES = 5;

export function evaluateCheck(expr: CheckExpr, samples: SampleSource, range: EvaluationRange, mode: EvaluationMode): CheckOutcome {
  if (expr.fn === 'rpo') return evaluateRecoveryPoint(expr, samples, range);
  if (expr.fn === 'restored') return evaluateRestored(expr, samples, range);
  const kind = kindOf(expr);
  if (!kind) {
    return {
      verdict: 'no-data',
      message: `${expr.text}: gameday cannot evaluate the function ${expr.fn}()`,
      evidence: { from: range.from, to: range.to, samples: 0 },
    };
  }
  const ctx: Context = { expr, kind, source: samples, probe: probeNameFor(expr.fn, expr.arg), origin: range.from };
  const window = expr.window?.ms;
  if (mode === 'latest' && window !== undefined && range.to - range.from < window) {
    // "over 20s" asks for 20 s of evidence: a steady state is not shown by the first few samples.
    return {
      verdict: 'no-data',
      message: `${expr.text}: waiting for a full ${expr.window} of samples (${((range.to - range.from) / 1000).toFixed(1)}s so far)`,
      evidence: { from: range.from, to: range.to, samples: 0 },
    };
  }
  return expr.op === 'holds' ? evaluateHolds(ctx, range, mode) : evaluateComparison(ctx, range, mode);
}

const LOST_KEYS_NAMED = 5;

/**
 * `rpo(p, step)`, the recovery point a drill achieved, as operators mean RPO: how far back in time
 * the data went. The disaster is the moment `step` started (the engine marks it with a sample under
 * the check's implicit name). Among the acknowledged writes of consistency probe `p` sent before
 * it, the oldest that did not read back after recovery marks where the loss begins: RPO is the time
 * from that write to the disaster; 0 when every one read back. Writes sent after the disaster are
 * the restored service's own (lostWrites counts them). It needs the probe's verification, which
 * comes when the probe stops: before that, and when the step never started, there is no data.
 */
function evaluateRecoveryPoint(expr: CheckExpr, source: SampleSource, range: EvaluationRange): CheckOutcome {
  if (expr.op === 'holds') throw new Error('unreachable: rpo is a comparison');
  const [, probe, step] = PROBE_AND_STEP.exec(expr.arg) ?? [];
  const origin = range.from;
  const at = (t: number): string => `${t < origin ? '-' : '+'}${(Math.abs(t - origin) / 1000).toFixed(1)}s`;
  const marker = source.samples(implicitProbeName('rpo', expr.arg))[0];
  if (!probe || !step || !marker) {
    return { verdict: 'no-data', message: `${expr.text}: step ${step ?? '?'} never started, so there is no disaster to measure the recovery point from`, evidence: { from: range.from, to: range.to, samples: 0 } };
  }
  const disaster = marker.t;
  const before = source.samples(probe).filter((s) => consistencyOp(s) === 'verify' && s.t < disaster);
  if (before.length === 0) {
    return {
      verdict: 'no-data',
      message: `${expr.text}: no write of probe "${probe}" sent before ${step} (${at(disaster)}) was verified after recovery (a consistency probe verifies when it stops)`,
      evidence: { from: range.from, to: disaster, samples: 0 },
    };
  }
  const lost = before.filter((s) => s.error === LOST);
  const kept = before.filter((s) => s.error !== LOST);
  const oldestLost = lost.reduce<Sample | undefined>((o, s) => (!o || s.t < o.t ? s : o), undefined);
  const newestKept = kept.reduce<Sample | undefined>((n, s) => (!n || s.t > n.t ? s : n), undefined);
  const value = oldestLost ? disaster - oldestLost.t : 0;
  const passed = compare(value, expr.op, expr.threshold.value);
  const worst = [...lost].sort((a, b) => a.t - b.t).slice(0, WORST_SAMPLES);
  const keys = lost.map((s) => recordKey(s) ?? '?').sort();
  const lostText = oldestLost
    ? `; ${plural(lost.length, 'acknowledged write')} sent before it lost, the oldest sent at ${at(oldestLost.t)} (${keys.slice(0, LOST_KEYS_NAMED).join(', ')}${keys.length > LOST_KEYS_NAMED ? ', …' : ''})`
    : '; none lost';
  const kept_ = newestKept ? `, the newest that read back sent at ${at(newestKept.t)}` : ', none read back';
  return {
    verdict: passed ? 'passed' : 'failed',
    value,
    message: `${callText(expr)} = ${formatMs(value)} (need ${expr.op} ${expr.threshold.text}): disaster ${step} at ${at(disaster)}; ${plural(before.length, 'acknowledged write')} of ${probe} sent before it${lostText}${kept_}`,
    evidence: { from: oldestLost?.t ?? disaster, to: disaster, samples: before.length, ...(worst.length > 0 ? { worst, firstViolationAt: oldestLost!.t } : {}) },
  };
}

interface Context {
  readonly expr: CheckExpr;
  readonly kind: FunctionKind;
  readonly source: SampleSource;
  readonly probe: string;
  /** Times in messages are written relative to this: `first at +42.1s`. */
  readonly origin: number;
}

interface Window {
  readonly from: number;
  readonly to: number;
  /** Index range of the samples inside the window, `[start, end)`. */
  readonly start: number;
  readonly end: number;
}

function windowOf(ctx: Context, from: number, to: number): Window {
  let start = ctx.source.lowerBound(ctx.probe, from);
  const end = ctx.source.upperBound(ctx.probe, to);
  if ((ctx.kind.measure === 'gauge' || ctx.kind.measure === 'peak') && start > 0 && (start === end || ctx.source.samples(ctx.probe)[start]!.t > from)) start--;
  return { from, to, start, end };
}

/** The windows a check is judged over, per mode (see EvaluationMode). */
function windowsFor(ctx: Context, range: EvaluationRange, mode: EvaluationMode): Window[] {
  const w = ctx.expr.window?.ms;
  if (mode === 'latest') {
    if (w !== undefined) return [windowOf(ctx, range.to - w, range.to)];
    if (ctx.kind.measure === 'gauge') {
      // No window on a state: what it is now, i.e. its last reading.
      const end = ctx.source.upperBound(ctx.probe, range.to);
      const at = end > 0 ? ctx.source.samples(ctx.probe)[end - 1]!.t : range.from;
      return [{ from: at, to: range.to, start: Math.max(0, end - 1), end }];
    }
    return [windowOf(ctx, range.from, range.to)];
  }
  if (w === undefined || range.to - range.from <= w) return [windowOf(ctx, range.from, range.to)];
  const span = range.to - range.from - w;
  const step = Math.max(w / 10, span / MAX_WINDOWS, 1);
  const out: Window[] = [];
  for (let start = range.from; ; start += step) {
    const from = Math.min(start, range.to - w);
    out.push(windowOf(ctx, from, from + w));
    if (from >= range.to - w) break;
  }
  return out;
}

function evaluateHolds(ctx: Context, range: EvaluationRange, mode: EvaluationMode): CheckOutcome {
  // Sliding a window changes nothing for "never violated": an SLO judges the whole range at once.
  const win = mode === 'worst-window' ? windowOf(ctx, range.from, range.to) : windowsFor(ctx, range, 'latest')[0]!;
  const list = ctx.source.samples(ctx.probe);
  const count = win.end - win.start;
  if (count <= 0) return noData(ctx, win);
  const violations: Sample[] = [];
  let failed = 0;
  for (let i = win.start; i < win.end; i++) {
    const s = list[i]!;
    if (s.ok) continue;
    failed++;
    if (violations.length < WORST_SAMPLES) violations.push(s);
  }
  const first = violations[0];
  const evidence: CheckEvidence = {
    from: win.from,
    to: win.to,
    samples: count,
    ...(first ? { worst: violations, firstViolationAt: first.t } : {}),
  };
  if (!first) return { verdict: 'passed', value: 0, message: `${ctx.expr.text}: no violation in ${plural(count, 'sample')}`, evidence };
  const why = first.error ? ` (${first.error})` : '';
  return {
    verdict: 'failed',
    value: failed,
    message: `${ctx.expr.text} did not hold: ${plural(failed, 'violation')} in ${plural(count, 'sample')}, first at ${relative(ctx, first.t)}${why}`,
    evidence,
  };
}

interface Measurement {
  readonly window: Window;
  readonly value: number;
}

function evaluateComparison(ctx: Context, range: EvaluationRange, mode: EvaluationMode): CheckOutcome {
  const expr = ctx.expr;
  if (expr.op === 'holds') throw new Error('unreachable: holds is evaluated by evaluateHolds');
  const windows = windowsFor(ctx, range, mode);
  let worst: Measurement | undefined;
  for (const window of windows) {
    const value = measure(ctx, window);
    if (value === undefined) continue;
    if (!worst || worse(expr.op, expr.threshold.value, value, worst.value)) worst = { window, value };
  }
  if (!worst) {
    const last = windows[windows.length - 1]!;
    const whole = windows.length === 1 ? windows[0]! : { ...windows[0]!, to: last.to, end: last.end };
    return noData(ctx, whole);
  }
  const passed = compare(worst.value, expr.op, expr.threshold.value);
  const win = worst.window;
  const found = violations(ctx, win);
  const evidence: CheckEvidence = {
    from: win.from,
    to: win.to,
    samples: win.end - win.start,
    ...(found.worst.length > 0 ? { worst: found.worst } : {}),
    ...(found.first !== undefined ? { firstViolationAt: found.first } : {}),
    ...(windows.length > 1 ? { note: `worst ${expr.window} window of the run` } : {}),
  };
  const shown = formatValue(ctx, worst.value);
  const where = windows.length > 1 ? ` in the worst ${expr.window} window, from ${relative(ctx, win.from)}` : '';
  const facts = describe(ctx, win, found);
  return {
    verdict: passed ? 'passed' : 'failed',
    value: worst.value,
    message: `${callText(expr)} = ${shown} (need ${expr.op} ${expr.threshold.text})${where}${facts}`,
    evidence,
  };
}

/** The function's value over a window; undefined when the window holds nothing to measure. */
function measure(ctx: Context, win: Window): number | undefined {
  const count = win.end - win.start;
  if (count <= 0) return undefined;
  switch (ctx.kind.measure) {
    case 'availability':
      return (count - ctx.source.failuresBetween(ctx.probe, win.start, win.end)) / count;
    case 'errors':
      return ctx.source.failuresBetween(ctx.probe, win.start, win.end);
    case 'rate': {
      const seconds = (win.to - win.from) / 1000;
      return seconds > 0 ? count / seconds : undefined;
    }
    case 'latency':
      return percentile(latencies(ctx, win), ctx.kind.percentile!);
    case 'count':
      return countOf(ctx, win);
    case 'peak': {
      let highest: number | undefined;
      for (const s of ctx.source.samples(ctx.probe).slice(win.start, win.end)) if (s.value !== undefined) highest = Math.max(highest ?? s.value, s.value);
      return highest;
    }
    case 'gauge': {
      const list = ctx.source.samples(ctx.probe);
      const op = ctx.expr.op as Comparator;
      let value: number | undefined;
      for (let i = win.start; i < win.end; i++) {
        const v = ctx.kind.pick(list[i]!);
        if (v !== undefined && (value === undefined || worse(op, thresholdOf(ctx), v, value))) value = v;
      }
      return value;
    }
  }
}

/** Counted samples in the window; undefined when the probe never observed what is counted. */
function countOf(ctx: Context, win: Window): number | undefined {
  const counts = ctx.kind.counts!;
  const list = ctx.source.samples(ctx.probe);
  if (counts.requires && !list.some((s) => consistencyOp(s) === counts.requires)) return undefined;
  let population = 0;
  let counted = 0;
  for (let i = win.start; i < win.end; i++) {
    const s = list[i]!;
    if (consistencyOp(s) !== counts.op) continue;
    population++;
    if (s.error === counts.error) counted++;
  }
  return population > 0 || counts.requires ? counted : undefined;
}

function isCounted(counts: CountedSamples, s: Sample): boolean {
  return s.error === counts.error && consistencyOp(s) === counts.op;
}

function thresholdOf(ctx: Context): number {
  return ctx.expr.op === 'holds' ? 0 : ctx.expr.threshold.value;
}

function latencies(ctx: Context, win: Window): Float64Array {
  const list = ctx.source.samples(ctx.probe);
  const out = new Float64Array(win.end - win.start);
  let n = 0;
  for (let i = win.start; i < win.end; i++) {
    const l = ctx.kind.pick(list[i]!);
    if (l !== undefined) out[n++] = l;
  }
  return out.subarray(0, n).sort();
}

/** Nearest-rank percentile of sorted values; undefined for none. */
function percentile(sorted: Float64Array, p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

interface Violations {
  readonly worst: Sample[];
  readonly first?: number;
  readonly failed: number;
}

/** The samples a person should look at first, and when things first went wrong. */
function violations(ctx: Context, win: Window): Violations {
  const list = ctx.source.samples(ctx.probe);
  const expr = ctx.expr;
  const op = expr.op as Comparator;
  let failed = 0;
  let first: number | undefined;
  const firstFailures: Sample[] = [];
  for (let i = win.start; i < win.end; i++) {
    const s = list[i]!;
    const bad = isViolation(ctx, s);
    if (!bad) continue;
    failed++;
    first ??= s.t;
    if (firstFailures.length < WORST_SAMPLES) firstFailures.push(s);
  }
  if (ctx.kind.measure === 'peak') {
    // The readings at the peak, the first first: where the workload got to, and since when.
    const values = list.slice(win.start, win.end).filter((s) => s.value !== undefined);
    const top = Math.max(...values.map((s) => s.value!));
    return { worst: values.filter((s) => s.value === top).slice(0, WORST_SAMPLES), failed };
  }
  if (ctx.kind.measure === 'latency' || ctx.kind.measure === 'gauge') {
    const pick = ctx.kind.pick;
    const ranked = list.slice(win.start, win.end).filter((s) => pick(s) !== undefined);
    ranked.sort((a, b) => (worse(ctx.kind.measure === 'latency' ? '<' : op, thresholdOf(ctx), pick(a)!, pick(b)!) ? -1 : 1));
    return { worst: ranked.slice(0, WORST_SAMPLES), ...(first !== undefined ? { first } : {}), failed };
  }
  return { worst: firstFailures, ...(first !== undefined ? { first } : {}), failed };
}

function isViolation(ctx: Context, s: Sample): boolean {
  const expr = ctx.expr;
  if (expr.op === 'holds') return !s.ok;
  switch (ctx.kind.measure) {
    case 'latency': {
      const v = ctx.kind.pick(s);
      return v !== undefined && !compare(v, expr.op, expr.threshold.value);
    }
    case 'count':
      return isCounted(ctx.kind.counts!, s);
    case 'gauge': {
      const v = ctx.kind.pick(s);
      return v !== undefined && !compare(v, expr.op, expr.threshold.value);
    }
    case 'peak':
    case 'rate':
      return false;
    default:
      return !s.ok;
  }
}

function describe(ctx: Context, win: Window, found: Violations): string {
  const count = win.end - win.start;
  const first = found.first !== undefined ? `, first at ${relative(ctx, found.first)}` : '';
  switch (ctx.kind.measure) {
    case 'availability':
    case 'errors':
      return found.failed === 0 ? ` over ${plural(count, 'request')}, none failed` : ` over ${plural(count, 'request')}; ${found.failed.toLocaleString('en-US')} failed${first}`;
    case 'rate':
      return ` (${plural(count, 'sample')} in ${seconds(win.to - win.from)})`;
    case 'latency': {
      const slowest = found.worst[0];
      const tail = slowest ? `; slowest ${formatMs(ctx.kind.pick(slowest)!)} at ${relative(ctx, slowest.t)}` : '';
      const series = ctx.expr.op !== 'holds' && ctx.expr.series !== undefined;
      return series ? ` over ${plural(ctx.source.samples(ctx.probe).slice(win.start, win.end).filter((s) => ctx.kind.pick(s) !== undefined).length, 'record')}${tail}` : ` over ${plural(count, 'request')}${tail}`;
    }
    case 'count':
      return describeCount(ctx, win, found);
    case 'peak':
      return describePeak(ctx, win, found);
    case 'gauge': {
      const worstSample = found.worst[0];
      // A reading that says what it saw (the open path of a reachable() check) says it here.
      const said = typeof worstSample?.detail?.message === 'string' ? `: ${worstSample.detail.message}` : '';
      return worstSample ? ` at ${relative(ctx, worstSample.t)} (${plural(count, 'reading')})${said}` : '';
    }
  }
}

/**
 * `, reached at +6.1s and held for 23.9s, to the end (4 readings)`: a peak held to the end of the
 * run is a ceiling (an autoscaler at its maxReplicas), one left early was a spike.
 */
function describePeak(ctx: Context, win: Window, found: Violations): string {
  const peak = found.worst[0];
  if (!peak) return '';
  const list = ctx.source.samples(ctx.probe);
  const after = list.slice(win.start, win.end).find((s) => s.t > peak.t && s.value !== undefined && s.value !== peak.value);
  const until = after ? after.t : win.to;
  const held = after ? `held for ${seconds(until - peak.t)}, until ${relative(ctx, until)}` : `held for ${seconds(until - peak.t)}, to the end`;
  return `, reached at ${relative(ctx, peak.t)} and ${held} (${plural(win.end - win.start, 'reading')})`;
}

const KEYS_NAMED = 20;

/** `over 31 acknowledged writes; lost: orders-…-000011, orders-…-000012, first at +3.1s` */
function describeCount(ctx: Context, win: Window, found: Violations): string {
  const counts = ctx.kind.counts!;
  const list = ctx.source.samples(ctx.probe);
  let population = 0;
  // A record read stale three times is named once, in the order it first went wrong.
  const keys = new Set<string>();
  for (let i = win.start; i < win.end; i++) {
    const s = list[i]!;
    if (consistencyOp(s) !== counts.op) continue;
    population++;
    if (s.error === counts.error) keys.add(recordKey(s) ?? '?');
  }
  const over = counts.requires ? '' : ` over ${plural(population, counts.among)}`;
  if (keys.size === 0) return `${over}, none ${counts.what}`;
  const named = [...keys].slice(0, KEYS_NAMED).join(', ') + (keys.size > KEYS_NAMED ? `, and ${plural(keys.size - KEYS_NAMED, 'more record')}` : '');
  return `${over}; ${counts.what}: ${named}, first at ${relative(ctx, found.first!)}`;
}

function noData(ctx: Context, win: { readonly from: number; readonly to: number; readonly start?: number; readonly end?: number }): CheckOutcome {
  const between = `between ${relative(ctx, win.from)} and ${relative(ctx, win.to)}`;
  const taken = win.start !== undefined && win.end !== undefined ? ctx.source.samples(ctx.probe).slice(win.start, win.end) : [];
  const failed = ctx.kind.counts ? undefined : taken.findLast((s) => s.error !== undefined);
  if (failed) {
    // Samples came, but none had a value to judge (a query that failed or found nothing): say why.
    const said = typeof failed.detail?.message === 'string' ? `: ${failed.detail.message}` : '';
    return {
      verdict: 'no-data',
      message: `${ctx.expr.text}: no value from probe "${ctx.probe}" ${between}; ${plural(taken.length, 'sample')}, the last failed with ${failed.error}${said}`,
      evidence: { from: win.from, to: win.to, samples: taken.length, worst: [failed] },
    };
  }
  const why = ctx.kind.counts ? ` (${ctx.kind.counts.missing})` : '';
  return {
    verdict: 'no-data',
    message: `${ctx.expr.text}: no samples from probe "${ctx.probe}" ${between}${why}`,
    evidence: { from: win.from, to: win.to, samples: 0 },
  };
}

const EPSILON = 1e-9;

/** Compares with a little tolerance, so 199/200 meets `>= 99.5%` whatever the rounding. */
export function compare(value: number, op: Comparator, threshold: number): boolean {
  const equal = Math.abs(value - threshold) <= EPSILON * Math.max(1, Math.abs(value), Math.abs(threshold));
  switch (op) {
    case '>=':
      return equal || value > threshold;
    case '>':
      return !equal && value > threshold;
    case '<=':
      return equal || value < threshold;
    case '<':
      return !equal && value < threshold;
    case '==':
      return equal;
    case '!=':
      return !equal;
  }
}

/** Whether `a` is further on the failing side of the comparison than `b`. */
function worse(op: Comparator, threshold: number, a: number, b: number): boolean {
  switch (op) {
    case '>=':
    case '>':
      return a < b;
    case '<=':
    case '<':
      return a > b;
    case '==':
    case '!=':
      return Math.abs(a - threshold) > Math.abs(b - threshold) === (op === '==');
  }
}

function formatValue(ctx: Context, value: number): string {
  // The threshold's unit is the function's, except where the experiment picks it (prom).
  switch (ctx.expr.op === 'holds' ? ctx.kind.unit : ctx.expr.threshold.unit) {
    case 'ratio': {
      const digits = ctx.expr.op === 'holds' ? 1 : Math.max(1, decimals(ctx.expr.threshold.text));
      return `${(value * 100).toFixed(digits)}%`;
    }
    case 'ms':
      return formatMs(value);
    case 'per-second':
      return `${round(value, 1)}/s`;
    case 'number':
      return value.toLocaleString('en-US', { maximumFractionDigits: 2 });
    case 'boolean':
      return value ? 'true' : 'false';
  }
}

function decimals(text: string): number {
  const m = /\.(\d+)/.exec(text);
  return m ? m[1]!.length : 0;
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${round(ms, ms < 10 ? 1 : 0)}ms` : seconds(ms);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

function relative(ctx: Context, t: number): string {
  const d = t - ctx.origin;
  return `${d < 0 ? '-' : '+'}${(Math.abs(d) / 1000).toFixed(1)}s`;
}

function plural(n: number, noun: string): string {
  return `${n.toLocaleString('en-US')} ${noun}${n === 1 ? '' : 's'}`;
}
