/**
 * One observation by a probe. Every sample carries a timestamp on the same clock as fault events
 * (`Date.now()` milliseconds, docs/architecture.md, principle 5), so a verdict can point at the moment it broke.
 */
export interface Sample {
  /** Milliseconds since the epoch, when the observation started. */
  readonly t: number;
  /** Name of the probe that took it (the key under `spec.probes`, or an implicit probe's name). */
  readonly probe: string;
  /** Whether this observation was good (a 2xx answer, a budget that held, a command that exited 0). */
  readonly ok: boolean;
  /** How long the observation took, where that means something (request latency, journey time). */
  readonly latencyMs?: number;
  /** A measured value where the probe has one (ready pods, failover seconds, a k6 metric). */
  readonly value?: number;
  /** Short error kind when not ok: `timeout`, `refused`, `status-503`, `below-budget`… */
  readonly error?: string;
  /** Small probe-specific facts that make the sample useful as evidence (pod names, status code…). */
  readonly detail?: Readonly<Record<string, unknown>>;
}
