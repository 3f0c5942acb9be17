import { createHash, randomBytes } from 'node:crypto';
import type { DataPlane, PodAttachment } from '../dataplane/data-plane.js';
import { readKnobs, type BehaviourKnobs, type ContainerEnvVar } from '../dataplane/behaviour-knobs.js';
import { ContainerServer } from '../dataplane/container-server.js';
import { UsageMeter, type StressLoad } from '../dataplane/usage-meter.js';
import { appFor, classifyImage, type ImageKind } from '../dataplane/image-catalogue.js';
import type { KvReplicas } from '../dataplane/kv-app.js';
import { usesHostNetwork, type PodNetwork } from '../dataplane/pod-network.js';
import type { EventRecorder } from '../event-recorder.js';
import { goDuration } from '../go-duration.js';
import { mutableConditions, nowIso, setCondition } from '../pod-state.js';
import { cpuMillis, quantityBytes } from '../resource-quantity.js';
import type { ObjectStore, StoredObject } from '../store.js';
import type { SimTimings } from '../timings.js';
import { containerEnvironment, expandReferences } from './container-environment.js';
import { ContainerLog } from './container-log.js';
import { ContainerShell, type ImageProgram } from './container-shell.js';
import { ContainerStdin } from './container-stdin.js';
import type { ContainerFilesystem } from './container-filesystem.js';
import { loggedApp } from './logged-app.js';
import type { NodeFilesystem } from './node-filesystem.js';
import { persistentMountPaths, PodStorage, type VolumeMountSpec } from './pod-storage.js';
import type { Volume } from './volume.js';
import { probeOnce, type ProbeResult, type ProbeSpec } from './probe.js';

export interface ContainerSpec {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: ContainerEnvVar[];
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  readinessProbe?: ProbeSpec;
  livenessProbe?: ProbeSpec;
  startupProbe?: ProbeSpec;
  volumeMounts?: VolumeMountSpec[];
  workingDir?: string;
  /** The runtime keeps the process's stdin open for `kubectl attach -i`. */
  stdin?: boolean;
  /** The stdin closes when the first attached client's input ends. */
  stdinOnce?: boolean;
  tty?: boolean;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}

/** One running container's resources as the eviction manager and the OOM killer see them. */
export interface ContainerResources {
  readonly name: string;
  readonly memoryBytes: number;
  readonly cpuMillicores: number;
  /** 0 when unset. */
  readonly memoryRequestBytes: number;
  /** Undefined when unset (no limit). */
  readonly memoryLimitBytes: number | undefined;
  readonly cpuLimitMillicores: number | undefined;
}

/** What a pod worker needs from its kubelet. */
export interface PodWorkerHost {
  readonly nodeName: string;
  readonly hostIP: string;
  readonly timings: SimTimings;
  readonly store: ObjectStore;
  readonly recorder: EventRecorder;
  readonly dataPlane: DataPlane;
  readonly kvReplicas: KvReplicas;
  /** The node's root filesystem, where pod volumes and container layers allocate. */
  readonly filesystem: NodeFilesystem;
  readonly memoryBytes: number;
  /** The kubelet runs and reaches the API server, so status writes land. */
  canPublish(): boolean;
  /** The kubelet process runs (probes and restarts happen). */
  running(): boolean;
  /** The worker is done with its pod: release the IP and forget it. */
  finished(worker: PodWorker): void;
  /** The pod's view of the cluster network, for the commands its containers run. */
  podNetwork(pod: { readonly ip: string; readonly namespace: string }): PodNetwork;
  /** The node directory holding the data of the volume a claim is bound to, when it is on this node. */
  claimVolume(namespace: string, claimName: string): Volume | undefined;
  /** The token mounted at /var/run/secrets/kubernetes.io/serviceaccount/token. */
  serviceAccountToken(pod: StoredObject): string | undefined;
}

interface Terminated {
  exitCode: number;
  reason: string;
  message?: string;
  startedAt?: string;
  finishedAt: string;
  containerID: string;
}

interface ContainerRun {
  readonly spec: ContainerSpec;
  /** An init container: it must run to completion before the next one, and the app containers, start. */
  readonly init: boolean;
  /** An ephemeral container (`kubectl debug`): started once in the running pod, never restarted, never ready. */
  readonly ephemeral: boolean;
  /** How events name it: `spec.containers{name}`, `spec.initContainers{name}` or `spec.ephemeralContainers{name}`. */
  readonly fieldPath: string;
  readonly kind: ImageKind;
  readonly ports: Set<number>;
  readonly knobs: BehaviourKnobs;
  state: 'waiting' | 'running' | 'terminated';
  waitingReason: string;
  waitingMessage?: string;
  terminated?: Terminated;
  lastTerminated?: Terminated;
  startedAt?: string;
  containerID: string;
  restartCount: number;
  ready: boolean;
  started: boolean;
  /** The image's own program's server, while that program runs. */
  server?: ContainerServer;
  /** Ends the image's own program with a status (it exited, or handled SIGTERM). */
  stopImage?: (code: number) => void;
  /** The shell running the container's command, for SIGTERM traps. */
  shell?: ContainerShell;
  timers: Set<NodeJS.Timeout>;
  /** Bumped at each start so stale probe loops and timers stop. */
  generation: number;
  log: ContainerLog;
  previousLog?: ContainerLog;
  /** This start's filesystem, once something used it (see `fsOf`). */
  fs?: ContainerFilesystem;
  /** Makes this start's filesystem on first use. */
  makeFs?: () => ContainerFilesystem;
  /** The first process's stdin, open while it runs when the spec asks for `stdin: true`. */
  stdin?: ContainerStdin;
  /** Aborted when the process goes: execs running in it end with it. */
  life: AbortController;
}

/** What pods/exec and pods/log need of one container. */
export interface ContainerView {
  readonly spec: ContainerSpec;
  readonly state: 'waiting' | 'running' | 'terminated';
  readonly waitingReason: string;
  readonly fs: ContainerFilesystem | undefined;
  readonly log: ContainerLog;
  readonly previousLog: ContainerLog | undefined;
  /** Aborts when the running process stops. */
  readonly life: AbortSignal;
  /** The pod's network, for what an exec runs. */
  readonly network: PodNetwork;
  /** The running process's stdin, for attach: present for a container with `stdin: true`. */
  readonly stdin: ContainerStdin | undefined;
}

const SOURCE_COMPONENT = 'kubelet';

/**
 * The kubelet's per-pod loop: init containers one after the other, then the app containers from
 * ContainerCreating to Running. Each container's command runs in the container shell (the image's
 * own program, when the shell meets it, is its virtual server or its batch work); probes are
 * executed for real; restarts back off into CrashLoopBackOff; termination sends SIGTERM, waits
 * the grace period, then kills; eviction and node crashes take the containers down.
 */
export class PodWorker {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  private readonly pod: StoredObject;
  private readonly initRuns: ContainerRun[];
  private readonly containers: ContainerRun[];
  private readonly ephemeralRuns: ContainerRun[] = [];
  private readonly restartPolicy: string;
  private readonly namedPorts = new Map<string, number>();
  private readonly attachment: PodAttachment & { servers: ContainerServer[] };
  private phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed' = 'Pending';
  /** The init container running or next to run. */
  private initIndex = 0;
  private initialized = false;
  private startTime = nowIso();
  private terminating: { deadline: number; timer: NodeJS.Timeout } | undefined;
  private evicted: { message: string; resource: string } | undefined;
  private done = false;
  private removed = false;
  private dirty = false;
  private podTimers = new Set<NodeJS.Timeout>();
  readonly storage: PodStorage;
  private podNetwork: PodNetwork | undefined;

  constructor(
    private readonly host: PodWorkerHost,
    pod: StoredObject,
    readonly ip: string,
  ) {
    this.pod = pod;
    this.uid = pod.metadata.uid;
    this.namespace = pod.metadata.namespace!;
    this.name = pod.metadata.name;
    const spec = pod.spec as { containers?: ContainerSpec[]; initContainers?: ContainerSpec[]; restartPolicy?: string };
    this.restartPolicy = spec.restartPolicy ?? 'Always';
    for (const c of spec.containers ?? []) for (const p of c.ports ?? []) if (p.name) this.namedPorts.set(p.name, p.containerPort);
    const waiting = spec.initContainers?.length ? 'PodInitializing' : 'ContainerCreating';
    this.initRuns = (spec.initContainers ?? []).map((c) => this.newRun(c, true, waiting));
    this.containers = (spec.containers ?? []).map((c) => this.newRun(c, false, waiting));
    this.storage = new PodStorage({
      pod, node: host.filesystem, memoryBytes: host.memoryBytes,
      configMap: (name) => host.store.get('configmaps', this.namespace, name),
      claimVolume: (claim) => host.claimVolume(this.namespace, claim),
      serviceAccountToken: () => host.serviceAccountToken(pod),
    });
    this.attachment = { podKey: `${this.namespace}/${this.name}`, node: host.nodeName, servers: [], namedPorts: this.namedPorts };
  }

  private newRun(spec: ContainerSpec, init: boolean, waitingReason: string, ephemeral = false): ContainerRun {
    const { kind, defaultPorts } = classifyImage(spec.image);
    const ports = new Set<number>([...(spec.ports ?? []).map((p) => p.containerPort), ...defaultPorts]);
    for (const probe of [spec.readinessProbe, spec.livenessProbe, spec.startupProbe]) {
      const p = probe?.httpGet?.port ?? probe?.tcpSocket?.port;
      const n = p === undefined ? undefined : this.resolvePort(p);
      if (n !== undefined) ports.add(n);
    }
    return {
      spec, init, ephemeral, kind, ports,
      fieldPath: `spec.${init ? 'initContainers' : ephemeral ? 'ephemeralContainers' : 'containers'}{${spec.name}}`,
      knobs: readKnobs(spec.env, this.pod.metadata.annotations),
      state: 'waiting', waitingReason, containerID: '', restartCount: 0,
      ready: false, started: false, timers: new Set(), generation: 0,
      log: new ContainerLog(), life: new AbortController(),
    };
  }

  /** The pod's view of the cluster network, shared by its containers' processes and execs. */
  private get network(): PodNetwork {
    return (this.podNetwork ??= this.host.podNetwork({ ip: this.ip, namespace: this.namespace }));
  }

  private get hostname(): string {
    return (this.pod.spec as { hostname?: string }).hostname ?? this.name;
  }

  private get allRuns(): ContainerRun[] {
    return [...this.initRuns, ...this.containers, ...this.ephemeralRuns];
  }

  private resolvePort(p: number | string): number | undefined {
    if (typeof p === 'number') return p;
    return /^\d+$/.test(p) ? Number(p) : this.namedPorts.get(p);
  }

  private get podRef(): StoredObject {
    return this.host.store.get('pods', this.namespace, this.name) ?? this.pod;
  }

  /** An event about the pod, or about one of its containers (with the container's fieldPath, as the kubelet's container references carry). */
  private event(type: 'Normal' | 'Warning', reason: string, message: string, c?: ContainerRun): void {
    if (!this.host.canPublish()) return;
    this.host.recorder.record(this.podRef, type, reason, message, { component: SOURCE_COMPONENT, host: this.host.nodeName }, c?.fieldPath);
  }

  private later(ms: number, fn: () => void, run?: ContainerRun): void {
    const set = run ? run.timers : this.podTimers;
    const t = setTimeout(() => {
      set.delete(t);
      fn();
    }, ms);
    t.unref();
    set.add(t);
  }

  start(): void {
    this.attach();
    this.publish();
    this.later(this.host.timings.containerStartMs, () => this.nextInit());
  }

  /** Starts the init container whose turn it is; once every one has completed, the app containers. */
  private nextInit(): void {
    if (this.done || this.terminating) return;
    const c = this.initRuns[this.initIndex];
    if (c) return this.startContainer(c);
    this.initialized = true;
    for (const app of this.containers) this.startContainer(app);
    for (const debug of this.ephemeralRuns) if (debug.state === 'waiting') this.startContainer(debug);
  }

  private containerId(): string {
    return `containerd://${randomBytes(32).toString('hex')}`;
  }

  private startContainer(c: ContainerRun): void {
    if (this.done || this.terminating || !this.host.running()) return;
    c.generation++;
    const gen = c.generation;
    this.event('Normal', 'Pulled', `Container image "${c.spec.image}" already present on machine`, c);
    this.event('Normal', 'Created', `Created container: ${c.spec.name}`, c);
    this.event('Normal', 'Started', `Started container ${c.spec.name}`, c);
    c.state = 'running';
    c.startedAt = nowIso();
    c.containerID = this.containerId();
    c.ready = false;
    c.started = c.init || !c.spec.startupProbe;
    if (c.log.isEnded) {
      c.previousLog = c.log;
      c.log = new ContainerLog();
    }
    c.life = new AbortController();
    c.stdin = c.spec.stdin ? new ContainerStdin(Boolean(c.spec.stdinOnce) && !c.spec.tty) : undefined;
    // A new writable layer for each start, made when first used: most containers never have theirs looked at.
    this.storage.releaseRoot(c.spec.name);
    c.fs = undefined;
    c.makeFs = () => this.storage.containerFilesystem(c.spec.name, c.spec.volumeMounts ?? [], this.hostname);
    this.runProcess(c, gen);
    if (!c.init && !c.ephemeral) {
      this.phase = 'Running';
      if (c.spec.startupProbe) this.probeLoop(c, gen, 'startup', c.spec.startupProbe);
      else this.afterStartup(c, gen);
    }
    this.publish();
  }

  /**
   * The container's first process. Its command runs in the container shell; a command-less
   * container, or one whose args go to the image's entrypoint, runs the image's own program.
   * Its exit status is the container's.
   */
  private runProcess(c: ContainerRun, gen: number): void {
    const exited = (code: number): void => {
      if (gen === c.generation) this.containerExited(c, code, code === 0 ? 'Completed' : 'Error');
    };
    // Most containers run their image as it is: no shell, environment or network to set up for them.
    if (!c.spec.command?.length && !c.spec.args?.length) return this.startImage(c, gen, [], exited);
    void this.commandProcess(c, gen, exited).then(
      (code) => code !== undefined && exited(code),
      (err: Error) => {
        c.log.write(`gameday: the container's process failed: ${err.message}`);
        exited(255);
      },
    );
  }

  /** A container with a command or args: its exit status, or undefined when its image's entrypoint took the args (and reports through `exited`). */
  private async commandProcess(c: ContainerRun, gen: number, exited: (code: number) => void): Promise<number | undefined> {
    const env = containerEnvironment(this.podRef, c.spec.env, this.ip);
    const shell = this.shellFor(c, env, (argv) => new Promise((resolve) => this.startImage(c, gen, argv, resolve)));
    const args = (c.spec.args ?? []).map((a) => expandReferences(a, env));
    const command = (c.spec.command ?? []).map((a) => expandReferences(a, env));
    // Images without an entrypoint (busybox, alpine) run args as the command.
    const argv = command.length ? [...command, ...args] : shell.runs(args[0]!) ? args : undefined;
    if (!argv) {
      this.startImage(c, gen, args, exited);
      return undefined;
    }
    c.shell = shell;
    const stdout = c.log.stream('stdout');
    const stderr = c.log.stream('stderr');
    try {
      const stdin = c.stdin ? { stdin: c.stdin, tty: c.spec.tty ?? false } : {};
      const outcome = await shell.exec(argv, { stdout: stdout.write, stderr: stderr.write, ...stdin }, c.life.signal);
      return outcome.kind === 'exited' ? outcome.code : 128;
    } finally {
      stdout.flush();
      stderr.flush();
    }
  }

  /** A shell in the container: its filesystem, environment, hostname, working directory and the pod's network. */
  private shellFor(c: ContainerRun, env: ReadonlyMap<string, string>, imageProgram?: ImageProgram): ContainerShell {
    return new ContainerShell({
      fs: this.fsOf(c)!, env, hostname: this.hostname, network: this.network,
      ...(c.spec.workingDir ? { workingDir: c.spec.workingDir } : {}),
      ...(imageProgram ? { imageProgram } : {}),
    });
  }

  /**
   * The image's own program: the server the image catalogue gives the image, serving until it
   * is stopped, or for a generic image with nothing to serve (a Job's, an init container's),
   * batch work that ends after a while with GAMEDAY_EXIT_CODE.
   */
  private startImage(c: ContainerRun, gen: number, argv: readonly string[], exited: (code: number) => void): void {
    if (gen !== c.generation || c.state !== 'running') return exited(137);
    const app = appFor(c.kind, {
      pod: { namespace: this.namespace, name: this.name, uid: this.uid, node: this.host.nodeName, ip: this.ip },
      args: argv,
      kv: {
        store: this.host.store,
        leaseName: kvLeaseName(this.pod, c.spec),
        replicas: this.host.kvReplicas,
        replication: { mode: c.knobs.replication, delayMs: c.knobs.replicationDelayMs },
        leaseDurationMs: this.host.timings.kvLeaseDurationMs,
        renewMs: this.host.timings.kvLeaseRenewMs,
        apiReachable: () => this.host.dataPlane.reachesControlPlane(this.host.nodeName) && !this.done,
        ...this.kvDataDir(c),
        awaitRestore: c.knobs.awaitRestore,
      },
    });
    const server = new ContainerServer(c.ports, loggedApp(app, c.log, c.knobs), c.knobs, new UsageMeter(c.spec.name, c.knobs.usage, this.host.timings.metricsWindowMs));
    const ports = [...c.ports].sort((a, b) => a - b);
    c.log.write(ports.length ? `${c.spec.image} starting, listening on ${ports.map((p) => `:${p}`).join(', ')}${c.knobs.startupDelayMs ? ` after ${c.knobs.startupDelayMs} ms` : ''}` : `${c.spec.image} started`);
    let settled = false;
    // It ends on its own (batch work), on SIGTERM (sigterm), or on SIGKILL (containerExited, killProcess).
    const finish = (code: number): void => {
      if (settled) return;
      settled = true;
      server.kill();
      if (c.server === server) c.server = undefined;
      c.stopImage = undefined;
      this.attachServers();
      exited(code);
    };
    c.server = server;
    c.stopImage = finish;
    this.attachServers();
    if (c.knobs.startupDelayMs > 0) this.later(c.knobs.startupDelayMs, () => gen === c.generation && !settled && server.listen(), c);
    else server.listen();
    const batchLike = c.kind === 'generic' && (c.spec.ports ?? []).length === 0 && (c.init || this.restartPolicy !== 'Always');
    const runFor = c.knobs.exitAfterMs ?? (batchLike ? this.host.timings.batchRunMs : undefined);
    if (runFor !== undefined) this.later(runFor, () => finish(c.knobs.exitCode), c);
  }

  /** Where gameday/kv keeps its data: the container's first mount backed by a claim, if any. */
  private kvDataDir(c: ContainerRun): { dataDir?: { fs: ContainerFilesystem; path: string } } {
    const path = persistentMountPaths(this.pod, c.spec.volumeMounts ?? [])[0];
    const fs = c.kind === 'kv' && path !== undefined ? this.fsOf(c) : undefined;
    return fs && path !== undefined ? { dataDir: { fs, path } } : {};
  }

  /** The container's filesystem for its current (or last) start, undefined before it ever started. */
  private fsOf(c: ContainerRun): ContainerFilesystem | undefined {
    if (c.makeFs) {
      c.fs = c.makeFs();
      c.makeFs = undefined;
    }
    return c.fs;
  }

    /** An exec probe: the command runs in the container like an exec; status 0 passes, its output is the failure's message. */
  private async execProbe(c: ContainerRun, command: readonly string[], timeoutMs: number): Promise<ProbeResult> {
    if (!this.fsOf(c)) return { ok: false, output: 'container not running' };
    const shell = this.shellFor(c, containerEnvironment(this.podRef, c.spec.env, this.ip));
    let output = '';
    const collect = (d: Buffer): void => {
      output += d.toString('utf8');
    };
    const deadline = AbortSignal.timeout(timeoutMs);
    const outcome = await shell.exec(command, { stdout: collect, stderr: collect }, AbortSignal.any([c.life.signal, deadline]));
    if (deadline.aborted) return { ok: false, output: `command ${JSON.stringify(command.join(' '))} timed out` };
    if (outcome.kind === 'start-failed') return { ok: false, output: `OCI runtime exec failed: exec failed: unable to start container process: ${outcome.message}: unknown` };
    return { ok: outcome.code === 0, output };
  }

  private attachServers(): void {
    this.attachment.servers = this.allRuns.map((x) => x.server).filter((s): s is ContainerServer => !!s);
    this.attach();
  }

  /**
   * Into the data plane at the pod's IP. A pod on its node's network shares the node's address
   * with the node's other such pods (kube-proxy, kindnet, the static pods): it takes the address
   * only while it listens on a port, as its processes would bind the node's ports.
   */
  private attach(): void {
    const listens = !usesHostNetwork(this.pod) || this.attachment.servers.some((s) => s.ports.size > 0);
    this.host.dataPlane.attach(listens ? this.ip : undefined, this.attachment);
  }

  private afterStartup(c: ContainerRun, gen: number): void {
    if (c.spec.readinessProbe) this.probeLoop(c, gen, 'readiness', c.spec.readinessProbe);
    else c.ready = true;
    if (c.spec.livenessProbe) this.probeLoop(c, gen, 'liveness', c.spec.livenessProbe);
  }

  private probeLoop(c: ContainerRun, gen: number, kind: 'startup' | 'readiness' | 'liveness', probe: ProbeSpec): void {
    let successes = 0;
    let failures = 0;
    const period = (probe.periodSeconds ?? 10) * 1000;
    const label = kind[0]!.toUpperCase() + kind.slice(1);
    const tick = async (): Promise<void> => {
      if (gen !== c.generation || c.state !== 'running' || this.done) return;
      if (kind === 'liveness' && this.terminating) return;
      if (this.host.running()) {
        const result = await probeOnce(this.host.dataPlane, this.host.nodeName, this.ip, probe, (p) => this.resolvePort(p), (command, timeoutMs) => this.execProbe(c, command, timeoutMs));
        if (gen !== c.generation || c.state !== 'running' || this.done) return;
        if (result.ok) {
          successes++;
          failures = 0;
        } else {
          failures++;
          successes = 0;
          this.event('Warning', 'Unhealthy', `${label} probe failed: ${result.output}`, c);
        }
        if (kind === 'readiness') {
          const next = result.ok ? (successes >= (probe.successThreshold ?? 1) ? true : c.ready) : failures >= (probe.failureThreshold ?? 3) ? false : c.ready;
          if (next !== c.ready) {
            c.ready = next;
            this.publish();
          }
        } else if (kind === 'startup' && result.ok) {
          c.started = true;
          this.publish();
          this.afterStartup(c, gen);
          return;
        } else if (!result.ok && failures >= (probe.failureThreshold ?? 3)) {
          const why = kind === 'liveness' ? 'failed liveness probe' : 'failed startup probe';
          this.event('Normal', 'Killing', `Container ${c.spec.name} ${why}, will be restarted`, c);
          this.containerExited(c, 137, 'Error');
          return;
        }
      }
      this.later(period, () => void tick(), c);
    };
    this.later((probe.initialDelaySeconds ?? 0) * 1000, () => void tick(), c);
  }

  /** The container's process is gone: its log ends and its execs die with it. */
  private processGone(c: ContainerRun): void {
    c.log.end();
    c.stdin?.close();
    c.life.abort();
  }

  /**
   * The pod as the API server has it now: ephemeral containers added through
   * pods/ephemeralcontainers start in the running pod (or once its init containers are done).
   */
  update(pod: StoredObject): void {
    const specs = (pod.spec as { ephemeralContainers?: ContainerSpec[] }).ephemeralContainers ?? [];
    if (specs.length === this.ephemeralRuns.length || this.done || this.terminating) return;
    for (const spec of specs) {
      if (this.ephemeralRuns.some((r) => r.spec.name === spec.name)) continue;
      const run = this.newRun(spec, false, 'ContainerCreating', true);
      this.ephemeralRuns.push(run);
      if (this.initialized) this.later(this.host.timings.containerStartMs, () => this.startContainer(run), run);
    }
    this.publish();
  }

  /** The container named (app, init or ephemeral), for pods/exec, pods/attach and pods/log. */
  container(name: string): ContainerView | undefined {
    const c = this.allRuns.find((x) => x.spec.name === name);
    if (!c) return undefined;
    return { spec: c.spec, state: c.state, waitingReason: c.waitingReason, fs: this.fsOf(c), log: c.log, previousLog: c.previousLog, life: c.life.signal, network: this.network, stdin: c.stdin };
  }

  /** Bytes the pod's volumes and container layers hold on the node's disk. */
  get diskBytes(): number {
    return this.storage.diskBytes;
  }

  /** The worker is done: volumes and layers go back to the node, the kubelet forgets it. */
  private retire(): void {
    this.storage.dispose();
    this.host.finished(this);
  }

  private containerExited(c: ContainerRun, exitCode: number, reason: string): void {
    if (c.state !== 'running') return;
    c.generation++;
    this.processGone(c);
    for (const t of c.timers) clearTimeout(t);
    c.timers.clear();
    c.stopImage?.(exitCode);
    c.state = 'terminated';
    c.ready = false;
    c.started = false;
    c.terminated = { exitCode, reason, ...(c.startedAt ? { startedAt: c.startedAt } : {}), finishedAt: nowIso(), containerID: c.containerID };
    if (this.terminating || this.done) {
      this.maybeFinishTermination();
      return;
    }
    if (c.ephemeral) return this.publish();
    if (c.init && exitCode === 0) {
      this.initIndex++;
      this.publish();
      this.nextInit();
      return;
    }
    // A failed init container is retried unless the pod never restarts anything; then the pod has failed.
    const restart = c.init ? this.restartPolicy !== 'Never' : this.restartPolicy === 'Always' || (this.restartPolicy === 'OnFailure' && exitCode !== 0);
    if (!restart) {
      if (c.init || this.containers.every((x) => x.state === 'terminated')) this.complete();
      else this.publish();
      return;
    }
    this.restartLater(c);
  }

  /**
   * The kubelet's restart back-off: the first restart comes at the next sync, each later one
   * after a doubling delay, waiting in CrashLoopBackOff with a BackOff event.
   */
  private restartLater(c: ContainerRun): void {
    const restart = (): void => {
      if (c.terminated) c.lastTerminated = c.terminated;
      c.terminated = undefined;
      c.restartCount++;
      this.startContainer(c);
    };
    if (c.restartCount === 0) {
      this.publish();
      this.later(this.host.timings.kubeletSyncMs, restart, c);
      return;
    }
    const delay = Math.min(this.host.timings.restartBackoffMaxMs, this.host.timings.restartBackoffBaseMs * 2 ** (c.restartCount - 1));
    c.lastTerminated = c.terminated;
    c.terminated = undefined;
    c.state = 'waiting';
    c.waitingReason = 'CrashLoopBackOff';
    const pod = `${this.name}_${this.namespace}(${this.uid})`;
    c.waitingMessage = `back-off ${goDuration(delay * 1e6)} restarting failed container=${c.spec.name} pod=${pod}`;
    this.event('Warning', 'BackOff', `Back-off restarting failed container ${c.spec.name} in pod ${pod}`, c);
    this.publish();
    this.later(delay, restart, c);
  }

  /** All containers ran to completion and none restarts, or an init container failed for good. */
  private complete(): void {
    this.phase = this.containers.every((c) => c.terminated?.exitCode === 0) && this.initialized ? 'Succeeded' : 'Failed';
    this.publish();
    this.detach();
    this.done = true;
    this.retire();
  }

  /** The API server set deletionTimestamp: SIGTERM now, SIGKILL when the grace period ends. */
  terminate(graceSeconds: number): void {
    if (this.done) return;
    const deadline = Date.now() + graceSeconds * 1000;
    if (this.terminating && this.terminating.deadline <= deadline) return;
    if (this.terminating) clearTimeout(this.terminating.timer);
    const first = !this.terminating;
    const timer = setTimeout(() => this.killAll(137), Math.max(0, deadline - Date.now()));
    timer.unref();
    this.terminating = { deadline, timer };
    for (const t of this.podTimers) clearTimeout(t);
    this.podTimers.clear();
    if (!first) return;
    for (const c of this.allRuns) {
      if (c.state !== 'running') {
        this.cancelTimers(c);
        if (c.state === 'waiting') c.state = 'terminated';
        continue;
      }
      this.event('Normal', 'Killing', `Stopping container ${c.spec.name}`, c);
      this.sigterm(c, graceSeconds);
    }
    this.maybeFinishTermination();
  }

  /**
   * SIGTERM to a container. The image's own program handles it (a graceful server keeps
   * answering, readiness failing, long enough for endpoint removal to propagate, lets in-flight
   * requests finish, then exits 0). A shell as the first process has no default handler: only a
   * trap reacts, else the deadline's SIGKILL ends it.
   */
  private sigterm(c: ContainerRun, graceSeconds: number): void {
    const server = c.server;
    const stop = c.stopImage;
    if (!server || !stop) {
      c.shell?.deliver('TERM');
      return;
    }
    server.terminate();
    if (c.knobs.shutdown === 'drop') return stop(143);
    const lingerMs = Math.min(graceSeconds * 1000, c.knobs.shutdownDelayMs ?? 2 * this.host.timings.endpointPropagationMs + 1000);
    const gen = c.generation;
    const waitDrained = (): void => {
      if (gen !== c.generation) return;
      if (server.inFlightCount === 0) stop(0);
      else this.later(20, waitDrained, c);
    };
    this.later(lingerMs, waitDrained, c);
  }

  private killAll(exitCode: number): void {
    for (const c of this.allRuns) if (c.state === 'running') this.containerExited(c, exitCode, 'Error');
    this.maybeFinishTermination();
  }

  private maybeFinishTermination(): void {
    if (!this.terminating || this.done) return;
    if (this.allRuns.some((c) => c.state === 'running')) return;
    clearTimeout(this.terminating.timer);
    this.phase = this.containers.every((c) => (c.terminated?.exitCode ?? 0) === 0) ? 'Succeeded' : 'Failed';
    this.done = true;
    this.detach();
    this.publish();
    this.retire();
  }

  /** Invalidates the container's pending probe, restart and start timers (its generation moves on). */
  private cancelTimers(c: ContainerRun): void {
    c.generation++;
    for (const t of c.timers) clearTimeout(t);
    c.timers.clear();
  }

  /** SIGKILL: the server closes (in-flight requests fail) and the container is no longer ready. */
  private killProcess(c: ContainerRun): void {
    c.stopImage?.(137);
    c.state = 'terminated';
    this.processGone(c);
    c.ready = false;
  }

  /** The pod object is gone (force deletion): the containers die at once. */
  killNow(): void {
    for (const c of this.allRuns) {
      this.cancelTimers(c);
      this.killProcess(c);
    }
    for (const t of this.podTimers) clearTimeout(t);
    if (this.terminating) clearTimeout(this.terminating.timer);
    this.done = true;
    this.removed = true;
    this.detach();
    this.retire();
  }

  /**
   * containerKill: the container's process is killed from outside (SIGKILL, as `crictl stop -t 0`
   * or `kill -9` of its first process); the kubelet restarts it as after any exit. False when it
   * is not running.
   */
  killContainer(name: string): boolean {
    const c = this.containers.find((x) => x.spec.name === name);
    if (!c || c.state !== 'running' || this.done || this.terminating) return false;
    this.containerExited(c, 137, 'Error');
    return true;
  }

  /** A container's restart count; undefined when the pod has no such container. */
  restartCount(name: string): number | undefined {
    return this.containers.find((x) => x.spec.name === name)?.restartCount;
  }

  /** The kernel's OOM killer ended the container's process: it went over its memory limit. */
  oomKill(name: string): void {
    const c = this.containers.find((x) => x.spec.name === name);
    if (c?.state === 'running') this.containerExited(c, 137, 'OOMKilled');
  }

  /**
   * A stress process in a container (the first running one when no name is given): it lives in
   * the container's usage until reverted or until the container's process dies. Returns the
   * container stressed, or undefined when none runs.
   */
  addStress(id: string, load: StressLoad, container?: string): string | undefined {
    const c = this.containers.find((x) => x.state === 'running' && x.server && (container === undefined || x.spec.name === container));
    c?.server?.usage.addStress(id, load);
    return c?.spec.name;
  }

  removeStress(id: string): void {
    for (const c of this.containers) c.server?.usage.removeStress(id);
  }

  /** The running containers' usage beside their requests and limits. */
  resources(now = Date.now()): ContainerResources[] {
    const out: ContainerResources[] = [];
    for (const c of this.containers) {
      if (c.state !== 'running' || !c.server) continue;
      const usage = c.server.usage.load(now);
      const limits = c.spec.resources?.limits ?? {};
      out.push({
        name: c.spec.name,
        memoryBytes: usage.memoryBytes,
        cpuMillicores: usage.cpuMillicores,
        // A limit without a request defaults the request to it, as the API server's defaulting does.
        memoryRequestBytes: quantityBytes(c.spec.resources?.requests?.memory ?? limits.memory),
        memoryLimitBytes: limits.memory !== undefined ? quantityBytes(limits.memory) : undefined,
        cpuLimitMillicores: limits.cpu !== undefined ? cpuMillis(limits.cpu) : undefined,
      });
    }
    return out;
  }

  /** CFS throttling of a container's process, as added latency on each request it serves. */
  setThrottle(name: string, delayMs: number): void {
    const server = this.containers.find((x) => x.spec.name === name)?.server;
    if (server) server.throttleDelayMs = delayMs;
  }

  /** The eviction manager's verdict: containers killed, phase Failed, reason Evicted; the pod object stays. */
  evict(message: string, resource = 'ephemeral-storage'): void {
    if (this.done) return;
    this.evicted = { message, resource };
    this.event('Warning', 'Evicted', message);
    for (const c of this.allRuns) if (c.state === 'running') {
      this.event('Normal', 'Killing', `Stopping container ${c.spec.name}`, c);
      this.cancelTimers(c);
      this.killProcess(c);
      c.terminated = { exitCode: 137, reason: 'ContainerStatusUnknown', finishedAt: nowIso(), containerID: c.containerID, ...(c.startedAt ? { startedAt: c.startedAt } : {}) };
    }
    this.phase = 'Failed';
    this.done = true;
    this.removed = true;
    this.detach();
    this.publish();
    this.retire();
  }

  /** The node went down: every process dies, nothing is reported. */
  crash(): void {
    for (const c of this.allRuns) {
      this.cancelTimers(c);
      if (c.state === 'running') {
        this.killProcess(c);
        c.terminated = { exitCode: 255, reason: 'Unknown', finishedAt: nowIso(), containerID: c.containerID, ...(c.startedAt ? { startedAt: c.startedAt } : {}) };
      }
    }
  }

  /** The node is back: containers start again, each counting a restart (the init container whose turn it was, if any). */
  recoverAfterCrash(): void {
    if (this.done) return;
    if (this.terminating) {
      this.killAll(137);
      return;
    }
    const runs = this.initialized ? this.containers : this.initRuns.slice(this.initIndex, this.initIndex + 1);
    for (const c of runs) {
      if (c.state !== 'terminated') {
        if (!this.initialized) this.startContainer(c);
        continue;
      }
      c.lastTerminated = c.terminated;
      c.terminated = undefined;
      c.restartCount++;
      this.startContainer(c);
    }
    this.publish();
  }

  get isDone(): boolean {
    return this.done;
  }

  get isTerminating(): boolean {
    return !!this.terminating;
  }

  get qosRank(): number {
    const q = (this.podRef.status as { qosClass?: string } | undefined)?.qosClass;
    return q === 'BestEffort' ? 0 : q === 'Burstable' ? 1 : 2;
  }

  private detach(): void {
    this.host.dataPlane.detach(this.ip, this.attachment);
  }

  /** Writes status when the API is reachable; otherwise remembers to on reconnect. */
  publish(): void {
    if (!this.host.canPublish()) {
      this.dirty = true;
      return;
    }
    this.dirty = false;
    const store = this.host.store;
    const current = store.get('pods', this.namespace, this.name);
    if (!current || current.metadata.uid !== this.uid) return;
    store.mutate('pods', this.namespace, this.name, (p) => this.applyStatus(p));
    const finishedTermination = this.done && this.terminating && !this.evicted;
    if (finishedTermination && !this.removed) {
      this.removed = true;
      store.remove('pods', this.namespace, this.name);
    }
  }

  /** After a partition or kubelet stop heals: say everything again. */
  flush(): void {
    if (this.dirty || (this.done && this.terminating && !this.removed)) this.publish();
    else if (!this.done) this.publish();
  }

  /**
   * A container's status as the kubelet writes it: every field the API marks required (name,
   * image, imageID, ready, restartCount) always present, `imageID` empty until the container exists.
   */
  private containerStatus(c: ContainerRun): object {
    const term = (t: Terminated): object => ({ terminated: { exitCode: t.exitCode, reason: t.reason, ...(t.message ? { message: t.message } : {}), ...(t.startedAt ? { startedAt: t.startedAt } : {}), finishedAt: t.finishedAt, containerID: t.containerID } });
    const state = c.state === 'running'
      ? { running: { startedAt: c.startedAt } }
      : c.state === 'terminated' && c.terminated
        ? term(c.terminated)
        : { waiting: { reason: c.state === 'terminated' ? 'ContainerCreating' : c.waitingReason, ...(c.waitingMessage && c.waitingReason === 'CrashLoopBackOff' ? { message: c.waitingMessage } : {}) } };
    const created = c.containerID !== '';
    const repository = c.spec.image.includes('/') || c.spec.image.includes('.') ? c.spec.image : `docker.io/library/${c.spec.image}`;
    return {
      name: c.spec.name,
      image: !created ? c.spec.image : repository.includes(':') || repository.includes('@') ? repository : `${repository}:latest`,
      imageID: created ? `${repository.split(':')[0]}@sha256:${createHash('sha256').update(c.spec.image).digest('hex')}` : '',
      ...(created ? { containerID: c.containerID } : {}),
      // An init container is ready once it has completed.
      ready: c.init ? c.state === 'terminated' && c.terminated?.exitCode === 0 : c.ready,
      started: c.state === 'running' && c.started,
      restartCount: c.restartCount,
      state,
      lastState: c.lastTerminated ? term(c.lastTerminated) : {},
    };
  }

  private applyStatus(p: StoredObject): void {
    const status = (p.status ??= {}) as Record<string, unknown>;
    const conditions = mutableConditions(p);
    const allReady = this.containers.length > 0 && this.containers.every((c) => c.ready && c.state === 'running') && !this.done;
    setCondition(conditions, { type: 'PodReadyToStartContainers', status: this.done ? 'False' : 'True', lastProbeTime: null });
    const incomplete = this.initRuns.filter((c) => !(c.state === 'terminated' && c.terminated?.exitCode === 0)).map((c) => c.spec.name);
    setCondition(conditions, {
      type: 'Initialized', lastProbeTime: null,
      ...(this.initialized || !incomplete.length
        ? { status: 'True', reason: undefined, message: undefined }
        : { status: 'False', reason: 'ContainersNotInitialized', message: `containers with incomplete status: [${incomplete.join(' ')}]` }),
    });
    const notReady = this.containers.filter((c) => !(c.ready && c.state === 'running')).map((c) => c.spec.name);
    const readyCond = allReady
      ? { status: 'True' as const, reason: undefined, message: undefined }
      : { status: 'False' as const, reason: this.done && this.phase !== 'Running' ? 'PodCompleted' : 'ContainersNotReady', message: this.done && this.phase !== 'Running' ? undefined : `containers with unready status: [${notReady.join(' ')}]` };
    setCondition(conditions, { type: 'ContainersReady', ...readyCond, lastProbeTime: null });
    setCondition(conditions, { type: 'Ready', ...readyCond, lastProbeTime: null });
    if (this.evicted) setCondition(conditions, { type: 'DisruptionTarget', status: 'True', reason: 'TerminationByKubelet', message: `The node was low on resource: ${this.evicted.resource}.`, lastProbeTime: null });
    status.phase = this.phase;
    status.hostIP = this.host.hostIP;
    status.hostIPs = [{ ip: this.host.hostIP }];
    if (!this.evicted || this.allRuns.some((c) => c.containerID)) {
      status.podIP = this.ip;
      status.podIPs = [{ ip: this.ip }];
    }
    status.startTime = this.startTime;
    if (this.initRuns.length) status.initContainerStatuses = this.initRuns.map((c) => this.containerStatus(c));
    status.containerStatuses = this.containers.map((c) => this.containerStatus(c));
    if (this.ephemeralRuns.length) status.ephemeralContainerStatuses = this.ephemeralRuns.map((c) => this.containerStatus(c));
    if (this.evicted) {
      status.reason = 'Evicted';
      status.message = this.evicted.message;
    }
  }
}

/** The Lease a gameday/kv member elects through: GAMEDAY_KV_LEASE, else `<statefulset or app>-leader`. */
function kvLeaseName(pod: StoredObject, spec: ContainerSpec): string {
  const explicit = spec.env?.find((e) => e.name === 'GAMEDAY_KV_LEASE')?.value;
  if (explicit) return explicit;
  const owner = pod.metadata.ownerReferences?.find((r) => r.controller)?.name;
  const group = owner ?? pod.metadata.labels?.app ?? pod.metadata.name;
  return `${group}-leader`;
}
