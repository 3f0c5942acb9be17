import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import type { Permission } from '../../cluster/rbac.js';
import { Duration } from '../../core/duration.js';
import { durationSchema, positiveDurationSchema, rateSchema } from '../../spec/value-schemas.js';
import type { ProbeContext, ProbePlugin, RunningProbe } from '../probe.js';
import { OpenModelSchedule } from '../shared/open-model-schedule.js';
import { kvRequestPermission, kvRequestSchema, kvSender, mentions } from './kv-request.js';
import { RecordLedger, type WrittenRecord } from './record-ledger.js';

const params = z
  .strictObject({
    put: kvRequestSchema.describe('how to write one record: its url and body may use {key} and {value}. @default method PUT'),
    get: kvRequestSchema.describe('how to read one record back: its url uses {key}; a 2xx answer whose body contains the value has it, a 404 lacks it'),
    list: kvRequestSchema
      .optional()
      .describe("optional: how to list the records (its url may use {prefix}); a value found more than once in the listing is a duplicate. Without it duplicates(...) has nothing to count"),
    rate: rateSchema.optional().describe('records written per second, on schedule whether or not earlier writes returned. @default 10/s'),
    timeout: durationSchema.optional().describe('per-request timeout; a write not answered 2xx within it is not acknowledged. @default 1s'),
    keyPrefix: z
      .string()
      .regex(/^[A-Za-z0-9._-]*$/, 'a key prefix uses letters, digits, ".", "_" and "-"')
      .optional()
      .describe('prefix of every record key. @default <probe name>-<6 random hex digits>-'),
    readEvery: durationSchema
      .optional()
      .describe('after each acknowledged write the record is read back at once and then at this interval until it is seen settled; 0s turns read-backs (stale reads and lag) off. @default 100ms'),
    settledAfter: z
      .number()
      .int()
      .min(1)
      .max(20)
      .optional()
      .describe('consecutive read-backs that return the record for it to count as replicated, and consecutive verification reads without it for it to count as lost. @default 3'),
    readFor: positiveDurationSchema.optional().describe('how long one record is read back at most. @default 5s'),
    replicaHeader: z
      .string()
      .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'write a header name, like x-pod-name')
      .optional()
      .describe('response header naming the replica that answered, kept in stale reads as evidence. @default x-pod-name'),
    verifyAfter: positiveDurationSchema.optional().describe('stop writing and verify this long after the probe starts. @default at the end of the run, after recovery'),
    quiesce: durationSchema.optional().describe('how long verification waits after the last write was answered, so that replication still in flight lands first. @default 1s'),
    verifyTimeout: positiveDurationSchema.optional().describe('how long verification keeps retrying reads the store does not answer. @default 15s'),
  })
  .refine((p) => mentions(p.put, 'key') && mentions(p.put, 'value'), { message: 'put must carry {key} and {value} (in its url or body), like url: service:shop/db:80/kv/{key}, body: "{value}"', path: ['put'] })
  .refine((p) => p.get.url.includes('{key}'), { message: 'get must name the record with {key} in its url, like service:shop/db:80/kv/{key}', path: ['get', 'url'] });
export type ConsistencyProbeParams = z.output<typeof params>;

/**
 * Writes uniquely numbered records to any key-value HTTP API at a fixed rate, remembers which were
 * acknowledged, reads each back until it is settled (stale reads and replication lag), and after
 * recovery reads every acknowledged record again: one missing is a lost write, one listed twice is
 * a duplicate. Samples say which by `detail.op` (write, read, lag, verify) and `error`.
 */
export const consistencyProbe = {
  kind: 'consistency',
  summary: 'writes numbered records to a key-value HTTP API, then counts acknowledged writes lost, duplicates, stale reads and replication lag',
  params,

  permissions(p: ConsistencyProbeParams): Permission[] {
    return [
      ...kvRequestPermission('consistency probe: write records through the service proxy', p.put, 'PUT'),
      ...kvRequestPermission('consistency probe: read records back through the service proxy', p.get, 'GET'),
      ...(p.list ? kvRequestPermission('consistency probe: list records through the service proxy', p.list, 'GET') : []),
    ];
  },

  async start(ctx: ProbeContext, p: ConsistencyProbeParams): Promise<RunningProbe> {
    const replicaHeader = (p.replicaHeader ?? 'x-pod-name').toLowerCase();
    const kc = ctx.cluster.kubeConfig;
    const ledger = new RecordLedger(ctx, {
      put: kvSender(kc, p.put, 'PUT', replicaHeader),
      get: kvSender(kc, p.get, 'GET', replicaHeader),
      ...(p.list ? { list: kvSender(kc, p.list, 'GET', replicaHeader) } : {}),
      timeoutMs: (p.timeout ?? Duration.seconds(1)).ms,
      readEveryMs: (p.readEvery ?? Duration.parse('100ms')).ms,
      settledAfter: p.settledAfter ?? 3,
      readForMs: (p.readFor ?? Duration.seconds(5)).ms,
      quiesceMs: (p.quiesce ?? Duration.seconds(1)).ms,
      verifyTimeoutMs: (p.verifyTimeout ?? Duration.seconds(15)).ms,
    });
    return new WriteSchedule(ctx, ledger, p.rate ?? 10, p.keyPrefix ?? `${ctx.name.replace(/[^A-Za-z0-9._-]/g, '-')}-${randomBytes(3).toString('hex')}-`, p.verifyAfter?.ms).start();
  },
} satisfies ProbePlugin<ConsistencyProbeParams>;

/** Record n is written at start + n/rate until verification begins; then the ledger verifies once. */
class WriteSchedule {
  private schedule!: OpenModelSchedule;
  private timer: NodeJS.Timeout | undefined;
  private verifyTimer: NodeJS.Timeout | undefined;
  private verified: Promise<void> | undefined;

  constructor(
    private readonly ctx: ProbeContext,
    private readonly ledger: RecordLedger,
    private readonly perSecond: number,
    private readonly keyPrefix: string,
    private readonly verifyAfterMs: number | undefined,
  ) {}

  start(): RunningProbe {
    this.schedule = new OpenModelSchedule(this.perSecond);
    this.ctx.signal.addEventListener('abort', () => this.stopWriting(), { once: true });
    if (this.verifyAfterMs !== undefined) {
      this.verifyTimer = setTimeout(() => void this.verifyOnce(), this.verifyAfterMs);
      this.verifyTimer.unref();
    }
    this.loop();
    return { stop: () => this.verifyOnce() };
  }

  private loop(): void {
    this.schedule.takeDue(performance.now(), (at, t) => this.ledger.write(this.record(t, at)));
    this.timer = setTimeout(() => this.loop(), Math.max(0, this.schedule.nextAt - performance.now()));
  }

  private record(t: number, at: number): WrittenRecord {
    const key = `${this.keyPrefix}${String(this.schedule.taken).padStart(6, '0')}`;
    return { key, value: `${key}.v`, t, at };
  }

  private stopWriting(): void {
    clearTimeout(this.timer);
    clearTimeout(this.verifyTimer);
  }

  private verifyOnce(): Promise<void> {
    this.stopWriting();
    this.verified ??= this.ledger.verify(this.keyPrefix);
    return this.verified;
  }
}
