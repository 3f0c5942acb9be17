import { errorMessage, UsageError } from '../core/errors.js';
import { tracesUrl } from '../report/index.js';

export interface OtlpFlags {
  /** `--otlp-endpoint`: the collector's base URL. */
  readonly otlpEndpoint?: string;
  /** `--otlp-header name=value`, repeatable. */
  readonly otlpHeader?: string[];
}

export interface OtlpSetup {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Whether and where a run is exported as OpenTelemetry spans. The endpoint is the first of
 * `--otlp-endpoint`, `$GAMEDAY_OTLP_ENDPOINT` and OpenTelemetry's own `$OTEL_EXPORTER_OTLP_ENDPOINT`;
 * none means no export. Headers are the `--otlp-header` flags, or else those of
 * `$OTEL_EXPORTER_OTLP_HEADERS` (`name=value,name=value`, values URL-encoded, as the OpenTelemetry
 * SDKs read it).
 */
export function otlpSetup(flags: OtlpFlags, env: NodeJS.ProcessEnv = process.env): OtlpSetup | undefined {
  const [source, endpoint] = firstSet([
    ['--otlp-endpoint', flags.otlpEndpoint],
    ['$GAMEDAY_OTLP_ENDPOINT', env.GAMEDAY_OTLP_ENDPOINT],
    ['$OTEL_EXPORTER_OTLP_ENDPOINT', env.OTEL_EXPORTER_OTLP_ENDPOINT],
  ]);
  if (endpoint === undefined) {
    if (flags.otlpHeader?.length) throw new UsageError('--otlp-header is for the OTLP export: give --otlp-endpoint <url> (or set $GAMEDAY_OTLP_ENDPOINT) too');
    return undefined;
  }
  let url: string;
  try {
    url = tracesUrl(endpoint);
  } catch (err) {
    throw new UsageError(`${source} ${endpoint}: ${errorMessage(err)}; give the collector's OTLP/HTTP address, like http://localhost:4318`);
  }
  const headers = flags.otlpHeader?.length
    ? parseHeaders(flags.otlpHeader, '--otlp-header', (v) => v)
    : parseHeaders((env.OTEL_EXPORTER_OTLP_HEADERS ?? '').split(',').filter((h) => h.trim() !== ''), '$OTEL_EXPORTER_OTLP_HEADERS', decodeURIComponent);
  return { url, headers };
}

/** The reporters to create: the ones named, plus `otlp` when there is somewhere to export to. */
export function withOtlpReporter(names: readonly string[], otlp: OtlpSetup | undefined): string[] {
  return otlp ? [...names, 'otlp'] : [...names];
}

function firstSet(candidates: readonly (readonly [string, string | undefined])[]): readonly [string, string | undefined] {
  return candidates.find(([, value]) => value !== undefined && value.trim() !== '') ?? ['', undefined];
}

function parseHeaders(items: readonly string[], source: string, decode: (value: string) => string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    const name = item.slice(0, eq).trim();
    if (eq <= 0 || !HEADER_NAME.test(name)) throw new UsageError(`${source} ${item}: give a header as name=value, like authorization=Bearer abc`);
    try {
      headers[name.toLowerCase()] = decode(item.slice(eq + 1).trim());
    } catch {
      throw new UsageError(`${source} ${item}: the value is not URL-encoded text`);
    }
  }
  return headers;
}
