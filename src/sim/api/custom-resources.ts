import { createHash } from 'node:crypto';
import type { LooseJson } from './loose-json.js';
import type { ObjectStore, StoredObject } from '../store.js';
import { CREATION_TIMESTAMP_DESCRIPTION } from './table.js';
import { STATUS_VERBS, type Conversion, type PrinterColumn, type ResourceType, type SubresourceType } from './resources.js';

/**
 * The resources CustomResourceDefinitions add: a registry the API server consults after its
 * static table, kept current from the store's CRDs, so a CRD's custom resources are routed and
 * discovered from the moment the CRD is written and vanish when it is gone.
 */
export const CRD_STORE_KEY = 'customresourcedefinitions.apiextensions.k8s.io';

type Json = LooseJson;

/** A served group and its served versions, the preferred one first. */
export interface CustomGroup {
  readonly group: string;
  readonly versions: readonly string[];
}

/** apiextensions' default when a version declares no printer columns. */
const AGE_COLUMN: PrinterColumn = {
  name: 'Age',
  type: 'date',
  description: CREATION_TIMESTAMP_DESCRIPTION,
  jsonPath: '.metadata.creationTimestamp',
};

/**
 * Kubernetes' version priority (`k8s.io/apimachinery/pkg/version.CompareKubeAwareVersionStrings`):
 * GA before beta before alpha, higher numbers first, versions of no such form last, alphabetically.
 */
export function compareKubeVersions(a: string, b: string): number {
  const rank = (v: string): [number, number, number, string] => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return [3, 0, 0, v];
    const stage = m[2] === undefined ? 0 : m[2] === 'beta' ? 1 : 2;
    return [stage, -Number(m[1]), -Number(m[3] ?? 0), v];
  };
  const [x, y] = [rank(a), rank(b)];
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
  return x[3] < y[3] ? -1 : x[3] > y[3] ? 1 : 0;
}

/** apiextensions-apiserver lists a custom resource's verbs in this order. */
const CUSTOM_RESOURCE_VERBS = ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch'];

/** `discovery.StorageVersionHash`: the first 8 bytes of the SHA-256 of `<group>/<version>/<kind>`, base64. */
function storageVersionHash(gvk: string): string {
  return createHash('sha256').update(gvk).digest().subarray(0, 8).toString('base64');
}

/** The `None` conversion strategy: objects of every version are the same but for their apiVersion. */
function noneConversion(storage: string, served: string): Conversion {
  return {
    toStored: (o) => ({ ...o, apiVersion: storage }),
    fromStored: (o) => ({ ...o, apiVersion: served }),
  };
}

/** The resource types one CRD serves, one per served version; none until it is Established. */
export function resourcesOfDefinition(crd: StoredObject): ResourceType[] {
  const c = crd as Json;
  const spec = (c.spec ?? {}) as Json;
  const names = (c.status?.acceptedNames ?? {}) as Json;
  if (!names.kind || !names.plural || crd.metadata.deletionTimestamp) return [];
  const group = String(spec.group);
  const subresourcesOf = (v: Json): SubresourceType[] => {
    const subs: SubresourceType[] = [];
    if (v.subresources?.status) subs.push({ name: 'status', kind: names.kind, verbs: STATUS_VERBS });
    return subs;
  };
  const versions = (spec.versions ?? []) as Json[];
  const storageVersion = `${group}/${String(versions.find((v) => v.storage)?.name)}`;
  return versions
    .filter((v) => v.served)
    .map((v) => ({
      group,
      version: String(v.name),
      kind: String(names.kind),
      plural: String(names.plural),
      singular: String(names.singular ?? String(names.kind).toLowerCase()),
      namespaced: spec.scope !== 'Cluster',
      shortNames: (names.shortNames ?? []) as string[],
      categories: (names.categories ?? []) as string[],
      verbs: CUSTOM_RESOURCE_VERBS,
      subresources: subresourcesOf(v),
      storeKey: `${String(names.plural)}.${group}`,
      printerColumns: ((v.additionalPrinterColumns ?? []) as PrinterColumn[]).length ? (v.additionalPrinterColumns as PrinterColumn[]) : [AGE_COLUMN],
      conversion: noneConversion(storageVersion, `${group}/${String(v.name)}`),
      storageVersionHash: storageVersionHash(`${storageVersion}/${String(names.kind)}`),
      ...(v.schema?.openAPIV3Schema ? { openAPIV3Schema: v.schema.openAPIV3Schema as Record<string, unknown> } : {}),
    }));
}

export class CustomResources {
  /** `<group>/<version>/<plural>` → type. */
  private byPath = new Map<string, ResourceType>();
  private all: ResourceType[] = [];
  private readonly unsubscribe: () => void;

  constructor(private readonly store: ObjectStore) {
    this.unsubscribe = store.subscribe(CRD_STORE_KEY, () => this.rebuild());
    this.rebuild();
  }

  stop(): void {
    this.unsubscribe();
  }

  find(group: string, version: string, plural: string): ResourceType | undefined {
    return this.byPath.get(`${group}/${version}/${plural}`);
  }

  resources(group: string, version: string): ResourceType[] {
    return this.all.filter((r) => r.group === group && r.version === version);
  }

  /** Every served group version, for the OpenAPI index. */
  groupVersions(): { group: string; version: string }[] {
    return this.groups().flatMap((g) => g.versions.map((version) => ({ group: g.group, version })));
  }

  groups(): CustomGroup[] {
    const versions = new Map<string, Set<string>>();
    for (const r of this.all) {
      let set = versions.get(r.group);
      if (!set) versions.set(r.group, (set = new Set()));
      set.add(r.version);
    }
    return [...versions].map(([group, set]) => ({ group, versions: [...set].sort(compareKubeVersions) }));
  }

  private rebuild(): void {
    this.all = this.store.list(CRD_STORE_KEY).flatMap(resourcesOfDefinition);
    this.byPath = new Map(this.all.map((r) => [`${r.group}/${r.version}/${r.plural}`, r]));
  }
}
