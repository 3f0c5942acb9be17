import type { LooseJson } from './loose-json.js';
import type { ObjectStore } from '../store.js';
import { ApiError } from './api-error.js';
import { CRD_STORE_KEY } from './custom-resources.js';
import { deleteObject } from './deletion.js';
import type { ResourceType } from './resources.js';

/**
 * A CustomResourceDefinition's life as apiextensions-apiserver runs it: validated and defaulted on
 * the way in, its names accepted and the CRD Established (conditions as `kubectl wait
 * --for=condition=Established` reads them), and on deletion its custom resources deleted before
 * the `customresourcecleanup.apiextensions.k8s.io` finalizer lets the CRD go. Names are accepted at
 * admission instead of by a controller a moment later, so a CRD is servable once its create
 * returns. Custom objects meet their schema in `structural-schema.ts`.
 */
export const CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';

type Json = LooseJson;
type Cause = { field: string; message: string; reason?: string };

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function timestamp(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

function validate(crd: Json): Cause[] {
  const spec = (crd.spec ?? {}) as Json;
  const names = (spec.names ?? {}) as Json;
  const causes: Cause[] = [];
  const name = String(crd.metadata?.name ?? '');
  if (!spec.group) causes.push({ field: 'spec.group', message: 'Required value', reason: 'FieldValueRequired' });
  else if (!String(spec.group).includes('.')) causes.push({ field: 'spec.group', message: `Invalid value: "${String(spec.group)}": should be a domain with at least one dot`, reason: 'FieldValueInvalid' });
  if (!names.plural) causes.push({ field: 'spec.names.plural', message: 'Required value', reason: 'FieldValueRequired' });
  else if (!DNS_LABEL.test(String(names.plural))) causes.push({ field: 'spec.names.plural', message: `Invalid value: "${String(names.plural)}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`, reason: 'FieldValueInvalid' });
  if (!names.kind) causes.push({ field: 'spec.names.kind', message: 'Required value', reason: 'FieldValueRequired' });
  if (spec.group && names.plural && name !== `${String(names.plural)}.${String(spec.group)}`) {
    causes.push({ field: 'metadata.name', message: `Invalid value: "${name}": must be spec.names.plural+"."+spec.group`, reason: 'FieldValueInvalid' });
  }
  if (spec.scope !== 'Namespaced' && spec.scope !== 'Cluster') {
    causes.push({ field: 'spec.scope', message: `Unsupported value: "${String(spec.scope ?? '')}": supported values: "Cluster", "Namespaced"`, reason: 'FieldValueNotSupported' });
  }
  const versions = (spec.versions ?? []) as Json[];
  if (!versions.length) causes.push({ field: 'spec.versions', message: 'Invalid value: null: must have exactly one version marked as storage version', reason: 'FieldValueInvalid' });
  else if (versions.filter((v) => v.storage).length !== 1) causes.push({ field: 'spec.versions', message: 'Invalid value: "": must have exactly one version marked as storage version', reason: 'FieldValueInvalid' });
  versions.forEach((v, i) => {
    if (!v.name) causes.push({ field: `spec.versions[${i}].name`, message: 'Required value', reason: 'FieldValueRequired' });
    if (!v.schema?.openAPIV3Schema) causes.push({ field: `spec.versions[${i}].schema.openAPIV3Schema`, message: 'Required value: schemas are required', reason: 'FieldValueRequired' });
  });
  if (versions.length && !versions.some((v) => v.served)) causes.push({ field: 'spec.versions', message: 'Invalid value: "": must have at least one version marked as served', reason: 'FieldValueInvalid' });
  return causes;
}

function applyDefaults(crd: Json): void {
  const spec = crd.spec as Json;
  const names = spec.names as Json;
  names.singular ??= String(names.kind).toLowerCase();
  names.listKind ??= `${String(names.kind)}List`;
  spec.conversion ??= { strategy: 'None' };
}

/** The NamingConditionController's verdict: a kind or short name another CRD of the group holds is refused. */
function nameConflict(store: ObjectStore, crd: Json): string | undefined {
  const spec = crd.spec as Json;
  const names = spec.names as Json;
  for (const other of store.list(CRD_STORE_KEY) as Json[]) {
    if (other.metadata.name === crd.metadata.name || other.spec?.group !== spec.group) continue;
    const accepted = (other.status?.acceptedNames ?? {}) as Json;
    if (accepted.kind === names.kind) return `"${String(names.kind)}" is already in use`;
    for (const s of (names.shortNames ?? []) as string[]) if (((accepted.shortNames ?? []) as string[]).includes(s)) return `"${s}" is already in use`;
  }
  return undefined;
}

function setCondition(conditions: Json[], next: Json): void {
  const at = conditions.findIndex((c) => c.type === next.type);
  if (at >= 0 && conditions[at]!.status === next.status) conditions[at] = { ...next, lastTransitionTime: conditions[at]!.lastTransitionTime };
  else if (at >= 0) conditions[at] = { ...next, lastTransitionTime: timestamp() };
  else conditions.push({ ...next, lastTransitionTime: timestamp() });
}

function establish(store: ObjectStore, crd: Json, previous: Json | undefined): void {
  const spec = crd.spec as Json;
  const status = structuredClone((previous?.status ?? {}) as Json);
  const conditions = (status.conditions ?? []) as Json[];
  const conflict = nameConflict(store, crd);
  if (conflict) {
    setCondition(conditions, { type: 'NamesAccepted', status: 'False', reason: 'KindConflict', message: conflict });
    if (!conditions.some((c) => c.type === 'Established' && c.status === 'True')) setCondition(conditions, { type: 'Established', status: 'False', reason: 'NotAccepted', message: 'not all names are accepted' });
  } else {
    status.acceptedNames = structuredClone(spec.names);
    setCondition(conditions, { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found' });
    setCondition(conditions, { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' });
  }
  status.conditions = conditions;
  status.acceptedNames ??= { plural: '', kind: '' };
  const storage = String(((spec.versions ?? []) as Json[]).find((v) => v.storage)?.name);
  const stored = (status.storedVersions ?? []) as string[];
  status.storedVersions = stored.includes(storage) ? stored : [...stored, storage];
  crd.status = status;
}

/** Validation, defaults, the cleanup finalizer and the accepted names of a CRD being created or updated. */
export function admitCustomResourceDefinition(store: ObjectStore, r: ResourceType, crd: Json, previous?: Json): void {
  const causes = validate(crd);
  if (causes.length) throw ApiError.invalid(r, String(crd.metadata?.name ?? ''), causes);
  applyDefaults(crd);
  const finalizers = (crd.metadata.finalizers ?? []) as string[];
  if (!previous && !finalizers.includes(CLEANUP_FINALIZER)) crd.metadata.finalizers = [...finalizers, CLEANUP_FINALIZER];
  establish(store, crd, previous);
}

/**
 * The finalizer's work: once a CRD is being deleted, delete every object of it (their own
 * finalizers honoured), then drop the finalizer so the CRD goes.
 */
export class CustomResourceCleanup {
  private readonly unsubscribe: () => void;
  private readonly pending = new Set<string>();
  private readonly retries = new Set<NodeJS.Timeout>();

  constructor(
    private readonly store: ObjectStore,
    private readonly definitions: ResourceType,
  ) {
    this.unsubscribe = store.subscribe(CRD_STORE_KEY, (e) => {
      if (e.type === 'MODIFIED' && e.object.metadata.deletionTimestamp && e.object.metadata.finalizers?.includes(CLEANUP_FINALIZER)) this.schedule(e.object.metadata.name);
    });
    for (const crd of store.list(CRD_STORE_KEY)) if (crd.metadata.deletionTimestamp) this.schedule(crd.metadata.name);
  }

  stop(): void {
    this.unsubscribe();
    for (const t of this.retries) clearTimeout(t);
  }

  private schedule(name: string): void {
    if (this.pending.has(name)) return;
    this.pending.add(name);
    // Store listeners run inside the write that notified them; the cleanup writes afterwards.
    setImmediate(() => {
      this.pending.delete(name);
      this.cleanUp(name);
    });
  }

  private cleanUp(name: string): void {
    const crd = this.store.get(CRD_STORE_KEY, undefined, name) as Json | undefined;
    if (!crd?.metadata.deletionTimestamp || !crd.metadata.finalizers?.includes(CLEANUP_FINALIZER)) return;
    const storeKey = `${String(crd.status?.acceptedNames?.plural || crd.spec.names.plural)}.${String(crd.spec.group)}`;
    const custom: ResourceType = { ...this.definitions, group: String(crd.spec.group), kind: String(crd.spec.names.kind), plural: String(crd.spec.names.plural), storeKey, namespaced: crd.spec.scope !== 'Cluster' };
    for (const o of this.store.list(storeKey)) {
      if (!o.metadata.deletionTimestamp) deleteObject(this.store, custom, o.metadata.namespace, o.metadata.name, {});
    }
    if (this.store.list(storeKey).length) {
      // Objects held by their own finalizers: look again shortly, as the real controller requeues.
      const retry = setTimeout(() => {
        this.retries.delete(retry);
        this.schedule(name);
      }, 1000);
      retry.unref();
      this.retries.add(retry);
      return;
    }
    const rest = (crd.metadata.finalizers as string[]).filter((f) => f !== CLEANUP_FINALIZER);
    if (rest.length) this.store.mutate(CRD_STORE_KEY, undefined, name, (o) => void (o.metadata.finalizers = rest));
    else this.store.remove(CRD_STORE_KEY, undefined, name);
  }
}
