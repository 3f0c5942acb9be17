import type { ClusterRef } from '../journal/events.js';
import type { FaultSpec, ProbeSpec } from '../spec/model.js';

/**
 * The output of planning: exactly what a run will touch and when. `gameday plan` prints it;
 * the engine executes it; the journal records it. Plain JSON-able data.
 */
export interface Plan {
  readonly experiment: string;
  readonly file: string;
  readonly seed: number;
  readonly cluster: ClusterRef;
  readonly durationMs: number;
  readonly faults: readonly PlannedFault[];
  /** Drill steps, in file order (absent in plans journaled before steps existed). */
  readonly steps?: readonly PlannedStep[];
  /** Declared probes plus the implicit ones checks ask for (`pdb(shop/web) holds` → a pdb probe). */
  readonly probes: readonly ProbeSpec[];
  /** Union over all faults, checked against the blast-radius limits. */
  readonly touches: { readonly nodes: readonly string[]; readonly pods: readonly string[] };
  /** The limits the plan was checked against and how much of them it uses, for `gameday plan`. */
  readonly blastRadius?: BlastRadiusUse;
  readonly warnings: readonly string[];
}

export interface BlastRadiusUse {
  readonly maxNodes: number;
  readonly maxPodPercent: number;
  /** Whether spec.blastRadius.allowZoneOutage lets a fault take a whole zone out. */
  readonly allowZoneOutage?: boolean;
  /** Each zone taken out whole, with its nodes (which maxNodes then does not count). */
  readonly zones?: readonly ZoneUse[];
  /** One entry per workload (controlling owner) whose pods the faults touch. */
  readonly owners: readonly OwnerShare[];
}

export interface ZoneUse {
  readonly zone: string;
  /** The fault's name (`zoneOutage-0`). */
  readonly fault: string;
  readonly nodes: readonly string[];
}

export interface OwnerShare {
  readonly namespace: string;
  /** `ReplicaSet/web-7d9c…`, `StatefulSet/db`. */
  readonly owner: string;
  readonly touched: number;
  /** The owner's pods in the cluster snapshot. */
  readonly total: number;
  readonly percent: number;
}

export interface PlannedStep {
  readonly id: string;
  readonly name: string;
  readonly kind: string;
  readonly atMs: number;
  readonly description: string;
}

export interface PlannedFault {
  readonly id: string;
  readonly kind: string;
  readonly name: string;
  readonly atMs: number;
  /** Absent: held until the end of the run. */
  readonly forMs?: number;
  readonly params: unknown;
  readonly targets: unknown;
  /** Nodes by name, pods as `namespace/name`; zones a zoneOutage takes out whole. */
  readonly touches: { readonly nodes: readonly string[]; readonly pods: readonly string[]; readonly zones?: readonly string[] };
  readonly description: string;
  readonly spec: FaultSpec;
}
