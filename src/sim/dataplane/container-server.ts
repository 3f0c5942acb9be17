import type { BehaviourKnobs } from './behaviour-knobs.js';
import { EXPOSITION_CONTENT_TYPE, HttpMetrics } from './http-metrics.js';
import type { UsageMeter } from './usage-meter.js';
import { ConnectionError, textResponse, type VirtualRequest, type VirtualResponse } from './traffic.js';

/** What an image does with a request; `terminating` is true once SIGTERM arrived. */
export interface ContainerApp {
  handle(request: VirtualRequest, state: { readonly terminating: boolean }): VirtualResponse | Promise<VirtualResponse>;
  /** SIGTERM: the app may start shutting down (a leader releases its lease). */
  onTerminate?(): void;
  /** The process is gone. */
  stop?(): void;
  /**
   * Where the image serves its Prometheus metrics (`/metrics`); absent: it has none. The process
   * instruments every other request it answers, as promhttp's handler wrappers do.
   */
  readonly metricsPath?: string;
}

interface InFlight {
  readonly reject: (err: Error) => void;
  /** Ends the request in the usage meter (absent for health checks). */
  readonly served?: () => void;
  timer?: NodeJS.Timeout;
}

/**
 * One container's listening process: the ports it answers on, its in-flight requests, and the
 * behaviour knobs. Killing it fails every in-flight request with ECONNRESET, as a dying process's
 * sockets do; a request to a process that is not listening gets ECONNREFUSED.
 */
export class ContainerServer {
  private listening = false;
  private terminating = false;
  private readonly inFlight = new Set<InFlight>();
  private readonly metrics = new HttpMetrics();
  /** What CFS throttling adds to each request while the container wants more CPU than its limit (the kubelet sets it). */
  throttleDelayMs = 0;

  constructor(
    readonly ports: ReadonlySet<number>,
    private readonly app: ContainerApp,
    private readonly knobs: BehaviourKnobs,
    /** What this process uses and serves, for the metrics APIs. */
    readonly usage: UsageMeter,
  ) {}

  get isListening(): boolean {
    return this.listening;
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  listen(): void {
    this.listening = true;
  }

  handle(request: VirtualRequest): Promise<VirtualResponse> {
    if (!this.listening) return Promise.reject(new ConnectionError('ECONNREFUSED', 'connect: connection refused'));
    // A scrape is answered by the instrumentation, not the application: the knobs that make the
    // application slow or failing leave it alone, and it is not itself counted.
    if (this.app.metricsPath !== undefined && request.path.split('?')[0] === this.app.metricsPath) {
      return Promise.resolve(textResponse(200, this.metrics.exposition(), { 'content-type': EXPOSITION_CONTENT_TYPE }));
    }
    return new Promise<VirtualResponse>((resolve, reject) => {
      const ended = this.metrics.begin(request.method);
      // The latency knob models a slow application, not slow health checks: probes answer at once.
      const probe = request.headers['user-agent']?.startsWith('kube-probe/') ?? false;
      const entry: InFlight = {
        reject: (err) => {
          ended(undefined);
          reject(err);
        },
        // Health checks are not the application's traffic: its rate and latency metrics leave them out.
        ...(probe ? {} : { served: this.usage.begin() }),
      };
      this.inFlight.add(entry);
      const finish = (run: () => void): void => {
        if (!this.inFlight.delete(entry)) return;
        entry.served?.();
        run();
      };
      const respond = (): void => {
        if (this.knobs.errorRate > 0 && Math.random() < this.knobs.errorRate) {
          finish(() => (ended(500), resolve(textResponse(500, 'injected error (GAMEDAY_ERROR_RATE)\n'))));
          return;
        }
        Promise.resolve()
          .then(() => this.app.handle(request, { terminating: this.terminating }))
          .then(
            (r) => finish(() => (ended(r.status), resolve(r))),
            (err: Error) => finish(() => entry.reject(err)),
          );
      };
      const delayMs = this.knobs.latencyMs + this.throttleDelayMs;
      if (delayMs > 0 && !probe) {
        entry.timer = setTimeout(respond, delayMs);
        entry.timer.unref();
      } else {
        respond();
      }
    });
  }

  /** SIGTERM. A `drop` process dies on the spot; a graceful one keeps serving while failing readiness. */
  terminate(): void {
    if (this.terminating) return;
    this.terminating = true;
    this.app.onTerminate?.();
    if (this.knobs.shutdown === 'drop') this.kill();
  }

  /** SIGKILL, or the process exiting: the listener closes and open connections reset. */
  kill(): void {
    this.listening = false;
    this.terminating = true;
    for (const entry of this.inFlight) {
      if (entry.timer) clearTimeout(entry.timer);
      entry.served?.();
      entry.reject(new ConnectionError('ECONNRESET', 'read: connection reset by peer'));
    }
    this.inFlight.clear();
    this.app.stop?.();
  }
}
