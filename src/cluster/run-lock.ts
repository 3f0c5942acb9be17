import { hostname, userInfo } from 'node:os';
import { CoordinationV1Api, PatchStrategy, setHeaderOptions, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { abortableSleep } from '../core/abortable-sleep.js';
import { ClusterBusyError, errorMessage, InterruptedError } from '../core/errors.js';
import { isAlreadyExists, isConflict, isNotFound } from './api-errors.js';
import type { Permission } from './rbac.js';

/**
 * The run lock: one coordination.k8s.io/v1 Lease per cluster, held by a `gameday run` for as long
 * as it runs, so that game days never overlap on one cluster. kube-system exists in every cluster
 * and is where Kubernetes keeps its own cluster-wide leases (kube-scheduler's,
 * kube-controller-manager's); a run needs get, create and update on this one lease there.
 */
export const RUN_LOCK = { namespace: 'kube-system', name: 'gameday-run-lock' } as const;

/** What a `gameday run` does with its lock: create the lease (a create cannot name its object), then read and renew only it. */
export const RUN_LOCK_PERMISSIONS: readonly Permission[] = [
  { why: 'run lock: create the Lease the first time', verbs: ['create'], resource: 'leases', group: 'coordination.k8s.io', namespace: RUN_LOCK.namespace },
  { why: 'run lock: read it every second (for gameday stop), renew and release it', verbs: ['get', 'update'], resource: 'leases', group: 'coordination.k8s.io', namespace: RUN_LOCK.namespace, names: [RUN_LOCK.name] },
];

/** What `gameday stop` does with the lock: read it, and ask its holder to stop with a merge patch (stopRuns). */
export const STOP_PERMISSIONS: readonly Permission[] = [
  { why: 'gameday stop: read the run lock, and ask its holder to stop (an annotation, merge-patched)', verbs: ['get', 'patch'], resource: 'leases', group: 'coordination.k8s.io', namespace: RUN_LOCK.namespace, names: [RUN_LOCK.name] },
];

/** What the lease says besides its holder, for `gameday stop`, a refused run and `kubectl describe lease`. */
export const RUN_LOCK_ANNOTATIONS = {
  /** The experiment run in progress (`gameday run` holds one lock across all its experiments). */
  runId: 'gameday.dev/run-id',
  /** Every experiment the holding `gameday run` runs, comma-separated. */
  experiments: 'gameday.dev/experiments',
  startedAt: 'gameday.dev/started-at',
  host: 'gameday.dev/host',
  pid: 'gameday.dev/pid',
  /** Written by `gameday stop`: the holder aborts, reverts and releases the lock. */
  stopRequestedBy: 'gameday.dev/stop-requested-by',
  stopRequestedAt: 'gameday.dev/stop-requested-at',
  /** Written by the holder as it releases the lock: what it reverted, one fault a line. */
  reverted: 'gameday.dev/reverted',
  releasedAt: 'gameday.dev/released-at',
} as const;

/** How long the lock outlives a holder that dies without releasing it, unless a run asks otherwise. */
export const DEFAULT_LOCK_LEASE_SECONDS = 30;

/** How often a holder reads its lease (so a stop request is seen within it) and a waiting run looks again. */
const LOOK_EVERY_MS = 1000;

/** How often `gameday stop` looks whether the holder has let go. */
const STOP_LOOK_EVERY_MS = 250;

const A = RUN_LOCK_ANNOTATIONS;
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** `alice@laptop`: who acts, as the lock and a stop request name them. */
export function whoAmI(): string {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    // A container user with no passwd entry has no name.
    user = process.env.USER ?? `uid-${process.getuid?.() ?? 'unknown'}`;
  }
  return `${user}@${hostname()}`;
}

export interface LockHolder {
  /** `alice@laptop/20261124-101500-drain-a-worker-4f2a`: who, and the first run of their `gameday run`. */
  readonly identity: string;
  /** The experiment run in progress now. */
  readonly runId?: string;
  readonly experiments?: string;
  readonly startedAt?: string;
  readonly host?: string;
  readonly pid?: string;
  /** When the lease runs out unless renewed, in ms since the epoch (by the holder's clock). */
  readonly expiresAt: number;
}

export interface StopRequest {
  readonly by: string;
  readonly at: string;
}

/** The lock as one read of the lease shows it. */
export interface RunLockView {
  /** Absent when nobody holds the lock: no lease, released, or expired. */
  readonly holder?: LockHolder;
  /** A holder whose lease ran out without a release: it died or lost the cluster, and its faults may still be applied. */
  readonly expired?: LockHolder;
  readonly stopRequest?: StopRequest;
  /** What the last holder reverted, as it wrote when it released the lock. */
  readonly reverted: readonly string[];
}

/** `alice@laptop/… (run …; experiments a, b; since …; pid 42 on laptop)`. */
export function describeHolder(holder: LockHolder): string {
  const details = [
    holder.runId ? `run ${holder.runId}` : undefined,
    holder.experiments ? `experiments ${holder.experiments}` : undefined,
    holder.startedAt ? `since ${holder.startedAt}` : undefined,
    holder.pid ? `pid ${holder.pid}${holder.host ? ` on ${holder.host}` : ''}` : undefined,
  ].filter((d) => d !== undefined);
  return details.length > 0 ? `${holder.identity} (${details.join('; ')})` : holder.identity;
}

/** The reason a stopped run is interrupted with; the journal and the report say `received <this>`. */
export function stopReason(request: StopRequest): string {
  return `gameday stop (${request.by})`;
}

export interface RunLockOptions {
  readonly kubeConfig: KubeConfig;
  /** The first experiment's run id, part of the holder identity. */
  readonly runId: string;
  /** Every experiment this `gameday run` will run. */
  readonly experiments: readonly string[];
  /** How long the lock outlives a holder that dies without releasing it; it is renewed every third of it. @default 30 */
  readonly leaseSeconds?: number;
  /** Trouble with the lock that does not end the run by itself: a failed renewal, a failed release. */
  readonly log?: (message: string) => void;
}

export interface AcquireRunLockOptions extends RunLockOptions {
  /** Wait while another run holds the lock instead of refusing. @default false */
  readonly wait?: boolean;
  /** While waiting, after every look at the lock. */
  readonly onWait?: (holder: LockHolder) => void;
  /** Ends a wait (SIGINT, SIGTERM) with an InterruptedError. */
  readonly signal?: AbortSignal;
}

/**
 * Takes the run lock: creates the lease, or takes over one that is released or has expired. A
 * lock held by a live run is refused (ClusterBusyError, naming the holder), or waited for.
 * A `gameday stop` seen while waiting stops this run too (InterruptedError): a stop is meant for
 * every game day on the cluster.
 */
export async function acquireRunLock(options: AcquireRunLockOptions): Promise<RunLock> {
  const api = options.kubeConfig.makeApiClient(CoordinationV1Api);
  const identity = `${whoAmI()}/${options.runId}`;
  const seconds = options.leaseSeconds ?? DEFAULT_LOCK_LEASE_SECONDS;
  let stopBefore: string | undefined;
  for (let first = true; ; first = false) {
    const lease = await readLease(api);
    const view = viewOf(lease);
    if (first) stopBefore = view.stopRequest?.at;
    else if (view.stopRequest && view.stopRequest.at !== stopBefore) throw new InterruptedError(stopReason(view.stopRequest));
    if (!view.holder) {
      try {
        await writeLease(api, heldLease(identity, seconds, options, lease));
        return new RunLock(api, identity, seconds, options);
      } catch (err) {
        // Another run took it between our read and our write: look again.
        if (isConflict(err) || isAlreadyExists(err)) continue;
        throw err;
      }
    }
    if (!options.wait) {
      throw new ClusterBusyError(
        `another game day holds the run lock of this cluster (lease ${RUN_LOCK.namespace}/${RUN_LOCK.name}): ${describeHolder(view.holder)}; ` +
          'wait for it with --wait-lock, or stop it with gameday stop',
      );
    }
    options.onWait?.(view.holder);
    const signal = options.signal ?? new AbortController().signal;
    await abortableSleep(LOOK_EVERY_MS, signal);
    if (signal.aborted) throw new InterruptedError(typeof signal.reason === 'string' ? signal.reason : 'abort');
  }
}

export interface RunLockWatch {
  /** `gameday stop` asked every run on the cluster to stop. Called once. */
  readonly onStopRequested: (request: StopRequest) => void;
  /** The lock is no longer this run's: renewals failed for a whole lease, or another run holds it now. Called once. */
  readonly onLost: (reason: string) => void;
}

/** A held run lock: renewed while watched, released once. */
export class RunLock {
  private runId: string;
  private renewedAt = Date.now();
  /** The lease should say something new (the run in progress) at the next look. */
  private dirty = false;
  private watch: RunLockWatch | undefined;
  private timer: NodeJS.Timeout | undefined;
  private looking: Promise<void> | undefined;
  private closed = false;
  private stopSeen = false;
  private lost = false;
  private troubled = false;

  constructor(
    private readonly api: CoordinationV1Api,
    readonly identity: string,
    private readonly leaseSeconds: number,
    private readonly options: RunLockOptions,
  ) {
    this.runId = options.runId;
  }

  /** Looks at the lease every second, renewing it every third of its duration, until release. */
  startWatching(watch: RunLockWatch): void {
    this.watch = watch;
    this.schedule();
  }

  /** Names the experiment run now in progress on the lease. */
  nowRunning(runId: string): void {
    if (runId === this.runId) return;
    this.runId = runId;
    this.dirty = true;
  }

  /**
   * Lets go of the lock, leaving on the lease what was reverted (for `gameday stop`), and any stop
   * request. Never throws: a lock that cannot be released expires by itself.
   */
  async release(reverted: readonly string[]): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.looking;
    if (this.lost) return;
    try {
      await releaseLease(this.api, (lease) => lease.spec?.holderIdentity === this.identity, reverted);
    } catch (err) {
      this.options.log?.(`could not release the run lock (it expires ${this.leaseSeconds}s after its last renewal): ${errorMessage(err)}`);
    }
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.looking = this.look().finally(() => this.schedule());
    }, LOOK_EVERY_MS);
    this.timer.unref();
  }

  private async look(): Promise<void> {
    const now = Date.now();
    try {
      const lease = await readLease(this.api);
      if (lease?.spec?.holderIdentity !== this.identity) {
        const holder = viewOf(lease).holder;
        return this.lose(holder ? `the run lock is held by ${describeHolder(holder)} now` : 'the run lock was released or deleted by someone else');
      }
      const stop = viewOf(lease).stopRequest;
      if (stop && !this.stopSeen) {
        this.stopSeen = true;
        this.watch?.onStopRequested(stop);
      }
      if (this.dirty || now - this.renewedAt >= (this.leaseSeconds * 1000) / 3) {
        const annotations = { ...lease.metadata?.annotations, [A.runId]: this.runId };
        await writeLease(this.api, { ...lease, metadata: { ...lease.metadata, annotations }, spec: { ...lease.spec, renewTime: new V1MicroTime(now) } });
        this.renewedAt = now;
        this.dirty = false;
      }
      this.troubled = false;
    } catch (err) {
      // Someone (gameday stop) changed the lease between our read and our write: the next look renews.
      if (isConflict(err)) return;
      if (now - this.renewedAt >= this.leaseSeconds * 1000) return this.lose(`could not renew the run lock for ${this.leaseSeconds}s: ${errorMessage(err)}`);
      if (!this.troubled) this.options.log?.(`could not renew the run lock (retrying every second): ${errorMessage(err)}`);
      this.troubled = true;
    }
  }

  private lose(reason: string): void {
    this.lost = true;
    this.closed = true;
    this.watch?.onLost(reason);
  }
}

/**
 * Releases the lock if the run `runId` still holds it: `gameday recover` does this once it has
 * reverted that run's faults, so that the next game day need not wait for the lease to expire.
 */
export async function releaseRunLockOf(kubeConfig: KubeConfig, runId: string): Promise<LockHolder | undefined> {
  const api = kubeConfig.makeApiClient(CoordinationV1Api);
  const heldBy = (lease: V1Lease): boolean =>
    lease.spec?.holderIdentity !== undefined && (lease.spec.holderIdentity.endsWith(`/${runId}`) || lease.metadata?.annotations?.[A.runId] === runId);
  return releaseLease(api, heldBy, []);
}

/** What one read of the lock shows now. */
export async function readRunLock(kubeConfig: KubeConfig): Promise<RunLockView> {
  return viewOf(await readLease(kubeConfig.makeApiClient(CoordinationV1Api)));
}

export type StopResult =
  /** No run holds the lock; `view` tells of an expired holder or the last release. */
  | { readonly status: 'idle'; readonly view: RunLockView }
  /** The holder aborted, reverted and released the lock. */
  | { readonly status: 'stopped'; readonly holder: LockHolder; readonly request: StopRequest; readonly reverted: readonly string[] }
  /** The holder stopped renewing without releasing: it died, and its faults may still be applied. */
  | { readonly status: 'expired'; readonly holder: LockHolder; readonly request: StopRequest }
  /** The holder still held the lock when the time was up. */
  | { readonly status: 'timeout'; readonly holder: LockHolder; readonly request: StopRequest };

export interface StopRunsOptions {
  /** Who asks, as the stopped run journals it. @default whoAmI() */
  readonly by?: string;
  /** How long to wait for the holder to let go. */
  readonly timeoutMs: number;
  /** The request is on the lease; the holder should abort within a second or so. */
  readonly onRequested?: (holder: LockHolder) => void;
}

/**
 * `gameday stop`: asks the run holding the lock to stop, through an annotation on the lease that
 * the holder looks at every second, then waits for the holder to revert and let go.
 */
export async function stopRuns(kubeConfig: KubeConfig, options: StopRunsOptions): Promise<StopResult> {
  const api = kubeConfig.makeApiClient(CoordinationV1Api);
  const view = viewOf(await readLease(api));
  const holder = view.holder;
  if (!holder) return { status: 'idle', view };
  const request: StopRequest = { by: options.by ?? whoAmI(), at: new Date().toISOString() };
  const body = { metadata: { annotations: { [A.stopRequestedBy]: request.by, [A.stopRequestedAt]: request.at } } };
  try {
    await api.patchNamespacedLease({ ...RUN_LOCK, body }, mergePatch);
  } catch (err) {
    if (isNotFound(err)) return { status: 'idle', view: { reverted: [] } };
    throw err;
  }
  options.onRequested?.(holder);
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, STOP_LOOK_EVERY_MS));
    const lease = await readLease(api);
    const now = viewOf(lease);
    if (lease?.spec?.holderIdentity !== holder.identity) {
      // Released (the summary is on the lease), unless another run took the lock at once.
      return { status: 'stopped', holder, request, reverted: lease?.spec?.holderIdentity ? [] : now.reverted };
    }
    if (now.expired) return { status: 'expired', holder, request };
    if (Date.now() >= deadline) return { status: 'timeout', holder, request };
  }
}

function viewOf(lease: V1Lease | undefined, now = Date.now()): RunLockView {
  const a = lease?.metadata?.annotations ?? {};
  const by = a[A.stopRequestedBy];
  const stopRequest = by ? { stopRequest: { by, at: a[A.stopRequestedAt] ?? '' } } : {};
  const reverted = a[A.reverted]?.split('\n') ?? [];
  const identity = lease?.spec?.holderIdentity;
  if (!identity) return { reverted, ...stopRequest };
  const renewed = timeOf(lease.spec?.renewTime ?? lease.spec?.acquireTime);
  const holder: LockHolder = {
    identity,
    expiresAt: renewed + (lease.spec?.leaseDurationSeconds ?? DEFAULT_LOCK_LEASE_SECONDS) * 1000,
    ...(a[A.runId] ? { runId: a[A.runId] } : {}),
    ...(a[A.experiments] ? { experiments: a[A.experiments] } : {}),
    ...(a[A.startedAt] ? { startedAt: a[A.startedAt] } : {}),
    ...(a[A.host] ? { host: a[A.host] } : {}),
    ...(a[A.pid] ? { pid: a[A.pid] } : {}),
  };
  // Expiry is judged by our clock against the holder's renewTime, so the clocks must agree to a
  // few seconds (NTP); a lease that is merely late by a skew is taken over that much early.
  return holder.expiresAt > now ? { holder, reverted, ...stopRequest } : { expired: holder, reverted, ...stopRequest };
}

/** client-node types MicroTime fields as Dates but hands them over as the server's strings. */
function timeOf(value: unknown): number {
  if (value instanceof Date) return value.getTime();
  const t = Date.parse(String(value));
  return Number.isNaN(t) ? 0 : t;
}

function heldLease(identity: string, seconds: number, options: RunLockOptions, previous: V1Lease | undefined): V1Lease {
  const now = new V1MicroTime(Date.now());
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      ...RUN_LOCK,
      // A conditional write: of two runs taking a free lock at once, one gets a conflict.
      ...(previous?.metadata?.resourceVersion ? { resourceVersion: previous.metadata.resourceVersion } : {}),
      labels: { 'app.kubernetes.io/managed-by': 'gameday' },
      annotations: {
        [A.runId]: options.runId,
        [A.experiments]: options.experiments.join(', '),
        [A.startedAt]: new Date().toISOString(),
        [A.host]: hostname(),
        [A.pid]: String(process.pid),
      },
    },
    spec: {
      holderIdentity: identity,
      leaseDurationSeconds: seconds,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: previous ? (previous.spec?.leaseTransitions ?? 0) + 1 : 0,
    },
  };
}

async function readLease(api: CoordinationV1Api): Promise<V1Lease | undefined> {
  try {
    return await api.readNamespacedLease(RUN_LOCK);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Creates the lease, or replaces it on the condition that it is unchanged since it was read. */
async function writeLease(api: CoordinationV1Api, lease: V1Lease): Promise<V1Lease> {
  if (!lease.metadata?.resourceVersion) return api.createNamespacedLease({ namespace: RUN_LOCK.namespace, body: lease });
  return api.replaceNamespacedLease({ ...RUN_LOCK, body: lease });
}

/** Clears the holder if `isHeld` says the lease is the caller's; returns the holder let go, if any. */
async function releaseLease(api: CoordinationV1Api, isHeld: (lease: V1Lease) => boolean, reverted: readonly string[]): Promise<LockHolder | undefined> {
  for (;;) {
    const lease = await readLease(api);
    if (!lease || !isHeld(lease)) return undefined;
    const { holder, expired } = viewOf(lease);
    const annotations: Record<string, string> = { ...lease.metadata?.annotations, [A.releasedAt]: new Date().toISOString() };
    if (reverted.length > 0) annotations[A.reverted] = reverted.join('\n');
    else delete annotations[A.reverted];
    const { holderIdentity: _released, ...spec } = lease.spec ?? {};
    try {
      await writeLease(api, { ...lease, metadata: { ...lease.metadata, annotations }, spec });
      return holder ?? expired;
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
  }
}
