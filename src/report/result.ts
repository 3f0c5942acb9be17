import type { CheckRole, ClusterRef, FaultEvent, RunEvent, RunStartEvent, Verdict } from '../journal/events.js';
import { readJournal } from '../journal/reader.js';
import type { Outcome } from '../core/outcome.js';
import type { Sample } from '../core/sample.js';
import { drillRecoveries, type DrillRecovery } from './drill-recovery.js';

/**
 * The content of `result.json`: what a run did and why it ended the way it did, for CI and for
 * comparing runs. Versioned; `result.schema.json` beside this file describes the same shape and
 * must change with it. Every moment is written twice: ISO 8601 for people, epoch milliseconds
 * (`…Ms`) for tools that line verdicts up with samples and fault events (docs/architecture.md, principle 5).
 */
export interface RunResult {
  readonly schemaVersion: typeof RESULT_SCHEMA_VERSION;
  readonly runId: string;
  readonly experiment: string;
  readonly file: string;
  readonly outcome: Outcome;
  readonly reason: string;
  readonly cluster: ClusterRef;
  readonly seed: number;
  readonly gamedayVersion: string;
  readonly startedAt: string;
  readonly startedAtMs: number;
  readonly endedAt: string;
  readonly endedAtMs: number;
  readonly durationMs: number;
  /** How long the experiment was meant to run (`spec.duration`). */
  readonly plannedDurationMs: number;
  readonly checks: readonly CheckResult[];
  readonly faults: readonly FaultResult[];
  readonly probes: readonly ProbeResult[];
  readonly aborts: readonly AbortRecord[];
  readonly signals: readonly SignalRecord[];
  readonly errors: readonly ErrorRecord[];
  /**
   * What the cluster itself reported while it was watched: node condition changes and Warning
   * events. Always written now; absent in result.json files of older gameday versions.
   */
  readonly clusterActivity?: ClusterActivity;
  /**
   * Requests to the API server that gameday tried again during the run (a flaky API server that
   * the run survived); absent for journals written before retries were counted (journal version 1).
   */
  readonly apiRetries?: ApiRetries;
  /** Drill steps (spec.steps) that started, in the order they ran; absent when the experiment has none. */
  readonly steps?: readonly StepResult[];
  /** Per disaster step: its RTO and RPO checks, and what a control-plane restore brought back; absent when there are none. */
  readonly drills?: readonly DrillRecovery[];
}

export interface StepResult {
  readonly id: string;
  readonly name: string;
  readonly kind: string;
  readonly startedAt: string;
  readonly startedAtMs: number;
  readonly endedAt?: string;
  readonly endedAtMs?: number;
  /** Absent while the step ran when the journal ended (a crash). */
  readonly outcome?: 'done' | 'failed';
  readonly message?: string;
  /** The exec's exit code and output, the check's last outcome… */
  readonly evidence?: unknown;
}

export interface ApiRetries {
  readonly total: number;
  /** By cause: `HTTP 503`, `connection reset`, `timeout`, `write re-read`, `re-list after 410`, `broken watch`… */
  readonly byCause: Readonly<Record<string, number>>;
}

export const RESULT_SCHEMA_VERSION = 1;

/** The last verdict a check got in its role: a steady state that held on the third try counts as held. */
export interface CheckResult {
  readonly check: string;
  readonly role: CheckRole;
  readonly verdict: Verdict;
  readonly value?: number;
  readonly message: string;
  readonly at: string;
  readonly atMs: number;
  /** How many times the check was evaluated in this role. */
  readonly evaluations: number;
  readonly evidence?: CheckEvidenceResult;
}

export interface CheckEvidenceResult {
  readonly from: string;
  readonly fromMs: number;
  readonly to: string;
  readonly toMs: number;
  readonly samples: number;
  readonly worst?: readonly EvidenceSample[];
  readonly firstViolationAt?: string;
  readonly firstViolationAtMs?: number;
  readonly note?: string;
}

export interface EvidenceSample extends Sample {
  readonly at: string;
}

export interface FaultResult {
  readonly id: string;
  readonly kind: string;
  /** One line from the plan: `drain node worker-2 (evicting 14 pods)`. */
  readonly description?: string;
  readonly targets: unknown;
  readonly injectStartedAt?: string;
  readonly injectStartedAtMs?: number;
  readonly injectedAt?: string;
  readonly injectedAtMs?: number;
  readonly injectError?: string;
  /** Set when the run stopped while this fault's inject or verify was under way: what was cut short, and why. */
  readonly interrupted?: string;
  readonly verifiedAt?: string;
  readonly verifiedAtMs?: number;
  /** Absent when verification never ran (the run ended before, or inject failed). */
  readonly landed?: boolean;
  readonly verifyMessage?: string;
  readonly revertStartedAt?: string;
  readonly revertStartedAtMs?: number;
  readonly revertedAt?: string;
  readonly revertedAtMs?: number;
  readonly revertError?: string;
  readonly evidence: readonly FaultEvidenceRecord[];
}

export interface FaultEvidenceRecord {
  readonly step: FaultEvent['step'];
  readonly at: string;
  readonly atMs: number;
  readonly message?: string;
  readonly data?: unknown;
}

export interface ProbeResult {
  readonly name: string;
  readonly kind: string;
  readonly samples: number;
  readonly ok: number;
  readonly failed: number;
  readonly firstFailureAt?: string;
  readonly firstFailureAtMs?: number;
  readonly lastFailureAt?: string;
  readonly lastFailureAtMs?: number;
}

export interface AbortRecord {
  readonly check: string;
  readonly message: string;
  readonly at: string;
  readonly atMs: number;
}

export interface SignalRecord {
  readonly signal: string;
  readonly at: string;
  readonly atMs: number;
}

export interface ErrorRecord {
  /** `run`, `probe:<name>` or `fault:<id>`. */
  readonly source: string;
  readonly message: string;
  readonly at: string;
  readonly atMs: number;
}

export interface ClusterActivity {
  /** Kubernetes Warning events journaled; an Event journaled again for its repeats counts each time. */
  readonly warningEvents: number;
  /** Occurrences per reason, by each Event's own count: a readiness probe that failed 30 times counts 30. */
  readonly warningReasons: Readonly<Record<string, number>>;
  readonly nodeConditionChanges: number;
  /** Nodes that were not Ready, or under pressure, at some moment of the run; sorted. */
  readonly nodesAffected: readonly string[];
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

interface ProbeTally {
  kind: string;
  samples: number;
  ok: number;
  failed: number;
  firstFailureAtMs?: number;
  lastFailureAtMs?: number;
}

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * Folds a run's events into its `RunResult`. Keeps counts, not samples: a run can produce a
 * million samples and the result stays the same size.
 */
export class ResultBuilder {
  private start?: RunStartEvent;
  private end?: { readonly t: number; readonly outcome: Outcome; readonly reason: string };
  private lastT = 0;
  private readonly checks = new Map<string, Mutable<CheckResult>>();
  private readonly faults = new Map<string, Mutable<FaultResult>>();
  private readonly steps = new Map<string, Mutable<StepResult>>();
  private readonly probes = new Map<string, ProbeTally>();
  private readonly aborts: AbortRecord[] = [];
  private readonly signals: SignalRecord[] = [];
  private readonly errors: ErrorRecord[] = [];
  private warningEvents = 0;
  /** Highest count seen per Event (object, reason and message), so repeats are not counted twice. */
  private readonly warningCounts = new Map<string, { reason: string; count: number }>();
  private nodeConditionChanges = 0;
  private readonly nodesAffected = new Set<string>();
  private readonly retriesByCause = new Map<string, number>();

  get started(): boolean {
    return this.start !== undefined;
  }

  add(event: RunEvent): void {
    if (typeof event.t === 'number' && event.t > this.lastT) this.lastT = event.t;
    switch (event.type) {
      case 'run.start':
        this.start = event;
        break;
      case 'plan':
        for (const planned of plannedFaults(event.plan)) this.faults.set(planned.id, { ...planned, evidence: [] });
        break;
      case 'run.end':
        this.end = { t: event.t, outcome: event.outcome, reason: event.reason };
        break;
      case 'sample':
        this.tallySample(event);
        break;
      case 'probe.start':
      case 'probe.stop':
        this.probe(event.probe).kind = event.kind;
        break;
      case 'probe.error':
        this.probe(event.probe).kind = event.kind;
        this.errors.push({ source: `probe:${event.probe}`, message: event.message ?? 'probe failed', ...stamp(event.t) });
        break;
      case 'fault':
        this.applyFaultStep(event);
        break;
      case 'step':
        if (event.phase === 'start') {
          this.steps.set(event.step, { id: event.step, name: event.name, kind: event.kind, startedAt: isoTime(event.t), startedAtMs: event.t, ...(event.message ? { message: event.message } : {}) });
        } else {
          const step = this.steps.get(event.step);
          if (step) Object.assign(step, { endedAt: isoTime(event.t), endedAtMs: event.t, outcome: event.phase, ...(event.message ? { message: event.message } : {}), ...(event.evidence !== undefined ? { evidence: event.evidence } : {}) });
        }
        break;
      case 'check': {
        const key = `${event.role}\u0000${event.check}`;
        const evaluations = (this.checks.get(key)?.evaluations ?? 0) + 1;
        this.checks.delete(key);
        this.checks.set(key, {
          check: event.check,
          role: event.role,
          verdict: event.verdict,
          ...(event.value !== undefined && Number.isFinite(event.value) ? { value: event.value } : {}),
          message: event.message,
          ...stamp(event.t),
          evaluations,
          ...(event.evidence ? { evidence: evidenceResult(event.evidence) } : {}),
        });
        break;
      }
      case 'abort':
        this.aborts.push({ check: event.check, message: event.message, ...stamp(event.t) });
        break;
      case 'signal':
        this.signals.push({ signal: event.signal, ...stamp(event.t) });
        break;
      case 'log':
        if (event.level === 'error') this.errors.push({ source: 'run', message: event.message, ...stamp(event.t) });
        break;
      case 'cluster.event': {
        this.warningEvents++;
        const key = `${event.object}\u0000${event.reason}\u0000${event.message}`;
        const known = this.warningCounts.get(key);
        if (!known || known.count < event.count) this.warningCounts.set(key, { reason: event.reason, count: event.count });
        break;
      }
      case 'node.condition':
        if (event.previousStatus !== undefined) this.nodeConditionChanges++;
        if (event.status !== (event.condition === 'Ready' ? 'True' : 'False')) this.nodesAffected.add(event.node);
        break;
      case 'api.retries':
        for (const [cause, n] of Object.entries(event.counts)) this.retriesByCause.set(cause, (this.retriesByCause.get(cause) ?? 0) + n);
        break;
    }
  }

  /** The result so far; before `run.end` arrives the run counts as ended in error (it crashed or is still going). */
  result(): RunResult {
    const start = this.start;
    if (!start) throw new Error('no run.start event: this is not the journal of a run');
    const endedAtMs = this.end?.t ?? Math.max(this.lastT, start.t);
    const [outcome, reason] = this.end
      ? [this.end.outcome, this.end.reason]
      : (['error', 'the journal ends before the run did (the run crashed or is still running)'] as const);
    const checks = [...this.checks.values()].map((c) => ({ ...c }));
    const steps = [...this.steps.values()];
    const drills = drillRecoveries(checks, steps);
    return {
      schemaVersion: RESULT_SCHEMA_VERSION,
      runId: start.runId,
      experiment: start.experiment,
      file: start.file,
      outcome,
      reason,
      cluster: start.cluster,
      seed: start.seed,
      gamedayVersion: start.gamedayVersion,
      startedAt: isoTime(start.t),
      startedAtMs: start.t,
      endedAt: isoTime(endedAtMs),
      endedAtMs,
      durationMs: Math.max(0, endedAtMs - start.t),
      plannedDurationMs: start.durationMs,
      checks,
      faults: [...this.faults.values()].map((f) => ({ ...f, evidence: [...f.evidence] })),
      probes: [...this.probes].map(([name, p]) => probeResult(name, p)),
      aborts: [...this.aborts],
      signals: [...this.signals],
      errors: [...this.errors],
      clusterActivity: this.clusterActivity(),
      ...(start.journalVersion >= 2 ? { apiRetries: this.apiRetries() } : {}),
      ...(steps.length > 0 ? { steps } : {}),
      ...(drills.length > 0 ? { drills } : {}),
    };
  }

  private apiRetries(): ApiRetries {
    const byCause = Object.fromEntries([...this.retriesByCause].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1)));
    return { total: [...this.retriesByCause.values()].reduce((a, b) => a + b, 0), byCause };
  }

  private clusterActivity(): ClusterActivity {
    const warningReasons: Record<string, number> = {};
    for (const { reason, count } of this.warningCounts.values()) warningReasons[reason] = (warningReasons[reason] ?? 0) + count;
    return {
      warningEvents: this.warningEvents,
      warningReasons,
      nodeConditionChanges: this.nodeConditionChanges,
      nodesAffected: [...this.nodesAffected].sort(),
    };
  }

  private probe(name: string): ProbeTally {
    let tally = this.probes.get(name);
    if (!tally) {
      tally = { kind: 'unknown', samples: 0, ok: 0, failed: 0 };
      this.probes.set(name, tally);
    }
    return tally;
  }

  private tallySample(sample: Sample): void {
    const tally = this.probe(sample.probe);
    tally.samples++;
    if (sample.ok) {
      tally.ok++;
      return;
    }
    tally.failed++;
    tally.firstFailureAtMs ??= sample.t;
    tally.lastFailureAtMs = Math.max(tally.lastFailureAtMs ?? sample.t, sample.t);
  }

  private applyFaultStep(event: FaultEvent): void {
    let fault = this.faults.get(event.fault);
    if (!fault) {
      fault = { id: event.fault, kind: event.kind, targets: event.targets ?? null, evidence: [] };
      this.faults.set(event.fault, fault);
    }
    const t = event.t;
    switch (event.step) {
      case 'inject':
        if (event.targets !== undefined) fault.targets = event.targets;
        fault.injectStartedAt = isoTime(t);
        fault.injectStartedAtMs = t;
        break;
      case 'injected':
        fault.injectedAt = isoTime(t);
        fault.injectedAtMs = t;
        break;
      case 'inject-failed':
        fault.injectError = event.message ?? 'inject failed';
        break;
      case 'interrupted':
        fault.interrupted = event.message ?? 'cut short';
        break;
      case 'verified':
      case 'not-landed':
        fault.verifiedAt = isoTime(t);
        fault.verifiedAtMs = t;
        fault.landed = event.step === 'verified';
        if (event.message !== undefined) fault.verifyMessage = event.message;
        break;
      case 'revert':
        fault.revertStartedAt = isoTime(t);
        fault.revertStartedAtMs = t;
        break;
      case 'reverted':
        fault.revertedAt = isoTime(t);
        fault.revertedAtMs = t;
        delete fault.revertError;
        break;
      case 'revert-failed':
        fault.revertError = event.message ?? 'revert failed';
        break;
    }
    if (event.evidence !== undefined || (event.message !== undefined && event.step !== 'inject')) {
      (fault.evidence as FaultEvidenceRecord[]).push({
        step: event.step,
        ...stamp(t),
        ...(event.message !== undefined ? { message: event.message } : {}),
        ...(event.evidence !== undefined ? { data: event.evidence } : {}),
      });
    }
    if (event.step === 'inject-failed' || event.step === 'revert-failed') {
      this.errors.push({ source: `fault:${event.fault}`, message: `${event.step}: ${event.message ?? ''}`.trim(), ...stamp(t) });
    }
  }
}

function stamp(t: number): { at: string; atMs: number } {
  return { at: isoTime(t), atMs: t };
}

function evidenceResult(e: NonNullable<Extract<RunEvent, { type: 'check' }>['evidence']>): CheckEvidenceResult {
  return {
    from: isoTime(e.from),
    fromMs: e.from,
    to: isoTime(e.to),
    toMs: e.to,
    samples: e.samples,
    ...(e.worst ? { worst: e.worst.map((s) => ({ ...stripType(s), at: isoTime(s.t) })) } : {}),
    ...(e.firstViolationAt !== undefined ? { firstViolationAt: isoTime(e.firstViolationAt), firstViolationAtMs: e.firstViolationAt } : {}),
    ...(e.note !== undefined ? { note: e.note } : {}),
  };
}

/** Worst samples may arrive as journaled sample events; the result keeps only the sample's own fields. */
function stripType(sample: Sample): Sample {
  const { type: _type, ...rest } = sample as Sample & { type?: unknown };
  return rest;
}

function probeResult(name: string, p: ProbeTally): ProbeResult {
  return {
    name,
    kind: p.kind,
    samples: p.samples,
    ok: p.ok,
    failed: p.failed,
    ...(p.firstFailureAtMs !== undefined ? { firstFailureAt: isoTime(p.firstFailureAtMs), firstFailureAtMs: p.firstFailureAtMs } : {}),
    ...(p.lastFailureAtMs !== undefined ? { lastFailureAt: isoTime(p.lastFailureAtMs), lastFailureAtMs: p.lastFailureAtMs } : {}),
  };
}

/**
 * The faults the plan announced, so a fault the run never reached still shows in the report.
 * The plan travels as plain data in the `plan` event; read only the fields we need, defensively.
 */
function plannedFaults(plan: unknown): Pick<FaultResult, 'id' | 'kind' | 'targets' | 'description'>[] {
  if (typeof plan !== 'object' || plan === null) return [];
  const faults = (plan as { faults?: unknown }).faults;
  if (!Array.isArray(faults)) return [];
  const out: Pick<FaultResult, 'id' | 'kind' | 'targets' | 'description'>[] = [];
  for (const f of faults as unknown[]) {
    if (typeof f !== 'object' || f === null) continue;
    const { id, kind, targets, description } = f as Record<string, unknown>;
    if (typeof id !== 'string' || typeof kind !== 'string') continue;
    out.push({ id, kind, targets: targets ?? null, ...(typeof description === 'string' ? { description } : {}) });
  }
  return out;
}

/**
 * Rebuilds a result from a journal on disk (`gameday report <run-dir>`), one event at a time.
 * A crashed run can leave a half-written last line; the reader skips it, any other bad line is an error.
 */
export async function resultFromJournal(journalPath: string): Promise<RunResult> {
  const builder = new ResultBuilder();
  for await (const event of readJournal(journalPath)) builder.add(event);
  if (!builder.started) throw new Error(`${journalPath}: no run.start event; is this a gameday journal?`);
  return builder.result();
}
