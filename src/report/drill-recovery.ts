import type { Verdict } from '../journal/events.js';
import { PROBE_AND_STEP, STEP_PAIR } from '../slo/functions.js';
import type { CheckResult } from './result.js';

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
}

/** The SLOs' `rto(…)` and `rpo(…)` checks, grouped per disaster step in the order they first appear. */
export function drillRecoveries(checks: readonly CheckResult[]): DrillRecovery[] {
  const drills = new Map<string, { disaster: string; rto: DrillRecovery['rto'][number][]; rpo: DrillRecovery['rpo'][number][] }>();
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
  return [...drills.values()];
}
