import type { Writable } from 'node:stream';
import { UsageError } from '../core/errors.js';
import { Registry } from '../core/registry.js';
import { HtmlReporter } from './html.js';
import { JsonReporter } from './json.js';
import { JunitReporter } from './junit.js';
import { OtlpReporter, type OtlpReporterOptions } from './otlp.js';
import type { Reporter } from './reporter.js';
import { SummaryReporter } from './summary.js';
import { TerminalReporter } from './terminal.js';

export interface CreateReportersOptions {
  /** Where the terminal reporter writes. @default process.stdout */
  readonly stream?: NodeJS.WriteStream | Writable;
  /** @default the stream's own `isTTY` */
  readonly isTTY?: boolean;
  /** @default false */
  readonly quiet?: boolean;
  /** Read for `NO_COLOR` and `GITHUB_STEP_SUMMARY`. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Where the otlp reporter exports; it can only be created with this. @default none */
  readonly otlp?: OtlpReporterOptions;
}

export const DEFAULT_REPORTERS: readonly string[] = ['terminal', 'json', 'junit', 'summary', 'html'];

interface ReporterKind {
  readonly kind: string;
  create(options: CreateReportersOptions): Reporter;
}

const kinds = new Registry<ReporterKind>('reporter');
kinds.register({ kind: 'terminal', create: (o) => new TerminalReporter({ stream: o.stream ?? process.stdout, isTTY: o.isTTY, quiet: o.quiet, env: o.env }) });
kinds.register({ kind: 'json', create: () => new JsonReporter() });
kinds.register({ kind: 'junit', create: () => new JunitReporter() });
kinds.register({ kind: 'summary', create: (o) => new SummaryReporter({ env: o.env }) });
kinds.register({ kind: 'html', create: () => new HtmlReporter() });
kinds.register({
  kind: 'otlp',
  create: (o) => {
    if (!o.otlp) throw new UsageError('the otlp reporter needs an endpoint: give --otlp-endpoint <url> or set $GAMEDAY_OTLP_ENDPOINT');
    return new OtlpReporter(o.otlp);
  },
});

/** The reporters `--reporter terminal,json` names, in that order; an unknown name is a usage error. */
export function createReporters(names: readonly string[] = DEFAULT_REPORTERS, options: CreateReportersOptions = {}): Reporter[] {
  const unknown = names.filter((n) => !kinds.has(n));
  if (unknown.length > 0) throw new UsageError(unknown.map((n) => kinds.unknownMessage(n)).join('\n'));
  return [...new Set(names)].map((n) => kinds.get(n)!.create(options));
}

export function reporterNames(): string[] {
  return kinds.kinds();
}

export type { BeginInfo, Reporter, RunContext } from './reporter.js';
export { tracesUrl } from './otlp/export.js';
export { ReporterMultiplexer, type ReporterMultiplexerOptions } from './multiplexer.js';
export { ResultBuilder, resultFromJournal, type RunResult } from './result.js';
