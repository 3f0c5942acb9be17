import type { ClusterWarningEvent, ConditionStatus, NodeConditionEvent, RunEvent } from '../../journal/events.js';
import { CHECK_FUNCTIONS, implicitProbeName } from '../../slo/functions.js';
import { parseCheck } from '../../slo/parse.js';
import { plainText } from '../plain-text.js';
import type { CheckResult, RunResult } from '../result.js';
import { describeTargets } from '../targets-text.js';
import { ProbeBuckets, type SecondBucket } from './probe-buckets.js';

/**
 * What report.html draws, as the JSON embedded in it. Times are seconds since the run started
 * (the x axis of every chart), rounded to milliseconds.
 */
export interface TimelineData {
  readonly durationS: number;
  /** Seconds one chart point stands for: 1, or more when a long run was downsampled. */
  readonly bucketS: number;
  readonly probes: readonly ProbeSeries[];
  readonly faults: readonly FaultWindow[];
  readonly markers: readonly Marker[];
  readonly phases: readonly { readonly phase: string; readonly t: number }[];
  readonly events: readonly TimelineLogEvent[];
  /** Log events left out to keep the file small. */
  readonly eventsDropped: number;
  /** One lane per node whose conditions changed during the run (or were unhealthy when first seen). */
  readonly nodes: readonly NodeLane[];
  /** Every node condition change, in order (the lanes are drawn from these). */
  readonly conditionChanges: readonly TimelineConditionChange[];
  /** Kubernetes Warning events, in order. */
  readonly warnings: readonly TimelineWarning[];
  /** Warning events and condition changes left out to keep the file small. */
  readonly clusterEventsDropped: number;
  readonly checks: readonly CheckTarget[];
  /** The offered rate of a load-shaped probe beside a workload's replicas, when the run has both. */
  readonly scaling?: ScalingChart;
}

/**
 * One chart of two aligned series: the rate a load shape offered (per second, on the left axis)
 * and the replicas a workload asked for (on the right axis), on the x of every other chart.
 */
export interface ScalingChart {
  /** The http probe whose load shape offered the rate. */
  readonly rateProbe: string;
  /** The `replicas` probe (of a `replicas()` or `maxReplicas()` check) that read the workload. */
  readonly replicasProbe: string;
  readonly x: readonly number[];
  readonly offered: readonly (number | null)[];
  readonly replicas: readonly (number | null)[];
}

export interface NodeLane {
  readonly node: string;
  /**
   * Ready in every state it was in; the other conditions only while True (under pressure). A node
   * that stops reporting turns every condition Unknown; the Ready span already says so.
   */
  readonly spans: readonly ConditionSpan[];
}

export interface ConditionSpan {
  readonly condition: string;
  readonly status: ConditionStatus;
  readonly from: number;
  readonly to: number;
  readonly reason?: string;
}

export type TimelineConditionChange = Omit<NodeConditionEvent, 'type'>;

export interface TimelineWarning {
  readonly t: number;
  readonly reason: string;
  readonly object: string;
  readonly message: string;
  readonly count: number;
}

/** Parallel arrays, the layout uPlot draws from; `null` where a second had no such figure. */
export interface ProbeSeries {
  readonly name: string;
  readonly kind: string;
  readonly samples: number;
  readonly failed: number;
  readonly charts: readonly ChartKind[];
  readonly x: readonly number[];
  readonly n: readonly number[];
  readonly success: readonly (number | null)[];
  readonly p50: readonly (number | null)[];
  readonly p90: readonly (number | null)[];
  readonly p99: readonly (number | null)[];
  readonly max: readonly (number | null)[];
  readonly value: readonly (number | null)[];
  readonly floor: readonly (number | null)[];
  /** The offered rate of a load shape, per second; empty when the probe followed none. */
  readonly offered: readonly (number | null)[];
}

export type ChartKind = 'success' | 'latency' | 'value';

export interface FaultWindow {
  readonly id: string;
  readonly label: string;
  readonly from: number;
  readonly to: number;
  /** False when the run ended with the fault still applied: the window runs to the end. */
  readonly reverted: boolean;
}

export interface Marker {
  readonly t: number;
  /** `k8s-warning`: a Kubernetes Warning event; `warning`: one of gameday's own log warnings. */
  readonly kind: 'abort' | 'revert' | 'revert-failed' | 'signal' | 'warning' | 'k8s-warning' | 'error';
  readonly label: string;
}

export interface TimelineLogEvent {
  readonly t: number;
  readonly level: string;
  readonly message: string;
}

/** Where a check's evidence is drawn: the chart its anchor scrolls to, and the window to highlight. */
export interface CheckTarget {
  readonly index: number;
  readonly check: string;
  readonly role: string;
  readonly verdict: string;
  /** `probe-<n>-<chart>` of the chart, or `timeline` when no probe chart shows what the check measured. */
  readonly chartId: string;
  readonly from?: number;
  readonly to?: number;
  readonly firstViolation?: number;
}

export interface TimelineOptions {
  /** Most chart points per series; a longer run keeps the min and max of each column. @default 1000 */
  readonly maxColumns?: number;
  /** Most log events listed, and most Warning events and condition changes. @default 500 */
  readonly maxEvents?: number;
}

const LATENCY_FUNCTIONS = new Set(['p50', 'p90', 'p95', 'p99', 'max']);

/**
 * Folds a run's events, as they stream from the engine or the journal, into the data of its
 * timeline. Samples are bucketed per second on arrival and never kept, so a run of a million
 * samples costs the same memory as one of a thousand over the same time.
 */
export class TimelineBuilder {
  private startMs?: number;
  private readonly probes = new Map<string, ProbeBuckets>();
  private readonly phases: { phase: string; t: number }[] = [];
  private readonly logs: TimelineLogEvent[] = [];
  private logsDropped = 0;
  private readonly conditionChanges: TimelineConditionChange[] = [];
  private readonly warnings: TimelineWarning[] = [];
  private clusterEventsDropped = 0;
  private readonly maxColumns: number;
  private readonly maxEvents: number;

  constructor(options: TimelineOptions = {}) {
    this.maxColumns = options.maxColumns ?? 1000;
    this.maxEvents = options.maxEvents ?? 500;
  }

  add(event: RunEvent): void {
    if (event.type === 'run.start') {
      this.startMs = event.t;
      return;
    }
    const startMs = this.startMs;
    if (startMs === undefined) return;
    switch (event.type) {
      case 'sample':
        this.probe(event.probe, startMs).add(event);
        break;
      case 'probe.start':
      case 'probe.stop':
      case 'probe.error':
        this.probe(event.probe, startMs).kind = event.kind;
        break;
      case 'phase':
        this.phases.push({ phase: event.phase, t: seconds(event.t - startMs) });
        break;
      case 'log':
        if (this.logs.length < this.maxEvents) this.logs.push({ t: seconds(event.t - startMs), level: event.level, message: plainText(event.message) });
        else this.logsDropped++;
        break;
      case 'node.condition':
        if (this.conditionChanges.length < this.maxEvents) this.conditionChanges.push(conditionChange(event, startMs));
        else this.clusterEventsDropped++;
        break;
      case 'cluster.event':
        if (this.warnings.length < this.maxEvents) this.warnings.push(timelineWarning(event, startMs));
        else this.clusterEventsDropped++;
        break;
    }
  }

  /** The timeline of the run `result` describes (its faults, aborts and checks come from there). */
  build(result: RunResult): TimelineData {
    const startMs = result.startedAtMs;
    const at = (ms: number): number => seconds(ms - startMs);
    const durationS = at(result.endedAtMs);
    let span = 0;
    const folded = [...this.probes.values()].map((p) => {
      const buckets = p.seconds();
      if (buckets.length > 0) span = Math.max(span, buckets[buckets.length - 1]!.second - Math.min(0, buckets[0]!.second));
      return { probe: p, buckets };
    });
    const bucketS = Math.max(1, Math.ceil(Math.max(span, durationS) / this.maxColumns));
    const probes = folded.map(({ probe, buckets }) => probeSeries(probe, buckets, bucketS, durationS));
    const faults: FaultWindow[] = [];
    const markers: Marker[] = [];
    for (const f of result.faults) {
      // The window opens when gameday starts acting: a drain disrupts pods long before it is done.
      const fromMs = f.injectStartedAtMs ?? f.injectedAtMs;
      if (fromMs === undefined) continue;
      const toMs = f.revertedAtMs ?? f.revertStartedAtMs;
      faults.push({ id: f.id, label: `${f.id} ${f.kind}: ${plainText(f.description ?? describeTargets(f.targets))}`, from: at(fromMs), to: toMs === undefined ? durationS : at(toMs), reverted: f.revertedAtMs !== undefined });
      if (f.revertedAtMs !== undefined) markers.push({ t: at(f.revertedAtMs), kind: 'revert', label: `${f.id} reverted` });
      else if (f.revertError !== undefined) markers.push({ t: at(f.revertStartedAtMs ?? result.endedAtMs), kind: 'revert-failed', label: `${f.id} revert failed` });
    }
    for (const a of result.aborts) markers.push({ t: at(a.atMs), kind: 'abort', label: `abort: ${plainText(a.check)}` });
    for (const s of result.signals) markers.push({ t: at(s.atMs), kind: 'signal', label: s.signal });
    for (const e of result.errors) markers.push({ t: at(e.atMs), kind: 'error', label: `${e.source}: ${plainText(e.message)}`.slice(0, 120) });
    for (const l of this.logs) if (l.level === 'warn') markers.push({ t: l.t, kind: 'warning', label: l.message.slice(0, 120) });
    for (const w of this.warnings) markers.push({ t: w.t, kind: 'k8s-warning', label: `Warning ${w.reason} ${w.object}: ${w.message}`.slice(0, 160) });
    markers.sort((a, b) => a.t - b.t);
    return {
      durationS,
      bucketS,
      probes,
      faults,
      markers,
      phases: [...this.phases],
      events: [...this.logs],
      eventsDropped: this.logsDropped,
      nodes: nodeLanes(this.conditionChanges, durationS),
      conditionChanges: [...this.conditionChanges],
      warnings: [...this.warnings],
      clusterEventsDropped: this.clusterEventsDropped,
      checks: result.checks.map((c, index) => checkTarget(c, index, probes, at)),
      ...scalingOf(probes),
    };
  }

  private probe(name: string, startMs: number): ProbeBuckets {
    let probe = this.probes.get(name);
    if (!probe) {
      probe = new ProbeBuckets(name, startMs);
      this.probes.set(name, probe);
    }
    return probe;
  }
}

function conditionChange(e: NodeConditionEvent, startMs: number): TimelineConditionChange {
  return {
    t: seconds(e.t - startMs),
    node: e.node,
    condition: e.condition,
    status: e.status,
    ...(e.previousStatus !== undefined ? { previousStatus: e.previousStatus } : {}),
    ...(e.reason ? { reason: plainText(e.reason) } : {}),
    ...(e.message ? { message: plainText(e.message) } : {}),
  };
}

function timelineWarning(e: ClusterWarningEvent, startMs: number): TimelineWarning {
  return { t: seconds(e.t - startMs), reason: plainText(e.reason), object: plainText(e.object), message: plainText(e.message), count: e.count };
}

/**
 * Each condition's states as spans: a change closes the span before it and opens the next; the
 * state before the first change (its `previousStatus`) runs from the start, the last to the end.
 * Ready keeps every state so the lane shows when the node was fine; other conditions only
 * the spans in which they held (True).
 */
function nodeLanes(changes: readonly TimelineConditionChange[], durationS: number): NodeLane[] {
  const lanes = new Map<string, ConditionSpan[]>();
  const open = new Map<string, { condition: string; status: ConditionStatus; from: number; reason?: string }>();
  const keep = (node: string, span: ConditionSpan): void => {
    if (span.condition === 'Ready' || span.status === 'True') lanes.get(node)!.push(span);
  };
  const close = (node: string, key: string, to: number): void => {
    const span = open.get(key);
    if (!span) return;
    open.delete(key);
    keep(node, { ...span, to: Math.max(span.from, to) });
  };
  for (const c of changes) {
    if (!lanes.has(c.node)) lanes.set(c.node, []);
    const key = `${c.node}\u0000${c.condition}`;
    if (open.has(key)) close(c.node, key, c.t);
    else if (c.previousStatus !== undefined) keep(c.node, { condition: c.condition, status: c.previousStatus, from: 0, to: Math.max(0, c.t) });
    open.set(key, { condition: c.condition, status: c.status, from: c.t, ...(c.reason ? { reason: c.reason } : {}) });
  }
  for (const key of [...open.keys()]) close(key.split('\u0000')[0]!, key, durationS);
  return [...lanes].map(([node, spans]) => ({ node, spans: spans.sort((a, b) => a.from - b.from) }));
}

function seconds(ms: number): number {
  return Math.round(ms) / 1000;
}

function round(value: number | undefined, digits: number): number | null {
  if (value === undefined) return null;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

type Figure = 'success' | 'p50' | 'p90' | 'p99' | 'max' | 'value' | 'floor' | 'offered';
const FIGURES: readonly Figure[] = ['success', 'p50', 'p90', 'p99', 'max', 'value', 'floor', 'offered'];

function figuresOf(b: SecondBucket): Record<Figure, number | null> {
  return {
    success: b.n > 0 ? round((100 * b.ok) / b.n, 2) : null,
    p50: round(b.p50, 1),
    p90: round(b.p90, 1),
    p99: round(b.p99, 1),
    max: round(b.max, 1),
    value: round(b.valueMin, 3),
    floor: round(b.floor, 3),
    offered: round(b.offered, 2),
  };
}

/**
 * Per-second points, or, when there are more seconds than columns, two points per column: the
 * lowest and the highest of each figure over the column's seconds. A one-second outage in an
 * hour-long run still reaches the bottom of its column instead of being averaged away.
 */
function probeSeries(probe: ProbeBuckets, buckets: readonly SecondBucket[], bucketS: number, durationS: number): ProbeSeries {
  const charts: ChartKind[] = [];
  if (probe.hasLatency || !probe.hasValue) charts.push('success');
  if (probe.hasLatency) charts.push('latency');
  if (probe.hasValue) charts.push('value');
  const out = { x: [] as number[], n: [] as number[], ...Object.fromEntries(FIGURES.map((f) => [f, [] as (number | null)[]])) } as {
    x: number[];
    n: number[];
  } & Record<Figure, (number | null)[]>;
  const push = (x: number, n: number, figures: Record<Figure, number | null>): void => {
    out.x.push(x);
    out.n.push(n);
    for (const f of FIGURES) out[f].push(figures[f]);
  };
  if (bucketS === 1) {
    for (const b of buckets) {
      const figures = figuresOf(b);
      push(b.second, b.n, figures);
      // A dip and a recovery within one second: draw the dip, then where the value settled.
      if (b.valueLast !== undefined && b.valueLast !== b.valueMin) push(b.second + 0.5, 0, { ...figures, value: round(b.valueLast, 3) });
    }
  } else {
    let i = 0;
    while (i < buckets.length) {
      const column = Math.floor(buckets[i]!.second / bucketS);
      const members: SecondBucket[] = [];
      while (i < buckets.length && Math.floor(buckets[i]!.second / bucketS) === column) members.push(buckets[i++]!);
      const figures = members.map(figuresOf);
      const n = members.reduce((sum, b) => sum + b.n, 0);
      const pick = (choose: (values: number[]) => number): Record<Figure, number | null> =>
        Object.fromEntries(
          FIGURES.map((f) => {
            const values = figures.map((g) => g[f]).filter((v): v is number => v !== null);
            return [f, values.length > 0 ? choose(values) : null];
          }),
        ) as Record<Figure, number | null>;
      const x0 = column * bucketS;
      push(x0, n, pick((v) => Math.min(...v)));
      push(x0 + bucketS / 2, n, pick((v) => Math.max(...v)));
    }
  }
  // Watch-driven probes (ready pods, budgets) report only changes: the last value holds until the run ends.
  const last = out.x.length - 1;
  if (probe.hasValue && last >= 0 && out.x[last]! < durationS) {
    const held = (f: Figure): number | null => out[f].findLast((v) => v !== null) ?? null;
    const settled = buckets.findLast((b) => b.valueLast !== undefined)?.valueLast;
    push(durationS, 0, { success: null, p50: null, p90: null, p99: null, max: null, value: settled === undefined ? held('value') : round(settled, 3), floor: held('floor'), offered: null });
  }
  return { name: probe.name, kind: probe.kind, samples: probe.samples, failed: probe.failed, charts, ...out, ...(probe.hasFloor ? {} : { floor: [] }), ...(probe.hasOffered ? {} : { offered: [] }) };
}

/**
 * The offered rate beside the replicas, when the run has a load-shaped probe and a `replicas`
 * probe: the first of each, on the union of their x. The offered rate is null where its probe has
 * no point; the replicas hold their last reading until the next, as a watched state does.
 */
function scalingOf(probes: readonly ProbeSeries[]): { scaling?: ScalingChart } {
  const rate = probes.find((p) => p.offered.length > 0);
  const replicas = probes.find((p) => p.kind === 'replicas' && p.value.some((v) => v !== null));
  if (!rate || !replicas) return {};
  const at = (p: ProbeSeries, figure: readonly (number | null)[]): Map<number, number | null> => new Map(p.x.map((x, i) => [x, figure[i] ?? null]));
  const offered = at(rate, rate.offered);
  const wanted = at(replicas, replicas.value);
  const x = [...new Set([...rate.x, ...replicas.x])].sort((a, b) => a - b);
  let held: number | null = null;
  return {
    scaling: {
      rateProbe: rate.name,
      replicasProbe: replicas.name,
      x,
      offered: x.map((t) => offered.get(t) ?? null),
      replicas: x.map((t) => (held = wanted.get(t) ?? held)),
    },
  };
}

/**
 * The chart a check's evidence lives on: its probe's latency chart for a percentile, the success
 * chart for availability and errors, the value chart of the implicit probe a target check reads.
 */
function checkTarget(c: CheckResult, index: number, probes: readonly ProbeSeries[], at: (ms: number) => number): CheckTarget {
  let chartId = 'timeline';
  try {
    const expr = parseCheck(c.check);
    const info = CHECK_FUNCTIONS.get(expr.fn);
    const probeName = info?.arg === 'target' ? implicitProbeName(expr.fn, expr.arg) : expr.arg;
    const probeIndex = probes.findIndex((p) => p.name === probeName);
    const probe = probes[probeIndex];
    if (probe) {
      // A percentile of a series (p99(lag(orders))) is not the probe's request latency: its evidence is the probe's whole record.
      const series = expr.op !== 'holds' && expr.series !== undefined;
      const wanted: ChartKind = LATENCY_FUNCTIONS.has(expr.fn) && !series ? 'latency' : info?.arg === 'target' ? 'value' : 'success';
      chartId = `probe-${probeIndex}-${probe.charts.includes(wanted) ? wanted : probe.charts[0]}`;
    }
  } catch {
    // A check the report cannot parse is still listed; its evidence points at the whole timeline.
  }
  const e = c.evidence;
  return {
    index,
    check: c.check,
    role: c.role,
    verdict: c.verdict,
    chartId,
    ...(e ? { from: at(e.fromMs), to: at(e.toMs) } : {}),
    ...(e?.firstViolationAtMs !== undefined ? { firstViolation: at(e.firstViolationAtMs) } : {}),
  };
}
