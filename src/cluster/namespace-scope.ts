import type { Permission, Verb } from './rbac.js';

/**
 * The namespaces a run reads pods and Warning Events in: those its experiment is confined to, or
 * every namespace when something in it may reach any pod (a drain evicts whatever runs on its
 * node). The plan's pod list and the cluster watch's Events read through it, and `gameday rbac`
 * grants through it, so what a run does and what it is granted cannot drift apart.
 */
export type NamespaceScope = InNamespaces | EveryNamespace;

export interface InNamespaces {
  readonly every: false;
  /** Sorted and distinct. None at all is a scope too: nothing in the experiment names a namespace. */
  readonly namespaces: readonly string[];
}

export interface EveryNamespace {
  readonly every: true;
  /** Why, for the person reading the roles: `a fault acts on nodes, …`. */
  readonly why: string;
}

export function inNamespaces(namespaces: Iterable<string>): InNamespaces {
  return { every: false, namespaces: [...new Set(namespaces)].sort() };
}

export function everyNamespace(why: string): EveryNamespace {
  return { every: true, why };
}

/** The API paths of a core/v1 collection within the scope: one per namespace, or the cluster-wide one. */
export function scopedPaths(scope: NamespaceScope, resource: string): string[] {
  if (scope.every) return [`/api/v1/${resource}`];
  return scope.namespaces.map((ns) => `/api/v1/namespaces/${encodeURIComponent(ns)}/${resource}`);
}

/** What reading a core/v1 collection within the scope needs: `verbs` on `resource` in each of its namespaces, or in every namespace, saying why. */
export function scopedPermissions(scope: NamespaceScope, why: string, verbs: readonly Verb[], resource: string): Permission[] {
  if (scope.every) return [{ why: `${why}, in every namespace (${scope.why})`, verbs, resource }];
  return scope.namespaces.map((namespace) => ({ why, verbs, resource, namespace }));
}
