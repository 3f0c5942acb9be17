import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { errorMessage } from '../core/errors.js';
import type { RunEvent } from '../journal/events.js';
import type { RunObserver } from '../journal/observer.js';
import type { BeginInfo, Reporter, RunContext } from './reporter.js';
import { ResultBuilder, type RunResult } from './result.js';

export interface ReporterMultiplexerOptions {
  /** Where a failing reporter's warning goes. @default process.stderr */
  readonly stderr?: Writable;
}

/**
 * Fans run events out to the reporters and builds each run's result. A reporter that throws is
 * reported once as a warning and left out for the rest of that run: a broken JUnit writer must
 * not cost the user the other reports, and never the run itself.
 *
 * Use: `begin()` once, `forRun(runDir)` for each run (hand its observer to the engine), `end()` once.
 */
export class ReporterMultiplexer {
  private readonly stderr: Writable;
  private readonly finished: RunResult[] = [];
  private runCount = 0;

  constructor(
    private readonly reporters: readonly Reporter[],
    options: ReporterMultiplexerOptions = {},
  ) {
    this.stderr = options.stderr ?? process.stderr;
  }

  /** The results of the runs that have ended, in order. */
  get results(): readonly RunResult[] {
    return this.finished;
  }

  async begin(info: BeginInfo): Promise<void> {
    for (const reporter of this.reporters) {
      if (!reporter.onBegin) continue;
      try {
        await reporter.onBegin(info);
      } catch (err) {
        this.warn(reporter, err);
      }
    }
  }

  forRun(runDir: string): RunObserver {
    return this.fanOut(runDir);
  }

  /**
   * Runs the end-of-run hooks for a run that already happened, from its journal
   * (`gameday report <run-dir>` with `resultFromJournal`), so reports can be rewritten.
   */
  async reportFinished(runDir: string, result: RunResult): Promise<void> {
    await this.fanOut(runDir).finish(result);
  }

  async end(): Promise<readonly RunResult[]> {
    for (const reporter of this.reporters) {
      if (!reporter.onEnd) continue;
      try {
        await reporter.onEnd(this.finished);
      } catch (err) {
        this.warn(reporter, err);
      }
    }
    return this.finished;
  }

  private fanOut(runDir: string): RunFanOut {
    return new RunFanOut(this.reporters, runDir, this.runCount++, (reporter, err) => this.warn(reporter, err), (result) => {
      this.finished.push(result);
    });
  }

  private warn(reporter: Reporter, err: unknown): void {
    this.stderr.write(`warning: reporter ${reporter.name} failed: ${errorMessage(err)}\n`);
  }
}

/** One run's observer: the engine sees only this. */
class RunFanOut implements RunObserver {
  private readonly builder = new ResultBuilder();
  private readonly broken = new Set<Reporter>();
  private readonly context: RunContext;
  private ended = false;

  constructor(
    private readonly reporters: readonly Reporter[],
    runDir: string,
    index: number,
    private readonly warn: (reporter: Reporter, err: unknown) => void,
    private readonly record: (result: RunResult) => void,
  ) {
    const healthy = (): readonly string[] =>
      this.reporters.filter((r) => !this.broken.has(r)).flatMap((r) => (r.outputs ?? []).map((file) => join(runDir, file)));
    this.context = {
      runDir,
      index,
      get files() {
        return healthy();
      },
    };
  }

  onEvent(event: RunEvent): void {
    if (this.ended) return;
    this.builder.add(event);
    for (const reporter of this.reporters) {
      if (this.broken.has(reporter)) continue;
      try {
        if (event.type === 'run.start') reporter.onRunStart?.(event, this.context);
        reporter.onEvent?.(event, this.context);
      } catch (err) {
        this.fail(reporter, err);
      }
    }
  }

  async onRunEnd(): Promise<void> {
    if (this.ended || !this.builder.started) return;
    await this.finish(this.builder.result());
  }

  async finish(result: RunResult): Promise<void> {
    this.ended = true;
    this.record(result);
    const writers = this.reporters.filter((r) => r.outputs?.length);
    const others = this.reporters.filter((r) => !r.outputs?.length);
    for (const reporter of [...writers, ...others]) {
      if (this.broken.has(reporter) || !reporter.onRunEnd) continue;
      try {
        await reporter.onRunEnd(result, this.context);
      } catch (err) {
        this.fail(reporter, err);
      }
    }
  }

  private fail(reporter: Reporter, err: unknown): void {
    this.broken.add(reporter);
    this.warn(reporter, err);
  }
}
