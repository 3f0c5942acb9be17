import type { RunEvent } from '../journal/events.js';
import type { RunObserver } from '../journal/observer.js';
import { errorMessage } from '../core/errors.js';
import type { Journal } from '../journal/writer.js';

/** Events whose loss after a crash would hide what the cluster was left with. */
const DURABLE = new Set<RunEvent['type']>(['run.start', 'fault', 'abort', 'signal', 'run.end']);

/**
 * The one way events leave the engine: into the journal first, then to the observer.
 * A throwing observer is noted in the journal and otherwise ignored; it never breaks the run.
 */
export class RunRecorder {
  private observerBroken = false;

  constructor(
    private readonly journal: Journal,
    private readonly observer: RunObserver,
  ) {}

  record(event: RunEvent): void {
    if (DURABLE.has(event.type)) this.journal.writeDurable(event);
    else this.journal.write(event);
    try {
      this.observer.onEvent(event);
    } catch (err) {
      if (this.observerBroken) return;
      this.observerBroken = true;
      this.journal.write({ type: 'log', t: Date.now(), level: 'warn', message: `the run observer failed and is ignored from here: ${errorMessage(err)}` });
    }
  }

  log(level: 'info' | 'warn' | 'error', message: string): void {
    this.record({ type: 'log', t: Date.now(), level, message });
  }
}
