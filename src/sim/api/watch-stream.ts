import type { ServerResponse } from 'node:http';
import { StoreError, type ObjectStore, type StoreEvent, type StoredObject, type WatchEventType } from '../store.js';
import { ApiError } from './api-error.js';
import { drained } from './http-exchange.js';
import type { FieldMatcher } from './field-selector.js';
import type { LabelMatcher } from './label-selector.js';
import type { ObjectJson } from './object-json.js';
import { apiVersionOf, type ResourceType } from './resources.js';
import { tableColumns, tableRow, type IncludeObject } from './table.js';

/**
 * One watch connection: newline-delimited `{"type","object"}` events after a resourceVersion,
 * with the real server's edge cases — synthetic ADDED events for a watch from "now" or with
 * `sendInitialEvents`, bookmarks only when asked for, an ERROR event carrying a 410 Expired
 * Status when the history no longer reaches back, and selector-aware event types (an object that
 * stops matching a selector is DELETED for that watcher).
 */
export interface WatchRequest {
  readonly resource: ResourceType;
  readonly namespace?: string;
  readonly labels: LabelMatcher;
  readonly fields: FieldMatcher;
  /** Only this object (a watch on `/watch/.../name` or `fieldSelector=metadata.name=`). */
  readonly name?: string;
  readonly resourceVersion?: string | null;
  readonly allowBookmarks: boolean;
  readonly sendInitialEvents: boolean;
  readonly timeoutSeconds?: number;
  readonly table?: { readonly apiVersion: string; readonly include: IncludeObject };
  readonly metadataOnly?: string;
}

export interface WatchLimits {
  /** A watcher whose unsent output passes this many bytes is too slow and gets disconnected. */
  readonly maxBufferedBytes: number;
  readonly bookmarkIntervalMs: number;
}

type Out = { type: WatchEventType | 'BOOKMARK' | 'ERROR'; object: StoredObject };

export class WatchStream {
  private unsubscribe: (() => void) | undefined;
  private timers: NodeJS.Timeout[] = [];
  private pending: StoreEvent[] | undefined = [];
  private closed = false;
  private tableHeaderSent = false;

  constructor(
    private readonly store: ObjectStore,
    private readonly req: WatchRequest,
    private readonly res: ServerResponse,
    private readonly limits: WatchLimits,
    private readonly json: ObjectJson,
  ) {}

  /** Answers the request; resolves when the watch ends (client gone, timeout, error). */
  start(): Promise<void> {
    const { req, store } = this;
    let replay: StoreEvent[] = [];
    let initial: StoredObject[] = [];
    const rv = req.resourceVersion;
    const fromNow = req.sendInitialEvents || !rv || rv === '0';
    if (fromNow) {
      for (const o of store.scan(req.resource.storeKey, req.namespace !== undefined ? { namespace: req.namespace } : {})) if (this.matches(o)) initial.push(o);
    } else {
      const since = Number(rv);
      if (!Number.isInteger(since) || since < 0) throw ApiError.badRequest(`invalid resource version: strconv.ParseUint: parsing "${rv}": invalid syntax`);
      try {
        replay = store.changesSince(req.resource.storeKey, since);
      } catch (err) {
        if (!(err instanceof StoreError) || err.reason !== 'Expired') throw err;
        this.res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
        this.res.end(JSON.stringify({ type: 'ERROR', object: ApiError.expired(err.message).toStatus() }) + '\n');
        return Promise.resolve();
      }
    }
    const startRv = store.resourceVersion;
    // Subscribe in the same tick as the snapshot, so no change falls between the two.
    this.unsubscribe = store.subscribe(req.resource.storeKey, (e) => this.onEvent(e));
    this.res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    this.res.flushHeaders();
    return new Promise<void>((resolve) => {
      const finish = () => {
        this.close();
        resolve();
      };
      this.res.on('close', finish);
      this.res.on('error', finish);
      if (req.timeoutSeconds !== undefined && req.timeoutSeconds > 0) this.timers.push(setTimeout(() => this.end(), req.timeoutSeconds * 1000));
      void this.sendBacklog(initial, replay, startRv).then(() => {
        initial = [];
        replay = [];
        if (req.allowBookmarks) {
          const t = setInterval(() => this.write({ type: 'BOOKMARK', object: this.bookmark(String(store.resourceVersion), false) }), this.limits.bookmarkIntervalMs);
          t.unref();
          this.timers.push(t);
        }
      });
    });
  }

  private async sendBacklog(initial: StoredObject[], replay: StoreEvent[], startRv: number): Promise<void> {
    for (let i = 0; i < initial.length; i++) {
      if (this.closed) return;
      this.write({ type: 'ADDED', object: initial[i]! }, true);
      if (this.res.writableNeedDrain) await drained(this.res);
    }
    if (this.req.sendInitialEvents && !this.closed) this.write({ type: 'BOOKMARK', object: this.bookmark(String(startRv), true) }, true);
    for (const e of replay) {
      if (this.closed) return;
      this.deliver(e, true);
      if (this.res.writableNeedDrain) await drained(this.res);
    }
    const pending = this.pending ?? [];
    this.pending = undefined;
    for (const e of pending) this.deliver(e, false);
  }

  private onEvent(e: StoreEvent): void {
    if (this.closed) return;
    if (this.pending) {
      this.pending.push(e);
      return;
    }
    this.deliver(e, false);
  }

  private matches(o: StoredObject): boolean {
    const { req } = this;
    if (req.namespace !== undefined && o.metadata.namespace !== req.namespace) return false;
    if (req.name !== undefined && o.metadata.name !== req.name) return false;
    return req.labels(o.metadata.labels) && req.fields(o);
  }

  private deliver(e: StoreEvent, backlog: boolean): void {
    const now = this.matches(e.object);
    if (e.type !== 'MODIFIED') {
      if (now) this.write({ type: e.type, object: e.object }, backlog);
      return;
    }
    const before = e.previous ? this.matches(e.previous) : now;
    if (now && before) this.write({ type: 'MODIFIED', object: e.object }, backlog);
    else if (now) this.write({ type: 'ADDED', object: e.object }, backlog);
    else if (before) this.write({ type: 'DELETED', object: e.object }, backlog);
  }

  private bookmark(resourceVersion: string, initialEventsEnd: boolean): StoredObject {
    const r = this.req.resource;
    const metadata: Record<string, unknown> = { resourceVersion };
    if (initialEventsEnd) metadata['annotations'] = { 'k8s.io/initial-events-end': 'true' };
    return { kind: r.kind, apiVersion: apiVersionOf(r), metadata } as unknown as StoredObject;
  }

  private encode(ev: Out): string {
    const { req } = this;
    if (req.table && ev.type !== 'BOOKMARK') {
      const table: Record<string, unknown> = { kind: 'Table', apiVersion: req.table.apiVersion, metadata: { resourceVersion: ev.object.metadata.resourceVersion } };
      if (!this.tableHeaderSent) table['columnDefinitions'] = tableColumns(req.resource);
      else table['columnDefinitions'] = null;
      this.tableHeaderSent = true;
      table['rows'] = [tableRow(req.resource, ev.object, req.table.include)];
      return JSON.stringify({ type: ev.type, object: table });
    }
    if (req.metadataOnly && ev.type !== 'BOOKMARK') {
      return JSON.stringify({ type: ev.type, object: { kind: 'PartialObjectMetadata', apiVersion: req.metadataOnly, metadata: ev.object.metadata } });
    }
    return `{"type":"${ev.type}","object":${ev.type === 'BOOKMARK' ? JSON.stringify(ev.object) : this.json.text(req.resource, ev.object)}}`;
  }

  private write(ev: Out, backlog = false): void {
    if (this.closed) return;
    this.res.write(this.encode(ev) + '\n');
    // A watcher that cannot keep up is cut off (it will relist), instead of buffering without bound.
    if (!backlog && this.res.writableLength > this.limits.maxBufferedBytes) this.res.destroy();
  }

  private end(): void {
    if (this.closed) return;
    this.close();
    this.res.end();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    this.pending = undefined;
  }
}
