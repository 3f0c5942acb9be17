/**
 * A write whose answer was lost (a timeout, a reset connection, a 500 after it was sent) may or
 * may not have been carried out. Before it is sent again it is checked against the object as it
 * now is, so nothing is ever applied twice:
 * - a create is looked up by name, and counts as done only when the object found holds
 *   everything that was sent (its spec or data, labels and annotations); an object of that name
 *   that differs is someone else's, and sending again gets the AlreadyExists the caller must see.
 *   No mark of gameday's is put on the object: users' objects stay as they wrote them;
 * - an eviction is done when the pod is gone or terminating;
 * - a delete is simply sent again, and a 404 then means it was done;
 * - an update is done when the object holds what was sent; not done while the object still has
 *   the resourceVersion that was sent; otherwise someone else changed it, and nobody can tell;
 * - a patch is done when its effect is visible; a merge or strategic merge patch, and a JSON
 *   patch guarded by `test` or made only of idempotent operations, may be sent again; any other
 *   JSON patch may not.
 */
/** Where a request went: the collection's path, and the object and subresource it named. */
export interface ResourceAddress {
  readonly collection: string;
  readonly name?: string;
  readonly subresource?: string;
}

/** `/api/v1/namespaces/shop/pods/web/eviction` → collection `/api/v1/namespaces/shop/pods`, name `web`, subresource `eviction`. */
export function resourceAddress(pathname: string): ResourceAddress | undefined {
  const segments = pathname.split('/').filter(Boolean);
  const prefixLength = segments[0] === 'api' ? 2 : segments[0] === 'apis' ? 3 : 0;
  if (prefixLength === 0 || segments.length <= prefixLength) return undefined;
  let rest = segments.slice(prefixLength);
  let scope = segments.slice(0, prefixLength);
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    scope = [...scope, 'namespaces', rest[1]!];
    rest = rest.slice(2);
  }
  if (rest.length > 3) return undefined;
  return {
    collection: `/${[...scope, rest[0]!].join('/')}`,
    ...(rest[1] !== undefined ? { name: decodeURIComponent(rest[1]) } : {}),
    ...(rest[2] !== undefined ? { subresource: rest[2] } : {}),
  };
}

/** Requests that change nothing stored, so they may always be sent again: access and token reviews, token requests. */
export function changesNothing(method: string, address: ResourceAddress | undefined): boolean {
  if (method === 'GET' || method === 'HEAD') return true;
  if (method !== 'POST' || !address) return false;
  return /reviews$/.test(address.collection) || address.subresource === 'token';
}

export type WriteOutcome =
  /** It was carried out; `object` is what the server holds now (absent for a gone pod). */
  | { readonly kind: 'applied'; readonly object?: unknown }
  | { readonly kind: 'not-applied' }
  | { readonly kind: 'unknowable'; readonly why: string };

/** A read of the object the write was about: its status, and the object when it is 200. */
export type ReadObject = (path: string) => Promise<{ readonly status: number; readonly object?: LooseObject }>;

interface LooseObject {
  readonly metadata?: { readonly resourceVersion?: string; readonly deletionTimestamp?: string; readonly annotations?: Readonly<Record<string, string>> };
  readonly [key: string]: unknown;
}

export interface LostWrite {
  readonly method: string;
  readonly address: ResourceAddress;
  readonly contentType: string;
  /** The body sent, parsed. */
  readonly body: unknown;
}

/** Finds out whether a write whose answer was lost was carried out. */
export async function outcomeOf(write: LostWrite, read: ReadObject): Promise<WriteOutcome> {
  const { method, address } = write;
  if (method === 'DELETE') return { kind: 'not-applied' };
  if (method === 'POST' && address.name === undefined) return createOutcome(write, read);
  if (address.name === undefined) return { kind: 'unknowable', why: `${method} of a whole collection` };
  const current = await read(`${address.collection}/${encodeURIComponent(address.name)}`);
  if (method === 'POST' && address.subresource === 'eviction') {
    if (current.status === 404 || current.object?.metadata?.deletionTimestamp) return { kind: 'applied', object: current.object };
    return { kind: 'not-applied' };
  }
  if (method === 'POST') return { kind: 'unknowable', why: `POST to ${address.subresource ?? 'the object'} cannot be checked` };
  if (current.status === 404) return { kind: 'not-applied' };
  if (current.status !== 200 || !current.object) return { kind: 'unknowable', why: `reading it back answered HTTP ${current.status}` };
  const sub = address.subresource;
  if (method === 'PUT') return updateOutcome(write.body, current.object, sub);
  if (method === 'PATCH') return patchOutcome(write.contentType, write.body, current.object);
  return { kind: 'unknowable', why: `${method} cannot be checked` };
}

async function createOutcome(write: LostWrite, read: ReadObject): Promise<WriteOutcome> {
  const body = write.body as LooseObject | undefined;
  const name = (body?.metadata as { name?: string } | undefined)?.name;
  if (!name) return { kind: 'unknowable', why: 'a create without a name cannot be looked up' };
  const found = await read(`${write.address.collection}/${encodeURIComponent(name)}`);
  if (found.status === 404) return { kind: 'not-applied' };
  if (found.status !== 200 || !found.object) return { kind: 'unknowable', why: `looking it up answered HTTP ${found.status}` };
  // Taken by an object that does not hold what was sent: someone else's, and sending it again gets the AlreadyExists the caller must see.
  return holdsWhatWasSent(body, found.object) ? { kind: 'applied', object: found.object } : { kind: 'not-applied' };
}

/** Whether an object holds everything a write sent: its fields but metadata and status, its labels and annotations. */
function holdsWhatWasSent(body: LooseObject | undefined, current: LooseObject): boolean {
  const fields = Object.keys(body ?? {}).filter((k) => k !== 'metadata' && k !== 'status' && k !== 'apiVersion' && k !== 'kind');
  return (
    fields.every((k) => contains(current[k], body?.[k])) &&
    contains(current.metadata?.annotations, body?.metadata?.annotations) &&
    contains((current.metadata as { labels?: unknown } | undefined)?.labels, (body?.metadata as { labels?: unknown } | undefined)?.labels)
  );
}

function updateOutcome(sent: unknown, current: LooseObject, subresource: string | undefined): WriteOutcome {
  const body = sent as LooseObject | undefined;
  const sentVersion = body?.metadata?.resourceVersion;
  if (sentVersion !== undefined && sentVersion === current.metadata?.resourceVersion) return { kind: 'not-applied' };
  const holds = subresource === 'status' ? contains(current.status, body?.status) : holdsWhatWasSent(body, current);
  if (holds) return { kind: 'applied', object: current };
  // Without a resourceVersion an update replaces whatever is there, so sending it twice is harmless.
  if (sentVersion === undefined) return { kind: 'not-applied' };
  return { kind: 'unknowable', why: `the object changed from resourceVersion ${sentVersion} to ${current.metadata?.resourceVersion} and does not hold what was sent` };
}

function patchOutcome(contentType: string, patch: unknown, current: LooseObject): WriteOutcome {
  if (contentType.includes('json-patch')) {
    const ops = Array.isArray(patch) ? (patch as JsonPatchOp[]) : [];
    if (ops.length > 0 && ops.every((op) => jsonPatchEffectVisible(op, current))) return { kind: 'applied', object: current };
    const guarded = ops.some((op) => op.op === 'test');
    const idempotent = ops.every((op) => op.op === 'test' || ((op.op === 'add' || op.op === 'replace' || op.op === 'remove') && !op.path.endsWith('/-')));
    return guarded || idempotent ? { kind: 'not-applied' } : { kind: 'unknowable', why: 'a JSON patch that appends, moves or copies cannot be sent twice' };
  }
  // Server-side apply is idempotent by design; merge and strategic merge patches are too.
  if (contentType.includes('apply-patch')) return { kind: 'not-applied' };
  return contains(current, patch, true) ? { kind: 'applied', object: current } : { kind: 'not-applied' };
}

interface JsonPatchOp {
  readonly op: string;
  readonly path: string;
  readonly value?: unknown;
}

function jsonPatchEffectVisible(op: JsonPatchOp, current: unknown): boolean {
  if (op.op === 'test') return true;
  const at = pointer(current, op.path);
  if (op.op === 'remove') return !at.found;
  if (op.op === 'add' || op.op === 'replace') return at.found && contains(at.value, op.value) && contains(op.value, at.value);
  return false;
}

function pointer(doc: unknown, path: string): { found: boolean; value?: unknown } {
  let value = doc;
  for (const raw of path.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (value === null || typeof value !== 'object' || !(key in (value as object))) return { found: false };
    value = (value as Record<string, unknown>)[key];
  }
  return { found: true, value };
}

/**
 * Whether `whole` holds everything `part` says: objects key by key, lists element by element
 * (each element of `part` found in `whole`, as a strategic merge of a keyed list leaves it), and
 * with `nullMeansAbsent` a null in `part` (a merge patch's deletion) matched by a missing key.
 * Strategic-merge directives (`$patch`, `$retainKeys`…) are skipped.
 */
function contains(whole: unknown, part: unknown, nullMeansAbsent = false): boolean {
  if (part === undefined) return true;
  if (part === null) return nullMeansAbsent ? whole === undefined || whole === null : whole === null;
  if (Array.isArray(part)) {
    if (!Array.isArray(whole)) return false;
    return part.every((p) => whole.some((w) => contains(w, p, nullMeansAbsent)));
  }
  if (typeof part === 'object') {
    if (whole === null || typeof whole !== 'object' || Array.isArray(whole)) return false;
    return Object.entries(part as Record<string, unknown>).every(([k, v]) => k.startsWith('$') || contains((whole as Record<string, unknown>)[k], v, nullMeansAbsent));
  }
  return whole === part;
}
