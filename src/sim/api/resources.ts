import type { StoredObject } from '../store.js';
import { EVENTS_V1_CONVERSION } from './event-conversion.js';

/**
 * The resources the embedded API server serves: what discovery advertises, how URLs map to store
 * keys, and which subresources exist. kubectl decides what it may do (evict, scale, describe) from
 * this table alone, so it mirrors the real server's discovery documents.
 */
export interface SubresourceType {
  readonly name: string;
  readonly kind: string;
  /** Set when the subresource's kind lives in another group (pods/eviction is policy/v1 Eviction). */
  readonly group?: string;
  readonly version?: string;
  readonly verbs: readonly string[];
}

export interface ResourceType {
  /** '' for the core (legacy) group. */
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly plural: string;
  readonly singular: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  readonly verbs: readonly string[];
  readonly subresources: readonly SubresourceType[];
  /** The ObjectStore key: the plural for core resources, `<plural>.<group>` otherwise. */
  readonly storeKey: string;
  /** For a second API over another resource's objects (events.k8s.io Events): how objects are converted to and from the stored form. */
  readonly conversion?: ObjectConversion;
  /** Discovery's `storageVersionHash`, which upstream advertises for custom resources. */
  readonly storageVersionHash?: string;
  /** A custom resource version's structural schema, which prunes and validates its objects. */
  readonly openAPIV3Schema?: Record<string, unknown>;
  /** A custom resource's `additionalPrinterColumns`, which its Table shows after NAME. */
  readonly printerColumns?: readonly PrinterColumn[];
}

export interface ObjectConversion {
  toStored(o: StoredObject): StoredObject;
  fromStored(o: StoredObject): StoredObject;
}

/** One of a CustomResourceDefinition version's `additionalPrinterColumns`. */
export interface PrinterColumn {
  readonly name: string;
  readonly type: string;
  readonly format?: string;
  readonly description?: string;
  readonly priority?: number;
  readonly jsonPath: string;
}

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] as const;
export const STATUS_VERBS = ['get', 'patch', 'update'] as const;

function status(kind: string): SubresourceType {
  return { name: 'status', kind, verbs: STATUS_VERBS };
}

function scale(): SubresourceType {
  return { name: 'scale', kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: STATUS_VERBS };
}

interface Definition {
  group?: string;
  version?: string;
  kind: string;
  plural: string;
  namespaced?: boolean;
  shortNames?: string[];
  categories?: string[];
  subresources?: SubresourceType[];
  /** Objects kept under another resource's key, converted (events.k8s.io Events are core Events). */
  storedAs?: { storeKey: string; conversion: ObjectConversion };
}

function define(d: Definition): ResourceType {
  const group = d.group ?? '';
  return {
    group,
    version: d.version ?? 'v1',
    kind: d.kind,
    plural: d.plural,
    singular: d.kind.toLowerCase(),
    namespaced: d.namespaced ?? true,
    shortNames: d.shortNames ?? [],
    categories: d.categories ?? [],
    verbs: ALL_VERBS,
    subresources: d.subresources ?? [],
    storeKey: d.storedAs?.storeKey ?? (group ? `${d.plural}.${group}` : d.plural),
    ...(d.storedAs ? { conversion: d.storedAs.conversion } : {}),
  };
}

export const RESOURCES: readonly ResourceType[] = [
  define({ kind: 'Namespace', plural: 'namespaces', namespaced: false, shortNames: ['ns'], subresources: [status('Namespace'), { name: 'finalize', kind: 'Namespace', verbs: ['update'] }] }),
  define({ kind: 'Node', plural: 'nodes', namespaced: false, shortNames: ['no'], subresources: [status('Node')] }),
  define({
    kind: 'Pod',
    plural: 'pods',
    shortNames: ['po'],
    categories: ['all'],
    subresources: [
      status('Pod'),
      { name: 'binding', kind: 'Binding', verbs: ['create'] },
      { name: 'eviction', kind: 'Eviction', group: 'policy', version: 'v1', verbs: ['create'] },
      { name: 'exec', kind: 'PodExecOptions', verbs: ['create', 'get'] },
      { name: 'log', kind: 'Pod', verbs: ['get'] },
      { name: 'proxy', kind: 'PodProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] },
    ],
  }),
  define({ kind: 'Service', plural: 'services', shortNames: ['svc'], categories: ['all'], subresources: [status('Service'), { name: 'proxy', kind: 'ServiceProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] }] }),
  define({ kind: 'Endpoints', plural: 'endpoints', shortNames: ['ep'] }),
  define({ kind: 'Event', plural: 'events', shortNames: ['ev'] }),
  define({ kind: 'ConfigMap', plural: 'configmaps', shortNames: ['cm'] }),
  define({ kind: 'ResourceQuota', plural: 'resourcequotas', shortNames: ['quota'], subresources: [status('ResourceQuota')] }),
  define({ kind: 'LimitRange', plural: 'limitranges', shortNames: ['limits'] }),
  define({ group: 'apps', kind: 'Deployment', plural: 'deployments', shortNames: ['deploy'], categories: ['all'], subresources: [status('Deployment'), scale()] }),
  define({ group: 'apps', kind: 'ReplicaSet', plural: 'replicasets', shortNames: ['rs'], categories: ['all'], subresources: [status('ReplicaSet'), scale()] }),
  define({ group: 'apps', kind: 'StatefulSet', plural: 'statefulsets', shortNames: ['sts'], categories: ['all'], subresources: [status('StatefulSet'), scale()] }),
  define({ group: 'apps', kind: 'DaemonSet', plural: 'daemonsets', shortNames: ['ds'], categories: ['all'], subresources: [status('DaemonSet')] }),
  define({ group: 'batch', kind: 'Job', plural: 'jobs', categories: ['all'], subresources: [status('Job')] }),
  define({ group: 'batch', kind: 'CronJob', plural: 'cronjobs', shortNames: ['cj'], categories: ['all'], subresources: [status('CronJob')] }),
  define({ group: 'policy', kind: 'PodDisruptionBudget', plural: 'poddisruptionbudgets', shortNames: ['pdb'], subresources: [status('PodDisruptionBudget')] }),
  define({ group: 'discovery.k8s.io', kind: 'EndpointSlice', plural: 'endpointslices' }),
  define({ group: 'coordination.k8s.io', kind: 'Lease', plural: 'leases' }),
  define({ group: 'events.k8s.io', kind: 'Event', plural: 'events', shortNames: ['ev'], storedAs: { storeKey: 'events', conversion: EVENTS_V1_CONVERSION } }),
  define({ group: 'networking.k8s.io', kind: 'NetworkPolicy', plural: 'networkpolicies', shortNames: ['netpol'] }),
  define({ group: 'networking.k8s.io', kind: 'Ingress', plural: 'ingresses', shortNames: ['ing'], subresources: [status('Ingress')] }),
  define({ group: 'networking.k8s.io', kind: 'IngressClass', plural: 'ingressclasses', namespaced: false }),
  define({ group: 'scheduling.k8s.io', kind: 'PriorityClass', plural: 'priorityclasses', namespaced: false, shortNames: ['pc'] }),
  define({ group: 'apiextensions.k8s.io', kind: 'CustomResourceDefinition', plural: 'customresourcedefinitions', namespaced: false, shortNames: ['crd', 'crds'], categories: ['api-extensions'], subresources: [status('CustomResourceDefinition')] }),
];

/** `v1` for the core group, `<group>/<version>` otherwise: the apiVersion objects carry. */
export function apiVersionOf(r: Pick<ResourceType, 'group' | 'version'>): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

/** An object as the requested API shows it: converted when that API is not the one storing it. */
export function served(r: ResourceType, o: StoredObject): StoredObject {
  return r.conversion ? r.conversion.fromStored(o) : o;
}

/** `pods`, `deployments.apps`: how the real server names a resource in its error messages. */
export function qualifiedName(r: ResourceType): string {
  return r.storeKey;
}

const byPath = new Map(RESOURCES.map((r) => [`${apiVersionOf(r)}/${r.plural}`, r]));
// A store key names the resource that owns its objects, not an API converting them.
const byStoreKey = new Map(RESOURCES.filter((r) => !r.conversion).map((r) => [r.storeKey, r]));

export function findResource(group: string, version: string, plural: string): ResourceType | undefined {
  return byPath.get(`${apiVersionOf({ group, version })}/${plural}`);
}

export function resourceByStoreKey(storeKey: string): ResourceType | undefined {
  return byStoreKey.get(storeKey);
}

export function resourceByKind(apiVersion: string, kind: string): ResourceType | undefined {
  return RESOURCES.find((r) => r.kind === kind && apiVersionOf(r) === apiVersion);
}

/** The served API groups (without the core group), each with its one version. */
export function apiGroups(): { group: string; version: string }[] {
  const seen = new Map<string, string>();
  for (const r of RESOURCES) if (r.group && !seen.has(r.group)) seen.set(r.group, r.version);
  return [...seen].map(([group, version]) => ({ group, version }));
}
