import type { z } from 'zod';
import type { Permission } from '../cluster/rbac.js';
import type { ClusterSnapshot } from '../cluster/snapshot.js';
import type { ClusterTarget } from '../cluster/target.js';
import type { SeededRandom } from '../core/rng.js';

/**
 * A fault kind, registered under its YAML key (`podKill`, `nodeDrain`…). Every fault is
 * plan (pure) → inject → verify → revert; the engine journals each step before it runs it.
 */
export interface FaultPlugin<Params = unknown, Targets = unknown, State = unknown> {
  readonly kind: string;
  /** One line for help text and the JSON Schema description. */
  readonly summary: string;
  /** Schema of the value under the YAML key; its output is what the other methods get. */
  readonly params: z.ZodType<Params>;
  /**
   * Whether it needs node access (iptables, tc, files on the node), for these params; the plan
   * refuses such a fault on a cluster with no node access rather than let inject fail.
   */
  readonly needsNodeAccess?: boolean | ((params: Params) => boolean);
  /**
   * What plan, inject, verify and revert do through the Kubernetes API for these params, as RBAC
   * grants it (`gameday rbac`). Node access brings its own: `needsNodeAccess` adds the provider's.
   * Absent: nothing beyond the node access it needs.
   */
  permissions?(params: Params): readonly Permission[];
  /** Pure: choose concrete targets. Throw PlanError when nothing matches or limits are broken. */
  plan(params: Params, ctx: FaultPlanContext): PlannedTargets<Targets>;
  /** Apply the fault; return what revert needs. Must be safe to revert even if it throws halfway. */
  inject(ctx: FaultContext, params: Params, targets: Targets): Promise<State>;
  /** Check that the fault really landed (docs/architecture.md, principle 3). */
  verify(ctx: FaultContext, params: Params, targets: Targets, state: State): Promise<VerifyResult>;
  /** Undo the fault. Idempotent; `state` is undefined when inject never returned (crash, throw). */
  revert(ctx: FaultContext, params: Params, targets: Targets, state: State | undefined): Promise<void>;
}

/** Whether a fault of this kind, with these params, runs commands inside nodes. */
export function needsNodeAccess<P>(plugin: FaultPlugin<P>, params: P): boolean {
  return typeof plugin.needsNodeAccess === 'function' ? plugin.needsNodeAccess(params) : plugin.needsNodeAccess === true;
}

export interface FaultPlanContext {
  readonly snapshot: ClusterSnapshot;
  readonly rng: SeededRandom;
}

export interface PlannedTargets<Targets> {
  readonly targets: Targets;
  /** What the fault touches, for the blast-radius limits and `gameday plan`. */
  readonly touches: {
    readonly nodes: readonly string[];
    readonly pods: readonly string[];
    /** Zones taken out whole (zoneOutage): allowed only by `spec.blastRadius.allowZoneOutage`. */
    readonly zones?: readonly string[];
  };
  /** One line: `drain node worker-2 (evicting 14 pods)`. */
  readonly description: string;
}

export interface FaultContext {
  readonly cluster: ClusterTarget;
  /** Aborted when the run is interrupted; long inject steps should give up promptly. */
  readonly signal: AbortSignal;
  /**
   * How long the fault is planned to stay once injected: its `for`, or the rest of the fault phase.
   * A fault that leaves a process on a node bounds its life with it, so a gameday killed outright
   * leaves nothing running for ever. Absent when not known (a revert, `gameday recover`).
   */
  readonly holdMs?: number;
  /** Adds a line to the journal (and the terminal) about this fault. */
  log(message: string): void;
  /** Records evidence gathered while acting (e.g. every 429 of a drain). */
  evidence(item: unknown): void;
}

export interface VerifyResult {
  readonly landed: boolean;
  readonly message: string;
  readonly evidence?: unknown;
}
