import type { KubernetesObject } from '@kubernetes/client-node';
import { Document, isScalar, visit } from 'yaml';

/**
 * The verbs RBAC grants, in the order Kubernetes' own roles list them. `*` is for requests the API
 * server gives no verb (a proxied OPTIONS): only `*` grants those.
 */
export const VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'impersonate', '*'] as const;
export type Verb = (typeof VERBS)[number];

/**
 * One thing gameday does through the Kubernetes API, as RBAC grants it. Each fault and probe kind
 * declares its own next to its code (`permissions` on FaultPlugin and ProbePlugin), the engine
 * and node access declare theirs, and `gameday rbac` merges them into Roles.
 */
export interface Permission {
  /** Why gameday needs it, for a person reading the Role: `podKill: delete the chosen pods`. */
  readonly why: string;
  readonly verbs: readonly Verb[];
  /** Plural, with the subresource when there is one: `pods`, `pods/eviction`, `nodes/proxy`. */
  readonly resource: string;
  /** API group. @default '' (core) */
  readonly group?: string;
  /**
   * The namespace it acts in. Absent: cluster-wide, for a cluster-scoped resource (nodes,
   * namespaces) or for a namespaced one in every namespace (a drain evicts whatever runs on the node).
   */
  readonly namespace?: string;
  /**
   * Only these objects (RBAC `resourceNames`). A create cannot be limited so; a list or watch
   * can, when it selects `metadata.name=<name>`.
   */
  readonly names?: readonly string[];
}

/** One rule of a Role or ClusterRole, with the reasons it is there. */
export interface GrantedRule {
  readonly group: string;
  readonly resource: string;
  readonly verbs: readonly Verb[];
  readonly names?: readonly string[];
  readonly why: readonly string[];
}

/** Merged permissions: the ClusterRole's rules, and each namespace's Role's. */
export interface Grants {
  readonly cluster: readonly GrantedRule[];
  /** By namespace, namespaces sorted. */
  readonly namespaces: ReadonlyMap<string, readonly GrantedRule[]>;
}

/** Who needs a verb on a resource: on any object, and on objects by name, each with its reasons. */
interface VerbGrant {
  any?: Set<string>;
  readonly named: Map<string, Set<string>>;
}

interface ResourceGrants {
  readonly group: string;
  readonly resource: string;
  readonly namespace: string | undefined;
  readonly verbs: Map<Verb, VerbGrant>;
}

/**
 * Merges permissions into the fewest rules that grant exactly them: per namespace (or
 * cluster-wide) and resource, verbs with the same object names share a rule. A grant on any
 * object makes grants by name redundant, and what the cluster-wide rules give is left out of
 * the namespaces' rules.
 */
export function mergePermissions(permissions: readonly Permission[]): Grants {
  const byKey = new Map<string, ResourceGrants>();
  const keyOf = (namespace: string | undefined, group: string, resource: string): string => `${namespace ?? ''}\u0000${group}\u0000${resource}`;
  for (const p of permissions) {
    const group = p.group ?? '';
    const key = keyOf(p.namespace, group, p.resource);
    let grants = byKey.get(key);
    if (!grants) byKey.set(key, (grants = { group, resource: p.resource, namespace: p.namespace, verbs: new Map() }));
    for (const verb of p.verbs) {
      let held = grants.verbs.get(verb);
      if (!held) grants.verbs.set(verb, (held = { named: new Map() }));
      if (p.names === undefined) (held.any ??= new Set()).add(p.why);
      for (const name of p.names ?? []) held.named.set(name, (held.named.get(name) ?? new Set()).add(p.why));
    }
  }
  const cluster: GrantedRule[] = [];
  const namespaces = new Map<string, GrantedRule[]>();
  for (const grants of [...byKey.values()].sort(byResource)) {
    if (grants.namespace === undefined) {
      cluster.push(...rulesOf(grants));
      continue;
    }
    const wide = byKey.get(keyOf(undefined, grants.group, grants.resource));
    for (const [verb, held] of grants.verbs) {
      const covering = wide?.verbs.get(verb);
      if (covering?.any) grants.verbs.delete(verb);
      else if (covering) for (const name of covering.named.keys()) held.named.delete(name);
      if (!held.any && held.named.size === 0) grants.verbs.delete(verb);
    }
    const rules = rulesOf(grants);
    if (rules.length > 0) namespaces.set(grants.namespace, [...(namespaces.get(grants.namespace) ?? []), ...rules]);
  }
  const sorted = new Map([...namespaces.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
  return { cluster, namespaces: sorted };
}

function byResource(a: ResourceGrants, b: ResourceGrants): number {
  return a.group.localeCompare(b.group) || a.resource.localeCompare(b.resource);
}

/** One rule per set of object names, the rule for any object first. */
function rulesOf(grants: ResourceGrants): GrantedRule[] {
  const groups = new Map<string, { names?: string[]; verbs: Verb[]; why: Set<string> }>();
  for (const verb of VERBS) {
    const held = grants.verbs.get(verb);
    if (!held) continue;
    // A grant on any object covers the named ones; their reasons stay with it.
    const names = held.any ? undefined : [...held.named.keys()].sort();
    const key = names === undefined ? '' : names.join('\u0000');
    const group = groups.get(key) ?? { ...(names ? { names } : {}), verbs: [], why: new Set<string>() };
    group.verbs.push(verb);
    for (const w of [...(held.any ?? []), ...[...held.named.values()].flatMap((ws) => [...ws])]) group.why.add(w);
    groups.set(key, group);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, g]) => ({ group: grants.group, resource: grants.resource, verbs: g.verbs, ...(g.names ? { names: g.names } : {}), why: [...g.why].sort() }));
}

export interface RbacManifestOptions {
  /** Name of the ClusterRole, the Roles and their bindings. */
  readonly name: string;
  /** The subject bound to them. */
  readonly serviceAccount: { readonly namespace: string; readonly name: string };
  /** Objects to print before the roles: the Namespaces the Roles live in that the cluster may not have yet. */
  readonly before?: readonly KubernetesObject[];
  /** Comment lines at the top of the output. */
  readonly header?: readonly string[];
}

const RBAC_API = 'rbac.authorization.k8s.io/v1';

/**
 * The grants as Kubernetes objects, in YAML: a ClusterRole and ClusterRoleBinding for what is
 * cluster-wide, a Role and RoleBinding per namespace for the rest; each rule says why it is there.
 */
export function rbacManifestsYaml(grants: Grants, options: RbacManifestOptions): string {
  const subjects = [{ kind: 'ServiceAccount', name: options.serviceAccount.name, namespace: options.serviceAccount.namespace }];
  const labels = { 'app.kubernetes.io/managed-by': 'gameday' };
  const docs: Document[] = (options.before ?? []).map((obj) => new Document(obj));
  if (grants.cluster.length > 0) {
    docs.push(roleDocument({ apiVersion: RBAC_API, kind: 'ClusterRole', metadata: { name: options.name, labels } }, grants.cluster));
    docs.push(new Document({ apiVersion: RBAC_API, kind: 'ClusterRoleBinding', metadata: { name: options.name, labels }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: options.name }, subjects }));
  }
  for (const [namespace, rules] of grants.namespaces) {
    docs.push(roleDocument({ apiVersion: RBAC_API, kind: 'Role', metadata: { name: options.name, namespace, labels } }, rules));
    docs.push(new Document({ apiVersion: RBAC_API, kind: 'RoleBinding', metadata: { name: options.name, namespace, labels }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: options.name }, subjects }));
  }
  if (docs.length > 0 && options.header) docs[0]!.commentBefore = options.header.map((line) => ` ${line}`).join('\n');
  for (const doc of docs) {
    // `verbs: [get, list]` reads as a rule; one word a line does not.
    visit(doc, { Seq: (_, seq) => void (seq.flow = seq.items.every(isScalar)) });
  }
  return docs.map((d) => d.toString({ lineWidth: 0, flowCollectionPadding: false })).join('---\n');
}

function roleDocument(head: Record<string, unknown>, rules: readonly GrantedRule[]): Document {
  const doc = new Document({
    ...head,
    rules: rules.map((r) => ({ apiGroups: [r.group], resources: [r.resource], ...(r.names ? { resourceNames: r.names } : {}), verbs: r.verbs })),
  });
  rules.forEach((r, i) => {
    const node = doc.getIn(['rules', i], true) as { commentBefore?: string } | undefined;
    if (node) node.commentBefore = r.why.map((w) => ` ${w}`).join('\n');
  });
  return doc;
}
