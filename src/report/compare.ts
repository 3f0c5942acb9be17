import type { CheckRole, Verdict } from '../journal/events.js';
import type { Outcome } from '../core/outcome.js';
import { formatValue } from './check-text.js';
import { historyEntry, type HistoryCheck } from './history.js';
import { plainText } from './plain-text.js';
import { betterDirection, checkKey, DEFAULT_TOLERANCE, valueChange, type RegressionTolerance } from './regression.js';
import type { RunResult } from './result.js';
import { formatDuration } from './time-text.js';

export interface ComparedRun {
  readonly runId: string;
  readonly experiment: string;
  readonly startedAt: string;
  readonly outcome: Outcome;
  readonly durationMs: number;
  readonly recoveryMs?: number;
}

/** `worse` is a regression from A to B: a check that passed and fails, or a value beyond the tolerance. */
export type RowChange = 'better' | 'worse' | 'same' | 'changed' | 'only-a' | 'only-b';

export interface ComparedCheck {
  readonly role: CheckRole;
  readonly check: string;
  readonly a?: { readonly verdict: Verdict; readonly value?: number };
  readonly b?: { readonly verdict: Verdict; readonly value?: number };
  readonly change: RowChange;
}

/** `gameday report --compare A B --json` prints this. */
export interface RunComparison {
  readonly a: ComparedRun;
  readonly b: ComparedRun;
  readonly checks: readonly ComparedCheck[];
  /** Lower is better; absent when either run has no recovery time. */
  readonly recovery?: RowChange;
  readonly regressions: number;
}

/** Lines two runs' checks up by role and text and says which way each moved from A to B. */
export function compareRuns(a: RunResult, b: RunResult, tolerance: RegressionTolerance = DEFAULT_TOLERANCE): RunComparison {
  const ea = historyEntry(a);
  const eb = historyEntry(b);
  const inB = new Map(eb.checks.map((c) => [checkKey(c), c]));
  const seen = new Set<string>();
  const checks: ComparedCheck[] = [];
  for (const ca of ea.checks) {
    const key = checkKey(ca);
    seen.add(key);
    const cb = inB.get(key);
    checks.push({ role: ca.role, check: ca.check, a: side(ca), ...(cb ? { b: side(cb) } : {}), change: cb ? change(ca, cb, tolerance) : 'only-a' });
  }
  for (const cb of eb.checks) if (!seen.has(checkKey(cb))) checks.push({ role: cb.role, check: cb.check, b: side(cb), change: 'only-b' });
  const recovery = ea.recoveryMs !== undefined && eb.recoveryMs !== undefined ? valueChange('recovery', ea.recoveryMs, eb.recoveryMs, 'lower', tolerance) : undefined;
  const run = (r: RunResult, recoveryMs: number | undefined): ComparedRun => ({
    runId: r.runId,
    experiment: r.experiment,
    startedAt: r.startedAt,
    outcome: r.outcome,
    durationMs: r.durationMs,
    ...(recoveryMs !== undefined ? { recoveryMs } : {}),
  });
  return {
    a: run(a, ea.recoveryMs),
    b: run(b, eb.recoveryMs),
    checks,
    ...(recovery ? { recovery } : {}),
    regressions: checks.filter((c) => c.change === 'worse').length + (recovery === 'worse' ? 1 : 0),
  };
}

function side(c: HistoryCheck): { verdict: Verdict; value?: number } {
  return { verdict: c.verdict, ...(c.value !== undefined ? { value: c.value } : {}) };
}

function change(a: HistoryCheck, b: HistoryCheck, tolerance: RegressionTolerance): RowChange {
  if (a.verdict === 'passed' && b.verdict === 'failed') return 'worse';
  if (a.verdict === 'failed' && b.verdict === 'passed') return 'better';
  const direction = betterDirection(a.check);
  if (a.value !== undefined && b.value !== undefined) {
    if (direction) return valueChange(a.check, a.value, b.value, direction, tolerance);
    if (a.value !== b.value) return 'changed';
  }
  return a.verdict === b.verdict ? 'same' : 'changed';
}

const CHANGE_TEXT: Readonly<Record<RowChange, string>> = {
  better: 'better',
  worse: 'REGRESSED',
  same: 'same',
  changed: 'changed',
  'only-a': 'only in A',
  'only-b': 'only in B',
};

/** The comparison as an aligned plain-text table for a terminal or a CI log. */
export function renderComparison(c: RunComparison): string {
  const cell = (s?: { verdict: Verdict; value?: number }): string => (s ? `${s.verdict} ${s.value === undefined ? '' : formatValue(s.value)}`.trim() : '-');
  const rows: string[][] = [
    ['', 'A', 'B', ''],
    ['run', c.a.runId, c.b.runId, ''],
    ['experiment', plainText(c.a.experiment), plainText(c.b.experiment), c.a.experiment === c.b.experiment ? '' : 'different experiments'],
    ['outcome', c.a.outcome, c.b.outcome, c.a.outcome === c.b.outcome ? 'same' : 'changed'],
    ['duration', formatDuration(c.a.durationMs), formatDuration(c.b.durationMs), ''],
    ['recovery', c.a.recoveryMs === undefined ? '-' : formatDuration(c.a.recoveryMs), c.b.recoveryMs === undefined ? '-' : formatDuration(c.b.recoveryMs), c.recovery ? CHANGE_TEXT[c.recovery] : ''],
    ...c.checks.map((k) => [`${k.role}: ${plainText(k.check)}`, cell(k.a), cell(k.b), CHANGE_TEXT[k.change]]),
  ];
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) => r.map((v, i) => (i < 3 ? v.padEnd(widths[i]!) : v)).join('  ').trimEnd());
  lines.push('', c.regressions === 0 ? 'no regressions from A to B' : `${c.regressions} regression${c.regressions === 1 ? '' : 's'} from A to B`);
  return `${lines.join('\n')}\n`;
}
