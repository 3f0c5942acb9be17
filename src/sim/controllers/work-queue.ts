import { StoreError } from '../store.js';

/**
 * A rate-free version of client-go's work queue: keys are deduplicated while waiting, handled in
 * batches off the store's notification path (so a handler's own writes never re-enter it), and a
 * failed key is retried shortly after.
 */
export class WorkQueue {
  private readonly pending = new Set<string>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private scheduled = false;
  private stopped = false;

  constructor(
    private readonly name: string,
    private readonly handle: (key: string) => void,
    private readonly batchSize = 200,
  ) {}

  add(key: string): void {
    if (this.stopped) return;
    this.pending.add(key);
    this.schedule();
  }

  /** Adds the key after `ms`; an earlier pending deadline for the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    if (ms <= 0) return this.add(key);
    const at = Date.now() + ms;
    const existing = this.timers.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    timer.unref();
    this.timers.set(key, { at, timer });
  }

  stop(): void {
    this.stopped = true;
    this.pending.clear();
    for (const t of this.timers.values()) clearTimeout(t.timer);
    this.timers.clear();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.drain());
  }

  private drain(): void {
    this.scheduled = false;
    let n = 0;
    for (const key of this.pending) {
      if (this.stopped || n++ >= this.batchSize) break;
      this.pending.delete(key);
      try {
        this.handle(key);
      } catch (err) {
        // Conflicts and races with other writers are normal for a controller: try again soon.
        if (!(err instanceof StoreError)) process.emitWarning(`${this.name}: ${key}: ${(err as Error).stack ?? String(err)}`);
        this.addAfter(key, 100);
      }
    }
    if (this.pending.size > 0 && !this.stopped) this.schedule();
  }
}
