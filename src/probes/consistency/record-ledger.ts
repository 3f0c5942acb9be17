import { performance } from 'node:perf_hooks';
import { DUPLICATE, LOST, STALE, type ConsistencyOp } from '../../core/consistency-sample.js';
import type { ProbeContext } from '../probe.js';
import { errorKind } from '../shared/error-kind.js';
import { LatencyHistogram } from '../shared/latency-histogram.js';
import type { KvAnswer, KvSender } from './kv-request.js';

/** One record the probe wrote: `t` on the wall clock samples share, `at` on the monotonic one. */
export interface WrittenRecord {
  readonly key: string;
  readonly value: string;
  readonly t: number;
  readonly at: number;
}

interface Acknowledged extends WrittenRecord {
  /** Monotonic time the acknowledgement arrived. */
  readonly ackedAt: number;
}

export interface LedgerOptions {
  readonly put: KvSender;
  readonly get: KvSender;
  readonly list?: KvSender;
  readonly timeoutMs: number;
  /** 0: no read-backs. */
  readonly readEveryMs: number;
  readonly settledAfter: number;
  readonly readForMs: number;
  /** How long verification waits after the last write, for replication in flight to land. */
  readonly quiesceMs: number;
  readonly verifyTimeoutMs: number;
}

/** What a read of one record found: the record, something else (missing, another value), or no answer. */
type ReadResult =
  | { readonly kind: 'has'; readonly answer: KvAnswer }
  | { readonly kind: 'lacks'; readonly answer: KvAnswer }
  | { readonly kind: 'failed'; readonly error: string };

const VERIFY_CONCURRENCY = 8;
const VERIFY_RETRY_MS = 200;
const KEYS_LOGGED = 20;

/**
 * The probe's memory: every record written, which were acknowledged, and what reading them
 * back found. Replication lag is measured per record from its acknowledgement to the first of
 * `settledAfter` consecutive read-backs that returned it (so its resolution is `readEvery`); a
 * read-back before that which did not return it is a stale read. Verification comes after a
 * quiet period; a record is lost when `settledAfter` reads in a row answer without it.
 */
export class RecordLedger {
  private readonly acked: Acknowledged[] = [];
  private readonly written: WrittenRecord[] = [];
  private readonly pending = new Set<Promise<void>>();
  private readonly lag = new LatencyHistogram();
  private reading = true;
  private staleReads = 0;

  constructor(
    private readonly ctx: ProbeContext,
    private readonly o: LedgerOptions,
  ) {}

  write(record: WrittenRecord): void {
    this.written.push(record);
    this.track(this.put(record));
  }

  private track(work: Promise<void>): void {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  private async put(record: WrittenRecord): Promise<void> {
    const result = await this.request(this.o.put, record);
    const latencyMs = round(performance.now() - record.at);
    const detail = { op: op('write'), key: record.key, ...(result.answer ? { status: result.answer.status, ...replica(result.answer) } : {}) };
    if (result.answer && result.answer.status >= 200 && result.answer.status < 300) {
      const acked = { ...record, ackedAt: performance.now() };
      this.acked.push(acked);
      this.ctx.emit({ t: record.t, ok: true, latencyMs, detail });
      if (this.o.readEveryMs > 0 && this.reading) this.track(this.readBack(acked));
      return;
    }
    this.ctx.emit({ t: record.t, ok: false, latencyMs, error: result.error ?? `status-${result.answer!.status}`, detail });
  }

  /** Reads the record back until `settledAfter` reads in a row return it, or `readFor` runs out. */
  private async readBack(record: Acknowledged): Promise<void> {
    let streak = 0;
    let settledFrom = 0;
    while (this.reading && performance.now() - record.ackedAt < this.o.readForMs) {
      const sentAt = performance.now();
      const t = Date.now();
      const read = await this.read(record);
      const latencyMs = round(performance.now() - sentAt);
      if (read.kind === 'has') {
        if (streak++ === 0) settledFrom = sentAt;
        this.ctx.emit({ t, ok: true, latencyMs, detail: { op: op('read'), key: record.key, ...replica(read.answer) } });
        if (streak >= this.o.settledAfter) {
          const lagMs = round(Math.max(0, settledFrom - record.ackedAt));
          this.lag.record(lagMs);
          this.ctx.emit({ t: record.t, ok: true, value: lagMs, detail: { op: op('lag'), key: record.key } });
          return;
        }
      } else if (read.kind === 'lacks') {
        streak = 0;
        this.staleReads++;
        this.ctx.emit({ t, ok: false, latencyMs, error: STALE, detail: { op: op('read'), key: record.key, status: read.answer.status, ...replica(read.answer) } });
      } else {
        // A read that got no answer says nothing about whether the record is there.
        this.ctx.emit({ t, ok: false, latencyMs, error: read.error, detail: { op: op('read'), key: record.key } });
      }
      await sleep(this.o.readEveryMs);
    }
  }

  /**
   * Waits for the writes still out and ends read-backs, then reads every acknowledged record again
   * (retrying what the store does not answer, up to verifyTimeout): each is verified or lost. With a
   * list request, a value listed more than once is a duplicate.
   */
  async verify(prefix: string): Promise<void> {
    this.reading = false;
    await Promise.allSettled([...this.pending]);
    await sleep(this.o.quiesceMs);
    const deadline = performance.now() + this.o.verifyTimeoutMs;
    const lost: string[] = [];
    const queue = [...this.acked];
    const worker = async (): Promise<void> => {
      for (let r = queue.shift(); r; r = queue.shift()) {
        const found = await this.readUntilSure(r, deadline);
        if (found.kind === 'has') {
          this.ctx.emit({ t: r.t, ok: true, detail: { op: op('verify'), key: r.key } });
          continue;
        }
        lost.push(r.key);
        const why = found.kind === 'failed' ? `unreadable: ${found.error}` : found.answer.status === 404 ? 'missing' : `status ${found.answer.status} without the value`;
        this.ctx.emit({ t: r.t, ok: false, error: LOST, detail: { op: op('verify'), key: r.key, found: why } });
      }
    };
    await Promise.all(Array.from({ length: VERIFY_CONCURRENCY }, worker));
    const duplicates = this.o.list ? await this.countDuplicates(prefix, deadline) : undefined;
    lost.sort();
    const lag = this.lag.summary();
    this.ctx.log(
      `${this.written.length} writes, ${this.acked.length} acknowledged, ${lost.length} lost${lost.length ? ` (${lost.slice(0, KEYS_LOGGED).join(', ')}${lost.length > KEYS_LOGGED ? ', …' : ''})` : ''}` +
        `, ${duplicates === undefined ? `duplicates not checked (${this.o.list ? 'the listing failed' : 'no list request'})` : `${duplicates} duplicated`}, ${this.staleReads} stale reads` +
        (lag.count ? `; lag p50 ${lag.p50}ms p99 ${lag.p99}ms max ${lag.max}ms` : ''),
    );
  }

  private async countDuplicates(prefix: string, deadline: number): Promise<number | undefined> {
    // At least one try, even when verification used up the time.
    let listing = await this.send(this.o.list!, { prefix });
    while (listing.kind !== 'has' && performance.now() + VERIFY_RETRY_MS < deadline) {
      await sleep(VERIFY_RETRY_MS);
      listing = await this.send(this.o.list!, { prefix });
    }
    if (listing.kind !== 'has') {
      this.ctx.log(`could not list the records to look for duplicates: ${listing.kind === 'failed' ? listing.error : `status ${listing.answer.status}`}`);
      return undefined;
    }
    const counts = occurrences(listing.answer.body);
    const duplicated = this.written.filter((r) => (counts.get(r.value) ?? 0) > 1);
    // Stamped with the first write, like the records the listing covers (src/core/consistency-sample.ts).
    this.ctx.emit({ t: this.written[0]?.t ?? Date.now(), ok: true, value: duplicated.length, detail: { op: op('list'), records: this.written.length } });
    for (const r of duplicated) {
      const copies = counts.get(r.value)!;
      this.ctx.emit({ t: r.t, ok: false, error: DUPLICATE, value: copies, detail: { op: op('list'), key: r.key, copies } });
    }
    return duplicated.length;
  }

  /** Reads until the record is seen, or missing from `settledAfter` reads in a row, or the deadline passes. */
  private async readUntilSure(record: WrittenRecord, deadline: number): Promise<ReadResult> {
    let lacking = 0;
    for (;;) {
      const read = await this.read(record);
      if (read.kind === 'has') return read;
      if (read.kind === 'lacks' && ++lacking >= this.o.settledAfter) return read;
      if (performance.now() + VERIFY_RETRY_MS >= deadline) return read;
      await sleep(read.kind === 'lacks' && this.o.readEveryMs > 0 ? this.o.readEveryMs : VERIFY_RETRY_MS);
    }
  }

  private read(record: WrittenRecord): Promise<ReadResult> {
    return this.send(this.o.get, record);
  }

  /** One request with the timeout: `has` when a 2xx body contains the record's value. */
  private async send(sender: KvSender, values: { key?: string; value?: string; prefix?: string }): Promise<ReadResult> {
    const result = await this.request(sender, values);
    if (!result.answer) return { kind: 'failed', error: result.error! };
    const ok = result.answer.status >= 200 && result.answer.status < 300;
    if (ok && (values.value === undefined || result.answer.body.includes(values.value))) return { kind: 'has', answer: result.answer };
    if (result.answer.status === 404 && answeredByKubernetes(result.answer.body)) return { kind: 'failed', error: 'status-404-from-the-api-server' };
    if (ok || result.answer.status === 404) return { kind: 'lacks', answer: result.answer };
    return { kind: 'failed', error: `status-${result.answer.status}` };
  }

  private async request(sender: KvSender, values: { key?: string; value?: string; prefix?: string }): Promise<{ answer?: KvAnswer; error?: string }> {
    const signal = AbortSignal.timeout(this.o.timeoutMs);
    try {
      return { answer: await sender(values, signal) };
    } catch (err) {
      return { error: signal.aborted ? 'timeout' : errorKind(err) };
    }
  }
}

/** How often each record value (`<key>.v`) appears in a listing, whatever its format. */
function occurrences(body: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of body.matchAll(/[A-Za-z0-9._-]+\.v(?![A-Za-z0-9_-])/g)) counts.set(m[0], (counts.get(m[0]) ?? 0) + 1);
  return counts;
}

/** A sample's `detail.op`, checked against the shared vocabulary. */
const op = (name: ConsistencyOp): ConsistencyOp => name;

function replica(answer: KvAnswer): { replica?: string } {
  return answer.replica !== undefined ? { replica: answer.replica } : {};
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * A 404 that is a Kubernetes Status (`kind: Status`): the API server's service proxy saying the
 * Service itself is gone (a drill that deleted it), not the store saying it lacks the record. It
 * says nothing about the record, so it is no stale read.
 */
function answeredByKubernetes(body: string): boolean {
  if (!body.includes('"Status"')) return false;
  try {
    const status = JSON.parse(body) as { kind?: unknown; apiVersion?: unknown };
    return status.kind === 'Status' && status.apiVersion === 'v1';
  } catch {
    return false;
  }
}
