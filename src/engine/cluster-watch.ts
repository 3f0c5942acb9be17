import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { errorMessage } from '../core/errors.js';
import type { ClusterWarningEvent, ConditionStatus, NodeConditionEvent } from '../journal/events.js';
import { KubeWatch, watchPermission } from '../cluster/kube-watch.js';
import { scopedPaths, scopedPermissions, type NamespaceScope } from '../cluster/namespace-scope.js';
import type { Permission } from '../cluster/rbac.js';

export interface ClusterWatchOptions {
  readonly kubeConfig: KubeConfig;
  /** Where Warning Events are watched: the experiment's namespaces, or every namespace (see experimentScope). */
  readonly scope: NamespaceScope;
  /** The run's start: Warning events the cluster last recorded before it belong to an earlier story and are left out. */
  readonly since: number;
  /** Where the observations go (the run's journal). */
  readonly record: (event: ClusterWarningEvent | NodeConditionEvent) => void;
  /** Watch trouble; never fatal to the run. */
  readonly log: (level: 'info' | 'warn', message: string) => void;
  /**
   * A repeating Event (a readiness probe failing every second) is journaled again at most this
   * often, with its count so far; the last count is journaled when the watch stops. @default 10000
   */
  readonly repeatEveryMs?: number;
  /** How long a broken watch is retried before it is given up (and that is logged). @default 30000 */
  readonly giveUpAfterMs?: number;
}

/** The fields of a core/v1 Event this reads, as the API server sends them (timestamps are strings). */
interface RawEvent extends KubernetesObject {
  readonly type?: string;
  readonly reason?: string;
  readonly message?: string;
  readonly count?: number;
  readonly series?: { readonly count?: number; readonly lastObservedTime?: string };
  readonly lastTimestamp?: string | null;
  readonly eventTime?: string | null;
  readonly firstTimestamp?: string | null;
  readonly involvedObject?: { readonly kind?: string; readonly namespace?: string; readonly name?: string };
  readonly source?: { readonly component?: string };
  readonly reportingComponent?: string;
}

interface RawNode extends KubernetesObject {
  readonly status?: { readonly conditions?: readonly { readonly type: string; readonly status: string; readonly reason?: string; readonly message?: string }[] };
}

interface SeenEvent {
  count: number;
  journaledCount: number;
  journaledAt: number;
}

const NODES_PATH = '/api/v1/nodes';

/** What the cluster watch reads: every node, and the Events in the scope's namespaces. */
export function clusterWatchPermissions(scope: NamespaceScope): Permission[] {
  return [
    watchPermission('cluster watch: node conditions during the run', NODES_PATH),
    ...scopedPermissions(scope, 'cluster watch: Warning events during the run', ['list', 'watch'], 'events'),
  ];
}

/**
 * Real Kubernetes truncates Event timestamps to the second, so an Event recorded just after the
 * run started can carry a time up to a second before it.
 */
const TIMESTAMP_SLACK_MS = 1000;

/**
 * Watches the cluster's own account of the run: Warning Events (`type=Warning`, in each namespace
 * of the scope, or `/api/v1/events` for every namespace) and node conditions (`/api/v1/nodes`),
 * and journals what changed. All go through client-node watches kept alive by KubeWatch; a watch
 * that cannot start or breaks for good is logged and the run goes on without it, since this is
 * evidence, not a verdict.
 */
export class ClusterWatch {
  private readonly repeatEveryMs: number;
  private readonly nodeConditions = new Map<string, Map<string, ConditionStatus>>();
  private readonly seenEvents = new Map<string, SeenEvent>();
  private readonly watches: KubeWatch<KubernetesObject>[] = [];
  private nodes?: KubeWatch<RawNode>;
  /** One per namespace of the scope (or one for every namespace), those that started. */
  private readonly events: KubeWatch<RawEvent>[] = [];
  /** Until the first list of Events is in, new Events are the backlog since the run started, stamped with their own time. */
  private eventsListed = false;
  private scanPending = false;
  private repeatTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  private constructor(private readonly options: ClusterWatchOptions) {
    this.repeatEveryMs = options.repeatEveryMs ?? 10_000;
  }

  /** Lists and starts watching Events and Nodes; resolves even when none could start (that is logged). */
  static async start(options: ClusterWatchOptions): Promise<ClusterWatch> {
    const watch = new ClusterWatch(options);
    await Promise.all([watch.startNodes(), watch.startEvents()]);
    return watch;
  }

  /** Stops both watches, after journaling what the caches hold and the last count of each repeating Event. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.scanNodes();
    this.scanEvents(true);
    this.stopped = true;
    clearTimeout(this.repeatTimer);
    await Promise.all(this.watches.map((w) => w.stop()));
  }

  private async startNodes(): Promise<void> {
    const nodes = this.watch<RawNode>(NODES_PATH, undefined, 'node conditions');
    try {
      await nodes.start();
    } catch (err) {
      this.options.log('warn', `cluster watch: node conditions are not journaled: ${errorMessage(err)}`);
      return;
    }
    this.nodes = nodes;
    this.watches.push(nodes);
    this.scanNodes();
  }

  private async startEvents(): Promise<void> {
    const { scope } = this.options;
    await Promise.all(
      scopedPaths(scope, 'events').map(async (path, i) => {
        const what = scope.every ? 'Warning events' : `Warning events in namespace ${scope.namespaces[i]}`;
        const events = this.watch<RawEvent>(path, 'type=Warning', what);
        try {
          await events.start();
        } catch (err) {
          this.options.log('warn', `cluster watch: Kubernetes ${what} are not journaled: ${errorMessage(err)}`);
          return;
        }
        this.events.push(events);
        this.watches.push(events);
      }),
    );
    this.scanEvents(false);
    this.eventsListed = true;
  }

  private watch<T extends KubernetesObject>(path: string, fieldSelector: string | undefined, what: string): KubeWatch<T> {
    return new KubeWatch<T>({
      kubeConfig: this.options.kubeConfig,
      path,
      ...(fieldSelector ? { fieldSelector } : {}),
      ...(this.options.giveUpAfterMs !== undefined ? { giveUpAfterMs: this.options.giveUpAfterMs } : {}),
      onChange: () => this.scheduleScan(),
      onRetry: (message) => this.options.log('info', `cluster watch: ${message}`),
      onGiveUp: (error) => this.options.log('warn', `cluster watch: ${what} are no longer journaled: ${error.message}`),
    });
  }

  /** A burst of changes (every pod's Event when a node goes away) is read in one pass over the caches. */
  private scheduleScan(): void {
    if (this.scanPending || this.stopped) return;
    this.scanPending = true;
    setImmediate(() => {
      this.scanPending = false;
      if (this.stopped) return;
      this.scanNodes();
      this.scanEvents(false);
    });
  }

  private scanNodes(): void {
    if (!this.nodes) return;
    const now = Date.now();
    const present = new Set<string>();
    for (const node of this.nodes.list()) {
      const name = node.metadata?.name;
      if (!name) continue;
      present.add(name);
      let known = this.nodeConditions.get(name);
      if (!known) this.nodeConditions.set(name, (known = new Map()));
      for (const c of node.status?.conditions ?? []) {
        const status = conditionStatus(c.status);
        const previous = known.get(c.type);
        if (previous === status) continue;
        known.set(c.type, status);
        // A condition first seen is journaled only when it is already unhealthy: the report needs that, not every healthy start.
        if (previous === undefined && status === healthyStatus(c.type)) continue;
        this.options.record({
          type: 'node.condition',
          t: now,
          node: name,
          condition: c.type,
          status,
          ...(previous !== undefined ? { previousStatus: previous } : {}),
          ...(c.reason ? { reason: c.reason } : {}),
          ...(c.message ? { message: c.message } : {}),
        });
      }
    }
    for (const name of this.nodeConditions.keys()) {
      if (present.has(name)) continue;
      this.nodeConditions.delete(name);
      this.options.log('info', `cluster watch: node ${name} was deleted`);
    }
  }

  /** Journals new Warning Events and repeats of known ones (at most every `repeatEveryMs`, or all pending ones when `final`). */
  private scanEvents(final: boolean): void {
    if (this.events.length === 0) return;
    const now = Date.now();
    const present = new Set<string>();
    let nextRepeat = Infinity;
    for (const e of this.events.flatMap((w) => w.list())) {
      const key = e.metadata?.uid || `${e.metadata?.namespace ?? ''}/${e.metadata?.name ?? ''}`;
      present.add(key);
      const count = Math.max(1, e.series?.count ?? e.count ?? 1);
      const seen = this.seenEvents.get(key);
      if (!seen) {
        const lastSeen = lastSeenMs(e);
        if (lastSeen !== undefined && lastSeen < this.options.since - TIMESTAMP_SLACK_MS) {
          this.seenEvents.set(key, { count, journaledCount: count, journaledAt: -Infinity });
          continue;
        }
        const t = this.eventsListed || lastSeen === undefined ? now : Math.min(now, Math.max(this.options.since, lastSeen));
        this.journalEvent(e, count, t);
        this.seenEvents.set(key, { count, journaledCount: count, journaledAt: now });
        continue;
      }
      seen.count = Math.max(seen.count, count);
      if (seen.count <= seen.journaledCount) continue;
      const due = seen.journaledAt + this.repeatEveryMs;
      if (final || due <= now) {
        this.journalEvent(e, seen.count, now);
        seen.journaledCount = seen.count;
        seen.journaledAt = now;
      } else nextRepeat = Math.min(nextRepeat, due);
    }
    for (const key of this.seenEvents.keys()) if (!present.has(key)) this.seenEvents.delete(key);
    clearTimeout(this.repeatTimer);
    this.repeatTimer = undefined;
    if (!final && Number.isFinite(nextRepeat)) {
      this.repeatTimer = setTimeout(() => this.scheduleScan(), Math.max(0, nextRepeat - now));
      this.repeatTimer.unref();
    }
  }

  private journalEvent(e: RawEvent, count: number, t: number): void {
    const source = e.source?.component || e.reportingComponent;
    this.options.record({
      type: 'cluster.event',
      t,
      eventType: 'Warning',
      reason: e.reason ?? '',
      message: (e.message ?? '').trim(),
      object: involvedObject(e),
      count,
      ...(source ? { source } : {}),
    });
  }
}

/** Ready is healthy when True; every other node condition (the pressures, NetworkUnavailable) when False. */
function healthyStatus(condition: string): ConditionStatus {
  return condition === 'Ready' ? 'True' : 'False';
}

function conditionStatus(status: string): ConditionStatus {
  return status === 'True' || status === 'False' ? status : 'Unknown';
}

function lastSeenMs(e: RawEvent): number | undefined {
  const stamp = e.series?.lastObservedTime ?? e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp;
  if (!stamp) return undefined;
  const ms = Date.parse(String(stamp));
  return Number.isNaN(ms) ? undefined : ms;
}

function involvedObject(e: RawEvent): string {
  const o = e.involvedObject ?? {};
  const name = o.namespace ? `${o.namespace}/${o.name ?? ''}` : (o.name ?? '');
  return `${o.kind ?? 'Object'} ${name}`.trim();
}
