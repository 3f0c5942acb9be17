import type { Duration } from '../core/duration.js';
import type { CheckExpr } from '../slo/ast.js';
import type { StepDocument, StepKind } from './step-schema.js';

/**
 * An experiment after parse → normalize → rules (src/spec/load.ts). Plain, readonly data:
 * the plan and the engine never see YAML. Plug-in parameters (`params`) have been checked by the
 * plug-in's own schema and are its parsed output.
 */
export interface ExperimentSpec {
  /** The file as the user named it, for messages. */
  readonly file: string;
  /** The directory relative paths in the file (workloads, journeys, scripts) are resolved against. */
  readonly dir: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly description?: string;
  /** Manifest files applied before the run and removed after, resolved to absolute paths. */
  readonly workloads: readonly string[];
  readonly duration: Duration;
  readonly steadyState: SteadyStateSpec;
  readonly probes: readonly ProbeSpec[];
  readonly faults: readonly FaultSpec[];
  /** Drill steps, in file order. */
  readonly steps: readonly StepSpec[];
  readonly slos: readonly CheckSpec[];
  readonly abort: readonly CheckSpec[];
  readonly blastRadius: BlastRadius;
  /** Where a dotted path stands in the file, for errors found after loading (plan time). */
  readonly locate: (path: string) => { readonly line: number; readonly column: number };
}

export interface SteadyStateSpec {
  readonly checks: readonly CheckSpec[];
  /** After the faults, how long the steady state may take to return. @default 60s */
  readonly recoverWithin: Duration;
  /** Before the faults, how long to wait for the steady state to hold. @default 60s */
  readonly timeout: Duration;
}

export interface CheckSpec {
  /** Dotted path of the check in the file: `spec.slos[2]`. */
  readonly path: string;
  readonly expr: CheckExpr;
}

export interface ProbeSpec {
  readonly name: string;
  readonly kind: string;
  readonly params: unknown;
  readonly path: string;
}

export interface FaultSpec {
  /** `f0`, `f1`… in file order; stable across runs of the same file. */
  readonly id: string;
  readonly index: number;
  readonly kind: string;
  /** Optional name from the file; defaults to `<kind>#<index>`. */
  readonly name: string;
  readonly at: Duration;
  /** How long the fault is held before it is reverted; absent: until the end of the run. */
  readonly for?: Duration;
  readonly params: unknown;
  readonly path: string;
}

/** A drill step: runs once at `at` (from the start of the fault phase) and is never reverted. */
export interface StepSpec {
  /** `s0`, `s1`… in file order. */
  readonly id: string;
  readonly name: string;
  readonly kind: StepKind;
  readonly at: Duration;
  readonly params: StepDocument['params'];
  /** `spec.steps[i]`. */
  readonly path: string;
}

export interface BlastRadius {
  /** Most distinct nodes all faults together may touch. @default 1 */
  readonly maxNodes: number;
  /** Most pods of one workload (owner) all faults together may touch, in percent. @default 50 */
  readonly maxPodPercent: number;
  /** Whether a zoneOutage may take a whole zone out; its nodes then do not count against maxNodes. @default false */
  readonly allowZoneOutage: boolean;
  /** Namespaces delete steps may delete in (or delete, for kind Namespace). @default none */
  readonly allowDeleteIn: readonly string[];
}
