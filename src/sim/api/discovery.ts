import type { CustomGroup } from './custom-resources.js';
import { AGGREGATED_APIS } from './metrics-api.js';
import { RESOURCES, apiGroups, apiVersionOf, type ResourceType, type ServedGroup } from './resources.js';

/**
 * The legacy discovery documents (`/api`, `/apis`, `/api/v1`, `/apis/<group>/<version>`). kubectl
 * builds its REST mapping, short names and eviction support from them; aggregated discovery is not
 * served, so clients asking for it get these JSON forms and fall back.
 */
export const SERVER_VERSION = {
  major: '1',
  minor: '31',
  gitVersion: 'v1.31.4',
  gitCommit: 'a78aa47129b8539636eb86a9d00e31b2720fe06b',
  gitTreeState: 'clean',
  buildDate: '2024-12-10T00:00:00Z',
  goVersion: 'go1.22.10',
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
