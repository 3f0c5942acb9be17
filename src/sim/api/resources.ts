import type { StoredObject } from '../store.js';
import { HPA_V1_CONVERSION } from './hpa-conversion.js';
import type { LooseJson } from './loose-json.js';
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
  /**
   * For a version served beside the stored one (autoscaling/v1 HPAs, stored as v2), or a second
   * API over another resource's objects (events.k8s.io Events are core Events): how a stored object
   * reads in this version and how this version's object is stored.
   */
  readonly conversion?: Conversion;
  /** Discovery's `storageVersionHash`, which upstream advertises for custom resources. */
  readonly storageVersionHash?: string;
  /** A custom resource version's structural schema, which prunes and validates its objects. */
  readonly openAPIV3Schema?: Record<string, unknown>;
  /** A custom resource's `additionalPrinterColumns`, which its Table shows after NAME. */
  readonly printerColumns?: readonly PrinterColumn[];
}

export interface Conversion {
  fromStored(stored: StoredObject): StoredObject;
  toStored(view: LooseJson): LooseJson;
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
/** Reviews are only ever created: the server answers them and stores nothing. */
const CREATE_ONLY = ['create'] as const;

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
  /** @default every verb */
  verbs?: readonly string[];
  /** Objects kept under another resource's key, converted (events.k8s.io Events are core Events). */
  storedAs?: { storeKey: string; conversion: Conversion };
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
    verbs: d.verbs ?? ALL_VERBS,
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
      { name: 'ephemeralcontainers', kind: 'Pod', verbs: ['get', 'patch', 'update'] },
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
  define({ kind: 'PersistentVolumeClaim', plural: 'persistentvolumeclaims', shortNames: ['pvc'], subresources: [status('PersistentVolumeClaim')] }),
  define({ kind: 'PersistentVolume', plural: 'persistentvolumes', namespaced: false, shortNames: ['pv'], subresources: [status('PersistentVolume')] }),
  define({ kind: 'Secret', plural: 'secrets' }),
  define({ kind: 'ServiceAccount', plural: 'serviceaccounts', shortNames: ['sa'], subresources: [{ name: 'token', kind: 'TokenRequest', group: 'authentication.k8s.io', version: 'v1', verbs: CREATE_ONLY }] }),
  define({ kind: 'ResourceQuota', plural: 'resourcequotas', shortNames: ['quota'], subresources: [status('ResourceQuota')] }),
  define({ kind: 'LimitRange', plural: 'limitranges', shortNames: ['limits'] }),
  define({ group: 'apps', kind: 'Deployment', plural: 'deployments', shortNames: ['deploy'], categories: ['all'], subresources: [status('Deployment'), scale()] }),
  define({ group: 'apps', kind: 'ReplicaSet', plural: 'replicasets', shortNames: ['rs'], categories: ['all'], subresources: [status('ReplicaSet'), scale()] }),
  define({ group: 'apps', kind: 'StatefulSet', plural: 'statefulsets', shortNames: ['sts'], categories: ['all'], subresources: [status('StatefulSet'), scale()] }),
  define({ group: 'apps', kind: 'DaemonSet', plural: 'daemonsets', shortNames: ['ds'], categories: ['all'], subresources: [status('DaemonSet')] }),
  define({ group: 'autoscaling', version: 'v2', kind: 'HorizontalPodAutoscaler', plural: 'horizontalpodautoscalers', shortNames: ['hpa'], categories: ['all'], subresources: [status('HorizontalPodAutoscaler')] }),
  { ...define({ group: 'autoscaling', version: 'v1', kind: 'HorizontalPodAutoscaler', plural: 'horizontalpodautoscalers', shortNames: ['hpa'], categories: ['all'], subresources: [status('HorizontalPodAutoscaler')] }), conversion: HPA_V1_CONVERSION },
  define({ group: 'batch', kind: 'Job', plural: 'jobs', categories: ['all'], subresources: [status('Job')] }),
  define({ group: 'batch', kind: 'CronJob', plural: 'cronjobs', shortNames: ['cj'], categories: ['all'], subresources: [status('CronJob')] }),
  define({ group: 'policy', kind: 'PodDisruptionBudget', plural: 'poddisruptionbudgets', shortNames: ['pdb'], subresources: [status('PodDisruptionBudget')] }),
  define({ group: 'discovery.k8s.io', kind: 'EndpointSlice', plural: 'endpointslices' }),
  define({ group: 'coordination.k8s.io', kind: 'Lease', plural: 'leases' }),
  define({ group: 'events.k8s.io', kind: 'Event', plural: 'events', shortNames: ['ev'], storedAs: { storeKey: 'events', conversion: EVENTS_V1_CONVERSION } }),
  define({ group: 'networking.k8s.io', kind: 'NetworkPolicy', plural: 'networkpolicies', shortNames: ['netpol'] }),
  define({ group: 'storage.k8s.io', kind: 'StorageClass', plural: 'storageclasses', namespaced: false, shortNames: ['sc'] }),
  define({ group: 'rbac.authorization.k8s.io', kind: 'ClusterRoleBinding', plural: 'clusterrolebindings', namespaced: false }),
  define({ group: 'rbac.authorization.k8s.io', kind: 'ClusterRole', plural: 'clusterroles', namespaced: false }),
  define({ group: 'rbac.authorization.k8s.io', kind: 'RoleBinding', plural: 'rolebindings' }),
  define({ group: 'rbac.authorization.k8s.io', kind: 'Role', plural: 'roles' }),
  define({ group: 'authorization.k8s.io', kind: 'LocalSubjectAccessReview', plural: 'localsubjectaccessreviews', verbs: CREATE_ONLY }),
  define({ group: 'authorization.k8s.io', kind: 'SelfSubjectAccessReview', plural: 'selfsubjectaccessreviews', namespaced: false, verbs: CREATE_ONLY }),
  define({ group: 'authorization.k8s.io', kind: 'SelfSubjectRulesReview', plural: 'selfsubjectrulesreviews', namespaced: false, verbs: CREATE_ONLY }),
  define({ group: 'authorization.k8s.io', kind: 'SubjectAccessReview', plural: 'subjectaccessreviews', namespaced: false, verbs: CREATE_ONLY }),
  define({ group: 'authentication.k8s.io', kind: 'SelfSubjectReview', plural: 'selfsubjectreviews', namespaced: false, verbs: CREATE_ONLY }),
  define({ group: 'networking.k8s.io', kind: 'Ingress', plural: 'ingresses', shortNames: ['ing'], subresources: [status('Ingress')] }),
  define({ group: 'networking.k8s.io', kind: 'IngressClass', plural: 'ingressclasses', namespaced: false }),
  define({ group: 'scheduling.k8s.io', kind: 'PriorityClass', plural: 'priorityclasses', namespaced: false, shortNames: ['pc'] }),
  define({ group: 'apiextensions.k8s.io', kind: 'CustomResourceDefinition', plural: 'customresourcedefinitions', namespaced: false, shortNames: ['crd', 'crds'], categories: ['api-extensions'], subresources: [status('CustomResourceDefinition')] }),
];

/** `v1` for the core group, `<group>/<version>` otherwise: the apiVersion objects carry. */
export function apiVersionOf(r: Pick<ResourceType, 'group' | 'version'>): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}


/** `pods`, `deployments.apps`: how the real server names a resource in its error messages. */
export function qualifiedName(r: ResourceType): string {
  return r.storeKey;
}

const byPath = new Map(RESOURCES.map((r) => [`${apiVersionOf(r)}/${r.plural}`, r]));
// The stored version, not a converted one, answers for its store key.
const byStoreKey = new Map(RESOURCES.filter((r) => !r.conversion).map((r) => [r.storeKey, r]));

/** The object as `r`'s version shows it. */
export function viewIn(r: ResourceType, o: StoredObject): StoredObject {
  return r.conversion ? r.conversion.fromStored(o) : o;
}

/** An object written in `r`'s version, as the store keeps it. */
export function storedFrom(r: ResourceType, o: LooseJson): LooseJson {
  return r.conversion ? r.conversion.toStored(o) : o;
}

export function findResource(group: string, version: string, plural: string): ResourceType | undefined {
  return byPath.get(`${apiVersionOf({ group, version })}/${plural}`);
}

export function resourceByStoreKey(storeKey: string): ResourceType | undefined {
  return byStoreKey.get(storeKey);
}

export function resourceByKind(apiVersion: string, kind: string): ResourceType | undefined {
  return RESOURCES.find((r) => r.kind === kind && apiVersionOf(r) === apiVersion);
}

export interface ServedGroup {
  readonly group: string;
  /** Most preferred first, as discovery lists them. */
  readonly versions: readonly string[];
}

/** The served API groups (without the core group), in the order the resources are defined, each with its versions. */
export function apiGroups(): ServedGroup[] {
  const versions = new Map<string, Set<string>>();
  for (const r of RESOURCES) if (r.group) (versions.get(r.group) ?? versions.set(r.group, new Set()).get(r.group)!).add(r.version);
  return [...versions].map(([group, vs]) => ({ group, versions: [...vs].sort(compareVersionPriority) }));
}

/**
 * apimachinery's version priority: GA before beta before alpha, higher numbers first within each
 * (`v2`, `v1`, `v2beta1`, `v1beta2`, `v1alpha1`).
 */
export function compareVersionPriority(a: string, b: string): number {
  const rank = (v: string): [number, number, number] => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return [3, 0, 0];
    return [m[2] === undefined ? 0 : m[2] === 'beta' ? 1 : 2, -Number(m[1]), -Number(m[3] ?? 0)];
  };
  const [ra, rb] = [rank(a), rank(b)];
  for (let i = 0; i < 3; i++) if (ra[i] !== rb[i]) return ra[i]! - rb[i]!;
  return a.localeCompare(b);
}
