import { flatString } from './json-value.js';
import { nowIso } from './pod-state.js';
import type { ObjectStore, StoredObject } from './store.js';

export type EventType = 'Normal' | 'Warning';

export interface EventSource {
  readonly component: string;
  readonly host?: string;
}

/**
 * Writes core/v1 Events the way client-go's recorder does: one object per (object, reason,
 * message), its count bumped on repeats, and the oldest dropped past a limit (the real API server
 * lets them expire after an hour).
 */
export class EventRecorder {
  private readonly recent = new RecentEvents();

  constructor(
    private readonly store: ObjectStore,
    private readonly maxEvents: number,
  ) {}

  /** `fieldPath` names the part of the object the event is about, e.g. `spec.containers{web}`. */
  record(involved: StoredObject, type: EventType, reason: string, message: string, source: EventSource, fieldPath?: string): void {
    const namespace = involved.metadata.namespace ?? 'default';
    // Kept as long as the event is: stored flat, not as the tree of its pieces.
    const dedupe = flatString(`${involved.metadata.uid}|${fieldPath ?? ''}|${reason}|${message}`);
    const now = nowIso();
    const existing = this.recent.get(dedupe);
    if (existing && this.store.get('events', existing.namespace, existing.name)) {
      this.store.mutate('events', existing.namespace, existing.name, (e) => {
        e.count = ((e.count as number | undefined) ?? 1) + 1;
        e.lastTimestamp = now;
      });
      this.recent.touch(existing);
      return;
    }
    const name = `${involved.metadata.name}.${unixNanosHex()}`;
    this.store.create('events', {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace, uid: '', resourceVersion: '', creationTimestamp: '' },
      involvedObject: {
        apiVersion: involved.apiVersion,
        kind: involved.kind,
        name: involved.metadata.name,
        ...(involved.metadata.namespace ? { namespace: involved.metadata.namespace } : {}),
        uid: involved.metadata.uid,
        resourceVersion: involved.metadata.resourceVersion,
        ...(fieldPath ? { fieldPath } : {}),
      },
      reason,
      message,
      source: { component: source.component, ...(source.host ? { host: source.host } : {}) },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      type,
      eventTime: null,
      reportingComponent: source.component,
      reportingInstance: source.host ?? '',
    });
    this.recent.add(dedupe, namespace, name);
    while (this.recent.size > this.maxEvents) {
      const oldest = this.recent.removeOldest()!;
      this.store.remove('events', oldest.namespace, oldest.name);
    }
  }
}

interface RecentEvent {
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  older?: RecentEvent;
  newer?: RecentEvent;
}

/**
 * The recorder's events by dedupe key, least recently recorded first. A linked list rather than a
 * Map's insertion order: dropping a Map's first entry over and over leaves holes that every later
 * lookup of the first entry walks past.
 */
class RecentEvents {
  private readonly byKey = new Map<string, RecentEvent>();
  private oldest: RecentEvent | undefined;
  private newest: RecentEvent | undefined;

  get size(): number {
    return this.byKey.size;
  }

  get(key: string): RecentEvent | undefined {
    return this.byKey.get(key);
  }

  add(key: string, namespace: string, name: string): void {
    const existing = this.byKey.get(key);
    if (existing) this.unlink(existing);
    const e: RecentEvent = { key, namespace, name };
    this.byKey.set(key, e);
    this.append(e);
  }

  /** Recorded again: it becomes the newest. */
  touch(e: RecentEvent): void {
    this.unlink(e);
    this.append(e);
  }

  removeOldest(): RecentEvent | undefined {
    const e = this.oldest;
    if (!e) return undefined;
    this.unlink(e);
    this.byKey.delete(e.key);
    return e;
  }

  private append(e: RecentEvent): void {
    e.older = this.newest;
    e.newer = undefined;
    if (this.newest) this.newest.newer = e;
    else this.oldest = e;
    this.newest = e;
  }

  private unlink(e: RecentEvent): void {
    if (e.older) e.older.newer = e.newer;
    else this.oldest = e.newer;
    if (e.newer) e.newer.older = e.older;
    else this.newest = e.older;
    e.older = undefined;
    e.newer = undefined;
  }
}

/** The Unix time in nanoseconds when this process's monotonic clock read zero. */
const clockOrigin = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
let lastNanos = 0n;

/**
 * client-go names an event `<object>.<UnixNano in hex>`; nanoseconds here come from the monotonic
 * clock, bumped when two events would share one, so names stay unique within the process.
 */
function unixNanosHex(): string {
  let nanos = clockOrigin + process.hrtime.bigint();
  if (nanos <= lastNanos) nanos = lastNanos + 1n;
  lastNanos = nanos;
  return nanos.toString(16);
}
