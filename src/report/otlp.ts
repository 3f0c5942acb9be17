import type { Writable } from 'node:stream';
import type { RunEvent } from '../journal/events.js';
import { encodeTrace, traceIdOf } from './otlp/encode.js';
import { exportTraces, type OtlpTarget } from './otlp/export.js';
import { isTraced, runTrace } from './otlp/run-trace.js';
import type { Reporter, RunContext } from './reporter.js';
import type { RunResult } from './result.js';

export interface OtlpReporterOptions extends OtlpTarget {
  /** Where the line naming each exported trace goes. @default process.stderr */
  readonly log?: Writable;
}

/**
 * Exports each run as an OpenTelemetry trace (src/report/otlp/run-trace.ts) with one OTLP/HTTP
 * POST when the run ends, interrupted runs included. A failed export is the multiplexer's usual
 * reporter warning and never touches the run's outcome or exit code.
 */
export class OtlpReporter implements Reporter {
  readonly name = 'otlp';
  private readonly log: Writable;
  private readonly events = new Map<string, RunEvent[]>();

  constructor(private readonly target: OtlpReporterOptions) {
    this.log = target.log ?? process.stderr;
  }

  onEvent(event: RunEvent, run: RunContext): void {
    if (event.type === 'run.start') this.events.set(run.runDir, []);
    if (isTraced(event)) this.events.get(run.runDir)?.push(event);
  }

  async onRunEnd(result: RunResult, run: RunContext): Promise<void> {
    const events = this.events.get(run.runDir) ?? [];
    this.events.delete(run.runDir);
    const trace = runTrace(result, events);
    await exportTraces(this.target, encodeTrace(trace));
    this.log.write(`exported run ${result.runId} as trace ${traceIdOf(result.runId)} (${trace.spans.length} spans) to ${this.target.url}\n`);
  }
}
