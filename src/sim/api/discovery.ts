import type { CustomGroup } from './custom-resources.js';
import { RESOURCES, apiGroups, apiVersionOf, type ResourceType } from './resources.js';

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

function groupEntry(group: string, version: string): unknown {
  const gv = { groupVersion: `${group}/${version}`, version };
  return { name: group, versions: [gv], preferredVersion: gv };
}

/** A CRD group: every served version, the preferred (highest priority) first. */
function customGroupEntry(g: CustomGroup): unknown {
  const versions = g.versions.map((version) => ({ groupVersion: `${g.group}/${version}`, version }));
  return { name: g.group, versions, preferredVersion: versions[0] };
}

/** The built-in groups, then those CustomResourceDefinitions add. */
export function apiGroupList(custom: readonly CustomGroup[] = []): unknown {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: [...apiGroups().map((g) => groupEntry(g.group, g.version)), ...custom.map(customGroupEntry)] };
}

export function apiGroup(group: string, custom: readonly CustomGroup[] = []): unknown | undefined {
  const g = apiGroups().find((x) => x.group === group);
  if (g) return { kind: 'APIGroup', apiVersion: 'v1', ...(groupEntry(g.group, g.version) as object) };
  const c = custom.find((x) => x.group === group);
  return c ? { kind: 'APIGroup', apiVersion: 'v1', ...(customGroupEntry(c) as object) } : undefined;
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
  const rs = [...RESOURCES.filter((r) => r.group === group && r.version === version), ...custom];
  if (!rs.length) return undefined;
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf({ group, version }), resources: rs.flatMap(resourceEntries) };
}
