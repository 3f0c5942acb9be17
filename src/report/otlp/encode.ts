import { createHash } from 'node:crypto';
import { plainText } from '../plain-text.js';

/**
 * The OTLP/JSON encoding of a trace (opentelemetry-proto `ExportTraceServiceRequest`, as
 * OTLP/HTTP carries it with `content-type: application/json`), written by hand: the export is one
 * POST per run, which does not justify the OpenTelemetry SDK's dependencies.
 *
 * Where OTLP/JSON departs from the plain proto3 JSON mapping it is followed: trace and span ids
 * are hex, not base64; enums are integers. 64-bit integers (times, `intValue`) are strings, so no
 * nanosecond is lost to a JavaScript number.
 */
export interface ExportTraceServiceRequest {
  readonly resourceSpans: readonly {
    readonly resource: { readonly attributes: readonly KeyValue[] };
    readonly scopeSpans: readonly {
      readonly scope: { readonly name: string; readonly version?: string };
      readonly spans: readonly OtlpSpan[];
    }[];
  }[];
}

export interface OtlpSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  readonly kind: number;
  readonly startTimeUnixNano: string;
  readonly endTimeUnixNano: string;
  readonly attributes: readonly KeyValue[];
  readonly events: readonly { readonly timeUnixNano: string; readonly name: string; readonly attributes: readonly KeyValue[] }[];
  readonly status?: { readonly code: number; readonly message?: string };
}

export interface KeyValue {
  readonly key: string;
  readonly value: { readonly stringValue: string } | { readonly boolValue: boolean } | { readonly intValue: string } | { readonly doubleValue: number };
}

/**
 * An attribute's value: a `bigint` is an `intValue` (seeds, counts, exit codes), a `number` a
 * `doubleValue` (a check's measured value stays a double even when it happens to be whole, so a
 * backend sees one type per key). `undefined` and non-finite numbers are left out.
 */
export type AttributeValue = string | boolean | bigint | number | undefined;
export type Attributes = Readonly<Record<string, AttributeValue>>;

/** A span of the trace before encoding: times in epoch milliseconds, ids still to be derived. */
export interface TraceSpan {
  /** Unique within the run (`run`, `phase 2 faults`, `fault f0`); the span id is derived from it. */
  readonly key: string;
  /** The parent's `key`; absent on the root. */
  readonly parent?: string;
  readonly name: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly attributes: Attributes;
  readonly events: readonly TraceSpanEvent[];
  /** `ok` only where gameday judged the whole operation (the run); absent is OTLP's "unset". */
  readonly status?: { readonly code: 'ok' } | { readonly code: 'error'; readonly message: string };
}

export interface TraceSpanEvent {
  readonly name: string;
  readonly atMs: number;
  readonly attributes: Attributes;
}

export interface RunTrace {
  /** Seeds every id, so exporting the same run twice sends the same trace and span ids. */
  readonly runId: string;
  readonly resource: Attributes;
  readonly scope: { readonly name: string; readonly version: string };
  readonly spans: readonly TraceSpan[];
}

const SPAN_KIND_INTERNAL = 1;
const STATUS_CODE = { ok: 1, error: 2 } as const;

export function encodeTrace(trace: RunTrace): ExportTraceServiceRequest {
  const traceId = traceIdOf(trace.runId);
  return {
    resourceSpans: [
      {
        resource: { attributes: encodeAttributes(trace.resource) },
        scopeSpans: [{ scope: trace.scope, spans: trace.spans.map((s) => encodeSpan(trace.runId, traceId, s)) }],
      },
    ],
  };
}

function encodeSpan(runId: string, traceId: string, span: TraceSpan): OtlpSpan {
  const status = span.status;
  return {
    traceId,
    spanId: spanIdOf(runId, span.key),
    ...(span.parent !== undefined ? { parentSpanId: spanIdOf(runId, span.parent) } : {}),
    name: plainText(span.name),
    kind: SPAN_KIND_INTERNAL,
    startTimeUnixNano: unixNano(span.startMs),
    endTimeUnixNano: unixNano(span.endMs),
    attributes: encodeAttributes(span.attributes),
    events: span.events.map((e) => ({ timeUnixNano: unixNano(e.atMs), name: plainText(e.name), attributes: encodeAttributes(e.attributes) })),
    ...(status ? { status: status.code === 'error' ? { code: STATUS_CODE.error, message: plainText(status.message) } : { code: STATUS_CODE.ok } } : {}),
  };
}

/**
 * Strings lose terminal escapes and control characters: probe output (HTTP bodies, coloured
 * command output) reaches messages as it came, and trace viewers show it as text.
 */
export function encodeAttributes(attributes: Attributes): KeyValue[] {
  const out: KeyValue[] = [];
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || (typeof value === 'number' && !Number.isFinite(value))) continue;
    out.push({ key, value: anyValue(value) });
  }
  return out;
}

function anyValue(value: string | boolean | bigint | number): KeyValue['value'] {
  switch (typeof value) {
    case 'string':
      return { stringValue: plainText(value) };
    case 'boolean':
      return { boolValue: value };
    case 'bigint':
      return { intValue: value.toString() };
    case 'number':
      return { doubleValue: value };
  }
}

/** Epoch milliseconds as a decimal string of nanoseconds; sub-millisecond parts are kept to the microsecond. */
export function unixNano(ms: number): string {
  return (BigInt(Math.round(ms * 1000)) * 1000n).toString();
}

/** 32 hex digits, the same for every export of the run. */
export function traceIdOf(runId: string): string {
  return hexDigest(`gameday trace ${runId}`, 32);
}

/** 16 hex digits, the same for every export of the run. */
export function spanIdOf(runId: string, key: string): string {
  return hexDigest(`gameday span ${runId} ${key}`, 16);
}

function hexDigest(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}
