import type { RunEvent, RunStartEvent } from '../journal/events.js';
import type { RunResult } from './result.js';

/**
 * An event sink: it watches runs and writes something about them (a terminal line, a file).
 * Every hook is optional. Reporters never drive the run and never import the engine; the
 * multiplexer (src/report/multiplexer.ts) calls them and keeps one reporter's failure from
 * reaching the others or the run.
 */
export interface Reporter {
  /** Used in warnings (`reporter junit failed: …`) and by `--reporter`. */
  readonly name: string;
  /** Files this reporter writes into each run directory, so other reporters can point at them. */
  readonly outputs?: readonly string[];
  /** Once, before the first run. */
  onBegin?(info: BeginInfo): void | Promise<void>;
  onRunStart?(event: RunStartEvent, run: RunContext): void;
  /** Every event of the run in order, `run.start` and `run.end` included. */
  onEvent?(event: RunEvent, run: RunContext): void;
  /** Once per run, after `run.end`, with the result built from the run's events. */
  onRunEnd?(result: RunResult, run: RunContext): void | Promise<void>;
  /** Once, after the last run, with every run's result in order. */
  onEnd?(results: readonly RunResult[]): void | Promise<void>;
}

export interface BeginInfo {
  /** How many experiments this invocation runs (one per file, in sequence). */
  readonly runs: number;
  /** The directory that holds every run's directory (`reports/`). */
  readonly outDir: string;
}

export interface RunContext {
  /** Where this run's files go: `reports/<run-id>/`. */
  readonly runDir: string;
  /** 0-based position of the run in this invocation. */
  readonly index: number;
  /**
   * Paths of the files the reporters that are still healthy write for this run. In `onRunEnd`,
   * reporters that declare `outputs` have already finished when the others are called.
   */
  readonly files: readonly string[];
}
