import type { Sample } from '../core/sample.js';
import { callText, type CheckExpr } from './ast.js';
import type { CheckOutcome, EvaluationRange } from './evaluate.js';
import { compare } from './evaluate.js';
import { implicitProbeName } from './functions.js';
import type { SampleSource } from './sample-index.js';

/** How many missing objects a message names before it says `…`. */
const MISSING_NAMED = 5;

/** What an etcdRestore step says of one object a delete step before it deleted (src/engine/drill-steps.ts). */
export interface RestoredObjectDetail {
  /** `Deployment drill/web`. */
  readonly object: string;
  /** The delete step that deleted it. */
  readonly deletedBy: string;
}

/** What an etcdSnapshot step journals. */
export interface EtcdSnapshotEvidence {
  readonly file: string;
  readonly bytes: number;
}

/** What an etcdRestore step journals of each object a delete step between the snapshot and the restore deleted. */
export interface RestoredObject extends RestoredObjectDetail {
  readonly cameBack: boolean;
  /** A Deployment or StatefulSet that came back: from the restore's start until it was ready again in pods started after it. */
  readonly reconciledMs?: number;
  /**
   * The Ready pods that served it then: pods the snapshot held, run again by the nodes (as a
   * kubelet does with the pods the API server says it runs), or new pods its controller made.
   */
  readonly servedBy?: { readonly restoredPods: number; readonly newPods: number };
  /** A workload not reconciled in time: what it looked like last. */
  readonly state?: string;
}

/** An etcdRestore step's evidence (src/engine/etcd-steps.ts), which the reports' Drills table reads. */
export interface EtcdRestoreEvidence {
  readonly snapshot: EtcdSnapshotEvidence & { readonly step: string };
  /** From stopping the API server and etcd until the API server, on the restored etcd, answered ready. */
  readonly apiServerReadyMs: number;
  readonly objects: readonly RestoredObject[];
}

/**
 * `restored(step)`: the share of the objects the delete steps before etcdRestore step `step`
 * deleted that the API server served again once the restore was done. The step emits one sample
 * per object under the check's implicit name, ok when the object came back; a failed check names
 * the ones that did not (an object created after the snapshot never comes back, which is right,
 * but the check says so). When the step never restored there is no data.
 */
export function evaluateRestored(expr: CheckExpr, source: SampleSource, range: EvaluationRange): CheckOutcome {
  if (expr.op === 'holds') throw new Error('unreachable: restored is a comparison');
  const read = source.samples(implicitProbeName('restored', expr.arg));
  if (read.length === 0) {
    return { verdict: 'no-data', message: `${expr.text}: step ${expr.arg} never restored a snapshot, so no deleted object was looked for`, evidence: { from: range.from, to: range.to, samples: 0 } };
  }
  const missing = read.filter((s) => !s.ok);
  const value = (read.length - missing.length) / read.length;
  const passed = compare(value, expr.op, expr.threshold.value);
  const names = missing.map((s) => describe(s));
  const missingText =
    missing.length === 0 ? 'every one came back' : `not back: ${names.slice(0, MISSING_NAMED).join(', ')}${names.length > MISSING_NAMED ? `, and ${names.length - MISSING_NAMED} more` : ''}`;
  return {
    verdict: passed ? 'passed' : 'failed',
    value,
    message: `${callText(expr)} = ${(value * 100).toFixed(1)}% (need ${expr.op} ${expr.threshold.text}): ${read.length - missing.length} of ${read.length} deleted object${read.length === 1 ? '' : 's'} back after ${expr.arg}; ${missingText}`,
    evidence: { from: read[0]!.t, to: read.at(-1)!.t, samples: read.length, ...(missing.length > 0 ? { worst: missing.slice(0, MISSING_NAMED), firstViolationAt: missing[0]!.t } : {}) },
  };
}

function describe(s: Sample): string {
  const d = s.detail as RestoredObjectDetail | undefined;
  return d ? `${d.object} (deleted by ${d.deletedBy})` : '?';
}
