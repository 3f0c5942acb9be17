import type { RunEvent } from './events.js';

/**
 * How the engine tells the world what happens: one observer, given every event in order.
 * The CLI plugs the reporters' multiplexer in here; the engine never names a reporter.
 */
export interface RunObserver {
  onEvent(event: RunEvent): void;
  /** Called once after `run.end`, so reporters can write their files before the process exits. */
  onRunEnd?(): Promise<void>;
}
