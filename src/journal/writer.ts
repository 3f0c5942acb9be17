import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import type { RunEvent } from './events.js';

/** Samples arrive by the thousand; they are written in batches at most this far apart. */
const FLUSH_EVERY_MS = 200;
const FLUSH_AT_BYTES = 64 * 1024;

/**
 * The run's append-only NDJSON journal. One writer, one order: events go to the file in the
 * order they are written, whoever writes them (probes, the fault timeline, the abort watch).
 * Writes are synchronous so that order cannot be lost between awaits, and `writeDurable`
 * fsyncs, so a fault step is on disk before it acts and survives a SIGKILL right after.
 */
export class Journal {
  private buffer = '';
  private timer: NodeJS.Timeout | undefined;
  private fd: number | undefined;

  private constructor(
    readonly path: string,
    fd: number,
  ) {
    this.fd = fd;
  }

  /** Opens for appending; `recover` appends to the journal of the run it recovers. */
  static open(path: string): Journal {
    return new Journal(path, openSync(path, 'a'));
  }

  /** Buffered: on disk within FLUSH_EVERY_MS, or before the next durable write. */
  write(event: RunEvent): void {
    this.buffer += JSON.stringify(event) + '\n';
    if (this.buffer.length >= FLUSH_AT_BYTES) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_EVERY_MS).unref();
  }

  /** Written and fsynced before this returns, after everything written before it. */
  writeDurable(event: RunEvent): void {
    this.buffer += JSON.stringify(event) + '\n';
    this.flush();
    fsyncSync(this.openFd());
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.buffer === '') return;
    const data = this.buffer;
    this.buffer = '';
    writeSync(this.openFd(), data);
  }

  close(): void {
    if (this.fd === undefined) return;
    this.flush();
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = undefined;
  }

  private openFd(): number {
    if (this.fd === undefined) throw new Error(`the journal ${this.path} is closed`);
    return this.fd;
  }
}
