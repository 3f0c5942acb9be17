import { connectKubeconfig } from '../../cluster/connect.js';
import { describeHolder, RUN_LOCK, stopRuns } from '../../cluster/run-lock.js';
import { Duration } from '../../core/duration.js';
import { HarnessError, UsageError } from '../../core/errors.js';

export interface StopCommandOptions {
  readonly context?: string;
  readonly kubeconfig?: string;
  /** How long to wait for the run to revert and let go, e.g. `30s`. */
  readonly timeout: string;
  readonly json?: boolean;
}

/**
 * `gameday stop`: asks the game day that holds the cluster's run lock to abort, waits until it has
 * reverted and released the lock, and says who stopped it and what it reverted. It needs no
 * allowlist, unlike `run`: stopping a game day only ever takes faults away.
 */
export async function stopCommand(options: StopCommandOptions): Promise<number> {
  const timeout = Duration.tryParse(options.timeout);
  if (!timeout) throw new UsageError(`--timeout ${options.timeout}: give a duration, like 30s or 2m`);
  const say = options.json ? () => undefined : (line: string) => process.stdout.write(`${line}\n`);
  const target = await connectKubeconfig({ context: options.context, kubeconfig: options.kubeconfig });
  try {
    const result = await stopRuns(target.kubeConfig, {
      timeoutMs: timeout.ms,
      onRequested: (holder) => say(`asked ${describeHolder(holder)} to stop; waiting for it to revert…`),
    });
    if (options.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    const lock = `the run lock (lease ${RUN_LOCK.namespace}/${RUN_LOCK.name})`;
    switch (result.status) {
      case 'idle': {
        const last = result.view.expired;
        say(`no game day is running against ${target.ref.name}: nobody holds ${lock}`);
        if (last) say(`the last holder, ${describeHolder(last)}, let it expire without releasing it: its faults may still be applied; run gameday recover where it ran`);
        return 0;
      }
      case 'stopped':
        say(`stopped ${result.holder.identity} (requested by ${result.request.by})`);
        say(result.reverted.length > 0 ? ['it reverted:', ...result.reverted.map((line) => `  ${line}`)].join('\n') : 'it had no fault applied to revert');
        return 0;
      case 'expired':
        throw new HarnessError(`${result.holder.identity} let ${lock} expire without releasing it: it died or lost the cluster, and its faults may still be applied; run gameday recover where it ran`);
      case 'timeout':
        throw new HarnessError(`${result.holder.identity} still holds ${lock} after ${timeout}: it may still be reverting; run gameday stop again, or gameday recover where it ran`);
    }
  } finally {
    await target.close();
  }
}
