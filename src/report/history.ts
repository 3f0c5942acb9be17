import { createReadStream } from 'node:fs';
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import type { CheckRole, Verdict } from '../journal/events.js';
import type { Outcome } from '../core/outcome.js';
import type { RunResult } from './result.js';

/** One run in `<outDir>/history.ndjson`: enough to draw each check's trend and spot a regression. */
export interface HistoryEntry {
  readonly v: typeof HISTORY_VERSION;
  readonly experiment: string;
  readonly runId: string;
  readonly file: string;
  readonly startedAt: string;
  readonly startedAtMs: number;
  readonly durationMs: number;
  readonly outcome: Outcome;
  readonly checks: readonly HistoryCheck[];
  /** From the last fault's revert to the steady state holding again, when both happened. */
  readonly recoveryMs?: number;
}

export interface HistoryCheck {
  readonly role: CheckRole;
  readonly check: string;
  readonly verdict: Verdict;
  /** In the check's own unit: availability in percent, latencies and failover in milliseconds. */
  readonly value?: number;
}

export const HISTORY_VERSION = 1;

export function historyEntry(r: RunResult): HistoryEntry {
  const lastRevert = Math.max(...r.faults.map((f) => f.revertedAtMs ?? Number.NEGATIVE_INFINITY));
  const after = r.checks.filter((c) => c.role === 'steady-state-after');
  const recovered = after.length > 0 && after.every((c) => c.verdict === 'passed') ? Math.max(...after.map((c) => c.atMs)) : undefined;
  return {
    v: HISTORY_VERSION,
    experiment: r.experiment,
    runId: r.runId,
    file: r.file,
    startedAt: r.startedAt,
    startedAtMs: r.startedAtMs,
    durationMs: r.durationMs,
    outcome: r.outcome,
    checks: r.checks.map((c) => ({ role: c.role, check: c.check, verdict: c.verdict, ...(c.value !== undefined ? { value: c.value } : {}) })),
    ...(recovered !== undefined && Number.isFinite(lastRevert) ? { recoveryMs: Math.max(0, recovered - lastRevert) } : {}),
  };
}

/**
 * The run history of an output directory, one JSON line per run, appended and never rewritten
 * so that concurrent CI jobs writing to the same directory only ever add lines.
 */
export class RunHistory {
  constructor(readonly path: string) {}

  /** Adds the run unless it is already there (`gameday report` rebuilding an old run). */
  async append(entry: HistoryEntry): Promise<void> {
    let present = false;
    await this.scan((e) => {
      if (e.runId === entry.runId) present = true;
    });
    if (present) return;
    await mkdir(dirname(this.path), { recursive: true });
    await appendFile(this.path, `${JSON.stringify(entry)}\n`);
  }

  /**
   * The last `limit` runs of `experiment` that started no later than `untilMs`, oldest first.
   * Streams the file and keeps only `limit` entries, however long the history grew.
   */
  async recent(experiment: string, limit: number, untilMs = Number.POSITIVE_INFINITY): Promise<HistoryEntry[]> {
    const kept: HistoryEntry[] = [];
    await this.scan((e) => {
      if (e.experiment !== experiment || e.startedAtMs > untilMs) return;
      kept.push(e);
      kept.sort((a, b) => a.startedAtMs - b.startedAtMs);
      if (kept.length > limit) kept.shift();
    });
    return kept;
  }

  /** Lines that are not history entries (a half-written line, another tool's output) are skipped. */
  private async scan(visit: (entry: HistoryEntry) => void): Promise<void> {
    const input = createReadStream(this.path, { encoding: 'utf8' });
    const failure = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      input.once('open', () => resolve(undefined));
      input.once('error', resolve);
    });
    if (failure?.code === 'ENOENT') return;
    if (failure) throw failure;
    for await (const line of createInterface({ input, crlfDelay: Infinity })) {
      if (line.trim() === '') continue;
      let entry: unknown;
      try {
        entry = JSON.parse(line);
      } catch {
        continue;
      }
      if (isEntry(entry)) visit(entry);
    }
  }
}

function isEntry(value: unknown): value is HistoryEntry {
  if (typeof value !== 'object' || value === null) return false;
  const e = value as Record<string, unknown>;
  return e.v === HISTORY_VERSION && typeof e.experiment === 'string' && typeof e.runId === 'string' && typeof e.startedAtMs === 'number' && Array.isArray(e.checks);
}
