import type { CustomGroup } from './custom-resources.js';
import { AGGREGATED_APIS } from './metrics-api.js';
import { KUBERNETES_MINOR, KUBERNETES_VERSION } from '../kubernetes-version.js';
import { RESOURCES, apiGroups, apiVersionOf, type ResourceType, type ServedGroup } from './resources.js';

/**
 * The legacy discovery documents (`/api`, `/apis`, `/api/v1`, `/apis/<group>/<version>`). kubectl
 * builds its REST mapping, short names and eviction support from them; aggregated discovery is not
 * served, so clients asking for it get these JSON forms and fall back.
 */
/** `/version` as kube-apiserver v1.34.0 answers it, fields in its order (1.34 adds the emulation and compatibility versions). */
export const SERVER_VERSION = {
  major: '1',
  minor: KUBERNETES_MINOR,
  emulationMajor: '1',
  emulationMinor: KUBERNETES_MINOR,
  minCompatibilityMajor: '1',
  minCompatibilityMinor: String(Number(KUBERNETES_MINOR) - 1),
  gitVersion: KUBERNETES_VERSION,
  gitCommit: 'f28b4c9efbca5c5c0af716d9f2d5702667ee8a45',
  gitTreeState: 'clean',
  buildDate: '2025-08-27T10:09:04Z',
  goVersion: 'go1.24.6',
  compiler: 'gc',
  platform: 'linux/amd64',
};

export function coreVersions(serverAddress: string): unknown {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

/** The built-in groups, then the aggregated ones (metrics), as the real server lists APIServices after its own groups, then the custom ones. */
function servedGroups(custom: readonly CustomGroup[]): ServedGroup[] {
  return [...apiGroups(), ...AGGREGATED_APIS.map((a) => ({ group: a.group, versions: [a.version] })), ...custom];
}

function groupEntry(g: ServedGroup): unknown {
  const versions = g.versions.map((version) => ({ groupVersion: `${g.group}/${version}`, version }));
  return { name: g.group, versions, preferredVersion: versions[0] };
}

/** The built-in groups, then the aggregated ones (metrics) and those CustomResourceDefinitions add. */
export function apiGroupList(custom: readonly CustomGroup[] = []): unknown {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: servedGroups(custom).map(groupEntry) };
}

/** `/apis` of a server that serves only the aggregated groups (gameday's metrics server on the real control plane). */
export function aggregatedApiGroupList(): unknown {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: AGGREGATED_APIS.map((a) => groupEntry({ group: a.group, versions: [a.version] })) };
}

export function apiGroup(group: string, custom: readonly CustomGroup[] = []): unknown | undefined {
  const g = servedGroups(custom).find((x) => x.group === group);
  if (!g) return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...(groupEntry(g) as object) };
}

function resourceEntries(r: ResourceType): unknown[] {
  const main: Record<string, unknown> = { name: r.plural, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: r.verbs };
  if (r.shortNames.length) main['shortNames'] = r.shortNames;
  if (r.categories.length) main['categories'] = r.categories;
  if (r.storageVersionHash) main['storageVersionHash'] = r.storageVersionHash;
  const subs = r.subresources.map((s) => {
    const e: Record<string, unknown> = { name: `${r.plural}/${s.name}`, singularName: '', namespaced: r.namespaced };
    if (s.group !== undefined) e['group'] = s.group;
    if (s.version !== undefined) e['version'] = s.version;
    e['kind'] = s.kind;
    e['verbs'] = s.verbs;
    return e;
  });
  return [main, ...subs];
}

/** `/api/v1` or `/apis/<group>/<version>`; undefined for a group version not served. */
export function apiResourceList(group: string, version: string, custom: readonly ResourceType[] = []): unknown | undefined {
  const aggregated = AGGREGATED_APIS.find((a) => a.group === group && a.version === version);
  if (aggregated) return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: `${group}/${version}`, resources: aggregated.resources };
  const rs = [...RESOURCES.filter((r) => r.group === group && r.version === version), ...custom];
  if (!rs.length) return undefined;
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf({ group, version }), resources: rs.flatMap(resourceEntries) };
}
