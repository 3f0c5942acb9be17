import type { LooseJson } from './loose-json.js';
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { isDeepStrictEqual } from 'node:util';
import { ObjectStore, StoreError, randomSuffix, type StoredObject } from '../store.js';
import { Admission, defaultContainer } from './admission.js';
import { ApiError, statusObject } from './api-error.js';
import { deleteObject, deleteOptionsFrom } from './deletion.js';
import { evictPod } from './eviction.js';
import { apply, managerOf, trackUpdate, type Applied, type WriteScope } from './field-manager/field-manager.js';
import { typeOfResource } from './field-manager/resource-types.js';
import { exactField, parseFieldSelector } from './field-selector.js';
import { fieldValidationOf, validateBody, validatePatched } from './field-validation.js';
import { drained, includeObjectOf, sendJson, sendStatus, type Negotiated } from './http-exchange.js';
import { applyJsonPatch } from './json-patch.js';
import { formatLabelSelector, parseLabelSelector } from './label-selector.js';
import { applyMergePatch } from './merge-patch.js';
import { ObjectJson } from './object-json.js';
import { namespacePolicy, podSecurityViolations } from './pod-security.js';
import { apiVersionOf, findResource, storedFrom, viewIn, type ResourceType } from './resources.js';
import { queryFlag } from './query-flag.js';
import { applyStrategicMergePatch } from './strategic-merge-patch.js';
import { toTable } from './table.js';
import { WatchStream, type WatchLimits } from './watch-stream.js';

/** One request against a resource URL, already routed. */
export interface ResourceRequest {
  readonly method: string;
  readonly resource: ResourceType;
  readonly namespace?: string;
  readonly name?: string;
  readonly subresource?: string;
  readonly watch: boolean;
  readonly query: URLSearchParams;
  readonly negotiated: Negotiated;
  readonly contentType: string;
  readonly body: unknown;
  /** The client's User-Agent: the field manager of a write that names none. */
  readonly userAgent?: string;
}

type Json = LooseJson;

const NAMESPACES = findResource('', 'v1', 'namespaces')!;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const APPLY_PATCH = 'application/apply-patch+yaml';
const SYSTEM_FIELDS = ['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation', 'managedFields', 'selfLink'];

interface ContinueToken {
  readonly rv: number;
  readonly start: string;
}

function encodeContinue(rv: number, lastKey: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start: `${lastKey}\u0000` })).toString('base64');
}

function decodeContinue(token: string): ContinueToken {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { rv: number; start: string };
    if (typeof t.rv !== 'number' || typeof t.start !== 'string') throw new Error('bad token');
    return { rv: t.rv, start: t.start.endsWith('\u0000') ? t.start.slice(0, -1) : t.start };
  } catch {
    throw ApiError.badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  }
}

function isDryRun(query: URLSearchParams): boolean {
  return query.getAll('dryRun').includes('All');
}

/** Equal apart from resourceVersion: the real server skips such writes (no new version, no watch event). */
function sameContent(a: StoredObject, b: StoredObject): boolean {
  return JSON.stringify({ ...a, metadata: { ...a.metadata, resourceVersion: '' } }) === JSON.stringify({ ...b, metadata: { ...b.metadata, resourceVersion: '' } });
}

/**
 * The ephemeral containers a pods/ephemeralcontainers write asks for, as upstream validates them
 * (ValidatePodEphemeralContainersUpdate): those already there may be neither removed nor changed,
 * and a new one needs an image and a name no other container of the pod has.
 */
function ephemeralContainersUpdate(r: ResourceType, pod: StoredObject, given: unknown): Json[] {
  type Named = { name?: string; image?: string };
  const spec = pod.spec as { containers?: Named[]; initContainers?: Named[]; ephemeralContainers?: Named[] };
  const wanted = (Array.isArray(given) ? given : []) as Json[];
  for (const c of wanted) if (c && typeof c === 'object') defaultContainer(c);
  const causes: { field: string; message: string; reason: string }[] = [];
  for (const old of spec.ephemeralContainers ?? []) {
    const now = wanted.find((c) => c.name === old.name);
    const verb = !now ? 'removed' : !isDeepStrictEqual(now, old) ? 'changed' : undefined;
    if (verb) causes.push({ field: 'spec.ephemeralContainers', message: `Forbidden: existing ephemeral containers "${old.name}" may not be ${verb}\n`, reason: 'FieldValueForbidden' });
  }
  const taken = new Set([...(spec.containers ?? []), ...(spec.initContainers ?? [])].map((c) => c.name));
  wanted.forEach((c, i) => {
    const at = `spec.ephemeralContainers[${i}]`;
    if (!c.name) causes.push({ field: `${at}.name`, message: 'Required value', reason: 'FieldValueRequired' });
    else if (taken.has(c.name)) causes.push({ field: `${at}.name`, message: `Duplicate value: "${c.name}"`, reason: 'FieldValueDuplicate' });
    else taken.add(c.name);
    if (!c.image) causes.push({ field: `${at}.image`, message: 'Required value', reason: 'FieldValueRequired' });
  });
  if (causes.length) throw ApiError.invalid(r, pod.metadata.name, causes);
  return wanted;
}

export class ResourceHandler {
  private readonly admission: Admission;
  private readonly json: ObjectJson;

  constructor(
    private readonly store: ObjectStore,
    defaultTolerationSeconds: number,
    private readonly watchLimits: WatchLimits,
  ) {
    this.admission = new Admission({ store, defaultTolerationSeconds });
    this.json = new ObjectJson(store);
  }

  stop(): void {
    this.json.stop();
  }

  async handle(req: ResourceRequest, res: ServerResponse): Promise<void> {
    const { method, name, subresource } = req;
    if (req.watch || (method === 'GET' && !name && queryFlag(req.query, 'watch'))) return this.watch(req, res);
    if (subresource === 'eviction' && method === 'POST') return sendStatus(res, evictPod(this.store, req.namespace ?? '', name!, req.body, req.query));
    if (subresource === 'binding' && method === 'POST') return this.bind(req, res);
    if (subresource === 'scale') return this.scale(req, res);
    const ephemeral = subresource === 'ephemeralcontainers' && req.resource.storeKey === 'pods';
    if (subresource !== undefined && subresource !== 'status' && !ephemeral && !(subresource === 'finalize' && req.resource === NAMESPACES)) throw ApiError.pathNotFound();
    if (!name) {
      if (method === 'GET') return this.list(req, res);
      if (method === 'POST') return this.create(req, res);
      if (method === 'DELETE') return this.deleteCollection(req, res);
      throw ApiError.methodNotAllowed();
    }
    switch (method) {
      case 'GET':
        return this.get(req, res);
      case 'PUT':
        return this.put(req, res);
      case 'PATCH':
        return this.patch(req, res);
      case 'DELETE':
        return this.delete(req, res);
      default:
        throw ApiError.methodNotAllowed();
    }
  }

  private current(req: ResourceRequest): StoredObject {
    const o = this.store.get(req.resource.storeKey, req.namespace, req.name!);
    if (!o) throw ApiError.notFound(req.resource, req.name!);
    return o;
  }

  private respondObject(req: ResourceRequest, res: ServerResponse, code: number, stored: StoredObject): void {
    const n = req.negotiated;
    if (n.table || n.metadataOnly) {
      const o = viewIn(req.resource, stored);
      if (n.table) return sendJson(res, code, toTable(req.resource, [o], { resourceVersion: o.metadata.resourceVersion }, includeObjectOf(req.query), n.table), n.contentType);
      return sendJson(res, code, { kind: 'PartialObjectMetadata', apiVersion: n.metadataOnly, metadata: o.metadata }, n.contentType);
    }
    const text = this.json.text(req.resource, stored);
    res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private' });
    res.end(text);
  }

  private get(req: ResourceRequest, res: ServerResponse): void {
    this.respondObject(req, res, 200, this.current(req));
  }

  private async list(req: ResourceRequest, res: ServerResponse): Promise<void> {
    const { resource: r, query } = req;
    const labels = parseLabelSelector(query.get('labelSelector'));
    const fieldSelector = query.get('fieldSelector');
    const fields = parseFieldSelector(fieldSelector);
    const limit = Number(query.get('limit') ?? 0);
    const token = query.get('continue') ? decodeContinue(query.get('continue')!) : undefined;
    const listRv = token?.rv ?? this.store.resourceVersion;
    const items: StoredObject[] = [];
    let more: string | undefined;
    const byName = exactField(fieldSelector, 'metadata.name');
    const namespace = req.namespace ?? exactField(fieldSelector, 'metadata.namespace');
    // One object by name needs no scan, once its namespace is known.
    const direct = byName !== undefined && !token && (!r.namespaced || namespace !== undefined);
    const candidates: Iterable<StoredObject> = direct
      ? [this.store.get(r.storeKey, namespace, byName)].filter((o): o is StoredObject => o !== undefined)
      : this.store.scan(r.storeKey, { ...(req.namespace !== undefined ? { namespace: req.namespace } : {}), ...(token ? { afterKey: token.start } : {}) });
    const scan = candidates[Symbol.iterator]();
    let remaining = 0;
    for (let next = scan.next(); !next.done; next = scan.next()) {
      const o = next.value;
      if (!labels(o.metadata.labels) || !fields(o)) continue;
      if (limit > 0 && items.length === limit) {
        more = encodeContinue(listRv, ObjectStore.keyOf(items[items.length - 1]!));
        // Upstream counts what is left only for an unfiltered list.
        if (!query.get('labelSelector') && !fieldSelector) for (remaining = 1; !scan.next().done; ) remaining++;
        break;
      }
      items.push(o);
    }
    const meta: Json = { resourceVersion: String(listRv) };
    if (more) meta.continue = more;
    if (remaining) meta.remainingItemCount = remaining;
    const n = req.negotiated;
    if (n.table) return sendJson(res, 200, toTable(r, items, meta, includeObjectOf(query), n.table), n.contentType);
    if (n.metadataOnly) {
      return sendJson(res, 200, { kind: 'PartialObjectMetadataList', apiVersion: n.metadataOnly, metadata: meta, items: items.map((o) => ({ kind: 'PartialObjectMetadata', apiVersion: n.metadataOnly, metadata: o.metadata })) }, n.contentType);
    }
    await streamList(res, `{"kind":"${r.kind}List","apiVersion":"${apiVersionOf(r)}","metadata":${JSON.stringify(meta)},"items":[`, this.json.listPieces(r, items));
  }

  private watch(req: ResourceRequest, res: ServerResponse): Promise<void> {
    const { query } = req;
    const sendInitialEvents = queryFlag(query, 'sendInitialEvents');
    const allowBookmarks = queryFlag(query, 'allowWatchBookmarks');
    if (query.has('sendInitialEvents')) {
      const causes: { field: string; message: string; reason: string }[] = [];
      if (query.get('resourceVersionMatch') !== 'NotOlderThan') causes.push({ field: 'sendInitialEvents', message: 'Forbidden: sendInitialEvents is forbidden for watch unless resourceVersionMatch is set to NotOlderThan', reason: 'FieldValueForbidden' });
      if (!allowBookmarks) causes.push({ field: 'allowWatchBookmarks', message: 'Forbidden: allowWatchBookmarks must be set to true when sendInitialEvents is set', reason: 'FieldValueForbidden' });
      if (causes.length) {
        throw new ApiError(422, 'Invalid', `ListOptions.meta.k8s.io "" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`, { group: 'meta.k8s.io', kind: 'ListOptions', causes });
      }
    }
    const timeout = query.get('timeoutSeconds');
    const table = req.negotiated.table ? { apiVersion: req.negotiated.table, include: includeObjectOf(query) } : undefined;
    const stream = new WatchStream(
      this.store,
      {
        resource: req.resource,
        ...(req.namespace !== undefined ? { namespace: req.namespace } : {}),
        ...(req.name !== undefined ? { name: req.name } : {}),
        labels: parseLabelSelector(query.get('labelSelector')),
        fields: parseFieldSelector(query.get('fieldSelector')),
        resourceVersion: query.get('resourceVersion'),
        allowBookmarks,
        sendInitialEvents,
        ...(timeout ? { timeoutSeconds: Number(timeout) } : {}),
        ...(table ? { table } : {}),
        ...(req.negotiated.metadataOnly ? { metadataOnly: req.negotiated.metadataOnly } : {}),
      },
      res,
      this.watchLimits,
      this.json,
    );
    return stream.start();
  }

  private bodyObject(req: ResourceRequest): Json {
    const b = req.body;
    if (!b || typeof b !== 'object' || Array.isArray(b)) throw ApiError.badRequest('the body of the request was empty or not a JSON object');
    return structuredClone(b) as Json;
  }

  private checkKind(req: ResourceRequest, body: Json): void {
    const r = req.resource;
    if (body.kind !== undefined && body.kind !== r.kind) {
      throw ApiError.badRequest(`the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${apiVersionOf(r)})`);
    }
    if (body.apiVersion !== undefined && body.apiVersion !== apiVersionOf(r)) {
      throw ApiError.badRequest(`the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${apiVersionOf(r)})`);
    }
    body.kind = r.kind;
    body.apiVersion = apiVersionOf(r);
  }

  private checkNamespace(req: ResourceRequest, meta: Json): void {
    if (!req.resource.namespaced) {
      delete meta.namespace;
      return;
    }
    if (meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== req.namespace) {
      throw ApiError.badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    meta.namespace = req.namespace;
  }

  /** Who writes, through which version and endpoint: what managedFields records a write under. */
  private writeScope(req: ResourceRequest): WriteScope {
    const r = req.resource;
    return {
      manager: managerOf(req.query.get('fieldManager'), req.userAgent),
      apiVersion: apiVersionOf(r),
      ...(req.subresource ? { subresource: req.subresource } : {}),
      hasStatus: r.subresources.some((s) => s.name === 'status'),
      type: typeOfResource(r),
    };
  }

  private create(req: ResourceRequest, res: ServerResponse, applied?: Applied): void {
    const r = req.resource;
    const given = applied ? structuredClone(applied.object) : this.bodyObject(req);
    this.checkKind(req, given);
    if (!applied) validateBody(r, typeOfResource(r), given, fieldValidationOf(req.query, 'CreateOptions'), res);
    const body = storedFrom(r, given);
    const meta = (body.metadata ??= {}) as Json;
    this.checkNamespace(req, meta);
    for (const f of SYSTEM_FIELDS) delete meta[f];
    if (!meta.name && !meta.generateName) {
      throw ApiError.invalid(r, '', [{ field: 'metadata.name', message: 'Required value: name or generateName is required', reason: 'FieldValueRequired' }]);
    }
    if (!meta.name) {
      do meta.name = `${meta.generateName}${randomSuffix()}`;
      while (this.store.get(r.storeKey, meta.namespace, meta.name));
    }
    if (!DNS_SUBDOMAIN.test(meta.name) || meta.name.length > 253) {
      throw ApiError.invalid(r, meta.name, [
        {
          field: 'metadata.name',
          message: `Invalid value: "${meta.name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
        },
      ]);
    }
    if (r.namespaced) this.checkNamespaceAcceptsContent(r, meta.namespace, meta.name);
    if (r.storeKey === 'pods' && !(body.spec?.containers?.length > 0)) {
      throw ApiError.invalid(r, meta.name, [{ field: 'spec.containers', message: 'Required value', reason: 'FieldValueRequired' }]);
    }
    if (r.storeKey === 'pods' && body.spec?.ephemeralContainers?.length > 0) {
      throw ApiError.invalid(r, meta.name, [{ field: 'spec.ephemeralContainers', message: 'Forbidden: cannot be set on create', reason: 'FieldValueForbidden' }]);
    }
    this.admission.admitCreate(r, body as StoredObject);
    if (r.storeKey === 'pods') this.admitPodSecurity(body, res);
    meta.managedFields = applied?.managedFields ?? trackUpdate(undefined, viewIn(r, body as StoredObject) as Json, this.writeScope(req));
    const uid = meta.uid as string | undefined;
    if (isDryRun(req.query)) {
      // As the real server's dry-run storage: admission ran; a name taken is still a conflict, and nothing is stored.
      if (this.store.get(r.storeKey, meta.namespace, meta.name)) throw ApiError.alreadyExists(r, meta.name);
      meta.uid ??= randomUUID();
      meta.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      return this.respondObject(req, res, 201, body as StoredObject);
    }
    try {
      const created = this.store.create(r.storeKey, body as StoredObject, uid ? { uid } : {});
      this.respondObject(req, res, 201, created);
    } catch (err) {
      if (err instanceof StoreError && err.reason === 'AlreadyExists') throw ApiError.alreadyExists(r, meta.name);
      throw err;
    }
  }

  /** Pod Security admission from the namespace's labels: enforce refuses the pod, warn answers with a Warning header. */
  private admitPodSecurity(pod: Json, res: ServerResponse): void {
    const ns = this.store.get(NAMESPACES.storeKey, undefined, pod.metadata.namespace);
    const policy = namespacePolicy(ns?.metadata.labels);
    const enforced = policy.enforce && podSecurityViolations(policy.enforce.level, pod.spec ?? {});
    if (enforced) {
      const name = pod.metadata.name as string;
      throw new ApiError(403, 'Forbidden', `pods "${name}" is forbidden: violates PodSecurity "${policy.enforce!.text}": ${enforced}`, { name, kind: 'pods' });
    }
    const warned = policy.warn && podSecurityViolations(policy.warn.level, pod.spec ?? {});
    if (warned) res.appendHeader('Warning', `299 - ${JSON.stringify(`would violate PodSecurity "${policy.warn!.text}": ${warned}`)}`);
  }

  private checkNamespaceAcceptsContent(r: ResourceType, namespace: string, name: string): void {
    const ns = this.store.get(NAMESPACES.storeKey, undefined, namespace);
    if (!ns) throw ApiError.notFound(NAMESPACES, namespace);
    if (ns.metadata.deletionTimestamp) {
      throw new ApiError(403, 'Forbidden', `${r.storeKey} "${name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`, {
        name,
        ...(r.group ? { group: r.group } : {}),
        kind: r.plural,
        causes: [{ reason: 'NamespaceTerminating', message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' }],
      });
    }
  }

  /** Writes a new version of an existing object: the shared end of PUT and PATCH. */
  private write(req: ResourceRequest, res: ServerResponse, current: StoredObject, given: Json, applied?: Applied): void {
    const r = req.resource;
    this.checkKind(req, given);
    const input = storedFrom(r, given);
    const meta = (input.metadata ??= {}) as Json;
    if (meta.name !== undefined && meta.name !== req.name) throw ApiError.badRequest(`the name of the object (${String(meta.name)}) does not match the name on the URL (${req.name})`);
    meta.name = req.name;
    this.checkNamespace(req, meta);
    const expectRv = meta.resourceVersion as string | undefined;
    if (expectRv && expectRv !== current.metadata.resourceVersion) throw ApiError.conflict(r, req.name!, 'the object has been modified; please apply your changes to the latest version and try again');
    let next: Json;
    const hasStatus = r.subresources.some((s) => s.name === 'status');
    if (req.subresource === 'status') {
      next = structuredClone(current) as Json;
      next.status = input.status;
    } else if (req.subresource === 'finalize') {
      next = structuredClone(current) as Json;
      next.spec = { ...(next.spec ?? {}), finalizers: input.spec?.finalizers ?? [] };
    } else if (req.subresource === 'ephemeralcontainers') {
      // As upstream's ephemeralcontainers strategy: only spec.ephemeralContainers is taken from the request.
      next = structuredClone(current) as Json;
      next.spec.ephemeralContainers = ephemeralContainersUpdate(r, current, input.spec?.ephemeralContainers);
    } else {
      next = input;
      if (hasStatus) next.status = (current as Json).status;
      for (const f of ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation']) {
        if ((current.metadata as Json)[f] !== undefined) meta[f] = (current.metadata as Json)[f];
        else delete meta[f];
      }
      this.admission.admitUpdate(r, next as StoredObject, current);
    }
    next.metadata.resourceVersion = current.metadata.resourceVersion;
    next.metadata.managedFields = applied?.managedFields ?? trackUpdate(viewIn(r, current) as Json, viewIn(r, next as StoredObject) as Json, this.writeScope(req));
    if (sameContent(next as StoredObject, current)) return this.respondObject(req, res, 200, current);
    if (isDryRun(req.query)) return this.respondObject(req, res, 200, next as StoredObject);
    let written = this.store.update(r.storeKey, next as StoredObject);
    // Clearing the last finalizer of an object being deleted completes the deletion.
    const m = written.metadata;
    if (m.deletionTimestamp && !(m.finalizers?.length) && (r.storeKey !== 'pods' || !m.deletionGracePeriodSeconds)) {
      written = this.store.remove(r.storeKey, m.namespace, m.name) ?? written;
    }
    this.respondObject(req, res, 200, written);
  }

  private put(req: ResourceRequest, res: ServerResponse): void {
    const body = this.bodyObject(req);
    validateBody(req.resource, typeOfResource(req.resource), body, fieldValidationOf(req.query, 'UpdateOptions'), res);
    this.write(req, res, this.current(req), body);
  }

  private applyPatch(req: ResourceRequest, target: Json): Json {
    const type = req.contentType.split(';')[0]!.trim().toLowerCase();
    if (req.body === undefined) throw ApiError.badRequest('the body of the request was empty');
    switch (type) {
      case 'application/merge-patch+json':
        return applyMergePatch(target, req.body) as Json;
      case 'application/strategic-merge-patch+json':
        return applyStrategicMergePatch(target, req.body) as Json;
      case 'application/json-patch+json':
        return applyJsonPatch(target, req.body);
      default:
        throw ApiError.unsupportedPatchType();
    }
  }

  private patch(req: ResourceRequest, res: ServerResponse): void {
    if (req.contentType.split(';')[0]!.trim().toLowerCase() === APPLY_PATCH) return this.applyConfiguration(req, res);
    const directive = fieldValidationOf(req.query, 'PatchOptions');
    const current = this.current(req);
    const patched = this.applyPatch(req, structuredClone(viewIn(req.resource, current)) as Json);
    const strategic = req.contentType.split(';')[0]!.trim().toLowerCase() === 'application/strategic-merge-patch+json';
    validatePatched(typeOfResource(req.resource), patched, { patch: req.body, strategic }, directive, res);
    const patchRv = (req.body as Json | undefined)?.metadata?.resourceVersion;
    // A patch without a resourceVersion is unconditional, whatever version the object has now.
    if (!patchRv && patched.metadata) patched.metadata.resourceVersion = current.metadata.resourceVersion;
    this.write(req, res, current, patched);
  }

  /** Server-side apply: the manager's configuration merged with field ownership; creates the object if there is none. */
  private applyConfiguration(req: ResourceRequest, res: ServerResponse): void {
    const r = req.resource;
    if (!req.query.get('fieldManager')) {
      throw new ApiError(422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch', {
        group: 'meta.k8s.io',
        kind: 'PatchOptions',
        causes: [{ reason: 'FieldValueRequired', message: 'Required value: is required for apply patch', field: 'fieldManager' }],
      });
    }
    const config = this.bodyObject(req);
    if (config.metadata?.managedFields !== undefined) throw ApiError.badRequest('metadata.managedFields must be nil');
    if (config.metadata?.name !== undefined && config.metadata.name !== req.name) throw ApiError.badRequest(`the name of the object (${String(config.metadata.name)}) does not match the name on the URL (${req.name})`);
    const force = queryFlag(req.query, 'force');
    const scope = this.writeScope(req);
    const stored = this.store.get(r.storeKey, req.namespace, req.name!);
    if (!stored) {
      const applied = apply(undefined, { ...config, metadata: { ...(config.metadata ?? {}), name: req.name } }, scope, force);
      return this.create(req, res, applied);
    }
    const applied = apply(viewIn(r, stored) as Json, config, scope, force);
    const next = { ...applied.object, metadata: { ...(applied.object.metadata as Json), resourceVersion: stored.metadata.resourceVersion } };
    this.write(req, res, stored, next, applied);
  }

  private delete(req: ResourceRequest, res: ServerResponse): void {
    const r = req.resource;
    const options = deleteOptionsFrom(req.body, req.query);
    const result = deleteObject(this.store, r, req.namespace, req.name!, options);
    if (!result.removed || r.storeKey === 'pods') return this.respondObject(req, res, 200, result.object);
    sendJson(res, 200, statusObject(200, { status: 'Success', details: { name: req.name!, ...(r.group ? { group: r.group } : {}), kind: r.plural, uid: result.object.metadata.uid } }));
  }

  private deleteCollection(req: ResourceRequest, res: ServerResponse): void {
    const r = req.resource;
    const labels = parseLabelSelector(req.query.get('labelSelector'));
    const fields = parseFieldSelector(req.query.get('fieldSelector'));
    const options = deleteOptionsFrom(req.body, req.query);
    const targets = [...this.store.scan(r.storeKey, req.namespace !== undefined ? { namespace: req.namespace } : {})].filter((o) => labels(o.metadata.labels) && fields(o));
    const items = targets.map((o) => viewIn(r, deleteObject(this.store, r, o.metadata.namespace, o.metadata.name, options).object));
    sendJson(res, 200, { kind: `${r.kind}List`, apiVersion: apiVersionOf(r), metadata: { resourceVersion: String(this.store.resourceVersion) }, items });
  }

  private bind(req: ResourceRequest, res: ServerResponse): void {
    const r = req.resource;
    const body = this.bodyObject(req);
    const node = body.target?.name as string | undefined;
    if (!node) throw ApiError.invalid(r, req.name!, [{ field: 'target.name', message: 'Required value', reason: 'FieldValueRequired' }]);
    const pod = this.current(req) as Json;
    if (pod.spec?.nodeName) throw ApiError.conflict(r, req.name!, `pod ${req.name} is already assigned to node "${pod.spec.nodeName}"`);
    if (!isDryRun(req.query)) {
      this.store.mutate(r.storeKey, req.namespace, req.name!, (o) => {
        const p = o as Json;
        p.spec.nodeName = node;
        const conditions = ((p.status ??= {}).conditions ??= []) as Json[];
        const at = conditions.findIndex((c) => c.type === 'PodScheduled');
        const cond = { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') };
        if (at >= 0) conditions[at] = cond;
        else conditions.push(cond);
      });
    }
    sendJson(res, 201, statusObject(201, { status: 'Success' }));
  }

  private scaleOf(req: ResourceRequest, o: StoredObject): Json {
    const t = o as Json;
    return {
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: { name: o.metadata.name, namespace: o.metadata.namespace, uid: o.metadata.uid, resourceVersion: o.metadata.resourceVersion, creationTimestamp: o.metadata.creationTimestamp },
      spec: { replicas: t.spec?.replicas ?? 0 },
      status: { replicas: t.status?.replicas ?? 0, selector: formatLabelSelector(t.spec?.selector).replace('<none>', '') },
    };
  }

  private scale(req: ResourceRequest, res: ServerResponse): void {
    if (!req.resource.subresources.some((s) => s.name === 'scale')) throw ApiError.pathNotFound();
    const current = this.current(req);
    if (req.method === 'GET') return sendJson(res, 200, this.scaleOf(req, current));
    if (req.method !== 'PUT' && req.method !== 'PATCH') throw ApiError.methodNotAllowed();
    const scale = req.method === 'PUT' ? this.bodyObject(req) : this.applyPatch(req, this.scaleOf(req, current));
    const replicas = scale.spec?.replicas;
    if (!Number.isInteger(replicas) || replicas < 0) {
      throw new ApiError(422, 'Invalid', `Scale.autoscaling "${req.name}" is invalid: spec.replicas: Invalid value: ${String(replicas)}: must be greater than or equal to 0`, { name: req.name!, group: 'autoscaling', kind: 'Scale' });
    }
    const rv = scale.metadata?.resourceVersion;
    if (req.method === 'PUT' && rv && rv !== current.metadata.resourceVersion) throw ApiError.conflict(req.resource, req.name!, 'the object has been modified; please apply your changes to the latest version and try again');
    let updated = current;
    const scaled = structuredClone(current) as Json;
    scaled.spec.replicas = replicas;
    // Recorded on the parent, in its version, as upstream's scale handler does.
    const managedFields = trackUpdate(viewIn(req.resource, current) as Json, viewIn(req.resource, scaled as StoredObject) as Json, this.writeScope(req));
    if (!isDryRun(req.query)) {
      updated =
        this.store.mutate(req.resource.storeKey, req.namespace, req.name!, (o) => {
          (o as Json).spec.replicas = replicas;
          o.metadata.managedFields = managedFields;
        }) ?? current;
    }
    sendJson(res, 200, this.scaleOf(req, updated));
  }
}

/** Writes a list a piece of its items at a time, waiting for the socket when it is full. */
async function streamList(res: ServerResponse, head: string, pieces: Iterable<string>): Promise<void> {
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
  res.write(head);
  let first = true;
  for (const piece of pieces) {
    const more = res.write(first ? piece : `,${piece}`);
    first = false;
    if (!more) {
      await drained(res);
      if (res.destroyed) return;
    }
  }
  res.end(']}');
}
