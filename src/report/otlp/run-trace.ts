import { exitCodeFor } from '../../core/outcome.js';
import type { CheckEvent, FaultEvent, RunEvent } from '../../journal/events.js';
import { faultProblems } from '../fault-problems.js';
import type { FaultResult, RunResult } from '../result.js';
import { describeTargets } from '../targets-text.js';
import type { Attributes, RunTrace, TraceSpan, TraceSpanEvent } from './encode.js';

/**
 * The events a trace is made of. Samples, Kubernetes Warning events and the plan are left out:
 * a run can journal a million samples, and the result already counts them.
 */
const TRACED = new Set<RunEvent['type']>(['phase', 'probe.start', 'probe.stop', 'probe.error', 'fault', 'check', 'abort', 'signal', 'log', 'node.condition']);

export function isTraced(event: RunEvent): boolean {
  return TRACED.has(event.type) && (event.type !== 'log' || event.level !== 'info');
}

/**
 * One run as a trace: a root span `experiment <name>` over the whole run; a child per phase
 * (until the next phase, the last one until the run's end); a span per fault from its inject to
 * its revert, under the phase it was injected in; a span per probe. Check verdicts, aborts,
 * warnings and errors are events on the phase they happened in, fault steps on their fault, signals
 * and node condition changes on the root.
 *
 * `events` are the run's traced events (`isTraced`) in journal order; `result` is what the
 * reporters were given for the run.
 */
export function runTrace(result: RunResult, events: readonly RunEvent[]): RunTrace {
  const spans = new RunSpans(result);
  for (const event of events) spans.add(event);
  return {
    runId: result.runId,
    resource: {
      'service.name': 'gameday',
      'service.version': result.gamedayVersion,
      'k8s.cluster.name': result.cluster.name,
      'gameday.cluster.kind': result.cluster.kind,
      'gameday.cluster.context': result.cluster.context,
    },
    scope: { name: 'gameday', version: result.gamedayVersion },
    spans: spans.build(),
  };
}

interface OpenSpan {
  key: string;
  parent?: string;
  name: string;
  startMs: number;
  endMs?: number;
  attributes: Attributes;
  events: TraceSpanEvent[];
  error?: string;
  /** Each check's last verdict in this phase, as a failure message or undefined: a steady state that held on a later try held. */
  checks?: Map<string, string | undefined>;
}

const ROOT = 'run';

class RunSpans {
  private readonly root: OpenSpan;
  private readonly phases: OpenSpan[] = [];
  private readonly faults = new Map<string, OpenSpan>();
  private readonly probes = new Map<string, OpenSpan>();

  constructor(private readonly result: RunResult) {
    const r = result;
    this.root = {
      key: ROOT,
      name: `experiment ${r.experiment}`,
      startMs: r.startedAtMs,
      endMs: r.endedAtMs,
      attributes: {
        'gameday.run.id': r.runId,
        'gameday.experiment.name': r.experiment,
        'gameday.experiment.file': r.file,
        'gameday.outcome': r.outcome,
        'gameday.reason': r.reason,
        'gameday.exit_code': BigInt(exitCodeFor(r.outcome)),
        'gameday.seed': BigInt(r.seed),
        'k8s.cluster.name': r.cluster.name,
      },
      events: [],
    };
  }

  add(event: RunEvent): void {
    switch (event.type) {
      case 'phase':
        this.startPhase(event.phase, event.t);
        break;
      case 'check':
        this.current.events.push(checkEvent(event));
        (this.current.checks ??= new Map()).set(`${event.role} ${event.check}`, event.verdict === 'passed' ? undefined : `${event.role} ${event.verdict}: ${event.message}`);
        break;
      case 'abort':
        this.current.events.push({ name: 'abort', atMs: event.t, attributes: { 'gameday.check.text': event.check, 'gameday.message': event.message } });
        this.current.error ??= event.message;
        break;
      case 'log':
        this.current.events.push({ name: event.level === 'error' ? 'error' : 'warning', atMs: event.t, attributes: { 'gameday.message': event.message } });
        break;
      case 'fault':
        this.faultStep(event);
        break;
      case 'probe.start':
      case 'probe.stop':
      case 'probe.error':
        this.probeStep(event);
        break;
      case 'signal':
        this.root.events.push({ name: 'signal', atMs: event.t, attributes: { 'gameday.signal': event.signal } });
        break;
      case 'node.condition':
        this.root.events.push({
          name: 'node condition',
          atMs: event.t,
          attributes: {
            'k8s.node.name': event.node,
            'gameday.node.condition': event.condition,
            'gameday.node.status': event.status,
            'gameday.node.previous_status': event.previousStatus,
            'gameday.node.reason': event.reason,
            'gameday.message': event.message,
          },
        });
        break;
      default:
        break;
    }
  }

  build(): TraceSpan[] {
    const r = this.result;
    const rootStatus = r.outcome === 'passed' ? ({ code: 'ok' } as const) : ({ code: 'error', message: `${r.outcome}: ${r.reason}` } as const);
    const others = [...this.phases, ...this.faults.values(), ...this.probes.values()].map((s) => this.close(s));
    return [{ ...this.close(this.root), status: rootStatus }, ...others];
  }

  /** The phase the run was in when an event came: by journal order, so an event stamped in the same millisecond as the next phase still belongs to its own. */
  private get current(): OpenSpan {
    return this.phases.at(-1) ?? this.root;
  }

  private startPhase(phase: string, t: number): void {
    const previous = this.phases.at(-1);
    if (previous) previous.endMs = t;
    this.phases.push({ key: `phase ${this.phases.length} ${phase}`, parent: ROOT, name: phase, startMs: t, attributes: { 'gameday.phase': phase }, events: [] });
  }

  private faultStep(event: FaultEvent): void {
    const fault = this.result.faults.find((f) => f.id === event.fault);
    let span = this.faults.get(event.fault);
    if (!span) {
      span = { key: `fault ${event.fault}`, parent: this.current.key, name: `fault ${event.fault} ${event.kind}`, startMs: event.t, attributes: faultAttributes(event, fault), events: [] };
      const problems = fault ? faultProblems(fault) : [];
      if (problems.length > 0) span.error = problems.map((p) => p.message).join('; ');
      this.faults.set(event.fault, span);
    }
    span.events.push({ name: event.step, atMs: event.t, attributes: { 'gameday.message': event.message } });
    // A fault never reverted lasts until the run's end (see `close`): the cluster had it that long at least.
    if (fault?.revertedAtMs !== undefined) span.endMs = event.t;
  }

  private probeStep(event: Extract<RunEvent, { type: 'probe.start' | 'probe.stop' | 'probe.error' }>): void {
    let span = this.probes.get(event.probe);
    if (!span) {
      const tally = this.result.probes.find((p) => p.name === event.probe);
      span = {
        key: `probe ${event.probe}`,
        parent: ROOT,
        name: `probe ${event.probe}`,
        startMs: event.t,
        attributes: {
          'gameday.probe.name': event.probe,
          'gameday.probe.kind': event.kind,
          'gameday.probe.samples': tally ? BigInt(tally.samples) : undefined,
          'gameday.probe.samples_failed': tally ? BigInt(tally.failed) : undefined,
        },
        events: [],
      };
      this.probes.set(event.probe, span);
    }
    if (event.type === 'probe.stop') span.endMs = event.t;
    if (event.type === 'probe.error') {
      span.events.push({ name: 'error', atMs: event.t, attributes: { 'gameday.message': event.message } });
      span.error ??= event.message ?? 'probe failed';
    }
  }

  /** A span still open when the run ended (the last phase, a probe never stopped) ends with the run. */
  private close(span: OpenSpan): TraceSpan {
    const endMs = Math.max(span.startMs, span.endMs ?? this.result.endedAtMs);
    const error = span.error ?? [...(span.checks?.values() ?? [])].find((failure) => failure !== undefined);
    return {
      key: span.key,
      ...(span.parent !== undefined ? { parent: span.parent } : {}),
      name: span.name,
      startMs: span.startMs,
      endMs,
      attributes: span.attributes,
      events: span.events,
      ...(error !== undefined ? { status: { code: 'error', message: error } as const } : {}),
    };
  }
}

function checkEvent(event: CheckEvent): TraceSpanEvent {
  return {
    name: `${event.role} ${event.verdict}`,
    atMs: event.t,
    attributes: {
      'gameday.check.text': event.check,
      'gameday.check.role': event.role,
      'gameday.check.verdict': event.verdict,
      'gameday.check.value': event.value,
      'gameday.message': event.message,
    },
  };
}

function faultAttributes(event: FaultEvent, planned: FaultResult | undefined): Attributes {
  return {
    'gameday.fault.id': event.fault,
    'gameday.fault.kind': event.kind,
    'gameday.fault.description': planned?.description,
    'gameday.fault.targets': describeTargets(planned?.targets ?? event.targets),
    'gameday.fault.landed': planned?.landed,
    'gameday.fault.verify_message': planned?.verifyMessage,
  };
}
