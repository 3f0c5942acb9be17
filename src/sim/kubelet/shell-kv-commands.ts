import type { Command, CommandContext, CommandIo } from './shell-commands.js';
import { bodyOf, fetchFromPod, urlOf, type Fetched } from './shell-network-commands.js';

const USAGE = `Usage:
  kvctl snapshot save <url>     take a snapshot of the store's data at its leader and PUT it to <url>
  kvctl snapshot restore <url>  GET a snapshot from <url> and restore it into the store at its leader

The store is reached at $GAMEDAY_KV_ENDPOINT (default http://localhost:8080). <url> may be a
gameday/kv record (http://backup.ns.svc/kv/<key>): a snapshot is kept there as the record's value.
`;

const TIMEOUT_SECONDS = 30;

/**
 * kvctl, gameday/kv's client, after etcdctl's `snapshot save` and `snapshot restore`: a backup
 * is the leader's data at one log position (GET /snapshot), kept wherever `<url>` points (another
 * store, in another zone); a restore posts it back (POST /restore) and the members resync.
 */
export const kvctl: Command = async (args, io, ctx) => {
  const [group, verb, target, ...rest] = args;
  if (group !== 'snapshot' || (verb !== 'save' && verb !== 'restore') || target === undefined || rest.length > 0) {
    io.err(USAGE);
    return 1;
  }
  const endpoint = (ctx.env.get('GAMEDAY_KV_ENDPOINT') ?? 'http://localhost:8080').replace(/\/+$/, '');
  return verb === 'save' ? save(endpoint, target, io, ctx) : restore(endpoint, target, io, ctx);
};

async function save(endpoint: string, target: string, io: CommandIo, ctx: CommandContext): Promise<number> {
  const taken = await exchange(ctx, 'GET', `${endpoint}/snapshot`);
  if ('error' in taken) return fail(io, `could not take a snapshot: ${taken.error}`);
  const snapshot = parseJson<{ applied: number; entries: unknown[] }>(taken.body);
  if (!Array.isArray(snapshot?.entries)) return fail(io, `${endpoint}/snapshot did not answer with a snapshot`);
  const stored = await exchange(ctx, 'PUT', target, taken.body);
  if ('error' in stored) return fail(io, `could not store the snapshot at ${target}: ${stored.error}`);
  io.out(`Snapshot saved at ${target}: ${snapshot.entries.length} keys, revision ${snapshot.applied}\n`);
  return 0;
}

async function restore(endpoint: string, source: string, io: CommandIo, ctx: CommandContext): Promise<number> {
  const fetched = await exchange(ctx, 'GET', source);
  if ('error' in fetched) return fail(io, `could not read a snapshot from ${source}: ${fetched.error}`);
  const restored = await exchange(ctx, 'POST', `${endpoint}/restore`, snapshotIn(fetched.body));
  if ('error' in restored) return fail(io, `could not restore the snapshot from ${source}: ${restored.error}`);
  const answer = parseJson<{ records: number; applied: number; leader: string | null }>(restored.body);
  io.out(`Snapshot restored from ${source}: ${answer?.records ?? '?'} keys, revision ${answer?.applied ?? '?'}, at leader ${answer?.leader ?? 'unknown'}\n`);
  return 0;
}

function parseJson<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

/** A gameday/kv record's answer carries the snapshot as its value; anything else is taken as the snapshot. */
function snapshotIn(body: string): string {
  // Anything that is not such a record goes as it is: the restore endpoint says what is wrong with it.
  const value = parseJson<{ value?: unknown }>(body)?.value;
  return typeof value === 'string' ? value : body;
}

/** One request: the answer's body on 2xx, else what went wrong. */
async function exchange(ctx: CommandContext, method: string, text: string, body?: string): Promise<{ body: string } | { error: string }> {
  const url = urlOf(text);
  if (!url) return { error: `${text} is not a URL` };
  const got: Fetched = await fetchFromPod(ctx.network, url, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: Buffer.from(body ?? '') }, TIMEOUT_SECONDS, ctx.signal);
  if (!got.response) {
    if (got.failure === 'resolve') return { error: `cannot resolve ${url.hostname}` };
    if (got.failure === 'timeout') return { error: `${method} ${url.href} timed out after ${TIMEOUT_SECONDS}s` };
    return { error: `${method} ${url.href}: ${got.failure!.message}` };
  }
  const answer = bodyOf(got.response).toString('utf8');
  if (got.response.status < 200 || got.response.status >= 300) return { error: `${method} ${url.href} answered ${got.response.status}: ${answer.trim()}` };
  return { body: answer };
}

function fail(io: CommandIo, message: string): number {
  io.err(`Error: ${message}\n`);
  return 1;
}
