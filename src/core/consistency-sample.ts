import type { Sample } from './sample.js';

/**
 * What a consistency probe's samples mean, shared by the probe that emits them and the check
 * functions that count them (`lostWrites`, `duplicates`, `staleReads`, `lag`). `detail.op` says
 * which observation a sample is; `detail.key` names the record.
 *
 * - `write`: one write; ok when acknowledged (2xx).
 * - `read`: one read-back of an acknowledged record; error `stale` when the answer lacked it.
 * - `lag`: one record's replication lag in `value` (ms), from acknowledgement to settled reads.
 * - `verify`: one acknowledged record read again after recovery; error `lost` when it is gone.
 * - `list`: the listing was read (`value`: records found more than once); each such record is
 *   one more `list` sample with error `duplicate` and its copies in `value`.
 *
 * Verification samples carry the time the record was written, so they fall in the window of the
 * fault that lost it.
 */
export const CONSISTENCY_OPS = ['write', 'read', 'lag', 'verify', 'list'] as const;
export type ConsistencyOp = (typeof CONSISTENCY_OPS)[number];

export const LOST = 'lost';
export const DUPLICATE = 'duplicate';
export const STALE = 'stale';

export function consistencyOp(sample: Pick<Sample, 'detail'>): ConsistencyOp | undefined {
  const op = sample.detail?.op;
  return typeof op === 'string' && (CONSISTENCY_OPS as readonly string[]).includes(op) ? (op as ConsistencyOp) : undefined;
}

/** The record a consistency sample is about. */
export function recordKey(sample: Pick<Sample, 'detail'>): string | undefined {
  const key = sample.detail?.key;
  return typeof key === 'string' ? key : undefined;
}
