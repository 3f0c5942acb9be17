import { CHECK_FUNCTIONS } from '../slo/functions.js';
import { parseCheck } from '../slo/parse.js';
import { formatValue } from './check-text.js';
import type { HistoryCheck, HistoryEntry } from './history.js';

/**
 * How far a value may move the wrong way before it counts as a regression. Availability is
 * compared in percentage points (99.9% → 99.0% matters although it is only 0.9% less); every
 * other value relative to the previous one, so timing noise does not flag every run.
 */
export interface RegressionTolerance {
  /** @default 0.1 (10 %) */
  readonly relative: number;
  /** For checks measured in percent. @default 0.1 */
  readonly percentPoints: number;
}

export const DEFAULT_TOLERANCE: RegressionTolerance = { relative: 0.1, percentPoints: 0.1 };

export type Change = 'better' | 'worse' | 'same';

export interface Regression {
  /** `role check`, or `recovery` for the recovery time. */
  readonly key: string;
  readonly label: string;
  readonly message: string;
}

export function checkKey(c: Pick<HistoryCheck, 'role' | 'check'>): string {
  return `${c.role} ${c.check}`;
}

/**
 * Whether a larger value of this check is better (`availability(web) >= 99%`), worse
 * (`p99(web) < 300ms`), or neither (`pdb(shop/web) holds`, `errors(web) == 0`): the comparator
 * the author wrote says which way is good.
 */
export function betterDirection(check: string): 'higher' | 'lower' | undefined {
  try {
    const expr = parseCheck(check);
    if (expr.op === '>=' || expr.op === '>') return 'higher';
    if (expr.op === '<=' || expr.op === '<') return 'lower';
  } catch {
    // A check the report cannot parse has no direction; its verdict still compares.
  }
  return undefined;
}

function inPercent(check: string): boolean {
  try {
    return CHECK_FUNCTIONS.get(parseCheck(check).fn)?.unit === 'ratio';
  } catch {
    return false;
  }
}

/** How `current` compares with `previous` for a value where `direction` is better, beyond the tolerance. */
export function valueChange(check: string, previous: number, current: number, direction: 'higher' | 'lower', tolerance = DEFAULT_TOLERANCE): Change {
  const allowed = inPercent(check) ? tolerance.percentPoints : Math.abs(previous) * tolerance.relative;
  const gain = direction === 'higher' ? current - previous : previous - current;
  if (gain < -allowed) return 'worse';
  if (gain > allowed) return 'better';
  return 'same';
}

/**
 * What got worse from the previous run of an experiment to this one: a check that passed and now
 * fails, a value that moved the wrong way beyond the tolerance, a slower recovery.
 */
export function findRegressions(previous: HistoryEntry, current: HistoryEntry, tolerance = DEFAULT_TOLERANCE): Regression[] {
  const before = new Map(previous.checks.map((c) => [checkKey(c), c]));
  const out: Regression[] = [];
  for (const c of current.checks) {
    const key = checkKey(c);
    const p = before.get(key);
    if (!p) continue;
    if (p.verdict === 'passed' && c.verdict === 'failed') {
      out.push({ key, label: c.check, message: `passed in ${previous.runId}, fails now` });
      continue;
    }
    const direction = betterDirection(c.check);
    if (direction && p.value !== undefined && c.value !== undefined && valueChange(c.check, p.value, c.value, direction, tolerance) === 'worse') {
      out.push({ key, label: c.check, message: `${formatValue(p.value)} → ${formatValue(c.value)} (${direction} is better; previous run ${previous.runId})` });
    }
  }
  if (previous.recoveryMs !== undefined && current.recoveryMs !== undefined && valueChange('recovery', previous.recoveryMs, current.recoveryMs, 'lower', tolerance) === 'worse') {
    out.push({ key: 'recovery', label: 'recovery time', message: `${formatValue(previous.recoveryMs)}ms → ${formatValue(current.recoveryMs)}ms (previous run ${previous.runId})` });
  }
  return out;
}
