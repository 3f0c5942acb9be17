import { ApiError } from '../api/api-error.js';
import type { ExecResult, ExecStreams, ExecTarget, LogSource, PodRuntime } from '../api/pod-runtime.js';
import type { StoredObject } from '../store.js';
import { containerEnvironment } from './container-environment.js';
import { ContainerShell } from './container-shell.js';
import type { KubeletFleet } from './kubelet-fleet.js';
import type { ContainerView, PodWorker } from './pod-worker.js';

/**
 * The kubelet's streaming server (port 10250) for the whole fleet: the API server hands it
 * pods/exec and pods/log, and it finds the pod's worker on its node. A kubelet that is down or
 * cut off from the control plane cannot be dialled, as on a real cluster.
 */
export class KubeletServer implements PodRuntime {
  constructor(private readonly fleet: KubeletFleet) {}

  private workerOf(pod: StoredObject): PodWorker {
    const node = (pod.spec as { nodeName?: string }).nodeName;
    if (!node) throw ApiError.badRequest(`pod ${pod.metadata.name} does not have a host assigned`);
    const kubelet = this.fleet.get(node);
    if (!kubelet) throw new ApiError(404, 'NotFound', `nodes "${node}" not found`, { name: node, kind: 'nodes' });
    if (!kubelet.canPublish()) {
      const ip = kubelet.hostIP;
      throw new ApiError(502, undefined, `error dialing backend: dial tcp ${ip}:10250: connect: ${kubelet.running() ? 'i/o timeout' : 'connection refused'}`);
    }
    const worker = kubelet.worker(pod.metadata.uid);
    if (!worker) throw ApiError.badRequest(`container not found in pod "${pod.metadata.name}": the pod is not running on ${node}`);
    return worker;
  }

  private containerOf(pod: StoredObject, name: string): ContainerView {
    const c = this.workerOf(pod).container(name);
    if (!c) throw ApiError.badRequest(`container ${name} is not valid for pod ${pod.metadata.name}`);
    return c;
  }

  exec(pod: StoredObject, container: string): ExecTarget {
    const c = this.containerOf(pod, container);
    if (c.state !== 'running' || !c.fs) {
      throw ApiError.badRequest(c.state === 'waiting'
        ? `container "${container}" in pod "${pod.metadata.name}" is waiting to start: ${c.waitingReason}`
        : `container not found ("${container}"): the container is not running`);
    }
    const fs = c.fs;
    return {
      async run(command: readonly string[], streams: ExecStreams): Promise<ExecResult> {
        const env = containerEnvironment(pod, c.spec.env);
        const shell = new ContainerShell({ fs, env, hostname: env.get('HOSTNAME')!, network: c.network, ...(c.spec.workingDir ? { workingDir: c.spec.workingDir } : {}) });
        const outcome = await shell.exec(command, {
          stdout: streams.stdout,
          // A terminal has one output stream.
          stderr: streams.tty ? streams.stdout : streams.stderr,
          ...(streams.stdin ? { stdin: streams.stdin } : {}),
          tty: streams.tty,
        }, AbortSignal.any([streams.signal, c.life]));
        // The container stopped under the command: it was killed with it.
        if (outcome.kind === 'exited' && c.life.aborted) return { kind: 'exited', code: 137 };
        return outcome;
      },
    };
  }

  /**
   * The container's first process as `kubectl attach` reaches it: what it writes from now on,
   * until it stops or the client goes, and the client's input into its stdin when it has one
   * open (`stdin: true`). As containerd does, a container without one takes the input and drops it.
   */
  attach(pod: StoredObject, container: string): ExecTarget {
    // Refused when its log would be: a container still waiting to start has no process to attach to.
    this.logs(pod, container, false);
    const { log, stdin } = this.containerOf(pod, container);
    return {
      run: (_command, streams) =>
        new Promise((resolve) => {
          const unsubscribe: (() => void)[] = [];
          let attached = true;
          const detach = (): void => {
            if (!attached) return;
            attached = false;
            for (const u of unsubscribe) u();
            resolve({ kind: 'exited', code: 0 });
          };
          // A terminal has one output stream.
          unsubscribe.push(log.tap((stream, data) => (stream === 'stderr' && !streams.tty ? streams.stderr : streams.stdout)(data)));
          unsubscribe.push(log.follow((line) => line === undefined && detach()));
          streams.signal.addEventListener('abort', detach, { once: true });
          if (stdin && streams.stdin) void stdin.attach(streams.stdin).then((closed) => closed || detach());
        }),
    };
  }

  logs(pod: StoredObject, container: string, previous: boolean): LogSource {
    const c = this.containerOf(pod, container);
    if (previous) {
      if (!c.previousLog) throw ApiError.badRequest(`previous terminated container "${container}" in pod "${pod.metadata.name}" not found`);
      const log = c.previousLog;
      return { lines: log.snapshot(), follow: (onLine) => log.follow(onLine) };
    }
    if (c.state === 'waiting' && !c.log.snapshot().length) {
      throw ApiError.badRequest(`container "${container}" in pod "${pod.metadata.name}" is waiting to start: ${c.waitingReason}`);
    }
    const log = c.log;
    return { lines: log.snapshot(), follow: (onLine) => log.follow(onLine) };
  }
}
