import type { Outcome } from '../core/outcome.js';
import type { Sample } from '../core/sample.js';

/**
 * Everything that happens in a run, as plain data. The engine writes each event to the journal
 * (`journal.ndjson`) and hands it to the reporters; nothing else links engine and reporters.
 * Fault steps are journaled *before* they act (docs/architecture.md, principle 2), so a crashed run can be
 * recovered from the journal alone.
 */
export type RunEvent =
  | RunStartEvent
  | PlanEvent
  | PhaseEvent
  | ProbeStartEvent
  | SampleEvent
  | FaultEvent
  | StepEvent
  | CheckEvent
  | AbortEvent
  | SignalEvent
  | LogEvent
  | ClusterWarningEvent
  | NodeConditionEvent
  | ApiRetriesEvent
  | RunEndEvent;

/**
 * 2: `api.retries` events. Readers skip event types they do not know, so a version 2 journal reads
 * as before in older gameday; a version 1 journal has no retry counts (absent, not zero).
 */
export const JOURNAL_VERSION = 2;

/** How to reach the cluster again, for `gameday recover` in another process. */
export interface ClusterRef {
  /** `embedded`: a cluster gameday started in-process for the run (its own API server, or upstream Kubernetes with `--control-plane real`), gone with the process. */
  readonly kind: 'embedded' | 'kubeconfig';
  readonly name: string;
  readonly context?: string;
  readonly kubeconfig?: string;
  readonly server?: string;
}

export interface RunStartEvent {
  readonly type: 'run.start';
  readonly t: number;
  readonly journalVersion: number;
  readonly runId: string;
  readonly experiment: string;
  readonly file: string;
  readonly seed: number;
  readonly cluster: ClusterRef;
  readonly durationMs: number;
  readonly gamedayVersion: string;
}

/**
 * The plan as plain data (src/plan), so reports and `gameday recover` know exactly what was
 * targeted. Journaled after setup: targets are chosen once the experiment's workloads exist.
 */
export interface PlanEvent {
  readonly type: 'plan';
  readonly t: number;
  readonly plan: unknown;
}

export type Phase = 'setup' | 'steady-state-before' | 'faults' | 'recovery' | 'evaluation' | 'teardown';

export interface PhaseEvent {
  readonly type: 'phase';
  readonly t: number;
  readonly phase: Phase;
}

export interface ProbeStartEvent {
  readonly type: 'probe.start' | 'probe.stop' | 'probe.error';
  readonly t: number;
  readonly probe: string;
  readonly kind: string;
  readonly message?: string;
}

export interface SampleEvent extends Sample {
  readonly type: 'sample';
}

export type FaultStep = 'inject' | 'injected' | 'verified' | 'not-landed' | 'revert' | 'reverted' | 'revert-failed' | 'inject-failed' | 'interrupted';

export interface FaultEvent {
  readonly type: 'fault';
  readonly t: number;
  readonly step: FaultStep;
  /** Stable id of the fault in the plan: `f0`, `f1`… (index in spec.faults). */
  readonly fault: string;
  readonly kind: string;
  /** What the fault acts on, as the plan chose it. On `inject`. */
  readonly targets?: unknown;
  /** What revert needs, as the fault's inject returned it. On `injected`. */
  readonly state?: unknown;
  /** Why: the verification evidence, the error message. */
  readonly message?: string;
  readonly evidence?: unknown;
}

export type CheckRole = 'steady-state-before' | 'steady-state-after' | 'slo' | 'abort';
export type Verdict = 'passed' | 'failed' | 'no-data';

export interface CheckEvent {
  readonly type: 'check';
  readonly t: number;
  readonly role: CheckRole;
  /** The check as written, e.g. `availability(web) >= 99.5%`. */
  readonly check: string;
  readonly verdict: Verdict;
  /** The measured value the verdict compared, in the check's unit. */
  readonly value?: number;
  readonly message: string;
  /** The samples (or their time range) that decided the verdict. */
  readonly evidence?: CheckEvidence;
}

export interface CheckEvidence {
  readonly from: number;
  readonly to: number;
  readonly samples: number;
  /** The worst few samples: the ones a person should look at first. */
  readonly worst?: readonly Sample[];
  readonly firstViolationAt?: number;
  readonly note?: string;
}

export interface AbortEvent {
  readonly type: 'abort';
  readonly t: number;
  readonly check: string;
  readonly message: string;
}

export interface SignalEvent {
  readonly type: 'signal';
  readonly t: number;
  readonly signal: string;
}

export interface LogEvent {
  readonly type: 'log';
  readonly t: number;
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
}

/**
 * A Kubernetes Warning Event seen during the run (src/engine/cluster-watch.ts): what the cluster
 * itself said went wrong (NodeNotReady, FailedScheduling, Evicted, Unhealthy…). An Event that
 * repeats is journaled again with its new `count`.
 */
/**
 * A drill step (spec.steps): `start` is journaled before it acts, then `done` or `failed`. A step
 * is never reverted and never retried: after a crash the journal says whether it started.
 */
export interface StepEvent {
  readonly type: 'step';
  readonly t: number;
  /** `s0`, `s1`… (index in spec.steps). */
  readonly step: string;
  readonly name: string;
  readonly kind: string;
  readonly phase: 'start' | 'done' | 'failed';
  readonly message?: string;
  /** What it did: the exec's exit code and output, the object deleted, the check's last outcome. */
  readonly evidence?: unknown;
}

export interface ClusterWarningEvent {
  readonly type: 'cluster.event';
  readonly t: number;
  readonly eventType: 'Warning';
  readonly reason: string;
  readonly message: string;
  /** The object the Event is about, as `Kind namespace/name` (`Pod shop/web-1`, `Node worker-2`). */
  readonly object: string;
  /** How many times the cluster has recorded this Event so far. */
  readonly count: number;
  /** The component that recorded it (`kubelet`, `default-scheduler`, `node-controller`). */
  readonly source?: string;
}

/** The state a node condition (Ready, DiskPressure…) is in: Kubernetes' own True/False/Unknown. */
export type ConditionStatus = 'True' | 'False' | 'Unknown';

/**
 * A node condition that changed during the run, or that was already unhealthy when the watch
 * first saw the node (then `previousStatus` is absent). Healthy is Ready=True and every other
 * condition (DiskPressure, MemoryPressure, PIDPressure, NetworkUnavailable) False.
 */
export interface NodeConditionEvent {
  readonly type: 'node.condition';
  readonly t: number;
  readonly node: string;
  /** `Ready`, `DiskPressure`, `MemoryPressure`, `PIDPressure`, `NetworkUnavailable`, or any other type the node reports. */
  readonly condition: string;
  readonly status: ConditionStatus;
  readonly previousStatus?: ConditionStatus;
  readonly reason?: string;
  readonly message?: string;
}

/**
 * The requests to the API server that gameday tried again during a phase (src/cluster/api-retries.ts),
 * counted by cause: `HTTP 503`, `connection reset`, `timeout`, `write re-read`, `re-list after 410`,
 * `broken watch`… Journaled as the phase ends, and only when there were any: a retry storm is one line.
 */
export interface ApiRetriesEvent {
  readonly type: 'api.retries';
  readonly t: number;
  readonly phase: Phase;
  readonly counts: Readonly<Record<string, number>>;
}

export interface RunEndEvent {
  readonly type: 'run.end';
  readonly t: number;
  readonly outcome: Outcome;
  readonly reason: string;
}
