import type { KubeConfig } from '@kubernetes/client-node';
import { FAULT_EVENT_REASONS, faultEventTargets, recordFaultEvent } from '../cluster/fault-events.js';
import { errorMessage } from '../core/errors.js';
import type { PlannedFault } from '../plan/model.js';
import type { RunRecorder } from './recorder.js';

/** How long the end of the fault phase waits for Events still being written. */
const FLUSH_TIMEOUT_MS = 5000;

/**
 * Shows the game day to people watching the cluster: each fault that lands, and its revert,
 * becomes a Kubernetes Event on the fault's targets. The Events are written beside the fault
 * timeline, never in its way; one that cannot be written is a warning in the journal, never a
 * failed run, since the cluster itself is not changed by it.
 */
export class ChaosEvents {
  /** Per fault, its last Event write: a fault's revert is announced after its injection. */
  private readonly writes = new Map<string, Promise<void>>();
  /** After a flush gave up waiting: late failures are not journaled, the journal may be closed by then. */
  private gaveUp = false;

  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly runId: string,
    private readonly recorder: RunRecorder,
  ) {}

  injected(fault: PlannedFault): void {
    this.announce(fault, FAULT_EVENT_REASONS.injected, 'injected');
  }

  /** Only a fault that was announced as injected is announced as reverted. */
  reverted(fault: PlannedFault): void {
    if (this.writes.has(fault.id)) this.announce(fault, FAULT_EVENT_REASONS.reverted, 'reverted');
  }

  /** Waits for the Events still being written, at most a few seconds. */
  async flush(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), FLUSH_TIMEOUT_MS)));
    const done = await Promise.race([Promise.all(this.writes.values()).then(() => 'done' as const), late]);
    clearTimeout(timer);
    if (done !== 'late') return;
    this.gaveUp = true;
    this.recorder.log('warn', `Kubernetes Events about the faults were still being written after ${FLUSH_TIMEOUT_MS / 1000}s; the run goes on without them`);
  }

  private announce(fault: PlannedFault, reason: string, what: string): void {
    const message = `gameday run ${this.runId}: ${what} ${fault.kind} fault "${fault.name}": ${fault.description}`;
    const previous = this.writes.get(fault.id) ?? Promise.resolve();
    const write = previous.then(() =>
      Promise.all(
        faultEventTargets(fault.touches).map((target) =>
          recordFaultEvent(this.kubeConfig, target, reason, message).catch((err: unknown) => {
            const on = `${target.kind} ${target.namespace ? `${target.namespace}/` : ''}${target.name}`;
            if (!this.gaveUp) this.recorder.log('warn', `could not record Event ${reason} on ${on}: ${errorMessage(err)}`);
          }),
        ),
      ).then(() => undefined),
    );
    this.writes.set(fault.id, write);
  }
}
