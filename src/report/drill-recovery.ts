import type { Verdict } from '../journal/events.js';
import { PROBE_AND_STEP, STEP_PAIR } from '../slo/functions.js';
import type { EtcdRestoreEvidence } from '../slo/restored.js';
import type { CheckResult, StepResult } from './result.js';
import { formatDuration } from './time-text.js';

/** One recovery objective a drill was judged on: its check, the value measured, the verdict. */
export interface RecoveryObjective {
  readonly check: string;
  readonly verdict: Verdict;
  /** ms; undefined when there was no data. */
  readonly value?: number;
}

/** A drill's recovery, keyed by its disaster step: how long the service was gone (RTO) and how much data went (RPO). */
export interface DrillRecovery {
  /** The step both objectives measure from. */
  readonly disaster: string;
  /** `rto(disaster, back)`: until step `back` ended. */
  readonly rto: readonly (RecoveryObjective & { readonly until: string })[];
  /** `rpo(probe, disaster)`: the writes of consistency probe `probe`. */
  readonly rpo: readonly (RecoveryObjective & { readonly probe: string })[];
  /** What an etcdRestore step brought back of the objects this step deleted; absent when none restored them. */
  readonly restored?: readonly RestoredDrillObject[];
}

/** One object a disaster deleted, after a control-plane restore: back or not, and when its workload served again. */
export interface RestoredDrillObject {
  readonly object: string;
  /** The etcdRestore step. */
  readonly restoredBy: string;
  readonly cameBack: boolean;
  /** ms from the restore's start until the workload was ready again in pods started after it (Deployments and StatefulSets). */
  readonly reconciledMs?: number;
  /** The Ready pods that served it again: restored from the snapshot and run again by the nodes, or made anew by its controller. */
  readonly servedBy?: { readonly restoredPods: number; readonly newPods: number };
  /** A workload that did not reconcile in time: what it looked like last. */
  readonly state?: string;
}

/**
 * The SLOs' `rto(…)` and `rpo(…)` checks, grouped per disaster step in the order they first
 * appear, with what each etcdRestore step found of the objects that step deleted.
 */
export function drillRecoveries(checks: readonly CheckResult[], steps: readonly StepResult[] = []): DrillRecovery[] {
  const drills = new Map<string, { disaster: string; rto: DrillRecovery['rto'][number][]; rpo: DrillRecovery['rpo'][number][]; restored?: RestoredDrillObject[] }>();
  const drill = (disaster: string) => drills.get(disaster) ?? drills.set(disaster, { disaster, rto: [], rpo: [] }).get(disaster)!;
  for (const c of checks) {
    if (c.role !== 'slo') continue;
    const call = /^(rto|rpo)\(([^)]*)\)/.exec(c.check);
    if (!call) continue;
    const objective = { check: c.check, verdict: c.verdict, ...(c.value !== undefined ? { value: c.value } : {}) };
    if (call[1] === 'rto') {
      const pair = STEP_PAIR.exec(call[2]!.trim());
      if (pair) drill(pair[1]!).rto.push({ ...objective, until: pair[2]! });
    } else {
      const named = PROBE_AND_STEP.exec(call[2]!.trim());
      if (named) drill(named[2]!).rpo.push({ ...objective, probe: named[1]! });
    }
  }
  for (const step of steps) {
    if (step.kind !== 'etcdRestore' || step.evidence === undefined) continue;
    for (const o of (step.evidence as EtcdRestoreEvidence).objects) {
      const d = drill(o.deletedBy);
      (d.restored ??= []).push({ object: o.object, restoredBy: step.name, cameBack: o.cameBack, ...(o.reconciledMs !== undefined ? { reconciledMs: o.reconciledMs } : {}), ...(o.servedBy ? { servedBy: o.servedBy } : {}), ...(o.state !== undefined ? { state: o.state } : {}) });
    }
  }
  return [...drills.values()];
}

/** `Deployment drill/web back after restore, ready again 7.6s after the restore began (2 new pods)`, for the reports' Drills tables. */
export function restoredText(o: RestoredDrillObject): string {
  if (!o.cameBack) return `${o.object} not back after ${o.restoredBy}`;
  const pods = o.servedBy ? ` (${[o.servedBy.restoredPods > 0 ? `${o.servedBy.restoredPods} restored pod${o.servedBy.restoredPods === 1 ? '' : 's'} run again` : '', o.servedBy.newPods > 0 ? `${o.servedBy.newPods} new pod${o.servedBy.newPods === 1 ? '' : 's'}` : ''].filter(Boolean).join(', ')})` : '';
  const served = o.reconciledMs !== undefined ? `, ready again ${formatDuration(o.reconciledMs)} after the restore began${pods}` : o.state !== undefined ? `, not ready again in time (${o.state})` : '';
  return `${o.object} back after ${o.restoredBy}${served}`;
}
