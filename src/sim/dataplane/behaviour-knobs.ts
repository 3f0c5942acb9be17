import { Duration } from '../../core/duration.js';
import { cpuMillis, quantityBytes } from '../resource-quantity.js';
import type { UsageModel } from './usage-meter.js';

export type ShutdownMode = 'graceful' | 'drop';

/** gameday/kv: `sync` acknowledges a write once every live follower has it; `async` at once. */
export type ReplicationMode = 'sync' | 'async';

/**
 * How a workload misbehaves on purpose, read from container env (`GAMEDAY_*`) or pod annotations
 * (`gameday.dev/*`, which win, so a running experiment can flip them without a new template).
 */
export interface BehaviourKnobs {
  /** Listening starts this long after the container starts (probes fail until then). */
  readonly startupDelayMs: number;
  /** Added to every response. */
  readonly latencyMs: number;
  /** Share of requests answered 500, 0..1. */
  readonly errorRate: number;
  /** graceful: keep serving (readiness failing) through the grace period; drop: close on SIGTERM. */
  readonly shutdown: ShutdownMode;
  /**
   * How long a graceful process keeps serving after SIGTERM. Explicit `graceful` without a delay
   * means the whole grace period; with no shutdown knob at all the kubelet picks a short linger.
   */
  readonly shutdownDelayMs: number | undefined;
  /** The process exits after this long (undefined: runs until stopped). */
  readonly exitAfterMs: number | undefined;
  readonly exitCode: number;
  /** What serving costs the process: CPU per request, base memory, memory per request in flight. */
  readonly usage: UsageModel;
  /** gameday/kv only: how the leader replicates. @default sync */
  readonly replication: ReplicationMode;
  /** gameday/kv only: how long a write takes to reach followers (sync: the ack waits it). @default 0 */
  readonly replicationDelayMs: number;
  /** gameday/kv only: serve nothing and stay unready until a snapshot is restored (a store being rebuilt from a backup). @default false */
  readonly awaitRestore: boolean;
}

/** A small web server's footprint when the pod says nothing: 2m·s of CPU per request, 16Mi idle, 64Ki per request held. */
export const DEFAULT_USAGE: UsageModel = Object.freeze({ cpuPerRequestMilliSeconds: 2, baseMemoryBytes: 16 * 2 ** 20, memoryPerRequestBytes: 64 * 2 ** 10 });

const KNOBS = {
  startupDelay: ['GAMEDAY_STARTUP_DELAY', 'gameday.dev/startup-delay'],
  latency: ['GAMEDAY_LATENCY', 'gameday.dev/latency'],
  errorRate: ['GAMEDAY_ERROR_RATE', 'gameday.dev/error-rate'],
  shutdown: ['GAMEDAY_SHUTDOWN', 'gameday.dev/shutdown'],
  shutdownDelay: ['GAMEDAY_SHUTDOWN_DELAY', 'gameday.dev/shutdown-delay'],
  exitAfter: ['GAMEDAY_EXIT_AFTER', 'gameday.dev/exit-after'],
  exitCode: ['GAMEDAY_EXIT_CODE', 'gameday.dev/exit-code'],
  cpuPerRequest: ['GAMEDAY_CPU_PER_REQUEST', 'gameday.dev/cpu-per-request'],
  baseMemory: ['GAMEDAY_BASE_MEMORY', 'gameday.dev/base-memory'],
  memoryPerRequest: ['GAMEDAY_MEMORY_PER_REQUEST', 'gameday.dev/memory-per-request'],
  replication: ['GAMEDAY_KV_REPLICATION', 'gameday.dev/kv-replication'],
  replicationDelay: ['GAMEDAY_KV_REPLICATION_DELAY', 'gameday.dev/kv-replication-delay'],
  awaitRestore: ['GAMEDAY_KV_AWAIT_RESTORE', 'gameday.dev/kv-await-restore'],
} as const;

function durationMs(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (/^\d+(\.\d+)?$/.test(text.trim())) return Number(text);
  return Duration.tryParse(text)?.ms;
}

function rate(text: string | undefined): number {
  if (text === undefined) return 0;
  const t = text.trim();
  const v = t.endsWith('%') ? Number(t.slice(0, -1)) / 100 : Number(t);
  return Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0;
}

function quantityOr(text: string | undefined, parse: (q: string) => number, fallback: number): number {
  if (text === undefined) return fallback;
  return /^\s*0+(\.0*)?\s*[a-zA-Z]*\s*$/.test(text) ? 0 : parse(text) || fallback;
}

export interface ContainerEnvVar {
  name: string;
  value?: string;
}

export function readKnobs(env: readonly ContainerEnvVar[] | undefined, annotations: Readonly<Record<string, string>> | undefined): BehaviourKnobs {
  const envMap = new Map((env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
  const get = ([envName, annotation]: readonly [string, string]): string | undefined => annotations?.[annotation] ?? envMap.get(envName);
  const shutdown = get(KNOBS.shutdown)?.trim().toLowerCase();
  return {
    startupDelayMs: durationMs(get(KNOBS.startupDelay)) ?? 0,
    latencyMs: durationMs(get(KNOBS.latency)) ?? 0,
    errorRate: rate(get(KNOBS.errorRate)),
    shutdown: shutdown === 'drop' ? 'drop' : 'graceful',
    shutdownDelayMs: durationMs(get(KNOBS.shutdownDelay)) ?? (shutdown === 'graceful' ? Infinity : undefined),
    exitAfterMs: durationMs(get(KNOBS.exitAfter)),
    exitCode: Number(get(KNOBS.exitCode) ?? 0) || 0,
    usage: {
      // A CPU quantity read as millicore-seconds: `5m` costs 5 millicores for one second.
      cpuPerRequestMilliSeconds: quantityOr(get(KNOBS.cpuPerRequest), cpuMillis, DEFAULT_USAGE.cpuPerRequestMilliSeconds),
      baseMemoryBytes: quantityOr(get(KNOBS.baseMemory), quantityBytes, DEFAULT_USAGE.baseMemoryBytes),
      memoryPerRequestBytes: quantityOr(get(KNOBS.memoryPerRequest), quantityBytes, DEFAULT_USAGE.memoryPerRequestBytes),
    },
    replication: get(KNOBS.replication)?.trim().toLowerCase() === 'async' ? 'async' : 'sync',
    replicationDelayMs: durationMs(get(KNOBS.replicationDelay)) ?? 0,
    awaitRestore: get(KNOBS.awaitRestore)?.trim().toLowerCase() === 'true',
  };
}
