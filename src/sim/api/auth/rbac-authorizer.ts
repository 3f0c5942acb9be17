import type { ObjectStore, StoredObject } from '../../store.js';
import { quote, type RequestAttributes } from './request-attributes.js';
import { SYSTEM_MASTERS, parseServiceAccountUsername, type UserInfo } from './user-info.js';

/** rbac/v1 PolicyRule. */
export interface PolicyRule {
  readonly verbs: readonly string[];
  readonly apiGroups?: readonly string[];
  readonly resources?: readonly string[];
  readonly resourceNames?: readonly string[];
  readonly nonResourceURLs?: readonly string[];
}

interface Subject {
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
}

interface Binding extends StoredObject {
  readonly roleRef?: { readonly kind: string; readonly name: string };
  readonly subjects?: readonly Subject[];
}

export interface Decision {
  readonly allowed: boolean;
  /** Why, as the real authorizers say it: the binding that allowed, or the roles that could not be found. */
  readonly reason: string;
}

export const CLUSTER_ROLES = 'clusterroles.rbac.authorization.k8s.io';
export const CLUSTER_ROLE_BINDINGS = 'clusterrolebindings.rbac.authorization.k8s.io';
export const ROLES = 'roles.rbac.authorization.k8s.io';
export const ROLE_BINDINGS = 'rolebindings.rbac.authorization.k8s.io';

/** Every rule, for the privileged `system:masters` group (what SelfSubjectRulesReview shows for it). */
const EVERYTHING: PolicyRule[] = [
  { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
  { verbs: ['*'], nonResourceURLs: ['*'] },
];

/**
 * The API server's authorizer chain as kubeadm configures it, minus the Node authorizer: members
 * of `system:masters` are allowed everything (the privileged group authorizer), then RBAC as
 * upstream's plugin/pkg/auth/authorizer/rbac and its default rule resolver: cluster role
 * bindings first, then the role bindings of the request's namespace; the first rule that matches
 * allows. There is no deny.
 */
export class RbacAuthorizer {
  constructor(private readonly store: ObjectStore) {}

  authorize(a: RequestAttributes): Decision {
    if (a.user.groups.includes(SYSTEM_MASTERS)) return { allowed: true, reason: '' };
    const errors: string[] = [];
    let reason: string | undefined;
    this.visitRules(a.user, a.namespace, (source, rule) => {
      if (!ruleAllows(a, rule)) return true;
      reason = `RBAC: allowed by ${source}`;
      return false;
    }, errors);
    if (reason !== undefined) return { allowed: true, reason };
    return { allowed: false, reason: errors.length ? `RBAC: ${aggregate(errors)}` : '' };
  }

  /** Every rule that applies to the user in the namespace (SelfSubjectRulesReview), and the roles that could not be found. */
  rulesFor(user: UserInfo, namespace: string): { rules: PolicyRule[]; errors: string[] } {
    const rules: PolicyRule[] = user.groups.includes(SYSTEM_MASTERS) ? [...EVERYTHING] : [];
    const errors: string[] = [];
    this.visitRules(user, namespace, (_source, rule) => {
      rules.push(rule);
      return true;
    }, errors);
    return { rules, errors };
  }

  private visitRules(user: UserInfo, namespace: string, visit: (source: string, rule: PolicyRule) => boolean, errors: string[]): void {
    for (const binding of this.store.scan(CLUSTER_ROLE_BINDINGS) as Iterable<Binding>) {
      const subject = (binding.subjects ?? []).find((s) => appliesTo(user, s, ''));
      if (!subject || !binding.roleRef) continue;
      const rules = this.roleRules(binding.roleRef, '', errors);
      const source = `ClusterRoleBinding ${quote(binding.metadata.name)} of ${binding.roleRef.kind} ${quote(binding.roleRef.name)} to ${describeSubject(subject, '')}`;
      for (const rule of rules) if (!visit(source, rule)) return;
    }
    if (!namespace) return;
    for (const binding of this.store.scan(ROLE_BINDINGS, { namespace }) as Iterable<Binding>) {
      const subject = (binding.subjects ?? []).find((s) => appliesTo(user, s, namespace));
      if (!subject || !binding.roleRef) continue;
      const rules = this.roleRules(binding.roleRef, namespace, errors);
      const source = `RoleBinding ${quote(`${binding.metadata.name}/${namespace}`)} of ${binding.roleRef.kind} ${quote(binding.roleRef.name)} to ${describeSubject(subject, namespace)}`;
      for (const rule of rules) if (!visit(source, rule)) return;
    }
  }

  private roleRules(ref: { kind: string; name: string }, namespace: string, errors: string[]): readonly PolicyRule[] {
    const role = ref.kind === 'ClusterRole' ? this.store.get(CLUSTER_ROLES, undefined, ref.name) : ref.kind === 'Role' && namespace ? this.store.get(ROLES, namespace, ref.name) : undefined;
    if (!role) {
      errors.push(`${ref.kind === 'ClusterRole' ? 'clusterrole' : 'role'}.rbac.authorization.k8s.io ${quote(ref.name)} not found`);
      return [];
    }
    return ((role as { rules?: PolicyRule[] }).rules ?? []);
  }
}

function appliesTo(user: UserInfo, subject: Subject, bindingNamespace: string): boolean {
  switch (subject.kind) {
    case 'User':
      return user.username === subject.name;
    case 'Group':
      return user.groups.includes(subject.name);
    case 'ServiceAccount': {
      const namespace = subject.namespace || bindingNamespace;
      if (!namespace) return false;
      const sa = parseServiceAccountUsername(user.username);
      return sa?.namespace === namespace && sa.name === subject.name;
    }
    default:
      return false;
  }
}

function describeSubject(s: Subject, bindingNamespace: string): string {
  if (s.kind === 'ServiceAccount') return `${s.kind} ${quote(`${s.name}/${s.namespace || bindingNamespace}`)}`;
  return `${s.kind} ${quote(s.name)}`;
}

/** Go's utilerrors.NewAggregate(...).Error(). */
function aggregate(errors: readonly string[]): string {
  return errors.length === 1 ? errors[0]! : `[${errors.join(', ')}]`;
}

const has = (list: readonly string[] | undefined, value: string): boolean => (list ?? []).some((x) => x === '*' || x === value);

/** rbac.RuleAllows: verb, API group, resource (a `*` prefix matches any resource with that subresource) and resource name, or verb and non-resource URL (with a trailing `*`). */
export function ruleAllows(a: RequestAttributes, rule: PolicyRule): boolean {
  if (!has(rule.verbs, a.verb)) return false;
  if (!a.resourceRequest) {
    return (rule.nonResourceURLs ?? []).some((u) => u === '*' || u === a.path || (u.endsWith('*') && a.path.startsWith(u.slice(0, -1))));
  }
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const resourceMatches = (rule.resources ?? []).some((r) => r === '*' || r === combined || (a.subresource !== '' && r === `*/${a.subresource}`));
  const nameMatches = !rule.resourceNames?.length || rule.resourceNames.includes(a.name);
  return has(rule.apiGroups, a.apiGroup) && resourceMatches && nameMatches;
}
