import type { ClusterTarget } from '../cluster/target.js';
import { abortableSleep } from '../core/abortable-sleep.js';
import { errorMessage } from '../core/errors.js';
import type { FaultStep } from '../journal/events.js';
import type { Registry } from '../core/registry.js';
import type { FaultContext, FaultPlugin } from '../faults/fault.js';
import type { PlannedFault } from '../plan/model.js';
import type { RunRecorder } from './recorder.js';
import type { Teardown, TeardownStack } from './teardown-stack.js';

export interface FaultTimelineOptions {
  readonly faults: readonly PlannedFault[];
  readonly durationMs: number;
  readonly registry: Registry<FaultPlugin>;
  readonly cluster: ClusterTarget;
  readonly recorder: RunRecorder;
  /** Each inject pushes its revert here before it acts; what is still on it at the end is reverted by the caller. */
  readonly teardown: TeardownStack;
  /** Aborted when the timeline must stop early: an abort condition, a signal, a fault that failed. */
  readonly signal: AbortSignal;
  /** A fault did not land, or the harness failed at it: the run ends (after reverting) with this outcome. */
  readonly onStop: (outcome: 'inconclusive' | 'error', reason: string) => void;
  /** Told when a fault is in place and when it was undone, after the journal; never in the way of either. */
  readonly witness?: FaultWitness;
}

export interface FaultWitness {
  /** Inject returned: the fault is in place. */
  injected(fault: PlannedFault): void;
  /** Its revert ran: `failure` says why it did not succeed. */
  reverted(fault: PlannedFault, failure?: string): void;
}

interface Step {
  readonly atMs: number;
  readonly action: 'inject' | 'revert';
  readonly fault: PlannedFault;
}

/**
 * Runs the faults on schedule, measured from the start of the fault phase: at `atMs` inject →
 * verify, and after `forMs` revert; faults without `for` stay until the phase ends (`durationMs`).
 * Steps run one at a time, in time order, so the journal reads as the cluster saw it.
 */
export async function runFaultTimeline(options: FaultTimelineOptions): Promise<void> {
  const start = Date.now();
  const steps: Step[] = [];
  for (const fault of options.faults) {
    steps.push({ atMs: fault.atMs, action: 'inject', fault });
    if (fault.forMs !== undefined && fault.atMs + fault.forMs < options.durationMs) {
      steps.push({ atMs: fault.atMs + fault.forMs, action: 'revert', fault });
    }
  }
  // At the same instant a revert goes first: what ends makes room for what begins. Reverts due
  // together undo the newest injection first, as the final teardown does.
  const injectedOrder = new Map(options.faults.map((f, i) => [f.id, i]));
  const newerFirst = (a: Step, b: Step): number => b.fault.atMs - a.fault.atMs || injectedOrder.get(b.fault.id)! - injectedOrder.get(a.fault.id)!;
  steps.sort((a, b) => a.atMs - b.atMs || (a.action !== b.action ? (a.action === 'revert' ? -1 : 1) : a.action === 'revert' ? newerFirst(a, b) : 0));

  const reverts = new Map<string, Teardown>();
  for (const step of steps) {
    await abortableSleep(start + step.atMs - Date.now(), options.signal);
    if (options.signal.aborted) return;
    if (step.action === 'revert') {
      await reverts.get(step.fault.id)?.run();
      continue;
    }
    const revert = await injectFault(options, step.fault);
    if (revert) reverts.set(step.fault.id, revert);
    if (options.signal.aborted) return;
  }
  await abortableSleep(start + options.durationMs - Date.now(), options.signal);
}

/** Journals, injects, verifies; returns the pushed revert, or undefined when nothing was attempted. */
async function injectFault(options: FaultTimelineOptions, fault: PlannedFault): Promise<Teardown | undefined> {
  const { recorder } = options;
  const plugin = options.registry.get(fault.kind);
  if (!plugin) {
    recorder.log('error', `fault ${fault.id}: ${options.registry.unknownMessage(fault.kind)}`);
    options.onStop('error', `fault ${fault.id} (${fault.kind}) cannot run: ${options.registry.unknownMessage(fault.kind)}`);
    return undefined;
  }
  const evidence: unknown[] = [];
  const event = (step: FaultStep, extra: { targets?: unknown; state?: unknown; message?: string; evidence?: unknown } = {}): void => {
    const gathered = evidence.splice(0);
    const ev = extra.evidence ?? (gathered.length > 0 ? gathered : undefined);
    recorder.record({ type: 'fault', t: Date.now(), step, fault: fault.id, kind: fault.kind, ...extra, ...(ev !== undefined ? { evidence: ev } : {}) });
  };
  const ctx: FaultContext = {
    cluster: options.cluster,
    signal: options.signal,
    holdMs: Math.max(0, Math.min(fault.forMs ?? Infinity, options.durationMs - fault.atMs)),
    log: (message) => recorder.log('info', `fault ${fault.id} (${fault.kind}): ${message}`),
    evidence: (item) => evidence.push(item),
  };

  let injected = false;
  let state: unknown;
  // Pushed before inject runs: an inject that throws halfway must still be undone.
  const revert = options.teardown.push(`revert ${fault.id}`, () =>
    revertFault({ ...options, plugin, fault, state: injected ? state : undefined, event, evidence: ctx.evidence }),
  );
  event('inject', { targets: fault.targets, message: fault.description });
  // Once the run is winding down (abort condition, interrupt), whatever an inject or verify saw
  // after that moment proves nothing: it is journaled as interrupted, never as failed or not landed.
  const interrupted = (phase: 'inject' | 'verify', extra: { state?: unknown; evidence?: unknown; error?: unknown }): void => {
    const why = typeof options.signal.reason === 'string' ? options.signal.reason : 'the run stopped';
    const done = phase === 'inject' ? 'what it had done is in its state, and the revert undoes it' : 'verification was not finished';
    const error = extra.error !== undefined ? ` (${errorMessage(extra.error)})` : '';
    event('interrupted', { message: `${phase} cut short: ${why}${error}; ${done}`, ...(extra.state !== undefined ? { state: extra.state } : {}), ...(extra.evidence !== undefined ? { evidence: extra.evidence } : {}) });
  };
  try {
    state = await plugin.inject(ctx, fault.params, fault.targets);
    injected = true;
  } catch (err) {
    if (options.signal.aborted) {
      interrupted('inject', { error: err });
      return revert;
    }
    event('inject-failed', { message: errorMessage(err) });
    options.onStop('error', `inject of ${fault.id} (${fault.kind}) failed: ${errorMessage(err)}`);
    return revert;
  }
  options.witness?.injected(fault);
  if (options.signal.aborted) {
    interrupted('inject', { state });
    return revert;
  }
  event('injected', { state });
  try {
    const result = await plugin.verify(ctx, fault.params, fault.targets, state);
    if (options.signal.aborted) interrupted('verify', { evidence: result.evidence });
    else if (result.landed) event('verified', { message: result.message, evidence: result.evidence });
    else {
      event('not-landed', { message: result.message, evidence: result.evidence });
      options.onStop('inconclusive', `fault ${fault.id} (${fault.kind}) did not land: ${result.message}`);
    }
  } catch (err) {
    if (options.signal.aborted) {
      interrupted('verify', { error: err });
      return revert;
    }
    recorder.log('error', `fault ${fault.id} (${fault.kind}): verify failed: ${errorMessage(err)}`);
    options.onStop('error', `could not verify ${fault.id} (${fault.kind}): ${errorMessage(err)}`);
  }
  return revert;
}

interface RevertOptions {
  readonly plugin: FaultPlugin;
  readonly fault: PlannedFault;
  readonly cluster: ClusterTarget;
  readonly recorder: RunRecorder;
  readonly state: unknown;
  readonly event: (step: FaultStep, extra?: { message?: string }) => void;
  readonly evidence: (item: unknown) => void;
  readonly onStop: (outcome: 'inconclusive' | 'error', reason: string) => void;
  readonly witness?: FaultWitness;
}

/**
 * Reverts one fault. Never throws: a failed revert is journaled and makes the run an error, and
 * the remaining reverts still run. Its context is never aborted: an interrupt must not cut a revert short.
 */
async function revertFault(options: RevertOptions): Promise<void> {
  const { fault, plugin, recorder } = options;
  const ctx: FaultContext = {
    cluster: options.cluster,
    signal: new AbortController().signal,
    log: (message) => recorder.log('info', `fault ${fault.id} (${fault.kind}): ${message}`),
    evidence: options.evidence,
  };
  options.event('revert');
  try {
    await plugin.revert(ctx, fault.params, fault.targets, options.state);
    options.event('reverted');
    options.witness?.reverted(fault);
  } catch (err) {
    options.event('revert-failed', { message: errorMessage(err) });
    options.witness?.reverted(fault, errorMessage(err));
    options.onStop('error', `revert of ${fault.id} (${fault.kind}) failed: ${errorMessage(err)}; the fault may still be in place (run gameday recover)`);
  }
}
