import type { LooseJson } from './loose-json.js';
import type { ObjectStore, StoredObject } from '../store.js';
import { cpuMillis, quantityBytes } from '../resource-quantity.js';
import { ApiError } from './api-error.js';
import type { ResourceType } from './resources.js';

/**
 * ResourceQuota as the quota admission plugin and the quota controller share it: what a
 * namespace uses of each quota'd resource (object counts, pods, and the pods' cpu/memory
 * requests and limits), and the check that refuses a create with the real 403 `exceeded quota`
 * message. Other quota'd resources (storage, extended resources) are counted as 0.
 */
type Json = LooseJson;
type ResourceList = Record<string, string>;

/** The resource names that count objects of one store key, beside `count/<resource>`. */
const LEGACY_COUNTS: Record<string, string> = {
  pods: 'pods',
  services: 'services',
  configmaps: 'configmaps',
  secrets: 'secrets',
  persistentvolumeclaims: 'persistentvolumeclaims',
  replicationcontrollers: 'replicationcontrollers',
  resourcequotas: 'resourcequotas',
};

const COMPUTE: Record<string, { kind: 'requests' | 'limits'; resource: string }> = {
  cpu: { kind: 'requests', resource: 'cpu' },
  memory: { kind: 'requests', resource: 'memory' },
  'requests.cpu': { kind: 'requests', resource: 'cpu' },
  'requests.memory': { kind: 'requests', resource: 'memory' },
  'limits.cpu': { kind: 'limits', resource: 'cpu' },
  'limits.memory': { kind: 'limits', resource: 'memory' },
};

function isTerminal(pod: Json): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** The store key an object-count resource name counts, or undefined for a name that is no count. */
function countedStoreKey(name: string): string | undefined {
  if (name.startsWith('count/')) return name.slice('count/'.length);
  return LEGACY_COUNTS[name];
}

function amount(resource: string, value: unknown): number {
  return resource === 'cpu' ? cpuMillis(value) : quantityBytes(value);
}

/** A pod's usage of one compute resource: its containers' sum, or its largest init container when more. */
function podCompute(pod: Json, kind: 'requests' | 'limits', resource: string): number {
  const of = (c: Json) => amount(resource, c.resources?.[kind]?.[resource] ?? 0);
  const sum = ((pod.spec?.containers ?? []) as Json[]).reduce((t, c) => t + of(c), 0);
  return Math.max(sum, ...((pod.spec?.initContainers ?? []) as Json[]).map(of));
}

/** What one object adds to a quota'd resource. */
function usageOf(name: string, storeKey: string, o: Json): number {
  const counted = countedStoreKey(name);
  if (counted !== undefined) return counted === storeKey && !(storeKey === 'pods' && isTerminal(o)) ? 1 : 0;
  const compute = COMPUTE[name];
  if (compute && storeKey === 'pods' && !isTerminal(o)) return podCompute(o, compute.kind, compute.resource);
  return 0;
}

/** Quantity.String() of a usage: cores or millicores for cpu, binary suffixes for bytes, plain counts. */
export function formatUsage(name: string, value: number): string {
  const compute = COMPUTE[name];
  if (compute?.resource === 'cpu') return value % 1000 === 0 ? String(value / 1000) : `${value}m`;
  if (compute?.resource === 'memory') {
    for (const [suffix, size] of [['Ei', 2 ** 60], ['Pi', 2 ** 50], ['Ti', 2 ** 40], ['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]] as const) {
      if (value >= size && value % size === 0) return `${value / size}${suffix}`;
    }
  }
  return String(value);
}

function parseHard(name: string, value: string): number {
  const compute = COMPUTE[name];
  return compute ? amount(compute.resource, value) : quantityBytes(value);
}

export function quotaUsed(store: ObjectStore, namespace: string, hard: ResourceList): ResourceList {
  const used: ResourceList = {};
  for (const name of Object.keys(hard)) {
    const counted = countedStoreKey(name);
    const keys = counted !== undefined ? [counted] : COMPUTE[name] ? ['pods'] : [];
    let total = 0;
    for (const key of keys) for (const o of store.scan(key, { namespace })) total += usageOf(name, key, o as Json);
    used[name] = formatUsage(name, total);
  }
  return used;
}

/** The status a quota has once the controller has counted: hard as the spec says, used as counted. */
export function quotaStatus(store: ObjectStore, quota: StoredObject): Json {
  const hard = { ...(((quota as Json).spec?.hard ?? {}) as ResourceList) };
  return { hard, used: quotaUsed(store, quota.metadata.namespace!, hard) };
}

/** Refuses a create that would take a namespace past one of its quotas. */
export function checkQuota(store: ObjectStore, r: ResourceType, o: Json): void {
  const namespace = o.metadata?.namespace as string | undefined;
  if (!namespace || !r.namespaced) return;
  for (const quota of store.list('resourcequotas', namespace) as Json[]) {
    const hard = (quota.spec?.hard ?? {}) as ResourceList;
    if (r.storeKey === 'pods') {
      const containers = [...((o.spec?.containers ?? []) as Json[]), ...((o.spec?.initContainers ?? []) as Json[])];
      const missing = Object.keys(hard).filter((n) => COMPUTE[n] && containers.some((c) => c.resources?.[COMPUTE[n]!.kind]?.[COMPUTE[n]!.resource] === undefined));
      if (missing.length) throw ApiError.forbidden(r, String(o.metadata.name), `failed quota: ${String(quota.metadata.name)}: must specify ${missing.sort().join(',')}`);
    }
    const requested: [string, number][] = Object.keys(hard).map((n) => [n, usageOf(n, r.storeKey, o)]);
    const used = quotaUsed(store, namespace, hard);
    const exceeded = requested.filter(([n, add]) => add > 0 && parseHard(n, used[n]!) + add > parseHard(n, hard[n]!)).map(([n]) => n).sort();
    if (!exceeded.length) continue;
    const list = (f: (n: string) => string) => exceeded.map((n) => `${n}=${f(n)}`).join(',');
    const adds = new Map(requested);
    throw ApiError.forbidden(
      r,
      String(o.metadata.name),
      `exceeded quota: ${String(quota.metadata.name)}, requested: ${list((n) => formatUsage(n, adds.get(n)!))}, used: ${list((n) => used[n]!)}, limited: ${list((n) => hard[n]!)}`,
    );
  }
}
