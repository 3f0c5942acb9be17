/**
 * What one container's process uses and serves, as the metrics APIs report it. CPU follows the
 * requests it served (a cost per request, in millicore-seconds), memory a base plus a share per
 * request in flight; requests per second and the p90 latency are taken over a sliding window, as
 * metrics-server's and a Prometheus adapter's rates are.
 */
export interface UsageModel {
  /** CPU one request costs, in millicore-seconds: 1000 requests/s at 2 cost 2 cores. */
  readonly cpuPerRequestMilliSeconds: number;
  /** Resident memory of the idle process, in bytes. */
  readonly baseMemoryBytes: number;
  /** Memory each request in flight holds, in bytes. */
  readonly memoryPerRequestBytes: number;
}

export interface UsageSnapshot {
  readonly container: string;
  /** When the window ends (now), ms since the epoch. */
  readonly timestamp: number;
  /** How long the rates were taken over, in ms (shorter while the process is young). */
  readonly windowMs: number;
  readonly cpuMillicores: number;
  readonly memoryBytes: number;
  readonly requestsPerSecond: number;
  readonly inFlight: number;
  /** 90th percentile latency of the requests completed in the window; 0 when none completed. */
  readonly p90LatencyMs: number;
}

/** What a stress process (stress-ng's workers) adds to a container's usage. */
export interface StressLoad {
  readonly cpuMillicores?: number;
  readonly memoryBytes?: number;
}

interface Completion {
  readonly at: number;
  readonly latencyMs: number;
}

export class UsageMeter {
  private readonly startedAt = Date.now();
  private readonly completions: Completion[] = [];
  private head = 0;
  private inFlight = 0;
  /** Stress the process was made to carry (memoryStress, cpuStress on a pod), by fault id; it dies with the process. */
  /** Made on the first stress: most containers never have one. */
  private stress: Map<string, StressLoad> | undefined;

  constructor(
    readonly container: string,
    private readonly model: UsageModel,
    private readonly windowMs: number,
  ) {}

  /** A request arrived; call the returned function when it is answered or fails. */
  begin(): () => void {
    const started = Date.now();
    this.inFlight++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.inFlight--;
      const now = Date.now();
      this.completions.push({ at: now, latencyMs: now - started });
      this.prune(now);
    };
  }

  addStress(id: string, load: StressLoad): void {
    (this.stress ??= new Map()).set(id, load);
  }

  removeStress(id: string): boolean {
    return this.stress?.delete(id) ?? false;
  }

  /** CPU and memory alone, without the latency percentile: what the kubelet's resource checks read at every pass. */
  load(now = Date.now()): Required<StressLoad> & { readonly requestsPerSecond: number; readonly windowMs: number } {
    this.prune(now);
    const windowMs = Math.max(1, Math.min(this.windowMs, now - this.startedAt));
    const requestsPerSecond = ((this.completions.length - this.head) * 1000) / windowMs;
    let stressCpu = 0;
    let stressMemory = 0;
    for (const load of this.stress?.values() ?? []) {
      stressCpu += load.cpuMillicores ?? 0;
      stressMemory += load.memoryBytes ?? 0;
    }
    return {
      windowMs,
      requestsPerSecond,
      cpuMillicores: requestsPerSecond * this.model.cpuPerRequestMilliSeconds + stressCpu,
      memoryBytes: this.model.baseMemoryBytes + this.inFlight * this.model.memoryPerRequestBytes + stressMemory,
    };
  }

  snapshot(now = Date.now()): UsageSnapshot {
    const { windowMs, requestsPerSecond, cpuMillicores, memoryBytes } = this.load(now);
    const recent = this.completions.slice(this.head);
    return {
      container: this.container,
      timestamp: now,
      windowMs,
      cpuMillicores,
      memoryBytes,
      requestsPerSecond,
      inFlight: this.inFlight,
      p90LatencyMs: percentile(recent.map((c) => c.latencyMs), 0.9),
    };
  }

  private prune(now: number): void {
    const cutoff = now - this.windowMs;
    while (this.head < this.completions.length && this.completions[this.head]!.at <= cutoff) this.head++;
    if (this.head > 1024 && this.head * 2 > this.completions.length) {
      this.completions.splice(0, this.head);
      this.head = 0;
    }
  }
}

/** Nearest-rank percentile; 0 for no values. */
function percentile(values: number[], q: number): number {
  if (!values.length) return 0;
  values.sort((a, b) => a - b);
  return values[Math.min(values.length - 1, Math.ceil(q * values.length) - 1)]!;
}
