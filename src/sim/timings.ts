/**
 * The clocks of the embedded cluster. Defaults are the real Kubernetes defaults where one exists,
 * so an experiment sees realistic timing; tests shrink them to keep a run short.
 */
export interface SimTimings {
  /** Silence after which the node lifecycle controller marks a node Ready=Unknown. @default 50000 */
  readonly nodeMonitorGracePeriodMs: number;
  /** How often the node lifecycle controller looks at node heartbeats. @default 5000 */
  readonly nodeMonitorPeriodMs: number;
  /** leaseDurationSeconds written on node Leases. @default 40000 */
  readonly nodeLeaseDurationMs: number;
  /** How often a kubelet renews its node Lease. @default 10000 */
  readonly nodeLeaseRenewMs: number;
  /** How often a kubelet posts node status (conditions' heartbeat). @default 10000 */
  readonly nodeStatusUpdateMs: number;
  /** tolerationSeconds of the not-ready/unreachable tolerations added to new pods. @default 300 */
  readonly defaultTolerationSeconds: number;
  /** Delay between a kubelet seeing a pod change and acting on it. @default 100 */
  readonly kubeletSyncMs: number;
  /** Delay before a change of ready endpoints reaches the Service routing (kube-proxy). @default 200 */
  readonly endpointPropagationMs: number;
  /** Image pull plus container start. @default 500 */
  readonly containerStartMs: number;
  /** How long a run-to-completion container (no ports, restartPolicy Never/OnFailure) runs. @default 1000 */
  readonly batchRunMs: number;
  /** First CrashLoopBackOff delay; doubles per restart. @default 10000 */
  readonly restartBackoffBaseMs: number;
  /** Longest CrashLoopBackOff delay. @default 300000 */
  readonly restartBackoffMaxMs: number;
  /** How often the kubelet's eviction manager checks the node filesystem. @default 10000 */
  readonly evictionMonitorPeriodMs: number;
  /** How long a memory pressure condition stays True after the threshold stops being met (--eviction-pressure-transition-period). @default 300000 */
  readonly evictionPressureTransitionMs: number;
  /** How long traffic dropped by a NetworkPolicy or partition hangs before the dialer gives up. @default 10000 */
  readonly droppedConnectionTimeoutMs: number;
  /** kv store: leader lease duration. @default 4000 */
  readonly kvLeaseDurationMs: number;
  /** kv store: how often members renew or try to take the lease. @default 1000 */
  readonly kvLeaseRenewMs: number;
  /** The window over which the metrics APIs take rates (CPU, requests per second, p90 latency), as metrics-server's resolution. @default 15000 */
  readonly metricsWindowMs: number;
  /** How often the HPA controller reconciles each HorizontalPodAutoscaler (--horizontal-pod-autoscaler-sync-period). @default 15000 */
  readonly hpaSyncPeriodMs: number;
  /** Scale-down stabilization window when an HPA sets none (--horizontal-pod-autoscaler-downscale-stabilization). @default 300000 */
  readonly hpaDownscaleStabilizationMs: number;
  /** Since pod start, CPU samples of a pod not yet ready (or too fresh) are ignored (--horizontal-pod-autoscaler-cpu-initialization-period). @default 300000 */
  readonly hpaCpuInitializationPeriodMs: number;
  /** A pod unready this soon after start has never been ready, for CPU (--horizontal-pod-autoscaler-initial-readiness-delay). @default 30000 */
  readonly hpaInitialReadinessDelayMs: number;
  /** Events kept before the oldest are dropped (the real API server expires them after 1 h). @default 20000 */
  readonly maxEvents: number;
}

export const DEFAULT_SIM_TIMINGS: SimTimings = Object.freeze({
  nodeMonitorGracePeriodMs: 50_000,
  nodeMonitorPeriodMs: 5_000,
  nodeLeaseDurationMs: 40_000,
  nodeLeaseRenewMs: 10_000,
  nodeStatusUpdateMs: 10_000,
  defaultTolerationSeconds: 300,
  kubeletSyncMs: 100,
  endpointPropagationMs: 200,
  containerStartMs: 500,
  batchRunMs: 1_000,
  restartBackoffBaseMs: 10_000,
  restartBackoffMaxMs: 300_000,
  evictionMonitorPeriodMs: 10_000,
  evictionPressureTransitionMs: 300_000,
  droppedConnectionTimeoutMs: 10_000,
  kvLeaseDurationMs: 4_000,
  kvLeaseRenewMs: 1_000,
  metricsWindowMs: 15_000,
  hpaSyncPeriodMs: 15_000,
  hpaDownscaleStabilizationMs: 300_000,
  hpaCpuInitializationPeriodMs: 300_000,
  hpaInitialReadinessDelayMs: 30_000,
  maxEvents: 20_000,
});

export function resolveTimings(overrides: Partial<SimTimings> = {}): SimTimings {
  const out: Record<string, number> = { ...DEFAULT_SIM_TIMINGS };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) continue;
    if (!(k in DEFAULT_SIM_TIMINGS)) throw new RangeError(`unknown sim timing "${k}"`);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new RangeError(`sim timing ${k} must be a non-negative number of ms, not ${String(v)}`);
    out[k] = v;
  }
  return Object.freeze(out) as unknown as SimTimings;
}
